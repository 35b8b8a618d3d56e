//! The scorer's week over real HTTP (issue 13): what a read-only user is offered, the
//! confirmation after a submission, one-time form keys, skipping a job, the caught-up
//! state and error pages.

use jobrank::domain::Role;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use serde_json::{Value, json};

use crate::api_json::api_token;
use crate::helpers::spawn_app;
use crate::web_support::*;

/// The hidden fields of the form with this action in a page, in order.
fn hidden_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form posting to {action}: {html}"));
    let form = &html[start
        ..html[start..]
            .find("</form>")
            .map_or(html.len(), |e| start + e)];
    let attr = |tag: &str, name: &str| -> Option<String> {
        let m = format!("{name}=\"");
        let i = tag.find(&m)? + m.len();
        Some(
            tag[i..]
                .split('"')
                .next()?
                .replace("&#34;", "\"")
                .replace("&quot;", "\""),
        )
    };
    form.split("<input")
        .skip(1)
        .filter(|t| t.contains("type=\"hidden\""))
        .filter_map(|t| Some((attr(t, "name")?, attr(t, "value")?)))
        .collect()
}

/// The levels of a form post plus its hidden fields.
fn with_hidden<'a>(
    hidden: &'a [(String, String)],
    fields: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = hidden
        .iter()
        .filter(|(n, _)| n != "csrf")
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    out.extend_from_slice(fields);
    out
}

const LEVELS: [(&str, &str); 4] = [
    ("client_engagement", "4"),
    ("search_difficulty", "3"),
    ("time_open", "5"),
    ("fee_size", "3"),
];

/// Issue 13, item 11: a read-only user is offered nothing that ends in 403: no "Needs
/// my score" filter, no scoring or queue links, and their role reads "Read-only".
#[tokio::test]
async fn a_read_only_user_sees_no_scoring_links_and_a_role_that_means_something() {
    let app = spawn_app().await;
    add_user(&app, "sam@agency.example", Role::Other, false).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    for id in [901, 902, 903] {
        add_job(&app, id, &format!("Role {id}"), "Northwind", 10, true, "").await;
    }
    let sam = sign_in(&app, "sam@agency.example").await;
    for path in ["/", "/jobs/902"] {
        let html = sam.get(path).await.text().await.unwrap();
        assert!(!html.contains("Needs my score"), "{path}: {html}");
        assert!(
            !html.contains("/score\""),
            "{path} links a scoring form: {html}"
        );
        assert!(
            !html.contains("data-queue"),
            "{path} has queue links: {html}"
        );
        assert!(html.contains("(Read-only)"), "{path}: {html}");
        assert!(!html.contains("(Other)"), "{path}");
        assert!(!html.contains("You have not scored this job"), "{path}");
    }
    // A scorer keeps all of it.
    let tom = sign_in(&app, "tom@agency.example").await;
    let html = tom.get("/jobs/902").await.text().await.unwrap();
    assert!(html.contains("data-queue"), "{html}");
    assert!(html.contains("/jobs/902/score\""), "{html}");
    assert!(html.contains("(Account manager)"), "{html}");
    let dash = tom.get("/").await.text().await.unwrap();
    assert!(dash.contains("Needs my score"));
}

/// Issue 13, item 17: an error page keeps the navigation and the sign-out button for a
/// signed-in user, and says what happened in a sentence (capital letter, full stop),
/// as the htmx fragment and the JSON API do.
#[tokio::test]
async fn error_pages_keep_the_navigation_and_speak_in_sentences() {
    let app = spawn_app().await;
    add_user(&app, "sam@agency.example", Role::Other, false).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_job(&app, 911, "Closed role", "Northwind", 10, false, "").await;
    let sam = sign_in(&app, "sam@agency.example").await;
    let tom = sign_in(&app, "tom@agency.example").await;
    let chrome = |html: &str| {
        html.contains("<nav aria-label=\"Main\">") && html.contains("action=\"/logout\"")
    };
    let cases = [
        (sam.get("/jobs/999").await, 404, "Job 999 not found."),
        (sam.get("/no/such/page").await, 404, "Page not found."),
        (
            sam.get("/jobs/911/score").await,
            403,
            "does not score jobs; the CEO can change that on the admin page.",
        ),
        (
            sam.get("/jobs/abc").await,
            400,
            "is not a job id (Recruiterflow job ids are whole numbers).",
        ),
        (
            tom.get("/jobs/911/score").await,
            409,
            "Job 911 (Closed role) is closed; closed jobs keep their scores but take no new ones.",
        ),
        (
            tom.post_raw("/jobs/911/score", &[("action", "submit")])
                .await,
            403,
            "The form's security token is missing (CSRF check failed): reload the page and retry.",
        ),
    ];
    for (res, status, words) in cases {
        assert_eq!(res.status(), status, "{words}");
        let html = res.text().await.unwrap();
        assert!(chrome(&html), "{status} page without navigation: {html}");
        assert!(
            html.contains(&words.replace('\'', "&#39;")),
            "{status}: {html}"
        );
    }
    // Not signed in: the error page has no navigation to offer.
    let anon = app.get("/no/such/page").await.text().await.unwrap();
    assert!(!chrome(&anon));

    // The htmx fragment and the JSON API speak in sentences too.
    let frag = sam.htmx_get("/jobs/999").await.text().await.unwrap();
    assert!(frag.contains("Job 999 not found."), "{frag}");
    let json: serde_json::Value = sam.get("/api/jobs/999").await.json().await.unwrap();
    assert_eq!(json["detail"], "Job 999 not found.");
}

/// Issue 13, item 2: the scoring form and its confirmation page carry a one-time key;
/// sending the confirmation twice (Back, then submit again) stores one submission and
/// answers both times with the same destination and the same confirmation.
#[tokio::test]
async fn a_confirmation_sent_twice_stores_one_submission() {
    let app = spawn_app().await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_job(&app, 921, "Fleet Manager", "Northwind", 10, true, "").await;
    add_job(&app, 922, "Site Lead", "Northwind", 20, true, "").await;
    let tom = sign_in(&app, "tom@agency.example").await;
    let form = tom.get("/jobs/921/score").await.text().await.unwrap();
    let hidden = hidden_fields(&form, "/jobs/921/score");
    assert!(
        hidden.iter().any(|(n, v)| n == "form_key" && v.len() >= 32),
        "the form carries a one-time key: {hidden:?}"
    );
    let mut review = LEVELS.to_vec();
    review.push(("action", "review"));
    let confirm = tom
        .post("/jobs/921/score", &with_hidden(&hidden, &review))
        .await
        .text()
        .await
        .unwrap();
    let carried = hidden_fields(&confirm, "/jobs/921/score");
    assert!(
        carried
            .iter()
            .any(|(n, v)| n == "form_key" && hidden.contains(&(n.clone(), v.clone()))),
        "the confirmation page carries the form's key: {carried:?}"
    );
    let submit = with_hidden(&carried, &[("action", "submit")]);
    let first = tom.post("/jobs/921/score", &submit).await;
    let second = tom.post("/jobs/921/score", &submit).await;
    assert_eq!(submission_count(&app).await, 1, "the replay stored nothing");
    for res in [&first, &second] {
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()[LOCATION], "/jobs/922/score");
    }
    assert_eq!(
        flash_text(&app, &tom, &first).await,
        flash_text(&app, &tom, &second).await,
        "the same confirmation"
    );

    // A fresh form gets a fresh key: scoring the job again is a new submission.
    let again = tom.get("/jobs/921/score").await.text().await.unwrap();
    let fresh = hidden_fields(&again, "/jobs/921/score");
    assert_ne!(fresh, hidden);
    let mut submit = LEVELS.to_vec();
    submit.push(("action", "submit"));
    let res = tom
        .post("/jobs/921/score", &with_hidden(&fresh, &submit))
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(submission_count(&app).await, 2);

    // Two posts of one key at once: one submission.
    let mut submit = LEVELS.to_vec();
    submit.push(("action", "submit"));
    submit.push(("form_key", "double-click-key-0123456789abcdef"));
    let (a, b) = tokio::join!(
        tom.post("/jobs/922/score", &submit),
        tom.post("/jobs/922/score", &submit)
    );
    assert_eq!(
        (a.status(), b.status()),
        (
            reqwest::StatusCode::SEE_OTHER,
            reqwest::StatusCode::SEE_OTHER
        )
    );
    assert_eq!(a.headers()[LOCATION], b.headers()[LOCATION]);
    assert_eq!(
        submission_count(&app).await,
        3,
        "a double-click stores once"
    );

    // A key that is not one is refused, naming it, and nothing is stored.
    let mut bad = LEVELS.to_vec();
    bad.push(("action", "submit"));
    bad.push(("form_key", "has spaces in it"));
    let res = tom.post("/jobs/922/score", &bad).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("form_key"));
    assert_eq!(submission_count(&app).await, 3);
}

/// The confirmation a redirect carries, as the next page shows it.
async fn flash_text(
    app: &crate::helpers::TestApp,
    b: &Browser<'_>,
    res: &reqwest::Response,
) -> String {
    let flash = crate::helpers::set_cookie_value(res, "jobrank_flash").expect("a flash cookie");
    let to = res.headers()[LOCATION].to_str().unwrap().to_string();
    let cookies = format!("jobrank_session={}; jobrank_flash={flash}", b.cookie);
    let get = |htmx: bool| {
        let mut req = app
            .client
            .get(app.url(&to))
            .header(reqwest::header::COOKIE, cookies.clone());
        if htmx {
            req = req.header("HX-Request", "true");
        }
        req.send()
    };
    // An htmx fragment neither shows nor spends it.
    let fragment = get(true).await.unwrap();
    assert!(crate::helpers::set_cookie_header(&fragment, "jobrank_flash").is_none());
    let res = get(false).await.unwrap();
    let cleared = crate::helpers::set_cookie_header(&res, "jobrank_flash")
        .expect("the page that shows the flash clears it");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let page = res.text().await.unwrap();
    let start = page
        .find("id=\"flash\"")
        .unwrap_or_else(|| panic!("no flash on {to}: {page}"));
    let text = &page[start..];
    let text = &text[text.find('>').unwrap() + 1..];
    text[..text.find("</").unwrap()].trim().to_string()
}

/// `POST /api/scores` with an `Idempotency-Key` header: a repeat answers the first
/// answer (marked `Idempotent-Replayed: true`) and stores nothing; the same key with
/// another body is a 422 naming the header; without the header every post counts.
#[tokio::test]
async fn an_api_score_with_an_idempotency_key_is_stored_once() {
    let app = spawn_app().await;
    add_user(&app, "ann@agency.example", Role::AccountManager, true).await;
    add_job(&app, 931, "Fleet Manager", "Northwind", 10, true, "").await;
    let token = api_token(&app, "ann@agency.example").await;
    let post = |body: Value, key: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/api/scores"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send()
    };
    let body = json!({"job_id": 931, "client_engagement": 4, "search_difficulty": 3, "time_open": 5, "fee_size": 3});
    let first = post(body.clone(), Some("nightly-import-931"))
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = post(body.clone(), Some("nightly-import-931"))
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(submission_count(&app).await, 1);

    let mut other = body.clone();
    other["fee_size"] = json!(1);
    let res = post(other, Some("nightly-import-931")).await.unwrap();
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert!(err["fields"]["Idempotency-Key"].is_string(), "{err}");
    assert_eq!(submission_count(&app).await, 1);

    let res = post(body.clone(), Some("")).await.unwrap();
    assert_eq!(res.status(), 400, "an empty key is refused");
    assert!(post(body.clone(), None).await.unwrap().status() == 201);
    assert!(post(body, None).await.unwrap().status() == 201);
    assert_eq!(
        submission_count(&app).await,
        3,
        "without a key every post counts"
    );
}

/// Issue 13, items 1 and 5: a scorer works down the queue; each submission's next page
/// says what happened (score, team score, rank movement), "Can't judge this one" sets a
/// job aside for the week with a reason (no submission, off the queue, shown on the
/// job page), and the empty queue says "All caught up" with the week's count.
#[tokio::test]
async fn a_scorers_week_confirms_each_step_and_ends_all_caught_up() {
    let app = spawn_app().await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_user(&app, "sam@agency.example", Role::Other, false).await;
    add_job(&app, 941, "Fleet Manager", "Northwind", 10, true, "").await;
    add_job(&app, 942, "Site Lead", "Northwind", 20, true, "").await;
    add_job(&app, 943, "Night Porter", "Harbour", 30, true, "").await;
    let tom = sign_in(&app, "tom@agency.example").await;
    // A first score: the job is ranked for the first time.
    let page = tom.get("/jobs/941/score").await.text().await.unwrap();
    let mut fields = LEVELS.to_vec();
    fields.push(("action", "submit"));
    let hidden = hidden_fields(&page, "/jobs/941/score");
    let res = tom
        .post("/jobs/941/score", &with_hidden(&hidden, &fields))
        .await;
    assert_eq!(res.status(), 303);
    let to = res.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(to == "/jobs/942/score" || to == "/jobs/943/score", "{to}");
    // 0.25 * (4 + 3 + 5 + 3) = 3.75: B under the default thresholds.
    assert_eq!(
        flash_text(&app, &tom, &res).await,
        "Fleet Manager scored 3.75; team 3.75, ranked B for the first time."
    );
    // Scoring it again with fives moves it to A.
    let again = tom.get("/jobs/941/score").await.text().await.unwrap();
    let fives = [
        ("client_engagement", "5"),
        ("search_difficulty", "5"),
        ("time_open", "5"),
        ("fee_size", "5"),
        ("action", "submit"),
    ];
    let res = tom
        .post(
            "/jobs/941/score",
            &with_hidden(&hidden_fields(&again, "/jobs/941/score"), &fives),
        )
        .await;
    assert_eq!(
        flash_text(&app, &tom, &res).await,
        "Fleet Manager scored 5.00; team 5.00, A (was B)."
    );
    // The flash shows once: the next page without the cookie has none, and the page
    // that showed it cleared it.
    let shown = tom.get(&to).await.text().await.unwrap();
    assert!(!shown.contains("id=\"flash\""));

    // "Can't judge this one": without a reason, the form comes back naming it.
    let form = tom.get("/jobs/942/score").await.text().await.unwrap();
    assert!(form.contains("Can&#39;t judge this one?") || form.contains("Can't judge this one?"));
    let skip_hidden = hidden_fields(&form, "/jobs/942/score");
    let refused = tom
        .post(
            "/jobs/942/score",
            &with_hidden(&skip_hidden, &[("action", "skip")]),
        )
        .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("id=\"err-reason\""), "{html}");
    assert!(html.contains("Reason: say briefly why"), "{html}");
    // An offered reason, or the scorer's own words, which win.
    let res = tom
        .post(
            "/jobs/942/score",
            &with_hidden(
                &skip_hidden,
                &[
                    ("action", "skip"),
                    ("reason", "On leave this week"),
                    ("reason_other", "New to this client"),
                ],
            ),
        )
        .await;
    assert_eq!(res.status(), 303);
    let words = flash_text(&app, &tom, &res).await;
    assert!(
        words.starts_with("Site Lead is set aside for this week (New to this client): it leaves your queue until Monday "),
        "{words}"
    );
    // A double-click on the skip: the same answer, one skip.
    let again = tom
        .post(
            "/jobs/942/score",
            &with_hidden(
                &skip_hidden,
                &[("action", "skip"), ("reason", "Not my market")],
            ),
        )
        .await;
    assert_eq!(again.status(), 303);
    assert_eq!(again.headers()[LOCATION], res.headers()[LOCATION]);
    assert_eq!(flash_text(&app, &tom, &again).await, words);
    let skips = app
        .store
        .read(|c| jobrank::store::skips::list_for_job(c, 942))
        .await
        .unwrap();
    assert_eq!(skips.len(), 1);
    assert_eq!(skips[0].reason, "New to this client");
    assert_eq!(
        submission_count(&app).await,
        2,
        "a skip stores no submission"
    );
    let job = tom.get("/jobs/942").await.text().await.unwrap();
    assert!(
        job.contains("You set this job aside for this week (New to this client)"),
        "{job}"
    );
    let dash = tom.get("/?needs=1").await.text().await.unwrap();
    assert!(
        !dash.contains("id=\"job-942\""),
        "the skipped job left my queue"
    );
    assert!(dash.contains("id=\"job-943\""));
    // Someone else does not see my skip on the job page.
    let sam = sign_in(&app, "sam@agency.example").await;
    assert!(
        !sam.get("/jobs/942")
            .await
            .text()
            .await
            .unwrap()
            .contains("set this job aside")
    );

    // The last job: the queue is empty, so "All caught up".
    let last = tom.get("/jobs/943/score").await.text().await.unwrap();
    let res = tom
        .post(
            "/jobs/943/score",
            &with_hidden(&hidden_fields(&last, "/jobs/943/score"), &fields),
        )
        .await;
    assert_eq!(res.headers()[LOCATION], "/queue");
    assert!(
        flash_text(&app, &tom, &res)
            .await
            .starts_with("Night Porter scored 3.75; team 3.75")
    );
    let caught_up = tom.get("/queue").await.text().await.unwrap();
    assert!(
        caught_up.contains("All caught up: 2 jobs scored this week"),
        "{caught_up}"
    );
    assert!(
        caught_up.contains("Site Lead</a>: New to this client"),
        "{caught_up}"
    );
    // With a job to score, /queue leads to it; read-only users have no queue.
    add_job(&app, 944, "Dock Supervisor", "Harbour", 3, true, "").await;
    let res = tom.get("/queue").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/jobs/944/score");
    assert_eq!(sam.get("/queue").await.status(), 403);
}

/// Issue 13, item 4: each factor's scale is said where levels are shown (the form, its
/// confirmation, the job page's tables), from one place in `domain`; the CSV column
/// keeps its name.
#[tokio::test]
async fn the_scale_of_each_factor_is_said_where_its_levels_are_shown() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    add_job(&app, 951, "Fleet Manager", "Northwind", 10, true, "").await;
    let ceo = sign_in(&app, "ceo@agency.example").await;
    let form = ceo.get("/jobs/951/score").await.text().await.unwrap();
    assert!(
        form.contains("Search difficulty <span class=\"scale\">5 = easy to fill</span>"),
        "{form}"
    );
    let mut review = LEVELS.to_vec();
    review.push(("action", "review"));
    let confirm = ceo
        .post("/jobs/951/score", &review)
        .await
        .text()
        .await
        .unwrap();
    assert!(confirm.contains("(5 = easy to fill)"), "{confirm}");
    let mut submit = LEVELS.to_vec();
    submit.push(("action", "submit"));
    assert_eq!(ceo.post("/jobs/951/score", &submit).await.status(), 303);
    let job = ceo.get("/jobs/951").await.text().await.unwrap();
    for f in jobrank::domain::Factor::ALL {
        // Each scores table (everyone's latest, mine) heads the factor with its scale.
        assert_eq!(
            job.matches(&format!("<th scope=\"col\">{}</th>", f.heading()))
                .count(),
            2,
            "{job}"
        );
    }
    assert!(job.contains("Search difficulty — 5 = easy to fill"));
    let csv = ceo
        .get("/export/submissions.csv")
        .await
        .text()
        .await
        .unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.split(',').any(|c| c == "search_difficulty"),
        "{header}"
    );
}
