//! Browser tests: the pages in a real headless Chromium driven over WebDriver
//! (chromedriver, started here on a loopback port it picks and prints, and fantoccini). A separate
//! test binary so the browser's start-up cost and its processes stay out of the API
//! suite. Screenshots of each page land in `target/screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (scripts/test installs them); a
//! missing one fails the run with a message naming it, never skips.

#[path = "../api/helpers.rs"]
mod helpers;
mod scorer;

mod ceo;

mod readonly;

mod notify;

mod outcomes;

mod write_back;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use jobrank::domain::Role;
use jobrank::store::{commands, jobs, users};
use serde_json::{Value, json};

use helpers::{ChildServer, TestApp, eventually, eventually_within, spawn_app};

/// How long any one wait in the browser may take.
const WAIT: Duration = Duration::from_secs(10);
const DESKTOP: (u32, u32) = (1280, 800);
const PHONE: (u32, u32) = (375, 812);

fn find_program(names: &[&str], package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "browser tests need {} (Debian package `{package}`; scripts/test installs it), \
         but none of {names:?} is on PATH",
        names[0]
    );
}

/// A chromedriver process and one headless Chromium session; both end on drop.
struct Browser {
    client: Option<Client>,
    driver: ChildServer,
    _profile: tempfile::TempDir,
}

/// The port in chromedriver's start-up line ("ChromeDriver was started successfully on
/// port 41345.").
fn chromedriver_address(line: &str) -> Option<SocketAddr> {
    let port = line
        .strip_prefix("ChromeDriver was started successfully on port ")?
        .trim_end_matches('.');
    Some(SocketAddr::from(([127, 0, 0, 1], port.parse().ok()?)))
}

impl Browser {
    /// Clicks the element `css` picks.
    async fn click(&self, css: &str) {
        self.c()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    async fn start() -> Browser {
        let chromium = find_program(&["chromium", "chromium-browser"], "chromium");
        let chromedriver = find_program(&["chromedriver"], "chromium-driver");
        // Port 0: chromedriver picks a free port and prints it.
        let mut cmd = Command::new(&chromedriver);
        cmd.arg("--port=0");
        let driver = ChildServer::spawn("chromedriver", cmd, chromedriver_address);
        let url = driver.url("");
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser {
            client: None,
            driver,
            _profile: profile,
        };
        let probe = reqwest::Client::new();
        eventually("chromedriver is ready", || async {
            probe
                .get(format!("{url}/status"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", browser._profile.path().display()),
            &format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session via chromedriver: {e}"));
        browser.client = Some(client);
        browser.resize(DESKTOP).await;
        browser
    }

    fn c(&self) -> &Client {
        self.client.as_ref().expect("browser session")
    }

    /// Sets the viewport (not the window) to exactly `size`.
    async fn resize(&self, (w, h): (u32, u32)) {
        self.c().set_window_size(w, h).await.unwrap();
        let inner = self
            .js("return [window.innerWidth, window.innerHeight]")
            .await;
        let (iw, ih) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
        if (iw, ih) != (u64::from(w), u64::from(h)) {
            let ww = w + w.saturating_sub(iw as u32).min(200);
            let wh = h + (h.saturating_sub(ih as u32)).min(200);
            self.c().set_window_size(ww, wh).await.unwrap();
        }
        let width = self.js("return window.innerWidth").await;
        assert_eq!(width, json!(w), "viewport width");
    }

    async fn js(&self, script: &str) -> Value {
        self.c()
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {script}: {e}"))
    }

    /// Polls a JavaScript expression until it is truthy; panics naming `what`.
    async fn wait_until(&self, expr: &str, what: &str) {
        let script = format!("return !!({expr})");
        eventually_within(WAIT, what, || async {
            self.c()
                .execute(&script, Vec::new())
                .await
                .is_ok_and(|v| v == Value::Bool(true))
        })
        .await
    }

    async fn goto(&self, url: &str) {
        self.c().goto(url).await.unwrap();
        self.wait_until("document.readyState === 'complete'", "the page loaded")
            .await;
    }

    /// Presses and releases one key on whatever has focus.
    async fn press(&self, key: char) {
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.c().perform_actions(keys).await.unwrap();
    }

    async fn screenshot(&self, name: &str) {
        let png = self.c().screenshot().await.unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The page scrolls sideways: something is wider than the viewport.
    async fn assert_no_sideways_scroll(&self, page: &str) {
        let v = self
            .js("return [document.documentElement.scrollWidth, window.innerWidth]")
            .await;
        if v[0].as_u64() > v[1].as_u64() {
            let wide = self
                .js("return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))")
                .await;
            panic!(
                "{page} is wider than the viewport (scrollWidth, innerWidth) = {v}; too wide: {wide}"
            );
        }
    }

    /// The texts of the elements `css` picks, after checking that there is at least one
    /// and that each is shown: displayed (not hidden until hover), larger than a pixel
    /// each way (not a visually hidden label) and within the viewport's width.
    async fn shown_texts(&self, css: &str, what: &str) -> Vec<String> {
        let v = self
            .js(&format!(
                "const els = Array.from(document.querySelectorAll({css:?})); \
                 const hidden = els.filter(e => {{ const r = e.getBoundingClientRect(); \
                   return !e.checkVisibility({{visibilityProperty: true, opacityProperty: true}}) \
                     || r.width <= 1 || r.height <= 1 || r.left < -0.5 || r.right > window.innerWidth + 0.5; }}) \
                   .map(e => {{ const r = e.getBoundingClientRect(); return e.outerHTML.slice(0, 100) \
                     + ` at x ${{Math.round(r.left)}}-${{Math.round(r.right)}}, ${{Math.round(r.width)}}x${{Math.round(r.height)}}`; }}); \
                 return [els.map(e => e.innerText.trim()), hidden.length, hidden.slice(0, 6)]"
            ))
            .await;
        let texts: Vec<String> = serde_json::from_value(v[0].clone()).unwrap();
        assert!(!texts.is_empty(), "{what}: nothing matches {css}");
        assert_eq!(
            v[1],
            json!(0),
            "{what}: {} of {} not shown within a {}-px viewport, such as {}",
            v[1],
            texts.len(),
            self.js("return window.innerWidth").await,
            v[2]
        );
        texts
    }

    /// Every cell of `table` a reader sees ends within the viewport's width, and every
    /// link in it within its box: a whole-page width check cannot fail for a table in
    /// a `.table-wrap` that scrolls sideways. A header row hidden on phones (a clipped
    /// 1-px `thead` over cards) is not seen, so not checked.
    async fn assert_table_fits(&self, table: &str, page: &str) {
        let v = self
            .js(&format!(
                "const t = document.querySelector({table:?}); if (!t) return null; \
                 const seen = e => {{ const h = e.closest('thead'); return e.checkVisibility() \
                   && !(h && h.getBoundingClientRect().width <= 1); }}; \
                 return [...new Set(Array.from(t.querySelectorAll('th, td')).filter(seen) \
                   .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5) \
                   .map(e => (e.dataset.label || e.textContent.trim().slice(0, 40)) + ' ends at ' \
                     + Math.round(e.getBoundingClientRect().right)))]"
            ))
            .await;
        assert!(!v.is_null(), "{page} has no {table}");
        assert_eq!(
            v,
            json!([]),
            "{page}: cells of {table} end past the {}-px viewport",
            self.js("return window.innerWidth").await
        );
        self.assert_links_fit(table, page).await;
    }

    /// No link inside `scope` runs past the box it sits in (its nearest block
    /// ancestor) or the viewport: a long address wraps.
    async fn assert_links_fit(&self, scope: &str, page: &str) {
        let v = self
            .js(&format!(
                "const block = e => {{ let p = e.parentElement; \
                   while (p && ['inline', 'contents'].includes(getComputedStyle(p).display)) p = p.parentElement; \
                   return p; }}; \
                 return Array.from(document.querySelectorAll({scope:?})).flatMap(s => Array.from(s.querySelectorAll('a'))) \
                   .filter(a => a.checkVisibility()).filter(a => {{ const b = block(a).getBoundingClientRect(); \
                     return Array.from(a.getClientRects()).some(r => r.width > 0 && (r.right > Math.min(b.right, window.innerWidth) + 0.5 || r.left < Math.max(b.left, 0) - 0.5)); }}) \
                   .map(a => a.textContent.trim().slice(0, 60) + ' in ' + block(a).tagName)"
            ))
            .await;
        assert_eq!(v, json!([]), "{page}: links in {scope} overflow their box");
    }

    async fn sign_in(&self, app: &TestApp, email: &str, password: &str) {
        self.goto(&app.url("/login")).await;
        let c = self.c();
        c.find(Locator::Id("email"))
            .await
            .unwrap()
            .send_keys(email)
            .await
            .unwrap();
        c.find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys(password)
            .await
            .unwrap();
        self.click("form[action='/login'] button[type=submit]")
            .await;
        self.wait_until(
            "location.pathname === '/' && document.getElementById('job-list')",
            "the dashboard shows after sign-in",
        )
        .await;
    }

    /// The rows of the dashboard list: (job id, rank letter or "none").
    async fn rows(&self) -> Vec<(i64, String)> {
        let v = self
            .js("return Array.from(document.querySelectorAll('#job-list li.job')).map(li => [li.id, li.dataset.rank])")
            .await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].as_str()
                        .unwrap()
                        .trim_start_matches("job-")
                        .parse()
                        .unwrap(),
                    r[1].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(c) = self.client.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            // Ending the session stops Chromium; chromedriver is killed below.
            let _ = tokio::task::block_in_place(|| rt.block_on(c.close()));
        }
        self.driver.kill();
        // Chromium outlives a killed chromedriver: end the processes of this session's
        // own profile (and only those) if any are left.
        let marker = format!("--user-data-dir={}", self._profile.path().display());
        let pids: Vec<String> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let pid = e.file_name().to_str()?.parse::<u32>().ok()?;
                let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
                String::from_utf8_lossy(&cmd)
                    .split('\0')
                    .any(|a| a == marker)
                    .then(|| pid.to_string())
            })
            .collect();
        if !pids.is_empty() {
            let _ = Command::new("kill").arg("-KILL").args(&pids).status();
        }
    }
}

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("screenshots")
}

/// A jobrank with the demo agency; returns (app, [(email, password, role)]).
async fn demo_app() -> (TestApp, Vec<(String, String, Role)>) {
    let app = spawn_app().await;
    let accounts = jobrank::cli::fill_demo(&app.store)
        .await
        .expect("demo fills the store")
        .accounts
        .into_iter()
        .map(|(email, _, role, password)| (email, password, role))
        .collect();
    (app, accounts)
}

fn account(accounts: &[(String, String, Role)], role: Role) -> (String, String) {
    accounts
        .iter()
        .find(|a| a.2 == role)
        .map(|a| (a.0.clone(), a.1.clone()))
        .expect("demo account with that role")
}

/// Adds an open job nobody has scored yet.
async fn add_unscored_job(app: &TestApp, id: i64, title: &str) {
    let job = jobs::JobUpsert {
        id,
        title: title.into(),
        client: "Zephyr Robotics".into(),
        status: "Open".into(),
        is_open: true,
        opened_at: Some(jobrank::store::now() - chrono::Duration::days(12)),
        fee_minor: Some(3_000_000),
        fee_currency: Some("GBP".into()),
        hiring_team: vec!["Tom Okafor".into()],
        description_html: Some("<p>Build <em>robots</em>.</p>".into()),
    };
    app.store
        .write(move |tx| commands::upsert_job(tx, &job, jobrank::store::now()).map(|_| ()))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_filters_and_sorts_swap_only_the_list_and_back_restores_them() {
    let (app, accounts) = demo_app().await;
    let b = Browser::start().await;
    let (email, password) = account(&accounts, Role::AccountManager);
    b.sign_in(&app, &email, &password).await;
    let all = b.rows().await;
    assert!(all.len() > 10, "the demo dashboard lists its open jobs");
    assert!(all.iter().any(|r| r.1 != "A"), "not every job is A");

    // A marker on the page survives htmx swaps but not a full page load.
    b.js(
        "window.__sameDocument = true; document.getElementById('q').dataset.kept = 'yes'; return 0",
    )
    .await;
    let c = b.c();
    c.find(Locator::Id("rank"))
        .await
        .unwrap()
        .select_by_value("A")
        .await
        .unwrap();
    b.wait_until(
        "location.search.includes('rank=A')",
        "the URL carries rank=A",
    )
    .await;
    b.wait_until(
        "Array.from(document.querySelectorAll('#job-list li.job')).every(li => li.dataset.rank === 'A')",
        "only A jobs are listed",
    )
    .await;
    let only_a = b.rows().await;
    assert!(!only_a.is_empty(), "the demo has A jobs");
    assert!(only_a.len() < all.len());
    assert_eq!(
        b.js("return [window.__sameDocument === true, document.getElementById('q').dataset.kept]")
            .await,
        json!([true, "yes"]),
        "the filter swapped only the list, not the page"
    );

    // Sort the A jobs by days open (longest first).
    c.find(Locator::Id("sort"))
        .await
        .unwrap()
        .select_by_value("days")
        .await
        .unwrap();
    b.wait_until(
        "location.search.includes('sort=days') && location.search.includes('rank=A')",
        "the URL carries both the filter and the sort",
    )
    .await;
    b.wait_until(
        "(() => { const d = Array.from(document.querySelectorAll('#job-list li.job .meta > span:nth-child(2)')).map(s => parseInt(s.textContent)); return d.length > 0 && d.every((x, i) => i === 0 || d[i - 1] >= x); })()",
        "the list is sorted by days open, longest first",
    )
    .await;
    let by_days = b.rows().await;
    assert_eq!(by_days.len(), only_a.len());
    assert!(
        b.js("return window.__sameDocument === true").await == json!(true),
        "sorting swapped only the list"
    );

    // Back: the A filter in rank order again; Back once more: every job.
    c.back().await.unwrap();
    b.wait_until(
        "location.search.includes('rank=A') && !location.search.includes('sort=days')",
        "Back restores the URL before the sort",
    )
    .await;
    b.wait_until(
        "document.querySelectorAll('#job-list li.job').length > 0",
        "the list is back",
    )
    .await;
    assert_eq!(b.rows().await, only_a, "Back restores the filtered list");
    assert_eq!(
        b.js(
            "return [document.getElementById('rank').value, document.getElementById('sort').value]"
        )
        .await,
        json!(["A", "rank"]),
        "Back restores the form's state"
    );
    c.back().await.unwrap();
    b.wait_until("location.search === ''", "Back reaches the unfiltered URL")
        .await;
    b.wait_until(
        &format!(
            "document.querySelectorAll('#job-list li.job').length === {}",
            all.len()
        ),
        "every job is listed again",
    )
    .await;
    assert_eq!(b.rows().await, all);

    // Reloading a filtered URL renders the same list without JavaScript's help.
    b.goto(&app.url("/?rank=A&sort=days")).await;
    assert_eq!(
        b.rows().await,
        by_days,
        "a filtered link renders the same list"
    );
    drop(b);
    app.stop().await;
}

/// Issue 11, item 13: htmx keeps no copy of a signed-in page in the browser's storage,
/// and signing out clears a copy an older version may have left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_leaves_no_private_page_in_the_browsers_history_cache() {
    let (app, accounts) = demo_app().await;
    let b = Browser::start().await;
    let (email, password) = account(&accounts, Role::AccountManager);
    b.sign_in(&app, &email, &password).await;
    let c = b.c();
    c.find(Locator::Id("rank"))
        .await
        .unwrap()
        .select_by_value("A")
        .await
        .unwrap();
    b.wait_until(
        "location.search.includes('rank=A')",
        "the URL carries rank=A",
    )
    .await;
    b.wait_until(
        "Array.from(document.querySelectorAll('#job-list li.job')).every(li => li.dataset.rank === 'A')",
        "only A jobs are listed",
    )
    .await;
    let stored = "return [sessionStorage.getItem('htmx-history-cache') !== null, \
                  localStorage.getItem('htmx-history-cache') !== null]";
    assert_eq!(
        b.js(stored).await,
        json!([false, false]),
        "htmx stored a snapshot of a signed-in page"
    );

    // A copy left by an older version goes at sign-out.
    b.js("sessionStorage.setItem('htmx-history-cache', '[{\"url\":\"/\",\"content\":\"private\"}]'); \
          localStorage.setItem('htmx-history-cache', '[]'); return 0")
        .await;
    b.click("form[action='/logout'] button[type=submit]").await;
    b.wait_until(
        "location.pathname === '/login' && document.readyState === 'complete'",
        "the sign-in page shows after signing out",
    )
    .await;
    assert_eq!(
        b.js(stored).await,
        json!([false, false]),
        "sign-out cleared the cache"
    );

    // Back shows no private page either.
    b.js("window.__signedOutPage = true; return 0").await;
    c.back().await.unwrap();
    b.wait_until(
        "window.__signedOutPage !== true && document.readyState === 'complete'",
        "Back loads another document",
    )
    .await;
    assert_eq!(b.js("return location.pathname").await, json!("/login"));
    assert_eq!(
        b.js("return document.getElementById('job-list') === null")
            .await,
        json!(true),
        "Back after signing out showed the job list"
    );
    drop(b);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoring_with_the_keyboard_changes_the_badge_on_the_dashboard() {
    let (app, accounts) = demo_app().await;
    let job_id = 9001;
    add_unscored_job(&app, job_id, "Robotics Field Engineer").await;
    let b = Browser::start().await;
    let (email, password) = account(&accounts, Role::SalesPerson);
    b.sign_in(&app, &email, &password).await;
    let before = b.rows().await;
    assert!(
        before.contains(&(job_id, "none".into())),
        "the new job is listed unscored: {before:?}"
    );

    b.goto(&app.url(&format!("/jobs/{job_id}/score"))).await;
    // Focus the first factor, then 5 for each factor: each key picks a level for the
    // factor in focus and moves focus to the next factor, then to the comment.
    b.js("document.querySelector('fieldset.factor input[type=radio]').focus(); return 0")
        .await;
    for _ in 0..4 {
        b.press('5').await;
    }
    assert_eq!(
        b.js("return ['client_engagement','search_difficulty','time_open','fee_size'].map(n => (document.querySelector(`input[name=${n}]:checked`) || {}).value)")
            .await,
        json!(["5", "5", "5", "5"]),
        "1-5 picked the levels"
    );
    assert_eq!(
        b.js("return document.activeElement.id").await,
        json!("comment"),
        "focus moved on to the comment"
    );
    // Typing in the comment is not a shortcut.
    b.press('3').await;
    assert_eq!(
        b.js("return document.getElementById('comment').value")
            .await,
        json!("3")
    );
    // Tab to "Submit…" and press Enter; the confirmation page focuses its button.
    b.press('\u{e004}').await;
    assert_eq!(
        b.js("return document.activeElement.value").await,
        json!("review")
    );
    b.press('\u{e007}').await;
    b.wait_until(
        "document.getElementById('confirm')",
        "the confirmation step",
    )
    .await;
    assert_eq!(
        b.js("return document.activeElement.value").await,
        json!("submit"),
        "the confirm button has focus"
    );
    b.screenshot("confirm-desktop").await;
    b.press('\u{e007}').await;
    b.wait_until(
        &format!("!location.pathname.startsWith('/jobs/{job_id}/')"),
        "submitting moves on from this job",
    )
    .await;

    b.goto(&app.url("/")).await;
    let after = b.rows().await;
    assert!(
        after.contains(&(job_id, "A".into())),
        "five on every factor ranks the job A: {after:?}"
    );
    assert_eq!(
        b.js(&format!(
            "return document.querySelector('#job-{job_id} .badge').textContent.trim()"
        ))
        .await,
        json!("Rank A")
    );
    drop(b);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn question_mark_lists_the_shortcuts_and_j_k_move_through_jobs() {
    let (app, accounts) = demo_app().await;
    let b = Browser::start().await;
    let (email, password) = account(&accounts, Role::Ceo);
    b.sign_in(&app, &email, &password).await;
    assert_eq!(
        b.js("return document.getElementById('shortcuts').open")
            .await,
        json!(false)
    );
    b.press('?').await;
    b.wait_until(
        "document.getElementById('shortcuts').open",
        "? opens the shortcuts",
    )
    .await;
    let text = b
        .js("return document.getElementById('shortcuts').innerText")
        .await;
    assert!(text.as_str().unwrap().contains("Keyboard shortcuts"));
    b.screenshot("shortcuts-desktop").await;
    b.press('\u{e00c}').await; // Escape
    b.wait_until(
        "!document.getElementById('shortcuts').open",
        "Escape closes the shortcuts",
    )
    .await;
    // j/k move focus through the dashboard's jobs.
    b.press('j').await;
    b.press('j').await;
    b.press('k').await;
    assert_eq!(
        b.js(
            "return document.activeElement === document.querySelectorAll('#job-list a.job-link')[0]"
        )
        .await,
        json!(true)
    );
    // Typing ? in the search box is text, not a shortcut.
    b.js("document.getElementById('q').focus(); return 0").await;
    b.press('?').await;
    assert_eq!(
        b.js("return document.getElementById('shortcuts').open")
            .await,
        json!(false)
    );
    drop(b);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_works_on_a_phone_and_screenshots_are_saved() {
    let (app, accounts) = demo_app().await;
    let b = Browser::start().await;
    let (email, password) = account(&accounts, Role::Ceo);
    b.sign_in(&app, &email, &password).await;
    let job = b.rows().await[0].0;
    let review = app.get("/review").await.status() != 404;
    let mut pages = vec![
        ("dashboard", "/".to_string()),
        ("job", format!("/jobs/{job}")),
        ("scoring", format!("/jobs/{job}/score")),
    ];
    if review {
        pages.push(("review", "/review".to_string()));
    }
    // The admin page and the audit log, with entries as long as real ones get.
    let by = jobrank::store::audit::Actor::CommandLine {
        unix_user: "jobrank, through sudo by ops".into(),
    };
    app.store
        .write(move |tx| {
            use jobrank::store::audit::{Action, record};
            let now = jobrank::store::now();
            record(tx, &by, Action::SettingsSaved, "scoring settings",
                "version 1 → 2: client engagement weight 25% → 40%; search difficulty weight 25% → 20%; time open weight 25% → 20%; fee size weight 25% → 20%", now)?;
            record(tx, &by, Action::TokenCreated,
                "API token \u{201c}weekly board report\u{201d} of claire.hughes-longname@agency.example", "new token", now)?;
            record(tx, &by, Action::UserDeactivated, "Sam Lee <sam@agency.example>",
                "2 sessions ended, 1 API token revoked", now)
        })
        .await
        .unwrap();
    pages.push(("admin", "/admin".to_string()));
    pages.push(("audit", "/admin/audit".to_string()));
    for (size, label) in [(DESKTOP, "desktop"), (PHONE, "phone")] {
        b.resize(size).await;
        for (name, path) in &pages {
            b.goto(&app.url(path)).await;
            b.wait_until(
                "document.querySelector('main h1')",
                "the page has a heading",
            )
            .await;
            b.assert_no_sideways_scroll(&format!("{name} at {label}"))
                .await;
            b.screenshot(&format!("{name}-{label}")).await;
            if *name == "admin" {
                b.js("document.getElementById('audit').scrollIntoView(); return true")
                    .await;
                b.screenshot(&format!("admin-audit-{label}")).await;
            }
        }
    }

    // On the phone, the filters still work and the list keeps fitting.
    b.goto(&app.url("/")).await;
    let c = b.c();
    let rank = c.find(Locator::Id("rank")).await.unwrap();
    assert!(
        rank.is_displayed().await.unwrap(),
        "the rank filter is visible"
    );
    rank.select_by_value("B").await.unwrap();
    b.wait_until(
        "location.search.includes('rank=B')",
        "the phone filter applies",
    )
    .await;
    b.wait_until(
        "Array.from(document.querySelectorAll('#job-list li.job')).every(li => li.dataset.rank === 'B')",
        "only B jobs on the phone",
    )
    .await;
    b.assert_no_sideways_scroll("filtered dashboard at phone")
        .await;
    // Every badge and job link is on screen horizontally.
    let off = b
        .js("return Array.from(document.querySelectorAll('#job-list .badge, #job-list a.job-link')).filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth; }).length")
        .await;
    assert_eq!(off, json!(0), "badges and links fit the phone's width");

    // The scoring form on the phone: keyboard picks, review, confirm.
    let scorer_job = {
        let ceo = email.clone();
        let viewer = app
            .store
            .read(move |c| users::find_user_by_email(c, &ceo))
            .await
            .unwrap()
            .expect("the CEO")
            .id;
        app.store
            .read(move |c| {
                Ok(
                    jobrank::store::dashboard::dashboard_jobs(c, &viewer, jobrank::store::now())?
                        .into_iter()
                        .find(|j| j.needs_my_score)
                        .map(|j| j.id),
                )
            })
            .await
            .unwrap()
    };
    let id = scorer_job.expect("the demo leaves jobs that need the CEO's score");
    b.goto(&app.url(&format!("/jobs/{id}/score"))).await;
    b.js("document.querySelector('fieldset.factor input[type=radio]').focus(); return 0")
        .await;
    for k in ['4', '2', '3', '3'] {
        b.press(k).await;
    }
    b.click("button[value=review]").await;
    b.wait_until(
        "document.getElementById('confirm')",
        "the confirmation step on a phone",
    )
    .await;
    b.assert_no_sideways_scroll("confirmation at phone").await;
    b.screenshot("confirm-phone").await;
    drop(b);
    app.stop().await;
}
