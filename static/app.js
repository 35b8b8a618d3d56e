// jobrank keyboard shortcuts. No inline scripts anywhere: the CSP forbids them.
//   1-5  on the scoring form, pick that level for the factor in focus
//   j/k  next / previous job in my scoring queue (on the dashboard: move between jobs)
//   /    focus the dashboard search
//   ?    list the shortcuts
(function () {
  "use strict";

  function typing(el) {
    if (!el) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT") {
      var t = (el.getAttribute("type") || "text").toLowerCase();
      return !(t === "radio" || t === "checkbox" || t === "submit" || t === "button");
    }
    return false;
  }

  function showShortcuts() {
    var d = document.getElementById("shortcuts");
    if (d && typeof d.showModal === "function" && !d.open) d.showModal();
  }

  function factorOf(el) {
    return el && el.closest ? el.closest("fieldset.factor") : null;
  }

  function pickLevel(n) {
    var fs = factorOf(document.activeElement);
    if (!fs) {
      var all = document.querySelectorAll("fieldset.factor");
      for (var i = 0; i < all.length; i++) {
        if (!all[i].querySelector("input:checked")) { fs = all[i]; break; }
      }
    }
    if (!fs) return false;
    var radio = fs.querySelector('input[type="radio"][value="' + n + '"]');
    if (!radio) return false;
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    var factors = Array.prototype.slice.call(document.querySelectorAll("fieldset.factor"));
    var next = factors[factors.indexOf(fs) + 1];
    var target = next ? (next.querySelector("input:checked") || next.querySelector("input[type=radio]")) : radio;
    if (!next) {
      var comment = document.getElementById("comment");
      if (comment) target = comment;
    }
    target.focus();
    return true;
  }

  function moveInList(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll(".jobs a.job-link"));
    if (!links.length) return false;
    var i = links.indexOf(document.activeElement);
    var j = i < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, i + step));
    links[j].focus();
    return true;
  }

  function queue(which) {
    var a = document.querySelector('a[data-queue="' + which + '"]');
    if (a) { window.location.assign(a.href); return true; }
    return false;
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "?") {
      if (typing(e.target)) return;
      e.preventDefault();
      showShortcuts();
      return;
    }
    if (typing(e.target)) return;
    var handled = false;
    if (/^[1-5]$/.test(e.key)) handled = pickLevel(e.key);
    else if (e.key === "j") handled = queue("next") || moveInList(1);
    else if (e.key === "k") handled = queue("prev") || moveInList(-1);
    else if (e.key === "/") {
      var s = document.getElementById("q");
      if (s) { s.focus(); s.select(); handled = true; }
    }
    if (handled) e.preventDefault();
  });

  // Back/Forward: htmx restores its snapshot of the page, whose filter controls show
  // the values they had when it was taken (the next view's). Set them from the URL so
  // the form and the list agree and the next change keeps the restored filters.
  function syncFiltersFromUrl() {
    var form = document.querySelector("form.filters");
    if (!form) return;
    var params = new URLSearchParams(window.location.search);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf") return;
      var v = params.get(el.name);
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = v !== null && v === el.value;
      } else if (el.tagName === "SELECT") {
        el.value = v === null ? "" : v;
        if (el.selectedIndex < 0) el.selectedIndex = 0;
      } else {
        el.value = v === null ? "" : v;
      }
    });
  }
  document.addEventListener("htmx:historyRestore", syncFiltersFromUrl);
  document.addEventListener("jobrank:syncFilters", syncFiltersFromUrl);

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t && t.closest && t.closest("[data-shortcuts]")) showShortcuts();
  });
})();

// A refused "Refresh now" (409: a sync started less than a minute ago) answers with the
// control and the time left; htmx leaves error answers unswapped unless told to.
document.addEventListener("htmx:beforeSwap", function (e) {
  var t = e.detail.target;
  if (e.detail.xhr.status === 409 && t && t.id === "sync-refresh") {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});

// Signed-in pages carry hx-history="false", so htmx keeps no copy of them in the
// browser's storage; the sign-in page (where signing out lands) also removes a copy an
// older version may have left. htmx 2 keeps it in sessionStorage, htmx 1 in localStorage.
if (document.querySelector("form[action='/login']")) {
  try {
    sessionStorage.removeItem("htmx-history-cache");
    localStorage.removeItem("htmx-history-cache");
  } catch (e) {
    // Storage refused (private mode): nothing is stored either.
  }
}

// ---- CEO pages (issue 13) ----
// The settings form's running total of the weights, in the words the server draws it
// with (web/admin/settings.rs, `weights_total`): a value with % is a percentage; the
// four are percentages when they total 100 and fractions when they total 1. Numbers
// are read exactly, in millionths, as domain::TypedWeight reads them.
(function () {
  "use strict";
  var total = document.getElementById("weights-total");
  if (!total) return;
  var names = ["weight_client_engagement", "weight_search_difficulty", "weight_time_open", "weight_fee_size"];

  function parse(text) {
    var t = text.trim();
    if (!t) return null;
    var percent = t.charAt(t.length - 1) === "%";
    if (percent) t = t.slice(0, -1).trim();
    var m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(t);
    if (!m || (m[2] === "" && (m[3] || "") === "")) return null;
    var whole = m[2].replace(/^0+/, "");
    if (whole.length > 9) return null;
    var kept = (m[3] || "").slice(0, 6);
    while (kept.length < 6) kept += "0";
    var v = (whole ? parseInt(whole, 10) : 0) * 1000000 + parseInt(kept, 10);
    return { millionths: m[1] === "-" ? -v : v, percent: percent };
  }

  function text(millionths, percent) {
    var a = Math.abs(millionths);
    var frac = String(a % 1000000);
    while (frac.length < 6) frac = "0" + frac;
    frac = frac.replace(/0+$/, "");
    return (millionths < 0 ? "-" : "") + Math.floor(a / 1000000) + (frac ? "." + frac : "") + (percent ? "%" : "");
  }

  function update() {
    var marked = 0, unmarked = 0, ok = true;
    names.forEach(function (n) {
      var input = document.getElementById(n);
      var w = input ? parse(input.value) : null;
      if (!w) { ok = false; return; }
      if (w.percent) marked += w.millionths; else unmarked += w.millionths;
    });
    var words, fits = false;
    if (!ok) {
      words = "Total: not every weight is a number yet";
    } else if (marked + unmarked === 100000000) {
      words = "Total: " + text(marked + unmarked, true); fits = true;
    } else if (marked + 100 * unmarked === 100000000) {
      words = "Total: 1 (as fractions)"; fits = true;
    } else {
      var shown = marked === 0 && unmarked <= 2000000 ? text(unmarked, false) : text(marked + unmarked, true);
      words = "Total: " + shown + "; percentages must total 100%, fractions 1";
    }
    if (total.textContent !== words) total.textContent = words;
    total.classList.toggle("off", !fits);
  }

  document.addEventListener("input", function (e) {
    if (e.target && names.indexOf(e.target.id) >= 0) update();
  });
})();
// ---- Dashboard (issue 13) ----
// Filter URLs carry only the filters in use: htmx leaves out the form's empty fields
// and those at their default (data-default), as the server's redirect does for a
// plain form.
document.addEventListener("htmx:configRequest", function (e) {
  var form = e.detail.elt;
  if (!form || !form.matches || !form.matches("form.filters")) return;
  var params = e.detail.parameters;
  Array.prototype.forEach.call(form.elements, function (el) {
    if (!el.name) return;
    var v = (el.value || "").trim();
    var unchecked = (el.type === "checkbox" || el.type === "radio") && !el.checked;
    if (!unchecked && (v === "" || v === el.getAttribute("data-default"))) {
      if (typeof params.delete === "function") params.delete(el.name);
      else delete params[el.name];
    }
  });
});

// A count or pager link swapped the list and pushed its URL: set the filter form
// from the URL so the form and the list agree.
document.addEventListener("htmx:pushedIntoHistory", function () {
  document.dispatchEvent(new CustomEvent("jobrank:syncFilters"));
});

// A page past the end answers 404 with the list and a link to the last page: show it.
document.addEventListener("htmx:beforeSwap", function (e) {
  var t = e.detail.target;
  if (e.detail.xhr.status === 404 && t && t.id === "job-list") {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});
