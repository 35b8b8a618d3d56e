//! The admin page over real HTTP: settings versions with inline errors, users,
//! API tokens, sync runs, the webhook inbox's dead letters and the outbox.

use jobrank::domain::{Rank, Role};
use jobrank::store::sync_runs::{self, RunTotals};
use jobrank::store::{api_tokens, ranks, settings, users};
use reqwest::header::AUTHORIZATION;

use crate::helpers::{TestApp, run_cli, spawn_app, stderr, stdout};
use crate::web_support::*;

const SETTINGS: [(&str, &str); 16] = [
    ("weight_client_engagement", "25"),
    ("weight_search_difficulty", "25"),
    ("weight_time_open", "25"),
    ("weight_fee_size", "25"),
    ("threshold_a", "4.00"),
    ("threshold_b", "2.50"),
    ("time_open_5", "14"),
    ("time_open_4", "30"),
    ("time_open_3", "60"),
    ("time_open_2", "90"),
    ("fee_5", "40000"),
    ("fee_4", "30000"),
    ("fee_3", "20000"),
    ("fee_2", "10000"),
    ("fee_currency", "GBP"),
    ("cadence_days", "7"),
];

fn settings_with(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    SETTINGS
        .iter()
        .map(|(k, v)| {
            let v = changes
                .iter()
                .find(|(ck, _)| ck == k)
                .map(|(_, cv)| *cv)
                .unwrap_or(v);
            (*k, v)
        })
        .collect()
}

async fn versions(app: &TestApp) -> usize {
    app.store.read(settings::list_settings).await.unwrap().len()
}

async fn rank_of(app: &TestApp, job: i64) -> Option<Rank> {
    app.store
        .read(move |c| ranks::find_job_rank(c, job))
        .await
        .unwrap()
        .map(|r| r.rank)
}

async fn score(b: &Browser<'_>, job: i64, levels: [&str; 4]) {
    let res = b
        .post(
            &format!("/jobs/{job}/score"),
            &[
                ("client_engagement", levels[0]),
                ("search_difficulty", levels[1]),
                ("time_open", levels[2]),
                ("fee_size", levels[3]),
                ("action", "submit"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
}

#[tokio::test]
async fn admin_is_for_the_ceo_only() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    let tom = sign_in(&app, "tom@agency.example").await;
    assert_eq!(tom.get("/admin").await.status(), 403);
    let res = tom.post("/admin/settings", &settings_with(&[])).await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        tom.post("/admin/tokens", &[("label", "x")]).await.status(),
        403
    );
    assert!(app.get("/admin").await.status().is_redirection());
    assert_eq!(versions(&app).await, 1);

    let ceo = sign_in(&app, "ceo@agency.example").await;
    let page = ceo.get("/admin").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for nav in [
        "href=\"/review\"",
        "href=\"/admin\"",
        "href=\"/export/jobs.csv\"",
    ] {
        assert!(html.contains(nav), "{nav} in the CEO's navigation");
    }
    let res = ceo.post_raw("/admin/settings", &settings_with(&[])).await;
    assert_eq!(res.status(), 403, "no CSRF token, no change");
    assert_eq!(versions(&app).await, 1);
}

#[tokio::test]
async fn settings_are_saved_as_versions_that_recompute_ranks() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    add_job(&app, 1, "Head of Data", "Acme", 100, true, "").await;
    let ceo = sign_in(&app, "ceo@agency.example").await;
    // 0.25 * (5 + 5 + 1 + 1) = 3.00: a B by default.
    score(&ceo, 1, ["5", "5", "1", "1"]).await;
    assert_eq!(rank_of(&app, 1).await, Some(Rank::B));

    let res = ceo
        .post(
            "/admin/settings",
            &settings_with(&[
                ("weight_client_engagement", "30"),
                ("weight_search_difficulty", "30"),
                ("weight_time_open", "30"),
                ("weight_fee_size", "30"),
            ]),
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("weights must sum to 100 as percentages or 1 as fractions, but they sum to 120% (client engagement 30, search difficulty 30, time open 30 and fee size 30)"),
        "{html}"
    );
    assert!(html.contains("id=\"err-weights\""));
    assert!(html.contains("value=\"30\""), "the typed values are kept");

    let res = ceo
        .post(
            "/admin/settings",
            &settings_with(&[
                ("threshold_a", "3.00"),
                ("threshold_b", "3.50"),
                ("cadence_days", "0"),
                ("time_open_4", "abc"),
                // A total of 100, but three decimals in a percentage.
                ("weight_time_open", "24.877"),
                ("weight_fee_size", "25.123"),
                ("fee_currency", "pounds"),
            ]),
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    for id in [
        "err-threshold_b",
        "err-cadence_days",
        "err-time_open_bands",
        "err-weight_time_open",
        "err-fee_currency",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} shown inline");
    }
    assert_eq!(versions(&app).await, 1, "nothing stored");

    let res = ceo
        .post(
            "/admin/settings",
            &settings_with(&[
                ("weight_client_engagement", "50"),
                ("weight_search_difficulty", "50"),
                ("weight_time_open", "0"),
                ("weight_fee_size", "0"),
            ]),
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(versions(&app).await, 2);
    assert_eq!(
        rank_of(&app, 1).await,
        Some(Rank::A),
        "ranks recomputed: 5.00 is an A"
    );
    let html = ceo.get("/admin?done=settings").await.text().await.unwrap();
    assert!(html.contains("v2 <strong>(in force)</strong>"), "{html}");
    assert!(
        html.contains("Client engagement 50%, Search difficulty 50%, Time open 0%, Fee size 0%"),
        "the weights in words: {html}"
    );
    assert!(html.contains("Settings saved as a new version"));
}

/// The weights the store holds now, in basis points.
async fn weights_bp(app: &TestApp) -> [u32; 4] {
    app.store
        .read(settings::current_settings)
        .await
        .unwrap()
        .settings
        .weights
        .as_basis_points()
}

async fn post_weights(
    b: &Browser<'_>,
    w: [&'static str; 4],
    action: &'static str,
) -> reqwest::Response {
    let mut form = settings_with(&[
        ("weight_client_engagement", w[0]),
        ("weight_search_difficulty", w[1]),
        ("weight_time_open", w[2]),
        ("weight_fee_size", w[3]),
    ]);
    if !action.is_empty() {
        form.push(("action", action));
    }
    b.post("/admin/settings", &form).await
}

/// Issue 13 item 15: a value with % is a percentage; otherwise the four are fractions
/// when they total 1 and percentages when they total 100; anything else is a 422 that
/// names the fields.
#[tokio::test]
async fn weights_are_read_as_fractions_percentages_or_marked_percentages() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, false).await;
    let ceo = sign_in(&app, "ceo@agency.example").await;

    let html = ceo.get("/admin").await.text().await.unwrap();
    assert!(
        html.contains("name=\"weight_client_engagement\" value=\"25%\""),
        "{html}"
    );
    assert!(
        html.contains(
            "<p id=\"weights-total\" class=\"total\" aria-live=\"polite\">Total: 100%</p>"
        ),
        "{html}"
    );

    let cases: [([&str; 4], [u32; 4]); 5] = [
        (["0.4", "0.2", "0.3", "0.1"], [4000, 2000, 3000, 1000]),
        (["10", "20", "30", "40"], [1000, 2000, 3000, 4000]),
        (["50%", "25%", "12.5%", "12.5%"], [5000, 2500, 1250, 1250]),
        // Marked and unmarked: the unmarked follow the total.
        (["40%", "0.3", "0.2", "0.1"], [4000, 3000, 2000, 1000]),
        (["40%", "30", "20", "10"], [4000, 3000, 2000, 1000]),
    ];
    for (i, (typed, bp)) in cases.into_iter().enumerate() {
        let res = post_weights(&ceo, typed, "save").await;
        assert_eq!(
            res.status(),
            303,
            "{typed:?}: {}",
            res.text().await.unwrap()
        );
        assert_eq!(weights_bp(&app).await, bp, "{typed:?}");
        assert_eq!(versions(&app).await, i + 2, "each save is a new version");
    }

    // Neither reading fits: 422, every field named, nothing stored.
    for (typed, said) in [
        (
            ["30", "30", "30", "30"],
            "they sum to 120% (client engagement 30, search difficulty 30, time open 30 and fee size 30)",
        ),
        (
            ["0.3", "0.3", "0.3", "0.05"],
            "they sum to 0.95 (client engagement 0.3, search difficulty 0.3, time open 0.3 and fee size 0.05)",
        ),
        (
            ["50%", "0.4", "0", "0"],
            "they sum to 50.4% (client engagement 50%, search difficulty 0.4, time open 0 and fee size 0)",
        ),
        (
            ["1%", "0", "0", "0"],
            "they sum to 1% (client engagement 1%, search difficulty 0, time open 0 and fee size 0)",
        ),
    ] {
        for action in ["save", "preview"] {
            let res = post_weights(&ceo, typed, action).await;
            assert_eq!(res.status(), 422, "{typed:?} {action}");
            let html = res.text().await.unwrap();
            assert!(html.contains(said), "{typed:?}: {html}");
            assert!(
                html.contains("id=\"err-weights\""),
                "the error sits at the weights"
            );
            for name in [
                "weight_client_engagement",
                "weight_search_difficulty",
                "weight_time_open",
                "weight_fee_size",
            ] {
                assert!(
                    html.contains(&format!("id=\"{name}\" name=\"{name}\" value=\"{}\" type=\"text\" maxlength=\"12\" aria-invalid=\"true\"", typed[["weight_client_engagement", "weight_search_difficulty", "weight_time_open", "weight_fee_size"].iter().position(|n| *n == name).unwrap()])),
                    "{name} is marked and keeps what was typed: {html}"
                );
            }
            assert!(
                html.contains("class=\"total off\""),
                "the total says it is off"
            );
            assert!(
                !html.contains("id=\"settings-preview\""),
                "no preview of refused weights"
            );
        }
    }
    // One unreadable, one too precise, one negative: each named on its own.
    let res = post_weights(&ceo, ["lots", "25", "25", "25"], "save").await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("id=\"err-weight_client_engagement\""),
        "{html}"
    );
    assert!(
        html.contains(
            "Client engagement weight must be a number such as 25%, 25 or 0.25, got &#34;lots&#34;"
        ),
        "{html}"
    );
    let res = post_weights(&ceo, ["25", "25.001", "24.999", "25"], "save").await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Search difficulty weight has too many decimals: at most 2 decimal places as a percentage"), "{html}");
    let res = post_weights(&ceo, ["-25", "75", "25", "25"], "save").await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Client engagement weight must not be negative, got -25"),
        "{html}"
    );
    assert_eq!(versions(&app).await, 6, "nothing stored by a refused form");
    assert_eq!(weights_bp(&app).await, [4000, 3000, 2000, 1000]);

    let res = post_weights(&ceo, ["25", "25", "25", "25"], "publish").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("unknown action"));
    assert_eq!(versions(&app).await, 6);
}

/// Issue 13 item 15: the preview step shows which open jobs would change rank and the
/// A/B/C counts before and after, and changes nothing in the store.
#[tokio::test]
async fn previewing_weights_shows_the_jobs_that_would_move_and_stores_nothing() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    add_job(&app, 1, "Head of Data", "Acme", 100, true, "").await;
    add_job(&app, 2, "Analyst", "Beta", 100, true, "").await;
    add_job(&app, 3, "Fleet Manager", "Gamma", 100, true, "").await;
    add_job(&app, 4, "Not Scored Yet", "Delta", 100, true, "").await;
    add_job(&app, 5, "Closed Job", "Epsilon", 100, true, "").await;
    let ceo = sign_in(&app, "ceo@agency.example").await;
    // 0.25 * (5 + 5 + 1 + 1) = 3.00, B; on engagement alone 5.00, A.
    score(&ceo, 1, ["5", "5", "1", "1"]).await;
    // 3.00, B either way.
    score(&ceo, 2, ["3", "3", "3", "3"]).await;
    // 0.25 * (1 + 1 + 5 + 5) = 3.00, B; on engagement alone 1.00, C.
    score(&ceo, 3, ["1", "1", "5", "5"]).await;
    score(&ceo, 5, ["5", "5", "1", "1"]).await;
    add_job(&app, 5, "Closed Job", "Epsilon", 100, false, "").await;
    let audit_before = app
        .store
        .read(|c| jobrank::store::audit::list_entries(c, None, 100))
        .await
        .unwrap()
        .len();
    let ranks_before = app.store.read(ranks::all_job_ranks).await.unwrap();

    let res = post_weights(&ceo, ["100%", "0%", "0%", "0%"], "preview").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"settings-preview\""), "{html}");
    assert!(html.contains("Preview: nothing is saved yet"));
    assert!(
        html.contains("Changes: client engagement weight 25% → 100%; search difficulty weight 25% → 0%; time open weight 25% → 0%; fee size weight 25% → 0%."),
        "the change in words: {html}"
    );
    assert!(
        html.contains("<strong>2 of 4 open jobs would change rank.</strong>"),
        "{html}"
    );
    let moves = &html[html.find("id=\"preview-moves\"").expect("the moved jobs")..];
    let moves = &moves[..moves.find("</table>").unwrap()];
    let a = moves.find("id=\"preview-job-1\"").expect("job 1 moves");
    let c = moves.find("id=\"preview-job-3\"").expect("job 3 moves");
    assert!(a < c, "the job going up to A comes first");
    assert!(moves.contains("<a href=\"/jobs/1\">Head of Data</a></td><td data-label=\"Client\">Acme</td><td data-label=\"Now\">B (3.00)</td><td data-label=\"After saving\"><strong>A (5.00)</strong>"), "{moves}");
    assert!(moves.contains("Fleet Manager</a></td><td data-label=\"Client\">Gamma</td><td data-label=\"Now\">B (3.00)</td><td data-label=\"After saving\"><strong>C (1.00)</strong>"), "{moves}");
    assert!(!moves.contains("preview-job-2"), "job 2 keeps its B");
    assert!(
        !moves.contains("preview-job-5"),
        "closed jobs are not previewed"
    );
    let counts = &html[html.find("id=\"preview-counts\"").unwrap()..];
    for row in [
        "<th scope=\"row\">A</th><td>0</td><td><strong>1</strong></td>",
        "<th scope=\"row\">B</th><td>3</td><td><strong>1</strong></td>",
        "<th scope=\"row\">C</th><td>0</td><td><strong>1</strong></td>",
        "<th scope=\"row\">Not scored yet</th><td>1</td><td>1</td>",
    ] {
        assert!(counts.contains(row), "{row} in {counts}");
    }
    // The form keeps what was typed, ready to save.
    assert!(html.contains("name=\"weight_client_engagement\" value=\"100%\""));
    assert!(html.contains("Total: 100%"));

    // Nothing changed in the store.
    assert_eq!(versions(&app).await, 1);
    assert_eq!(weights_bp(&app).await, [2500; 4]);
    assert_eq!(
        app.store.read(ranks::all_job_ranks).await.unwrap(),
        ranks_before
    );
    let audit_after = app
        .store
        .read(|c| jobrank::store::audit::list_entries(c, None, 100))
        .await
        .unwrap()
        .len();
    assert_eq!(audit_after, audit_before, "a preview is not an act");

    // The same weights in force: nothing would move.
    let res = post_weights(&ceo, ["0.25", "0.25", "0.25", "0.25"], "preview").await;
    let html = res.text().await.unwrap();
    assert!(
        html.contains("No open job would change rank (4 open jobs)."),
        "{html}"
    );
    assert!(html.contains("Changes: nothing changed."), "{html}");
    assert!(!html.contains("id=\"preview-moves\""));

    // Saving what was previewed does what the preview said.
    let res = post_weights(&ceo, ["100%", "0%", "0%", "0%"], "save").await;
    assert_eq!(res.status(), 303);
    assert_eq!(versions(&app).await, 2);
    assert_eq!(rank_of(&app, 1).await, Some(Rank::A));
    assert_eq!(rank_of(&app, 2).await, Some(Rank::B));
    assert_eq!(rank_of(&app, 3).await, Some(Rank::C));
}

#[tokio::test]
async fn the_settings_form_keeps_the_settings_it_does_not_show() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    // Set elsewhere (another replica, a later form): stalled after 21 days, scores
    // expire after 8 weeks, at least 2 scorers.
    app.store
        .write(|tx| {
            let s = jobrank::domain::Settings {
                stalled_after_days: 21,
                score_expiry_weeks: Some(8),
                min_scorers: 2,
                ..settings::current_settings(tx)?.settings
            };
            jobrank::store::commands::save_settings(tx, &s, jobrank::store::now(), None).map(|_| ())
        })
        .await
        .unwrap();
    let ceo = sign_in(&app, "ceo@agency.example").await;
    // The stalled rule is on the form, showing the value in force; a post without it
    // (a form drawn before it was added) keeps it.
    let html = ceo.get("/admin").await.text().await.unwrap();
    assert!(
        html.contains("name=\"stalled_after_days\" value=\"21\""),
        "{html}"
    );
    let res = ceo
        .post("/admin/settings", &settings_with(&[("cadence_days", "10")]))
        .await;
    assert_eq!(res.status(), 303);
    let current = app.store.read(settings::current_settings).await.unwrap();
    let s = current.settings;
    assert_eq!((s.version, s.cadence_days), (3, 10));
    assert_eq!(
        (s.stalled_after_days, s.score_expiry_weeks, s.min_scorers),
        (21, Some(8), 2)
    );
}

#[tokio::test]
async fn users_are_added_deactivated_reset_and_toggled() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, false).await;
    add_job(&app, 1, "Head of Data", "Acme", 100, true, "").await;
    let ceo = sign_in(&app, "ceo@agency.example").await;

    let form = |email: &'static str, password: &'static str| {
        vec![
            ("email", email),
            ("name", "Priya Shah"),
            ("role", "sales_person"),
            ("scores", "1"),
            ("password", password),
        ]
    };
    let res = ceo
        .post("/admin/users", &form("priya@agency.example", "short"))
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"err-password\""), "{html}");
    assert!(html.contains("at least 10 characters"));
    let res = ceo
        .post("/admin/users", &form("not-an-email", PASSWORD))
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("id=\"err-email\""));
    let mut bad_role = form("priya@agency.example", PASSWORD);
    bad_role[2] = ("role", "king");
    assert_eq!(ceo.post("/admin/users", &bad_role).await.status(), 422);
    let res = ceo
        .post("/admin/users", &form("ceo@agency.example", PASSWORD))
        .await;
    assert_eq!(res.status(), 422, "a duplicate email is refused");
    assert!(res.text().await.unwrap().contains("already exists"));
    assert_eq!(app.store.read(users::count_users).await.unwrap(), 1);

    let res = ceo
        .post("/admin/users", &form("priya@agency.example", PASSWORD))
        .await;
    assert_eq!(res.status(), 303);
    let priya = app
        .store
        .read(|c| users::find_user_by_email(c, "priya@agency.example"))
        .await
        .unwrap()
        .unwrap();
    assert!(priya.scores && priya.active && priya.role == Role::SalesPerson);
    let pb = sign_in(&app, "priya@agency.example").await;
    score(&pb, 1, ["5", "5", "1", "1"]).await;
    assert_eq!(rank_of(&app, 1).await, Some(Rank::B));

    // Toggling who scores recomputes ranks: without Priya the job is unscored.
    let path = format!("/admin/users/{}/scores", priya.id);
    assert_eq!(ceo.post(&path, &[("scores", "0")]).await.status(), 303);
    assert_eq!(rank_of(&app, 1).await, None);
    assert_eq!(ceo.post(&path, &[("scores", "maybe")]).await.status(), 422);
    assert_eq!(ceo.post(&path, &[("scores", "1")]).await.status(), 303);
    assert_eq!(rank_of(&app, 1).await, Some(Rank::B));

    // A password reset below the minimum is refused inline; a good one works.
    let path = format!("/admin/users/{}/password", priya.id);
    let res = ceo.post(&path, &[("password", "tiny")]).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(&format!("id=\"err-pw-{}\"", priya.id))
    );
    let res = ceo
        .post(&path, &[("password", "a brand new passphrase")])
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        pb.get("/").await.status().is_redirection(),
        "reset ends her sessions"
    );
    let pb = sign_in_with(&app, "priya@agency.example", "a brand new passphrase").await;

    // Deactivation ends her sessions and her scores stop counting.
    let res = ceo
        .post(&format!("/admin/users/{}/deactivate", priya.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert!(pb.get("/").await.status().is_redirection(), "signed out");
    assert_eq!(rank_of(&app, 1).await, None);
    assert_eq!(
        post_login(&app, "priya@agency.example", "a brand new passphrase")
            .await
            .status(),
        401
    );
    let html = ceo.get("/admin").await.text().await.unwrap();
    assert!(html.contains("Deactivated"));

    let me = app
        .store
        .read(|c| users::find_user_by_email(c, "ceo@agency.example"))
        .await
        .unwrap()
        .unwrap();
    let res = ceo
        .post(&format!("/admin/users/{}/deactivate", me.id), &[])
        .await;
    assert_eq!(res.status(), 409, "the CEO cannot lock themselves out");
    let res = ceo.post("/admin/users/nobody/deactivate", &[]).await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn api_tokens_are_shown_once_stored_hashed_and_revocable() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    let tom = add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    let ceo = sign_in(&app, "ceo@agency.example").await;

    let res = ceo
        .post("/admin/tokens", &[("user_id", &tom.id), ("label", "  ")])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("id=\"err-token\""));
    let res = ceo
        .post("/admin/tokens", &[("user_id", "nobody"), ("label", "x")])
        .await;
    assert_eq!(res.status(), 422);

    let res = ceo
        .post(
            "/admin/tokens",
            &[("user_id", &tom.id), ("label", "reports")],
        )
        .await;
    assert_eq!(res.status(), 201);
    let html = res.text().await.unwrap();
    let i = html.find("<code class=\"token\">").unwrap() + "<code class=\"token\">".len();
    let token = html[i..].split('<').next().unwrap().to_string();
    assert!(token.starts_with("jrk_"), "{token}");
    let again = ceo.get("/admin").await.text().await.unwrap();
    assert!(!again.contains(&token), "shown only once");
    assert!(again.contains("reports"));

    let stored: String = app
        .store
        .read(|c| Ok(c.query_row("SELECT token_hash FROM api_tokens", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(stored, jobrank::credentials::hash_token(&token));
    assert_ne!(stored, token);

    let api = |t: String| {
        app.client
            .get(app.url("/api/dashboard"))
            .header(AUTHORIZATION, format!("Bearer {t}"))
            .send()
    };
    assert_eq!(api(token.clone()).await.unwrap().status(), 200);
    let id = app.store.read(api_tokens::list_tokens).await.unwrap()[0]
        .0
        .id
        .clone();
    let res = ceo.post(&format!("/admin/tokens/{id}/revoke"), &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(api(token).await.unwrap().status(), 401);
    assert_eq!(
        ceo.post("/admin/tokens/nope/revoke", &[]).await.status(),
        404
    );
}

#[tokio::test]
async fn sync_runs_dead_letters_and_the_outbox_are_shown_and_retried() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    let ceo = sign_in(&app, "ceo@agency.example").await;
    let html = ceo.get("/admin").await.text().await.unwrap();
    assert!(html.contains("No sync has run yet."));
    assert!(html.contains("No dead letters."));

    let now = jobrank::store::now();
    let at = jobrank::store::ts(&now);
    app.store
        .write(move |tx| {
            let id = sync_runs::start_run(tx, "recruiterflow", now)?;
            let totals = RunTotals {
                message: Some("Recruiterflow answered 503".into()),
                ..RunTotals::default()
            };
            sync_runs::finish_run(tx, id, false, &totals, now)?;
            for (key, status) in [("evt-1", "dead"), ("evt-2", "done"), ("evt-3", "dead")] {
                tx.execute(
                    "INSERT INTO webhook_inbox (event_key, event_type, job_id, body, received_at, status, attempts, next_attempt_at, last_error)
                     VALUES (?1, 'job.updated', 42, '{}', ?2, ?3, 8, ?2, 'job 42 could not be fetched')",
                    (key, &at, status),
                )?;
            }
            tx.execute("UPDATE outbox SET dead = 1 WHERE seq = (SELECT MIN(seq) FROM outbox)", [])?;
            Ok(())
        })
        .await
        .unwrap();
    let html = ceo.get("/admin").await.text().await.unwrap();
    assert!(html.contains("Recruiterflow answered 503"));
    assert!(html.contains("<strong>failed</strong>"));
    assert!(html.contains("dead: 2 · done: 1"), "inbox counts");
    assert!(html.contains("job 42 could not be fetched"));
    assert!(
        html.contains("1 dead letter</strong>"),
        "outbox dead letters"
    );

    let dead_id: i64 = app
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT id FROM webhook_inbox WHERE event_key = 'evt-1'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    let res = ceo
        .post(&format!("/admin/inbox/{dead_id}/retry"), &[])
        .await;
    assert_eq!(res.status(), 303);
    let (status, attempts): (String, i64) = app
        .store
        .read(move |c| {
            Ok(c.query_row(
                "SELECT status, attempts FROM webhook_inbox WHERE id = ?1",
                [dead_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!((status.as_str(), attempts), ("pending", 0));
    let res = ceo
        .post(&format!("/admin/inbox/{dead_id}/retry"), &[])
        .await;
    assert_eq!(res.status(), 404, "no longer a dead letter");
    assert_eq!(ceo.post("/admin/inbox/xyz/retry", &[]).await.status(), 400);
}

/// The token shown once on the page that answers its creation.
fn shown_token(html: &str) -> String {
    let i = html.find("<code class=\"token\">").unwrap() + "<code class=\"token\">".len();
    html[i..].split('<').next().unwrap().to_string()
}

async fn api_status(app: &TestApp, token: &str) -> u16 {
    app.client
        .get(app.url("/api/dashboard"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Deactivating a user (from the admin page, the command line or another replica)
/// ends their API tokens for good: reactivating them revives none, not even a token
/// that was somehow made while they were inactive.
#[tokio::test]
async fn reactivating_a_user_does_not_revive_their_api_tokens() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    let tom = add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    let ceo = sign_in(&app, "ceo@agency.example").await;
    let res = ceo
        .post(
            "/admin/tokens",
            &[("user_id", &tom.id), ("label", "reports")],
        )
        .await;
    assert_eq!(res.status(), 201);
    let token = shown_token(&res.text().await.unwrap());
    assert_eq!(api_status(&app, &token).await, 200);

    let res = ceo
        .post(&format!("/admin/users/{}/deactivate", tom.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(api_status(&app, &token).await, 401);
    let res = ceo
        .post(&format!("/admin/users/{}/activate", tom.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        api_status(&app, &token).await,
        401,
        "reactivation revives no token"
    );
    let html = ceo.get("/admin").await.text().await.unwrap();
    let row = html
        .split("<tr id=\"token-")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(row.contains("Revoked"), "{row}");

    // The command line: a token made there, the user deactivated there, reactivated on
    // the admin page.
    let dir = app.data_dir.path().to_str().unwrap().to_string();
    let env = [("JOBRANK_DATA_DIR", dir.as_str())];
    let out = run_cli(
        &["token", "create", "--email", "tom@agency.example"],
        &env,
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let cli_token = stdout(&out).trim().to_string();
    assert_eq!(api_status(&app, &cli_token).await, 200);
    let out = run_cli(
        &["user", "deactivate", "--email", "tom@agency.example"],
        &env,
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let res = ceo
        .post(&format!("/admin/users/{}/activate", tom.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(api_status(&app, &cli_token).await, 401);

    // Another replica deactivates him (the change arrives by a Supabase pull), and a
    // token made here before the pull landed is ended with the rest.
    let res = ceo
        .post(
            "/admin/tokens",
            &[("user_id", &tom.id), ("label", "before the pull")],
        )
        .await;
    let pulled_token = shown_token(&res.text().await.unwrap());
    assert_eq!(api_status(&app, &pulled_token).await, 200);
    let id = tom.id.clone();
    app.store
        .write(move |tx| {
            let row: String = tx.query_row(
                "SELECT json_set(payload, '$.active', 0, '$.version', json_extract(payload, '$.version') + 10,
                                 '$.origin', 'ffffffff-another-replica')
                 FROM outbox WHERE table_name = 'users' AND row_id = ?1 ORDER BY seq DESC LIMIT 1",
                [&id],
                |r| r.get(0),
            )?;
            let applied = jobrank::store::commands::apply_pulled_rows(tx, "users", &[row])?;
            assert_eq!(applied.result.changed, 1);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(api_status(&app, &pulled_token).await, 401);
    let res = ceo
        .post(&format!("/admin/users/{}/activate", tom.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(api_status(&app, &pulled_token).await, 401);

    // A token stored while he was inactive (the store refuses to make one, so it is
    // written here by hand) does not come alive with his reactivation either.
    let res = ceo
        .post(&format!("/admin/users/{}/deactivate", tom.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    let hidden = "jrk_made_while_inactive";
    let (id, hash) = (tom.id.clone(), jobrank::credentials::hash_token(hidden));
    app.store
        .write(move |tx| {
            tx.execute(
                "INSERT INTO api_tokens (id, user_id, label, token_hash, created_at)
                 VALUES ('t-inactive', ?1, 'hand made', ?2, ?3)",
                (&id, &hash, jobrank::store::ts(&jobrank::store::now())),
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let res = ceo
        .post(&format!("/admin/users/{}/activate", tom.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(api_status(&app, hidden).await, 401);
    let live = app
        .store
        .read(api_tokens::list_tokens)
        .await
        .unwrap()
        .iter()
        .filter(|(t, _)| t.revoked_at.is_none())
        .count();
    assert_eq!(live, 0, "every token of his is revoked");

    // A new token after reactivation works.
    let res = ceo
        .post("/admin/tokens", &[("user_id", &tom.id), ("label", "fresh")])
        .await;
    let fresh = shown_token(&res.text().await.unwrap());
    assert_eq!(api_status(&app, &fresh).await, 200);
}

/// Each token says who made it: the CEO on the admin page, or the unix account that
/// ran `jobrank token create`.
#[tokio::test]
async fn api_tokens_record_who_created_them() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    let tom = add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    let ceo = sign_in(&app, "ceo@agency.example").await;
    let res = ceo
        .post(
            "/admin/tokens",
            &[("user_id", &tom.id), ("label", "from the page")],
        )
        .await;
    assert_eq!(res.status(), 201);
    let dir = app.data_dir.path().to_str().unwrap().to_string();
    let out = run_cli(
        &[
            "token",
            "create",
            "--email",
            "tom@agency.example",
            "--label",
            "from the shell",
        ],
        &[("JOBRANK_DATA_DIR", dir.as_str())],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let unix_user = whoami::username().unwrap();
    let html = ceo.get("/admin").await.text().await.unwrap();
    assert!(html.contains("<th scope=\"col\">Created by</th>"), "{html}");
    let row = |label: &str| {
        html.split("<tr id=\"token-")
            .find(|r| r.contains(label))
            .unwrap_or_else(|| panic!("no row for {label}"))
            .split("</tr>")
            .next()
            .unwrap()
            .to_string()
    };
    assert!(
        row("from the page").contains("User ceo@agency.example"),
        "{}",
        row("from the page")
    );
    assert!(
        row("from the shell").contains(&format!("command line (unix user {unix_user}")),
        "{}",
        row("from the shell")
    );
}
