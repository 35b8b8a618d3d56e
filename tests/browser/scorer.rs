//! The scorer's persona (issue 13): an account manager works down his queue, on a
//! phone (390x844) and at a desk (1366x900). He scores two jobs and reads what each
//! did to the rank, sets one aside with a reason, sends a confirmation twice (nothing
//! stored twice), and ends on "All caught up". Then the dashboard shows how many
//! scorers each team score rests on, marking one opinion alone, and a job page of one
//! opinion says so, with the search difficulty scale labelled and its score tables
//! on screen. Every page he sees fits the width; screenshots of each step are kept in
//! `target/screenshots/`.

use jobrank::domain::{FactorScores, Role};
use jobrank::store::submissions::NewSubmission;
use jobrank::store::users::{self, NewUser};
use jobrank::store::{commands, jobs};
use serde_json::json;

use super::Browser;
use super::helpers::{TestApp, spawn_app};

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1366, 900);
const PASSWORD: &str = "a long scorer password";

/// The jobs of the walk: (id, title, client, days open).
const JOBS: [(i64, &str, &str, i64); 4] = [
    (9101, "Fleet Manager", "Northwind Logistics", 40),
    (9102, "Site Lead", "Harbour Build", 12),
    (9103, "Night Porter", "Kestrel Hotels", 70),
    (9104, "Dock Supervisor", "Harbour Build", 5),
];

/// The job the walk sets aside.
const SKIPPED: i64 = 9103;

/// An agency of two scorers and four open jobs; Priya has scored Fleet Manager low, so
/// Tom's fives lift it from C to B. Returns Tom's email.
async fn agency(app: &TestApp) -> String {
    let hash = tokio::task::spawn_blocking(|| jobrank::credentials::hash_password(PASSWORD))
        .await
        .unwrap()
        .unwrap();
    let now = jobrank::store::now();
    app.store
        .write(move |tx| {
            let mut ids = Vec::new();
            for (email, name, role) in [
                ("tom@agency.example", "Tom Okafor", Role::AccountManager),
                ("priya@agency.example", "Priya Shah", Role::SalesPerson),
            ] {
                let new = NewUser {
                    email: email.into(),
                    name: name.into(),
                    role,
                    scores: true,
                    password_hash: hash.clone(),
                };
                ids.push(users::insert_user(tx, &new, now)?.id);
            }
            for (id, title, client, days) in JOBS {
                let job = jobs::JobUpsert {
                    id,
                    title: title.into(),
                    client: client.into(),
                    status: "Open".into(),
                    is_open: true,
                    opened_at: Some(now - chrono::Duration::days(days)),
                    fee_minor: Some(3_200_000),
                    fee_currency: Some("GBP".into()),
                    hiring_team: vec!["Tom Okafor".into()],
                    description_html: Some("<p>A role.</p>".into()),
                };
                let _ = commands::upsert_job(tx, &job, now)?;
            }
            let low = NewSubmission {
                job_id: 9101,
                scorer_id: ids[1].clone(),
                scores: FactorScores::from_values([2, 2, 2, 2]).unwrap(),
                time_open_overridden: false,
                fee_size_overridden: false,
                comment: None,
            };
            let _ = commands::submit_score(tx, &low, now)?;
            Ok(())
        })
        .await
        .unwrap();
    "tom@agency.example".to_string()
}

async fn submissions(app: &TestApp) -> i64 {
    app.store
        .read(jobrank::store::submissions::count_submissions)
        .await
        .unwrap()
}

/// A Chrome DevTools Protocol command sent through chromedriver
/// (`POST /session/{id}/goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(json!({"cmd": self.cmd, "params": self.params}).to_string()),
        )
    }
}

impl Browser {
    /// Sends a Chrome DevTools Protocol command to the page.
    async fn cdp(&self, cmd: &'static str, params: serde_json::Value) {
        self.c()
            .issue_cmd(Cdp { cmd, params })
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    }

    /// Makes the page a touch screen, as a phone's is (`hover: none`, `pointer: coarse`).
    async fn touch_screen(&self) {
        self.cdp(
            "Emulation.setTouchEmulationEnabled",
            json!({"enabled": true, "maxTouchPoints": 5}),
        )
        .await;
        assert_eq!(
            self.js("return matchMedia('(hover: none) and (pointer: coarse)').matches")
                .await,
            json!(true),
            "touch emulation"
        );
    }

    /// The path of the page shown.
    async fn path(&self) -> String {
        self.js("return location.pathname")
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The confirmation at the top of the page, if any.
    async fn flash(&self) -> Option<String> {
        self.js(
            "const f = document.getElementById('flash'); return f ? f.textContent.trim() : null",
        )
        .await
        .as_str()
        .map(str::to_string)
    }
}

/// The heading a reader sees over a factor's cells in `table`: the column's header at
/// a desk, the label before each value on a phone's cards.
async fn column_heading(b: &Browser, table: &str, factor: &str) -> String {
    let label = jobrank::domain::Factor::ALL
        .into_iter()
        .find(|f| f.key() == factor)
        .unwrap()
        .label();
    let v = b
        .js(&format!(
            "const t = document.querySelector({table:?}); \
             const i = Array.from(t.querySelectorAll('thead th')).findIndex(th => th.textContent.startsWith({label:?})); \
             const th = t.querySelectorAll('thead th')[i]; \
             if (t.querySelector('thead').getBoundingClientRect().width > 1 && th.checkVisibility()) return th.innerText; \
             const td = t.querySelector('tbody tr').children[i]; \
             return td.checkVisibility() ? getComputedStyle(td, '::before').content : null"
        ))
        .await;
    v.as_str()
        .unwrap_or_else(|| panic!("no {label} heading seen in {table}"))
        .to_string()
}

/// One walk at one size; `label` names the screenshots ("phone", "desktop").
async fn walk(size: (u32, u32), label: &str) {
    let app = spawn_app().await;
    let email = agency(&app).await;
    let b = Browser::start().await;
    b.resize(size).await;
    b.sign_in(&app, &email, PASSWORD).await;
    if size == PHONE {
        // A phone is a touch screen: no hover, a coarse pointer.
        b.touch_screen().await;
    }
    assert!(
        b.js("return document.querySelector('header.site .who').textContent")
            .await
            .as_str()
            .unwrap()
            .contains("(Account manager)")
    );

    // The queue starts at the first job that needs my score.
    b.goto(&app.url("/queue")).await;
    let mut replay_pending = true;
    let mut seen_rank_move = false;
    let mut steps = 0;
    loop {
        let path = b.path().await;
        if path == "/queue" {
            break;
        }
        steps += 1;
        assert!(
            steps <= JOBS.len(),
            "the walk never reached All caught up: {path}"
        );
        let id: i64 = path
            .strip_prefix("/jobs/")
            .and_then(|p| p.strip_suffix("/score"))
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("not a scoring form: {path}"));
        let title = JOBS.iter().find(|j| j.0 == id).unwrap().1;
        b.assert_no_sideways_scroll(&format!("scoring form at {label}"))
            .await;
        if steps == 1 {
            // Item 4: the scale says which end of search difficulty is easy.
            assert_eq!(
                b.shown_texts(
                    "#f-search_difficulty legend .scale",
                    &format!("the search difficulty scale on the form at {label}")
                )
                .await,
                ["5 = easy to fill"]
            );
            b.screenshot(&format!("scorer-form-{label}")).await;
        }
        if size == PHONE {
            // The four factors and the submit button on one screen: from the form's
            // start, the button's bottom is inside the viewport.
            let v = b
                .js("document.getElementById('score-form').scrollIntoView(); \
                     const r = document.getElementById('submit-score').getBoundingClientRect(); \
                     return [r.bottom, window.innerHeight, getComputedStyle(document.querySelector('.kbd-hint')).display]")
                .await;
            assert!(
                v[0].as_f64().unwrap() <= v[1].as_f64().unwrap(),
                "the submit button is below the first screen of the form: {v}"
            );
            assert_eq!(v[2], json!("none"), "keyboard hints on a phone");
            if steps == 1 {
                b.screenshot("scorer-form-phone-scrolled").await;
            }
        } else {
            assert_ne!(
                b.js("return getComputedStyle(document.querySelector('.kbd-hint')).display")
                    .await,
                json!("none"),
                "keyboard hints at a desk"
            );
        }

        if id == SKIPPED {
            // "Can't judge this one": open it, pick a reason, set the job aside.
            b.click("details#skip > summary").await;
            b.click("details#skip input[name=reason][value='New to the client']")
                .await;
            b.assert_no_sideways_scroll(&format!("skip form at {label}"))
                .await;
            b.screenshot(&format!("scorer-skip-{label}")).await;
            let before = submissions(&app).await;
            b.click("details#skip button[value=skip]").await;
            b.wait_until(
                &format!(
                    "location.pathname !== '/jobs/{id}/score' && document.readyState === 'complete'"
                ),
                "the next page after setting the job aside",
            )
            .await;
            let flash = b.flash().await.expect("a confirmation after the skip");
            assert!(
                flash.starts_with("Night Porter is set aside for this week (New to the client)"),
                "{flash}"
            );
            assert_eq!(submissions(&app).await, before, "a skip stores no score");
            continue;
        }

        // Pick a level per factor by tapping its button: fives for Fleet Manager (it
        // climbs from C to B), fours elsewhere.
        let level = if id == 9101 { 1 } else { 2 }; // nth-child: 5, 4, 3, 2, 1
        for f in [
            "client_engagement",
            "search_difficulty",
            "time_open",
            "fee_size",
        ] {
            b.click(&format!("#f-{f} label.level:nth-child({level})"))
                .await;
        }
        b.click("#submit-score").await;
        b.wait_until(
            "document.getElementById('confirm') && document.readyState === 'complete'",
            "the confirmation step",
        )
        .await;
        b.assert_no_sideways_scroll(&format!("confirmation at {label}"))
            .await;
        let replay = replay_pending;
        if replay {
            // Keep a copy of this confirmation form, as Back would show it again.
            b.js("sessionStorage.setItem('replay', document.querySelector('form[action$=\"/score\"]').outerHTML); return 0")
                .await;
            b.screenshot(&format!("scorer-confirm-{label}")).await;
        }
        let before = submissions(&app).await;
        b.click("button[value=submit]").await;
        b.wait_until(
            &format!(
                "location.pathname !== '/jobs/{id}/score' && document.readyState === 'complete'"
            ),
            "the next page after submitting",
        )
        .await;
        assert_eq!(submissions(&app).await, before + 1);
        let flash = b.flash().await.expect("a confirmation after submitting");
        assert!(flash.starts_with(&format!("{title} scored ")), "{flash}");
        if id == 9101 {
            assert_eq!(flash, "Fleet Manager scored 5.00; team 3.50, B (was C).");
            seen_rank_move = true;
        }
        assert_eq!(
            b.js("return document.getElementById('flash').getAttribute('role')")
                .await,
            json!("status"),
            "announced to screen readers"
        );
        if replay {
            b.screenshot(&format!("scorer-flash-{label}")).await;
            // Send the same confirmation again: the first answer, nothing stored.
            let landed = b.path().await;
            b.js("const d = document.createElement('div'); d.innerHTML = sessionStorage.getItem('replay'); \
                  const f = d.querySelector('form'); f.id = 'replayed'; document.body.appendChild(f); \
                  window.__beforeReplay = true; f.querySelector('button[value=submit]').click(); return 0")
                .await;
            b.wait_until(
                "window.__beforeReplay !== true && document.readyState === 'complete'",
                "the replayed confirmation is answered",
            )
            .await;
            assert_eq!(b.path().await, landed, "the same next page");
            assert_eq!(
                b.flash().await.as_deref(),
                Some(flash.as_str()),
                "the same confirmation"
            );
            assert_eq!(
                submissions(&app).await,
                before + 1,
                "the replay stored nothing"
            );
            replay_pending = false;
        }
    }
    assert!(seen_rank_move, "Fleet Manager was scored");
    assert!(!replay_pending, "a confirmation was replayed");

    // All caught up: 3 jobs scored this week, the skipped one listed.
    let h1 = b
        .js("return document.querySelector('main h1').textContent.trim()")
        .await;
    assert_eq!(h1, json!("All caught up: 3 jobs scored this week"));
    assert!(
        b.flash().await.is_some(),
        "the last step's confirmation shows above it"
    );
    let skipped = b
        .js("return document.getElementById('skipped').textContent")
        .await;
    assert!(
        skipped
            .as_str()
            .unwrap()
            .contains("Night Porter: New to the client"),
        "{skipped}"
    );
    b.assert_no_sideways_scroll(&format!("all caught up at {label}"))
        .await;
    b.screenshot(&format!("scorer-caught-up-{label}")).await;

    // The job page shows the skip to its scorer.
    b.goto(&app.url(&format!("/jobs/{SKIPPED}"))).await;
    b.wait_until(
        "document.getElementById('my-skip')",
        "the skip on the job page",
    )
    .await;
    b.assert_no_sideways_scroll(&format!("job page at {label}"))
        .await;
    // At a desk the keyboard hints show; on a touch screen of the same width they do
    // not.
    if size == DESKTOP {
        b.goto(&app.url("/jobs/9101/score")).await;
        let shown = "return getComputedStyle(document.querySelector('.kbd-hint')).display";
        assert_ne!(b.js(shown).await, json!("none"));
        b.touch_screen().await;
        b.goto(&app.url("/jobs/9101/score")).await;
        assert_eq!(
            b.js(shown).await,
            json!("none"),
            "keyboard hints on a touch screen"
        );
    }
    // And the dashboard no longer says my queue has work.
    b.goto(&app.url("/?needs=1")).await;
    assert_eq!(b.rows().await, Vec::<(i64, String)>::new());
    b.assert_no_sideways_scroll(&format!("dashboard at {label}"))
        .await;

    // Item 9: each job says how many scorers its team score rests on; the jobs only
    // I scored are marked as one opinion, in words and in bold colour.
    b.goto(&app.url("/")).await;
    for (id, count) in [
        (9101, "2 scorers"),
        (9102, "1 scorer only"),
        (9104, "1 scorer only"),
    ] {
        let what = format!("the scorer count of job {id} at {label}");
        assert_eq!(
            b.shown_texts(&format!("#job-{id} .scorers"), &what).await,
            [count]
        );
    }
    assert_eq!(
        b.js("return [document.querySelector('#job-9103 .scorers'), \
              getComputedStyle(document.querySelector('#job-9102 .scorers')).fontWeight, \
              getComputedStyle(document.querySelector('#job-9102 .scorers')).color \
                !== getComputedStyle(document.querySelector('#job-9101 .scorers')).color, \
              document.querySelector('#job-9101 .scorers.single')]")
            .await,
        json!([null, "700", true, null]),
        "no count on the unscored job; only a single opinion is marked"
    );
    b.assert_no_sideways_scroll(&format!("whole dashboard at {label}"))
        .await;
    b.screenshot(&format!("scorer-dashboard-{label}")).await;

    // The job page of a single opinion says so; its scale is labelled (item 4) and
    // its scorer tables keep every column on screen (item 14).
    b.goto(&app.url("/jobs/9102")).await;
    let note = b
        .shown_texts("#single-opinion", &format!("one opinion at {label}"))
        .await;
    assert!(note[0].starts_with("One opinion only:"), "{note:?}");
    b.screenshot(&format!("scorer-job-{label}")).await;
    for table in ["#latest-scores", "#my-scores"] {
        let head = column_heading(&b, table, "search_difficulty").await;
        assert!(
            head.contains("Search difficulty — 5 = easy to fill"),
            "the scale in {table} at {label}: {head:?}"
        );
        b.assert_table_fits(table, &format!("job page at {label}"))
            .await;
    }
    b.assert_no_sideways_scroll(&format!("single-opinion job page at {label}"))
        .await;
    b.js("document.getElementById('latest-h').scrollIntoView(); return 0")
        .await;
    b.screenshot(&format!("scorer-job-scores-{label}")).await;
    drop(b);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_manager_scores_his_queue_on_a_phone() {
    walk(PHONE, "phone").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_manager_scores_his_queue_at_a_desk() {
    walk(DESKTOP, "desktop").await;
}
