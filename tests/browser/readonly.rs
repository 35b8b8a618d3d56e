//! Issue 13: the read-only persona's walk at phone (390x844) and desktop (1366x900)
//! size: the role label "Read-only", the dashboard's counts as filters, the menu, the
//! pipelines' stage names and why a job is stalled, paging, a search whose URL keeps
//! only what was asked, the CSV link of that view, a job page with a sanitized
//! description and its Recruiterflow link, back to the filtered dashboard, a scored
//! job's table and a stalled job's pipeline on screen, an error page that keeps the
//! navigation and sign-out, no page wider than the screen. And a scorer's first screen on a phone: "Score my queue (N)"
//! and the first job without scrolling.

use fantoccini::Locator;
use jobrank::domain::Role;
use jobrank::store::{commands, jobs};
use serde_json::json;

use super::helpers::{TestApp, spawn_app_with};
use super::{Browser, account};

const PHONE_390: (u32, u32) = (390, 844);
const DESKTOP_1366: (u32, u32) = (1366, 900);

/// The hostile description of the walk's job 9100: every payload would set
/// `window.__xss` if it ran.
const HOSTILE: &str = concat!(
    "<h3>About the role</h3><p>Build <strong>robots</strong> that sort parcels.</p>",
    "<script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2\">",
    "<p onclick=\"window.__xss = 3\">Click me</p><svg onload=\"window.__xss = 4\"></svg>",
    "<a href=\"javascript:window.__xss = 5\">Apply now</a> ",
    "<a href=\"https://careers.example/zephyr/jobs/robotics-field-engineer-with-a-very-long-address-that-must-wrap-on-a-phone\">Careers page</a>",
);

/// A jobrank with the demo agency, "Open in Recruiterflow" links, and 20 more open
/// Zephyr Robotics jobs (56 open jobs: two pages), the first with a hostile
/// description.
async fn walk_app() -> (TestApp, Vec<(String, String, Role)>) {
    let app = spawn_app_with(&[(
        "RECRUITERFLOW_JOB_URL",
        "https://recruiterflow.example/jobs/{id}".into(),
    )])
    .await;
    let accounts = jobrank::cli::fill_demo(&app.store)
        .await
        .expect("demo fills the store")
        .accounts
        .into_iter()
        .map(|(email, _, role, password)| (email, password, role))
        .collect();
    app.store
        .write(|tx| {
            let now = jobrank::store::now();
            for i in 0..20 {
                let job = jobs::JobUpsert {
                    id: 9100 + i,
                    title: format!("Robotics Engineer {}", i + 1),
                    client: "Zephyr Robotics".into(),
                    status: "Open".into(),
                    is_open: true,
                    opened_at: Some(now - chrono::Duration::days(3 + i)),
                    fee_minor: Some(3_000_000),
                    fee_currency: Some("GBP".into()),
                    hiring_team: vec!["Tom Okafor".into()],
                    description_html: Some(if i == 0 {
                        HOSTILE.into()
                    } else {
                        "<p>Robots.</p>".into()
                    }),
                };
                let _ = commands::upsert_job(tx, &job, now)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    (app, accounts)
}

/// The counts above the list: (label, count, filter on).
async fn counts(b: &Browser) -> Vec<(String, u64, bool)> {
    let v = b
        .js("return Array.from(document.querySelectorAll('nav.counts a.count')).map(a => [a.querySelector('.label').textContent, parseInt(a.querySelector('.n').textContent), a.classList.contains('on')])")
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c[0].as_str().unwrap().to_string(),
                c[1].as_u64().unwrap(),
                c[2].as_bool().unwrap(),
            )
        })
        .collect()
}

fn count_of(counts: &[(String, u64, bool)], label: &str) -> u64 {
    counts
        .iter()
        .find(|c| c.0 == label)
        .unwrap_or_else(|| panic!("no {label} count in {counts:?}"))
        .1
}

/// Item 11: the role shown to a read-only user says "Read-only" (the stored `other`
/// would read "Other").
async fn assert_role_label(b: &Browser, label: &str) {
    let who = b
        .shown_texts(
            "header.site .who > span",
            &format!("the role label at {label}"),
        )
        .await;
    assert!(who[0].ends_with("(Read-only)"), "{who:?}");
}

/// Item 10 on the dashboard's first page: each pipeline names its stages in words
/// shown at this size (not only on hover), a stage is marked only on a stalled job,
/// and each stalled job says why. Returns a stalled job.
async fn assert_pipelines(b: &Browser, label: &str) -> i64 {
    let rows = b
        .js("return Array.from(document.querySelectorAll('#job-list li.job')).filter(li => li.querySelector('.stages')).map(li => [parseInt(li.id.slice(4)), li.querySelectorAll('.stages li.stalled').length, li.querySelectorAll('.bar span.stalled').length, li.querySelectorAll('.stall').length])")
        .await;
    let rows: Vec<[i64; 4]> = serde_json::from_value(rows).unwrap();
    for [id, stage, bar, why] in &rows {
        assert!(
            [*stage, *bar, *why] == [0, 0, 0] || [*stage, *bar, *why] == [1, 1, 1],
            "job {id}: a marked stage, a marked bar and the reason go together: {rows:?}"
        );
    }
    let stalled: Vec<i64> = rows.iter().filter(|r| r[3] == 1).map(|r| r[0]).collect();
    assert!(
        !stalled.is_empty() && stalled.len() < rows.len(),
        "the first page has stalled and moving pipelines: {rows:?}"
    );
    let stages = b
        .shown_texts("#job-list .stages li", &format!("stage names at {label}"))
        .await;
    assert!(
        stages.iter().all(|s| s
            .rsplit_once(' ')
            .is_some_and(|(name, n)| !name.is_empty() && n.parse::<u32>().is_ok())),
        "each stage in words with its candidates: {stages:?}"
    );
    let why = b
        .shown_texts("#job-list .stall", &format!("why stalled at {label}"))
        .await;
    assert_eq!(why.len(), stalled.len());
    assert!(
        why.iter()
            .all(|w| w.starts_with("Stalled: ") && w.ends_with("(stalled from 14)")),
        "{why:?}"
    );
    b.js(&format!(
        "document.getElementById('job-{}').scrollIntoView(); return 0",
        stalled[0]
    ))
    .await;
    b.screenshot(&format!("readonly-pipelines-{label}")).await;
    stalled[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_user_walks_the_dashboard_and_a_job_at_phone_and_desktop_size() {
    let (app, accounts) = walk_app().await;
    let b = Browser::start().await;
    let (email, password) = account(&accounts, Role::Other);
    b.resize(PHONE_390).await;
    b.sign_in(&app, &email, &password).await;
    for (size, label) in [(PHONE_390, "phone"), (DESKTOP_1366, "desktop")] {
        b.resize(size).await;
        b.goto(&app.url("/")).await;
        b.assert_no_sideways_scroll(&format!("dashboard at {label}"))
            .await;

        // The menu folds away on the phone and is shown on the desktop.
        let nav_shown = b
            .js("return document.querySelector(\"header.site nav a[href='/']\").checkVisibility()")
            .await;
        assert_eq!(nav_shown, json!(label == "desktop"), "the menu at {label}");
        if label == "phone" {
            b.screenshot("readonly-dashboard-phone").await;
            b.click("a.menu-open").await;
            b.wait_until(
                "document.querySelector(\"header.site nav a[href='/']\").checkVisibility()",
                "the menu opens",
            )
            .await;
            b.screenshot("readonly-menu-phone").await;
            assert_role_label(&b, label).await;
            b.click("a.menu-close").await;
            b.wait_until(
                "!document.querySelector(\"header.site nav a[href='/']\").checkVisibility()",
                "the menu folds again",
            )
            .await;
        } else {
            b.screenshot("readonly-dashboard-desktop").await;
            assert_role_label(&b, label).await;
        }

        // Counts: A, B, C (and not scored) add up to every open job; no "needs my
        // score" and no queue for a read-only user; no problem strip when all is well.
        let all = counts(&b).await;
        let ranks: u64 = all
            .iter()
            .filter(|c| ["A", "B", "C", "Not scored"].contains(&c.0.as_str()))
            .map(|c| c.1)
            .sum();
        assert_eq!(ranks, 56, "{all:?}");
        assert!(all.iter().all(|c| c.0 != "Needs my score"), "{all:?}");
        assert_eq!(
            b.js("return [document.getElementById('score-queue'), document.querySelector('.strip.problems')]")
                .await,
            json!([null, null])
        );
        assert_eq!(
            b.js("return document.querySelectorAll('nav.pager').length")
                .await,
            json!(2),
            "pagers above and below 56 jobs"
        );
        let stalled_job = assert_pipelines(&b, label).await;

        // The "Stalled" count filters the list and says the rule in words (a phone
        // shows no tooltip); following it again turns the filter off.
        b.click("nav.counts a.stalled").await;
        b.wait_until(
            "location.search === '?pipeline=stalled'",
            "the URL says pipeline=stalled",
        )
        .await;
        let rule = b
            .shown_texts("#stalled-rule", &format!("the stalled rule at {label}"))
            .await;
        assert!(
            rule[0].contains("waited 14 days or more on average"),
            "{rule:?}"
        );
        b.assert_no_sideways_scroll(&format!("stalled filter at {label}"))
            .await;
        b.js("document.getElementById('stalled-rule').scrollIntoView(); return 0")
            .await;
        b.screenshot(&format!("readonly-stalled-filter-{label}"))
            .await;
        b.click("nav.counts a.stalled").await;
        b.wait_until("location.search === ''", "the stalled filter is off")
            .await;

        // "B" filters the list (htmx), keeps the form in step, and turns off again.
        let b_count = count_of(&all, "B");
        b.click("nav.counts a.rank-B").await;
        b.wait_until("location.search === '?rank=B'", "the URL says rank=B")
            .await;
        b.wait_until(
            &format!("document.querySelectorAll('#job-list li.job').length === {b_count} && Array.from(document.querySelectorAll('#job-list li.job')).every(li => li.dataset.rank === 'B')"),
            "the B count lists the B jobs",
        )
        .await;
        assert_eq!(
            b.js("return document.getElementById('rank').value").await,
            json!("B"),
            "the form follows the count link"
        );
        let on = counts(&b).await;
        assert!(on.iter().any(|c| c.0 == "B" && c.2), "{on:?}");
        b.click("nav.counts a.rank-B").await;
        b.wait_until("location.search === ''", "the B filter is off again")
            .await;
        b.wait_until(
            "document.querySelectorAll('nav.pager').length === 2",
            "every job again",
        )
        .await;

        // Next from the bottom pager returns to the top of the list.
        b.js("window.scrollTo(0, document.body.scrollHeight); return 0")
            .await;
        b.click("nav.pager:last-of-type a[rel=next]").await;
        b.wait_until("location.search === '?page=2'", "page 2")
            .await;
        b.wait_until(
            "document.getElementById('job-count').textContent.includes('Showing 51–56 of 56')",
            "page 2 is listed",
        )
        .await;
        b.wait_until(
            "(() => { const t = document.getElementById('job-list').getBoundingClientRect().top; return t > -2 && t < window.innerHeight / 2; })()",
            "the top of the list is in view after Next",
        )
        .await;
        b.screenshot(&format!("readonly-page2-{label}")).await;

        // A page past the end says so and links to the last page.
        b.goto(&app.url("/?page=9")).await;
        let text = b
            .js("return document.getElementById('beyond').textContent")
            .await;
        assert!(
            text.as_str().unwrap().contains("There is no page 9"),
            "{text}"
        );
        b.click("#beyond a").await;
        b.wait_until("location.search === '?page=2'", "the last page")
            .await;

        // A search: the URL keeps only what was asked (no empty fields).
        b.goto(&app.url("/")).await;
        b.c()
            .find(Locator::Id("q"))
            .await
            .unwrap()
            .send_keys("Zephyr")
            .await
            .unwrap();
        b.wait_until("location.search === '?q=Zephyr'", "the URL is ?q=Zephyr")
            .await;
        b.wait_until(
            "document.querySelectorAll('#job-list li.job').length === 20",
            "the Zephyr jobs",
        )
        .await;
        // The CSV link exports this view.
        assert_eq!(
            b.js("return document.getElementById('export-view').getAttribute('href')")
                .await,
            json!("/export/jobs.csv?q=Zephyr")
        );
        let csv = b
            .c()
            .execute_async(
                "const done = arguments[arguments.length - 1]; fetch(document.getElementById('export-view').href).then(r => r.text()).then(done);",
                Vec::new(),
            )
            .await
            .unwrap();
        let csv = csv.as_str().unwrap();
        assert_eq!(csv.lines().count(), 21, "a header and 20 jobs: {csv}");
        assert!(csv.lines().skip(1).all(|l| l.contains("Zephyr Robotics")));

        // The job with the hostile description, opened from the filtered list.
        b.click("#job-9100 a.job-link").await;
        b.wait_until(
            "location.pathname === '/jobs/9100' && document.readyState === 'complete'",
            "the job page",
        )
        .await;
        assert_eq!(
            b.js("return [window.__xss === undefined, document.querySelectorAll('#description script, #description img, #description svg, #description [onclick]').length, document.querySelector('#description h3').textContent]")
                .await,
            json!([true, 0, "About the role"]),
            "formatting kept, nothing ran"
        );
        b.click("#description p:nth-of-type(2)").await;
        assert_eq!(
            b.js("return Array.from(document.querySelectorAll('#description a')).map(a => [a.getAttribute('href'), a.rel])")
                .await,
            json!([
                [null, "noopener noreferrer"],
                ["https://careers.example/zephyr/jobs/robotics-field-engineer-with-a-very-long-address-that-must-wrap-on-a-phone", "noopener noreferrer"]
            ])
        );
        assert_eq!(b.js("return window.__xss === undefined").await, json!(true));
        assert_eq!(
            b.js("return document.getElementById('recruiterflow-link').href")
                .await,
            json!("https://recruiterflow.example/jobs/9100")
        );
        b.assert_no_sideways_scroll(&format!("job page at {label}"))
            .await;
        b.assert_links_fit("main", &format!("job page at {label}"))
            .await;
        b.js("document.getElementById('description').scrollIntoView(); return 0")
            .await;
        b.screenshot(&format!("readonly-job-description-{label}"))
            .await;

        // Back to the dashboard: the search is still there.
        b.click("#back").await;
        b.wait_until(
            "location.pathname === '/' && location.search === '?q=Zephyr' && document.readyState === 'complete'",
            "back to the filtered dashboard",
        )
        .await;
        assert_eq!(
            b.js("return [document.getElementById('q').value, document.querySelectorAll('#job-list li.job').length]")
                .await,
            json!(["Zephyr", 20])
        );

        // A demo job with every scorer's scores: on the phone the table is cards.
        b.goto(&app.url("/?rank=A")).await;
        b.click("#job-list li.job a.job-link").await;
        b.wait_until(
            "document.getElementById('latest-scores')",
            "a job with scores",
        )
        .await;
        let display = b
            .js("return getComputedStyle(document.querySelector('#latest-scores tbody tr')).display")
            .await;
        assert_eq!(
            display,
            json!(if label == "phone" {
                "block"
            } else {
                "table-row"
            }),
            "the scores at {label}"
        );
        b.assert_no_sideways_scroll(&format!("scored job page at {label}"))
            .await;
        b.assert_table_fits("#latest-scores", &format!("scored job page at {label}"))
            .await;
        b.js("document.getElementById('latest-h').scrollIntoView(); return 0")
            .await;
        b.screenshot(&format!("readonly-job-scores-{label}")).await;

        // Item 10: a stalled job's page marks the stalled stage and explains the rule.
        b.goto(&app.url(&format!("/jobs/{stalled_job}"))).await;
        let stage = b
            .shown_texts("#stages tr.stalled td:first-child", "the stalled stage")
            .await;
        assert!(
            stage.len() == 1 && stage[0].ends_with("(stalled)"),
            "{stage:?}"
        );
        let why = b.shown_texts("#stalled", "why it is stalled").await;
        assert!(
            why[0].starts_with("Stalled: ") && why[0].ends_with("(stalled from 14)."),
            "{why:?}"
        );
        let rule = b
            .shown_texts("section[aria-labelledby=pipeline-h] > p.muted", "the rule")
            .await;
        assert!(
            rule[0].contains("waited 14 days or more on average"),
            "{rule:?}"
        );
        b.assert_table_fits("#stages", &format!("stalled job page at {label}"))
            .await;
        b.assert_no_sideways_scroll(&format!("stalled job page at {label}"))
            .await;
        b.js("document.getElementById('pipeline-h').scrollIntoView(); return 0")
            .await;
        b.screenshot(&format!("readonly-job-stalled-{label}")).await;

        // Item 17: a job that does not exist, as a signed-in user: a sentence under
        // the navigation, with the role label and sign-out still there.
        b.goto(&app.url("/jobs/987654")).await;
        assert_eq!(
            b.shown_texts("#error h1", "the error's heading").await,
            ["Not found (404)"]
        );
        assert_eq!(
            b.shown_texts("#error p", "the error's message").await,
            ["Job 987654 not found."]
        );
        b.assert_no_sideways_scroll(&format!("error page at {label}"))
            .await;
        b.screenshot(&format!("readonly-error-{label}")).await;
        if label == "phone" {
            b.shown_texts("a.menu-open", "the menu button on the error page")
                .await;
            b.click("a.menu-open").await;
        }
        assert_eq!(
            b.shown_texts("header.site nav a", "the navigation on the error page")
                .await,
            ["Dashboard"]
        );
        assert_eq!(
            b.shown_texts(
                "header.site form[action='/logout'] button",
                "sign-out on the error page"
            )
            .await,
            ["Sign out"]
        );
        assert_role_label(&b, label).await;
        if label == "phone" {
            b.screenshot("readonly-error-menu-phone").await;
            b.click("a.menu-close").await;
        }
    }
    drop(b);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scorers_first_screen_shows_the_queue_button_and_the_first_job() {
    let (app, accounts) = walk_app().await;
    let b = Browser::start().await;
    let (email, password) = account(&accounts, Role::AccountManager);
    for (size, label) in [(PHONE_390, "phone"), (DESKTOP_1366, "desktop")] {
        b.resize(size).await;
        if label == "phone" {
            b.sign_in(&app, &email, &password).await;
        } else {
            b.goto(&app.url("/")).await;
        }
        b.assert_no_sideways_scroll(&format!("scorer's dashboard at {label}"))
            .await;
        let needs = count_of(&counts(&b).await, "Needs my score");
        assert!(needs > 0);
        let seen = b
            .js("const h = window.innerHeight; \
                 const q = document.getElementById('score-queue').getBoundingClientRect(); \
                 const j = document.querySelector('#job-list li.job').getBoundingClientRect(); \
                 return [document.getElementById('score-queue').textContent, q.top >= 0 && q.bottom <= h, j.top >= 0 && j.bottom <= h, window.scrollY, Math.round(j.bottom), h]")
            .await;
        assert_eq!(
            seen[0],
            json!(format!("Score my queue ({needs})")),
            "{seen}"
        );
        assert_eq!(
            (&seen[1], &seen[2], &seen[3]),
            (&json!(true), &json!(true), &json!(0)),
            "the button and the whole first job on the first screen at {label} (first job's bottom, viewport height): {seen}"
        );
        b.screenshot(&format!("scorer-first-screen-{label}")).await;
    }
    // The button starts the queue.
    b.click("#score-queue").await;
    b.wait_until(
        "/^\\/jobs\\/\\d+\\/score$/.test(location.pathname)",
        "the first job of the queue",
    )
    .await;
    drop(b);
    app.stop().await;
}
