//! Outcomes that hold up (issue 15): closed jobs keep the rank they closed with, the
//! outcome report against a hand-computed fixture (with a JPY and a GBP fee), client
//! pages, participation over time, a scorer's own history, the freshness rules on the
//! pages and the API, and two replicas agreeing on frozen ranks through a real
//! PostgreSQL.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use jobrank::domain::{Role, Settings};
use jobrank::replication::reconcile;
use jobrank::store::jobs::JobUpsert;
use jobrank::store::placements::{self, PlacementUpsert};
use jobrank::store::submissions::{self, NewSubmission};
use jobrank::store::{self, Store, commands};
use serde_json::Value;

use crate::helpers::{TestApp, eventually, spawn_app, spawn_app_in};
use crate::pg;
use crate::replication::{migrated, pull_all, push_all, replica, score, seed, t0};
use crate::web_support::*;

/// 09:00 UTC on a day of 2026.
fn day(month: u32, d: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2026, month, d)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc()
}

fn job(id: i64, client: &str, opened: DateTime<Utc>) -> JobUpsert {
    JobUpsert {
        id,
        title: format!("Job {id}"),
        client: client.into(),
        status: "Open".into(),
        is_open: true,
        opened_at: Some(opened),
        fee_minor: Some(2_000_000),
        fee_currency: Some("GBP".into()),
        hiring_team: vec![],
        description_html: None,
    }
}

fn submit(store: &Store, job_id: i64, scorer: &str, level: u8, at: DateTime<Utc>) {
    let new = NewSubmission {
        job_id,
        scorer_id: scorer.into(),
        scores: submissions::levels([level; 4]).unwrap(),
        time_open_overridden: false,
        fee_size_overridden: false,
        comment: None,
    };
    store
        .write_blocking(|tx| commands::submit_score(tx, &new, at).map(|_| ()))
        .unwrap();
}

fn place(store: &Store, id: i64, job_id: i64, at: DateTime<Utc>, minor: i64, currency: &str) {
    let p = PlacementUpsert {
        id,
        job_id,
        candidate: Some(format!("Candidate {id}")),
        placed_at: Some(at),
        fee_minor: Some(minor),
        fee_currency: Some(currency.into()),
    };
    store
        .write_blocking(|tx| placements::upsert_placement(tx, &p, at).map(|_| ()))
        .unwrap();
}

fn upsert(store: &Store, j: &JobUpsert, at: DateTime<Utc>) {
    store
        .write_blocking(|tx| commands::upsert_job(tx, j, at).map(|_| ()))
        .unwrap();
}

fn close(store: &Store, id: i64, at: DateTime<Utc>) {
    store
        .write_blocking(|tx| commands::close_job(tx, id, Some("Closed"), at).map(|_| ()))
        .unwrap();
}

/// The fixture, the third quarter of 2026 (every figure below is worked out by hand):
///
/// | job | client | scores | rank at close | held longest | placed (days) | fee | closed |
/// |---|---|---|---|---|---|---|---|
/// | 11 | Acme | Ann 4 | A 4.00 | A | 21 Jul (20) | GBP 18,000 | 25 Jul |
/// | 12 | Acme | Ann 5 | A 5.00 | A | 10 Aug (40) | JPY 2,000,000 | 12 Aug |
/// | 13 | Beta Foods | Ann 3, then 4 on 30 Aug | A 4.00 | B (55 days against 2) | – | – | 1 Sep |
/// | 14 | Beta Foods | Bob 2 | C 2.00 | C | 9 Aug (30) | GBP 9,000.50 | 20 Aug |
/// | 15 | Acme | none | – | – | – | – | 15 Sep |
///
/// Job 16 closes in October (another quarter) and job 17 closed in August but was
/// reopened: neither is in the report.
struct Fixture {
    app: TestApp,
    ann: String,
    bob: String,
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, false).await;
    let ann = add_user(&app, "ann@agency.example", Role::AccountManager, true)
        .await
        .id;
    let bob = add_user(&app, "bob@agency.example", Role::SalesPerson, true)
        .await
        .id;
    add_user(&app, "sam@agency.example", Role::Other, false).await;
    let s = app.store.clone();
    let (a, b) = (ann.clone(), bob.clone());
    tokio::task::spawn_blocking(move || {
        // Settings in force since June (the store's first version is dated today).
        s.write_blocking(|tx| {
            commands::save_settings(tx, &Settings::default(), day(6, 1), None).map(|_| ())
        })
        .unwrap();
        for (id, client, opened) in [
            (11, "Acme", day(7, 1)),
            (12, "Acme", day(7, 1)),
            (13, "Beta Foods", day(7, 5)),
            (14, "Beta Foods", day(7, 10)),
            (15, "Acme", day(8, 1)),
            (16, "Acme", day(7, 1)),
            (17, "Acme", day(7, 1)),
        ] {
            upsert(&s, &job(id, client, opened), opened);
        }
        submit(&s, 11, &a, 4, day(7, 2));
        submit(&s, 12, &a, 5, day(7, 2));
        submit(&s, 13, &a, 3, day(7, 6));
        submit(&s, 14, &b, 2, day(7, 11));
        submit(&s, 16, &a, 4, day(7, 2));
        submit(&s, 17, &a, 5, day(7, 2));
        submit(&s, 13, &a, 4, day(8, 30));
        place(&s, 1, 11, day(7, 21), 1_800_000, "GBP");
        place(&s, 2, 12, day(8, 10), 2_000_000, "JPY");
        place(&s, 3, 14, day(8, 9), 900_050, "GBP");
        place(&s, 4, 16, day(9, 20), 1_800_000, "GBP");
        close(&s, 11, day(7, 25));
        close(&s, 12, day(8, 12));
        close(&s, 14, day(8, 20));
        close(&s, 13, day(9, 1));
        close(&s, 15, day(9, 15));
        close(&s, 16, day(10, 2));
        close(&s, 17, day(8, 1));
        upsert(&s, &job(17, "Acme", day(7, 1)), day(8, 5));
    })
    .await
    .unwrap();
    Fixture { app, ann, bob }
}

const Q3: &str = "from=2026-07-01&to=2026-09-30";

/// The cells of each row of the table with this id, tags removed.
fn table(html: &str, id: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id} in {html}"));
    let body = &html[start..];
    let body = &body[..body.find("</table>").unwrap()];
    body.split("<tr>")
        .skip(2)
        .map(|row| {
            row.split("<t")
                .skip(1)
                .filter(|c| c.starts_with("h") || c.starts_with("d"))
                .map(|c| {
                    let inner = &c[c.find('>').unwrap() + 1..];
                    let mut text = String::new();
                    let mut in_tag = false;
                    for ch in inner.chars() {
                        match ch {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => text.push(c),
                            _ => {}
                        }
                    }
                    text.trim().to_string()
                })
                .collect()
        })
        .collect()
}

fn row(rows: &[Vec<String>], label: &str) -> Vec<String> {
    rows.iter()
        .find(|r| r[0] == label)
        .unwrap_or_else(|| panic!("no row {label} in {rows:?}"))
        .clone()
}

fn cells(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The outcome section of the review page.
async fn outcomes_html(ceo: &Browser<'_>, query: &str) -> String {
    let res = ceo.get(&format!("/review?{query}")).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let start = html.find("id=\"outcomes\"").expect("the outcome section");
    html[start..]
        .split("</section>")
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn outcome_figures_match_the_hand_computed_fixture_and_a_later_settings_change_leaves_them() {
    let f = fixture().await;
    let ceo = sign_in(&f.app, "ceo@agency.example").await;
    let html = outcomes_html(&ceo, Q3).await;
    assert!(html.contains("<strong>5</strong>, filled 3 of 5"), "{html}");
    let at_close = table(&html, "outcomes-at-close");
    assert_eq!(
        row(&at_close, "A"),
        cells(&[
            "A",
            "3",
            "2 of 3",
            "30 days",
            "GBP 18,000 + JPY 2,000,000",
            "GBP 6,000 + JPY 666,667"
        ])
    );
    assert_eq!(
        row(&at_close, "B"),
        cells(&["B", "0", "0 of 0", "–", "–", "–"])
    );
    assert_eq!(
        row(&at_close, "C"),
        cells(&[
            "C",
            "1",
            "1 of 1",
            "30 days",
            "GBP 9,000.50",
            "GBP 9,000.50"
        ])
    );
    assert_eq!(
        row(&at_close, "Not ranked"),
        cells(&["Not ranked", "1", "0 of 1", "–", "–", "–"])
    );
    let longest = table(&html, "outcomes-held-longest");
    assert_eq!(
        row(&longest, "A"),
        cells(&[
            "A",
            "2",
            "2 of 2",
            "30 days",
            "GBP 18,000 + JPY 2,000,000",
            "GBP 9,000 + JPY 1,000,000"
        ])
    );
    assert_eq!(
        row(&longest, "B"),
        cells(&["B", "1", "0 of 1", "–", "–", "–"])
    );
    let clients = table(&html, "outcomes-by-client");
    assert_eq!(
        clients,
        vec![
            cells(&[
                "Acme",
                "3",
                "2 of 3",
                "30 days",
                "GBP 18,000 + JPY 2,000,000",
                "GBP 6,000 + JPY 666,667"
            ]),
            cells(&[
                "Beta Foods",
                "2",
                "1 of 2",
                "30 days",
                "GBP 9,000.50",
                "GBP 4,500.25"
            ]),
        ]
    );
    let unfilled = table(&html, "outcomes-unfilled");
    let listed: Vec<(&str, &str, &str)> = unfilled
        .iter()
        .map(|r| (r[0].as_str(), r[2].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        listed,
        [("Job 15", "not ranked", "not ranked"), ("Job 13", "A", "B")]
    );

    // The report as CSV: each group with its figures, one currency a row.
    let res = ceo.get(&format!("/export/outcomes.csv?{Q3}")).await;
    assert_eq!(res.status(), 200);
    let report = res.text().await.unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(
        lines[0],
        "section,group,jobs,filled,fill_rate,median_days_to_fill,currency,fees_placed,fees_per_job"
    );
    for expected in [
        "rank at close,A,3,2,0.667,30,GBP,18000.00,6000.00",
        "rank at close,A,3,2,0.667,30,JPY,2000000,666667",
        "rank at close,B,0,0,,,,,",
        "rank at close,C,1,1,1.000,30,GBP,9000.50,9000.50",
        "rank at close,Not ranked,1,0,0.000,,,,",
        "rank held longest,A,2,2,1.000,30,GBP,18000.00,9000.00",
        "rank held longest,A,2,2,1.000,30,JPY,2000000,1000000",
        "rank held longest,B,1,0,0.000,,,,",
        "client,Acme,3,2,0.667,30,GBP,18000.00,6000.00",
        "client,Acme,3,2,0.667,30,JPY,2000000,666667",
        "client,Beta Foods,2,1,0.500,30,GBP,9000.50,4500.25",
    ] {
        assert!(lines.contains(&expected), "{expected} in\n{report}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("all,") && l.contains(",5,3,0.600,")),
        "{report}"
    );
    let res = ceo
        .get(&format!("/export/outcomes.csv?{Q3}&view=nonsense"))
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("view: must be report or jobs")
    );

    // And job by job: one row per job closed in the period, latest close first.
    let res = ceo
        .get(&format!("/export/outcomes.csv?{Q3}&view=jobs"))
        .await;
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "job_id,title,client,opened_at,closed_at,days_open,rank_at_close,team_score_at_close,rank_held_longest,filled,placements,first_placed_at,days_to_fill,fee_currency,fees_placed"
    );
    let ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids, ["15", "13", "14", "12", "11"]);
    assert!(
        lines[4].ends_with(",A,5.00,A,yes,1,2026-08-10T09:00:00.000000Z,40,JPY,2000000"),
        "{}",
        lines[4]
    );
    assert!(
        lines[3].ends_with(",C,2.00,C,yes,1,2026-08-09T09:00:00.000000Z,30,GBP,9000.50"),
        "{}",
        lines[3]
    );
    assert!(lines[1].ends_with(",,,,no,0,,,,"), "{}", lines[1]);

    // A settings change after the closes (A from 2.00, B from 1.50) would make Job 14
    // an A and Job 15 stays unranked: the report and the closed jobs do not move.
    let form = settings_form(&ceo, &[("threshold_a", "2.00"), ("threshold_b", "1.50")]).await;
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(ceo.post("/admin/settings", &fields).await.status(), 303);
    assert_eq!(outcomes_html(&ceo, Q3).await, html);
    assert_eq!(
        ceo.get(&format!("/export/outcomes.csv?{Q3}"))
            .await
            .text()
            .await
            .unwrap(),
        report
    );
    assert_eq!(
        ceo.get(&format!("/export/outcomes.csv?{Q3}&view=jobs"))
            .await
            .text()
            .await
            .unwrap(),
        csv
    );
    let job14: Value = ceo.get("/api/jobs/14").await.json().await.unwrap();
    assert_eq!(job14["rank"], "C", "{job14}");
    assert_eq!(job14["provisional"], false);
    // The open job moved (4.00 is an A either way; Job 17 is Ann's 4 after reopening).
    let page = ceo.get("/jobs/14").await.text().await.unwrap();
    assert!(page.contains("id=\"rank-at-close\""), "{page}");
    assert!(page.contains("with rank C (team score 2.00)"), "{page}");

    // Reopened, Job 14 is ranked afresh under the new thresholds and leaves the report.
    let s = f.app.store.clone();
    tokio::task::spawn_blocking(move || upsert(&s, &job(14, "Beta Foods", day(7, 10)), day(11, 1)))
        .await
        .unwrap();
    let job14: Value = ceo.get("/api/jobs/14").await.json().await.unwrap();
    assert_eq!(
        (&job14["rank"], &job14["is_open"]),
        (&Value::from("A"), &Value::from(true))
    );
    let html = outcomes_html(&ceo, Q3).await;
    assert!(html.contains("<strong>4</strong>, filled 2 of 4"), "{html}");
    let _ = (&f.ann, &f.bob);
}

/// The admin page's settings form as it is filled in, with some fields changed.
async fn settings_form(ceo: &Browser<'_>, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let admin = ceo.get("/admin").await.text().await.unwrap();
    let form = admin
        .split("action=\"/admin/settings\"")
        .nth(1)
        .unwrap()
        .split("</form>")
        .next()
        .unwrap();
    let mut out: Vec<(String, String)> = form
        .split("<input ")
        .skip(1)
        .filter_map(|input| {
            let attr = |name: &str| {
                input
                    .split(&format!(" {name}=\""))
                    .nth(1)
                    .map(|r| r.split('"').next().unwrap().to_string())
            };
            let name = attr("name")?;
            (name != "csrf").then(|| (name, attr("value").unwrap_or_default()))
        })
        .collect();
    for (k, v) in changes {
        let slot = out
            .iter_mut()
            .find(|(name, _)| name == k)
            .unwrap_or_else(|| panic!("the settings form has no field {k}"));
        slot.1 = v.to_string();
    }
    out
}

#[tokio::test]
async fn bad_periods_are_422_naming_the_field_and_the_report_is_the_ceos() {
    let f = fixture().await;
    let ceo = sign_in(&f.app, "ceo@agency.example").await;
    for (query, field) in [
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("from=2026-09-01&to=2026-08-01", "to"),
    ] {
        let res = ceo.get(&format!("/export/outcomes.csv?{query}")).await;
        assert_eq!(res.status(), 422, "{query}");
        let text = res.text().await.unwrap();
        assert!(text.contains(&format!("{field}: must")), "{query}: {text}");
        let page = ceo.get(&format!("/review?{query}")).await;
        assert_eq!(page.status(), 422, "{query}");
        assert!(page.text().await.unwrap().contains(field));
    }
    // The calendar quarter of today by default.
    let (from, to) = jobrank::domain::quarter_of(store::now().date_naive());
    let html = outcomes_html(&ceo, "").await;
    assert!(
        html.contains(&format!("value=\"{from}\"")) && html.contains(&format!("value=\"{to}\"")),
        "{html}"
    );
    for who in ["ann@agency.example", "sam@agency.example"] {
        let b = sign_in(&f.app, who).await;
        assert_eq!(
            b.get(&format!("/export/outcomes.csv?{Q3}")).await.status(),
            403
        );
    }
    assert!(
        f.app
            .get("/export/outcomes.csv")
            .await
            .status()
            .is_redirection()
    );
}

#[tokio::test]
async fn a_client_page_shows_its_open_jobs_engagement_placements_and_fees() {
    let f = fixture().await;
    let s = f.app.store.clone();
    let ann = f.ann.clone();
    tokio::task::spawn_blocking(move || {
        let now = store::now();
        upsert(
            &s,
            &job(18, "Smith & Co / UK", now - Duration::days(3)),
            now,
        );
        submit(&s, 18, &ann, 5, now);
    })
    .await
    .unwrap();
    let sam = sign_in(&f.app, "sam@agency.example").await;
    let res = sam.get("/clients/Acme").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("<h1>Acme</h1>"), "{html}");
    assert!(
        html.contains("1 open job · 4 closed · 3 placements"),
        "{html}"
    );
    assert!(html.contains("id=\"job-17\""), "the reopened job is open");
    assert!(
        html.contains("fees placed GBP 36,000 + JPY 2,000,000"),
        "{html}"
    );
    assert!(html.contains("class=\"chart line-chart\""), "{html}");
    let weeks = table(&html, "engagement");
    assert_eq!(
        weeks,
        vec![cells(&["29 Jun 2026", "4.5", "4"])],
        "Ann's 4, 5, 4 and 5 on 2 July"
    );
    let placed = table(&html, "placements");
    assert_eq!(placed.len(), 3);
    assert_eq!(
        (placed[0][0].as_str(), placed[0][1].as_str()),
        ("Job 16", "Candidate 4")
    );
    assert_eq!(placed[0][3], "GBP 18,000");

    // Letter case aside, and a name with spaces, '&' and '/' percent-encoded.
    assert!(
        sam.get("/clients/acme")
            .await
            .text()
            .await
            .unwrap()
            .contains("<h1>Acme</h1>")
    );
    let href = "/clients/Smith%20%26%20Co%20%2F%20UK";
    let res = sam.get(href).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("<h1>Smith &#38; Co / UK</h1>"), "{html}");
    let dashboard = sam.get("/").await.text().await.unwrap();
    assert!(
        dashboard.contains(&format!("href=\"{href}\"")),
        "linked from the dashboard"
    );
    let page = sam.get("/jobs/18").await.text().await.unwrap();
    assert!(
        page.contains(&format!("href=\"{href}\"")),
        "linked from the job page"
    );

    let res = sam.get("/clients/Nobody%20Ltd").await;
    assert_eq!(res.status(), 404);
    let text = res.text().await.unwrap();
    assert!(
        text.contains(
            "No job in jobrank is for a client named “Nobody Ltd”, so it has no page here."
        ),
        "{text}"
    );
    assert!(f.app.get("/clients/Acme").await.status().is_redirection());
}

#[tokio::test]
async fn participation_over_time_is_the_ceos_in_weeks_from_1_to_104() {
    let f = fixture().await;
    let ceo = sign_in(&f.app, "ceo@agency.example").await;
    let res = ceo.get("/api/participation").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let weeks = body["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 12);
    let last = weeks.last().unwrap();
    assert_eq!(last["complete"], false, "the week in progress");
    let monday = jobrank::domain::week_of(store::now()).to_string();
    assert_eq!(last["week"], monday.as_str());
    let ann = last["scorers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_id"] == f.ann.as_str())
        .expect("Ann is counted");
    assert_eq!(ann["name"], "User ann@agency.example");
    // Open now: jobs 17 (Ann's last score in July) is due and not done this week.
    assert!(
        ann["due"].as_u64().unwrap() >= 1 && ann["done"] == 0,
        "{ann}"
    );
    let three: Value = ceo
        .get("/api/participation?weeks=3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(three["weeks"].as_array().unwrap().len(), 3);
    for bad in ["0", "105", "many", "-1"] {
        let res = ceo.get(&format!("/api/participation?weeks={bad}")).await;
        assert_eq!(res.status(), 422, "weeks={bad}");
        let body: Value = res.json().await.unwrap();
        assert!(body["fields"]["weeks"].is_string(), "{body}");
    }
    for who in ["ann@agency.example", "sam@agency.example"] {
        let b = sign_in(&f.app, who).await;
        assert_eq!(b.get("/api/participation").await.status(), 403, "{who}");
    }
    // The review page has the table and the chart.
    let html = ceo.get("/review").await.text().await.unwrap();
    let rows = table(&html, "participation-table");
    assert_eq!(rows.len(), 12);
    assert!(
        html.contains("id=\"participation-chart-title\""),
        "the chart"
    );
}

#[tokio::test]
async fn my_scores_list_each_submission_with_the_jobs_rank_now() {
    let f = fixture().await;
    let ann = sign_in(&f.app, "ann@agency.example").await;
    for path in ["/api/scores?scorer=me", "/api/scores"] {
        let body: Value = ann.get(path).await.json().await.unwrap();
        let scores = body["scores"].as_array().unwrap();
        assert_eq!(scores.len(), 6, "{body}");
        // Newest first: Ann's 4 on Job 13 (30 August), closed as an A.
        assert_eq!(scores[0]["job_id"], 13);
        assert_eq!(scores[0]["job_rank"], "A");
        assert_eq!(scores[0]["job_is_open"], false);
        assert_eq!(scores[0]["composite"], 4.0);
    }
    let bob_scores = format!("/api/scores?scorer={}", f.bob);
    assert_eq!(ann.get(&bob_scores).await.status(), 403);
    let own = format!("/api/scores?scorer={}", f.ann);
    assert_eq!(ann.get(&own).await.status(), 200);
    let ceo = sign_in(&f.app, "ceo@agency.example").await;
    let body: Value = ceo.get(&bob_scores).await.json().await.unwrap();
    assert_eq!(body["scores"][0]["job_id"], 14);
    assert_eq!(body["scores"][0]["job_rank"], "C");
    assert_eq!(ceo.get("/api/scores?scorer=nobody").await.status(), 404);
    let sam = sign_in(&f.app, "sam@agency.example").await;
    let body: Value = sam.get("/api/scores?scorer=me").await.json().await.unwrap();
    assert_eq!(body["scores"], Value::Array(vec![]));

    let page = ann.get("/me/scores").await.text().await.unwrap();
    let rows = table(&page, "my-score-history");
    assert_eq!(rows.len(), 6);
    assert!(rows[0][0].starts_with("Job 13"), "{:?}", rows[0]);
    assert_eq!(rows[0].last().unwrap(), "A (4.00)");
    assert!(
        page.contains("href=\"/me/scores\" aria-current=\"page\""),
        "in the nav"
    );
    let page = sam.get("/me/scores").await.text().await.unwrap();
    assert!(page.contains("You do not score jobs"), "{page}");
    assert!(
        !page.contains("href=\"/me/scores\""),
        "no nav link for a read-only user"
    );
}

#[tokio::test]
async fn provisional_jobs_and_expired_scores_show_on_the_pages_the_api_and_the_export() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, false).await;
    let ann = add_user(&app, "ann@agency.example", Role::AccountManager, true).await;
    let bob = add_user(&app, "bob@agency.example", Role::SalesPerson, true).await;
    let s = app.store.clone();
    tokio::task::spawn_blocking(move || {
        let now = store::now();
        for id in [1, 2] {
            upsert(
                &s,
                &job(id, "Acme", now - Duration::days(60)),
                now - Duration::days(60),
            );
        }
        // Job 1: two scorers, 4.50, an A. Job 2: Ann alone, 5.00, an A; her score
        // there is six weeks old.
        submit(&s, 1, &ann.id, 5, now - Duration::days(2));
        submit(&s, 1, &bob.id, 4, now - Duration::days(1));
        submit(&s, 2, &ann.id, 5, now - Duration::weeks(6));
    })
    .await
    .unwrap();
    let ceo = sign_in(&app, "ceo@agency.example").await;
    let before = api_jobs(&ceo).await;
    assert_eq!(before["jobs"][0]["id"], 2, "5.00 before 4.50");
    assert!(
        before["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["provisional"] == false)
    );

    // At least two scorers: Job 2 keeps its A but is provisional and sorts after Job 1.
    let form = settings_form(&ceo, &[("min_scorers", "2")]).await;
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(ceo.post("/admin/settings", &fields).await.status(), 303);
    let after = api_jobs(&ceo).await;
    let order: Vec<(i64, &str, bool)> = after["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["id"].as_i64().unwrap(),
                j["rank"].as_str().unwrap(),
                j["provisional"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(order, [(1, "A", false), (2, "A", true)]);
    let dashboard = ceo.get("/").await.text().await.unwrap();
    assert!(
        dashboard.contains("Provisional: ranked on 1 scorer, fewer than the 2 needed."),
        "{dashboard}"
    );
    let page = ceo.get("/jobs/2").await.text().await.unwrap();
    assert!(page.contains("id=\"provisional\""), "{page}");
    let csv = ceo.get("/export/jobs.csv").await.text().await.unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",provisional"));
    assert!(
        csv.lines()
            .any(|l| l.starts_with("2,") && l.ends_with(",yes")),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("1,") && l.ends_with(",no")),
        "{csv}"
    );

    // Scores expire after four weeks: Ann's on Job 2 no longer counts.
    let form = settings_form(&ceo, &[("score_expiry_weeks", "4")]).await;
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(ceo.post("/admin/settings", &fields).await.status(), 303);
    let two: Value = ceo.get("/api/jobs/2").await.json().await.unwrap();
    assert_eq!(two["rank"], Value::Null, "{two}");
    assert_eq!(
        two["expired_scores"][0]["scorer"],
        "User ann@agency.example"
    );
    let page = ceo.get("/jobs/2").await.text().await.unwrap();
    assert!(page.contains("id=\"expired-scores\""), "{page}");
    let dashboard = ceo.get("/").await.text().await.unwrap();
    assert!(
        dashboard.contains("User ann@agency.example&#39;s score expired."),
        "the dashboard says whose: {dashboard}"
    );
    // Switched off again (empty), the score counts again.
    let form = settings_form(&ceo, &[("score_expiry_weeks", "")]).await;
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(ceo.post("/admin/settings", &fields).await.status(), 303);
    let two: Value = ceo.get("/api/jobs/2").await.json().await.unwrap();
    assert_eq!(two["rank"], "A");
    // A bad value is a 422 naming the field.
    let form = settings_form(&ceo, &[("score_expiry_weeks", "60")]).await;
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = ceo.post("/admin/settings", &fields).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("id=\"err-score_expiry_weeks\"")
    );
}

async fn api_jobs(b: &Browser<'_>) -> Value {
    b.get("/api/jobs").await.json().await.unwrap()
}

#[tokio::test]
async fn the_score_expiry_task_expires_old_scores_as_the_server_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let now = store::now();
    let given = now - Duration::weeks(2);
    tokio::task::spawn_blocking(move || {
        let s = Store::open(&path).unwrap();
        let ann = s
            .write_blocking(|tx| {
                store::users::insert_user(
                    tx,
                    &store::users::NewUser {
                        email: "ann@agency.example".into(),
                        name: "Ann".into(),
                        role: Role::AccountManager,
                        scores: true,
                        password_hash: "x".into(),
                    },
                    now - Duration::weeks(4),
                )
            })
            .unwrap();
        // Scores expire after a week, a rule in force for three weeks; Ann's score,
        // two weeks old, counted when she gave it and nothing recomputed since.
        s.write_blocking(|tx| {
            let one_week = Settings {
                score_expiry_weeks: Some(1),
                ..Settings::default()
            };
            commands::save_settings(tx, &one_week, now - Duration::weeks(3), None).map(|_| ())
        })
        .unwrap();
        upsert(
            &s,
            &job(1, "Acme", now - Duration::weeks(3)),
            now - Duration::weeks(3),
        );
        submit(&s, 1, &ann.id, 4, given);
        assert!(
            s.read_blocking(|c| store::ranks::find_job_rank(c, 1))
                .unwrap()
                .is_some()
        );
    })
    .await
    .unwrap();
    // No request: the task's turn at start applies the rule.
    let app = spawn_app_in(dir, &[]).await;
    let expired = eventually("the two-week-old score stops counting", || async {
        let (rank, expired) = app
            .store
            .read(|c| {
                Ok((
                    store::ranks::find_job_rank(c, 1)?,
                    store::expired::list_for_job(c, 1)?,
                ))
            })
            .await
            .unwrap();
        (rank.is_none() && !expired.is_empty()).then_some(expired)
    })
    .await;
    assert_eq!(expired[0].expired_at, given + Duration::weeks(1));
    app.stop().await;
}

/// Job columns and current ranks that must agree between replicas.
async fn frozen_state(store: &Store) -> Vec<String> {
    store
        .read(|c| {
            let mut out = Vec::new();
            for sql in [
                "SELECT id || ' ' || is_open || ' ' || COALESCE(closed_at, '-') || ' ' || COALESCE(rank_at_close, '-')
                        || ' ' || COALESCE(score_sum_at_close, '-') || ' ' || COALESCE(scorer_count_at_close, '-')
                 FROM jobs ORDER BY id",
                "SELECT job_id || ' ' || rank || ' ' || score_sum || ' ' || scorer_count FROM job_ranks ORDER BY job_id",
            ] {
                let mut stmt = c.prepare(sql)?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                for r in rows {
                    out.push(r?);
                }
            }
            Ok(out)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn two_replicas_agree_on_frozen_ranks_after_a_pull() {
    let db = pg::test_db().await;
    let t = migrated(&db).await;
    let a = replica();
    let b = replica();
    let scorers = seed(&a.store, 2, &[401, 402]).await;
    push_all(&a.store, &t).await;
    pull_all(&b.store, &t).await;
    score(
        &a.store,
        401,
        &scorers[0],
        [4, 4, 4, 4],
        t0() + Duration::minutes(1),
    )
    .await;
    score(
        &a.store,
        402,
        &scorers[0],
        [2, 2, 2, 2],
        t0() + Duration::minutes(2),
    )
    .await;
    push_all(&a.store, &t).await;
    pull_all(&b.store, &t).await;
    // B, offline: the second scorer scores job 401 low, before A closes it.
    score(
        &b.store,
        401,
        &scorers[1],
        [1, 1, 1, 1],
        t0() + Duration::minutes(3),
    )
    .await;
    // A closes job 401 knowing only the first score: it closes as an A (4.00).
    a.store
        .write(|tx| {
            commands::close_job(tx, 401, Some("Filled"), t0() + Duration::minutes(10)).map(|_| ())
        })
        .await
        .unwrap();
    // B, still offline, lowers the thresholds: A from 2.00.
    b.store
        .write(|tx| {
            let s = Settings {
                thresholds: jobrank::domain::Thresholds::new(200, 150).unwrap(),
                ..Settings::default()
            };
            commands::save_settings(tx, &s, t0() + Duration::minutes(20), None).map(|_| ())
        })
        .await
        .unwrap();
    // Back online; a second round settles the rank history the pulls add.
    for _ in 0..2 {
        push_all(&b.store, &t).await;
        push_all(&a.store, &t).await;
        pull_all(&a.store, &t).await;
        pull_all(&b.store, &t).await;
    }
    let sa = frozen_state(&a.store).await;
    assert_eq!(sa, frozen_state(&b.store).await);
    // Job 401 keeps the A it closed with on both, whatever arrived later; job 402,
    // open, is ranked under B's new thresholds on both.
    assert!(
        sa.iter()
            .any(|r| r.starts_with("401 0 ") && r.ends_with(" A 40000 1")),
        "{sa:?}"
    );
    assert!(sa.contains(&"401 A 40000 1".to_string()), "{sa:?}");
    assert!(sa.contains(&"402 A 20000 1".to_string()), "{sa:?}");
    // Postgres holds the same row: reconciliation finds no difference on either.
    for s in [&a.store, &b.store] {
        let mut c = t.connect().await.unwrap();
        let r = reconcile::reconcile(s, &mut c, true, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(r.differences(), 0, "{r:?}");
    }
    let remote = db
        .count("SELECT COUNT(*) FROM jobrank.jobs WHERE id = 401 AND rank_at_close = 'A' AND score_sum_at_close = 40000")
        .await;
    assert_eq!(remote, 1);
}
