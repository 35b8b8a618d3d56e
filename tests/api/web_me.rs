//! Notifications through the running application, over real HTTP with the SMTP server
//! process and the Slack stand-in: a drop to C from a real submission alerts the CEO
//! and the job's hiring team; "My settings" (`/me`) switches email off and changes
//! one's own password (other sessions end); "Forgot password" end to end (the link
//! works once, expires after 30 minutes with the clock moved, requests are throttled,
//! the answer never tells whether the address exists); the admin page's notifications
//! part (who receives what, dead letters with Retry, audited).

use jobrank::domain::Role;
use jobrank::notify::digest;
use jobrank::store::commands;
use jobrank::store::notifications::{self, Kind, Status};
use jobrank::store::recruiterflow_users::{self, RecruiterflowUserUpsert};
use jobrank::store::users;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION};

use crate::helpers::{TestApp, eventually, spawn_app_at, spawn_app_with};
use crate::slack_server::SlackServer;
use crate::smtp_server::{Received, SmtpServer, Variant};
use crate::web_support::*;

/// The start of this local week (Monday 00:01): the weekly digest (Monday 08:30) is
/// not due yet.
fn monday_morning() -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    let monday = digest::local_week(jobrank::store::now());
    chrono::Local
        .from_local_datetime(&monday.and_hms_opt(0, 1, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// jobrank with email to `smtp` (and Slack when given), links to http://jobrank.test,
/// its clock stopped at [`monday_morning`] (so the server makes no digest until the
/// test moves the clock past Monday 08:30).
async fn notifying_app(smtp: &SmtpServer, slack: Option<&SlackServer>) -> TestApp {
    let mut settings = vec![
        ("JOBRANK_SMTP_URL", smtp.url()),
        (
            "JOBRANK_MAIL_FROM",
            "jobrank <jobrank@agency.example>".to_string(),
        ),
        ("JOBRANK_PUBLIC_URL", "http://jobrank.test".to_string()),
    ];
    if let Some(s) = slack {
        settings.push(("JOBRANK_SLACK_WEBHOOK_URL", s.url()));
    }
    spawn_app_at(&settings, monday_morning()).await
}

/// Waits until the SMTP server has accepted `n` messages; returns them.
async fn messages(smtp: &SmtpServer, n: usize) -> Vec<Received> {
    eventually(&format!("{n} messages accepted"), || async {
        let got = smtp.messages();
        if got.len() >= n {
            Ok(got)
        } else {
            Err(format!("{} so far; {}", got.len(), smtp.log()))
        }
    })
    .await
}

fn rank_json(job: i64, level: u8) -> String {
    serde_json::json!({
        "job_id": job, "client_engagement": level, "search_difficulty": level,
        "time_open": level, "fee_size": level,
    })
    .to_string()
}

async fn api_score(app: &TestApp, token: &str, job: i64, level: u8) {
    let res = app
        .client
        .post(app.url("/api/scores"))
        .header("authorization", format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/json")
        .body(rank_json(job, level))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

/// Whether "My settings" shows the digest and the alerts ticked (`None` for a checkbox
/// it does not show).
fn emails_ticked(page: &str) -> (Option<bool>, Option<bool>) {
    let ticked = |name: &str| {
        let at = page.find(&format!("id=\"{name}\" name=\"{name}\" value=\"1\""))?;
        page[at..]
            .split('>')
            .next()
            .map(|tag| tag.contains(" checked"))
    };
    (ticked("digest"), ticked("alerts"))
}

/// Job 41, "Head of Data" at Acme, whose hiring team is "Tom Okafor", whom
/// Recruiterflow knows by tom@agency.example: alerts about it go to Tom and the CEO.
async fn add_tom_s_job(app: &TestApp) {
    app.store
        .write(|tx| {
            recruiterflow_users::store_user_list(
                tx,
                &[RecruiterflowUserUpsert {
                    id: 7,
                    email: Some("tom@agency.example".into()),
                    name: Some("Tom Okafor".into()),
                }],
                &[],
                true,
                jobrank::store::now(),
            )
            .map(|_| ())
        })
        .await
        .unwrap();
    add_job(app, 41, "Head of Data", "Acme", 10, true, "").await;
}

#[tokio::test]
async fn a_drop_to_c_from_a_real_submission_alerts_the_ceo_and_the_hiring_team() {
    let smtp = SmtpServer::plain().await;
    let slack = SlackServer::start().await;
    let app = notifying_app(&smtp, Some(&slack)).await;
    add_user(&app, "claire@agency.example", Role::Ceo, true).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_user(&app, "priya@agency.example", Role::SalesPerson, true).await;
    add_tom_s_job(&app).await;
    let token = crate::api_json::api_token(&app, "tom@agency.example").await;
    api_score(&app, &token, 41, 5).await;
    api_score(&app, &token, 41, 1).await;
    let waiting = app.store.read(notifications::waiting_events).await.unwrap();
    assert_eq!(
        waiting.len(),
        1,
        "recorded with the submission: {waiting:?}"
    );

    app.state.notifier.as_ref().unwrap().wake_alerts();
    let got = messages(&smtp, 2).await;
    let mut to: Vec<&str> = got.iter().map(|m| m.rcpt_tos[0].as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        ["claire@agency.example", "tom@agency.example"],
        "not Priya"
    );
    let tom = got
        .iter()
        .find(|m| m.rcpt_tos[0] == "tom@agency.example")
        .unwrap();
    assert_eq!(
        tom.subject,
        "jobrank alert: Head of Data (Acme) dropped to C"
    );
    let text = tom.text.clone().unwrap();
    assert!(
        text.contains("- Head of Data (Acme): dropped to C (was A; team score 1.00).\n  http://jobrank.test/jobs/41\n"),
        "{text}"
    );
    assert!(text.contains("http://jobrank.test/me"), "{text}");
    eventually("the team's Slack post", || async {
        slack.posts().len() == 1
    })
    .await;
    let post = slack.posts()[0].body.to_string();
    assert!(
        post.contains("<http://jobrank.test/jobs/41|Head of Data (Acme)>: dropped to C"),
        "{post}"
    );
    // Sent once: another look sends nothing more.
    app.state.notifier.as_ref().unwrap().wake_alerts();
    app.state.notifier.as_ref().unwrap().wake_sender();
    let sent = eventually("every alert marked sent", || async {
        let all = app
            .store
            .read(|c| notifications::list_messages(c, Kind::Alerts))
            .await
            .unwrap();
        all.iter()
            .all(|m| m.status == Status::Sent)
            .then_some(all.len())
    })
    .await;
    assert_eq!(sent, 3);
    assert_eq!(smtp.messages().len(), 2);
}

/// Issue 14, 2.c: of two users a drop to C alerts (the CEO, and Tom of the job's
/// hiring team), the one who unticked alerts on "My settings" gets no alert email; the
/// other gets hers.
#[tokio::test]
async fn switching_alerts_off_on_my_settings_stops_alert_emails() {
    let smtp = SmtpServer::plain().await;
    let app = notifying_app(&smtp, None).await;
    let claire = add_user(&app, "claire@agency.example", Role::Ceo, true).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_tom_s_job(&app).await;
    // The form as the page posts it: the hidden `saved`, the digest still ticked,
    // alerts unticked (so not sent).
    let tom = sign_in(&app, "tom@agency.example").await;
    let res = tom
        .post("/me/notifications", &[("saved", "1"), ("digest", "1")])
        .await;
    assert_eq!(res.status(), 303);
    let page = tom.get("/me").await.text().await.unwrap();
    assert_eq!(emails_ticked(&page), (Some(true), Some(false)), "{page}");

    let token = crate::api_json::api_token(&app, "tom@agency.example").await;
    api_score(&app, &token, 41, 5).await;
    api_score(&app, &token, 41, 1).await;
    let notifier = app.state.notifier.as_ref().unwrap();
    notifier.wake_alerts();
    // The batch records every recipient's message at once, with the events it takes;
    // then the sender sends them.
    let recipients = eventually("the alert batch made and sent", || async {
        let waiting = app.store.read(notifications::waiting_events).await.unwrap();
        let all = app
            .store
            .read(|c| notifications::list_messages(c, Kind::Alerts))
            .await
            .unwrap();
        if waiting.is_empty() && !all.is_empty() && all.iter().all(|m| m.status == Status::Sent) {
            Ok(all.into_iter().map(|m| m.recipient).collect::<Vec<_>>())
        } else {
            Err(format!("{} waiting; messages {all:?}", waiting.len()))
        }
    })
    .await;
    assert_eq!(recipients, [claire.id], "Claire's message only");
    let got = smtp.messages();
    let to: Vec<&str> = got.iter().map(|m| m.rcpt_tos[0].as_str()).collect();
    assert_eq!(to, ["claire@agency.example"], "not Tom");
    assert_eq!(
        got[0].subject,
        "jobrank alert: Head of Data (Acme) dropped to C"
    );
}

#[tokio::test]
async fn switching_the_digest_off_on_my_settings_stops_it() {
    let smtp = SmtpServer::plain().await;
    let app = notifying_app(&smtp, None).await;
    add_user(&app, "claire@agency.example", Role::Ceo, true).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_user(&app, "priya@agency.example", Role::SalesPerson, true).await;
    add_job(&app, 1, "Head of Data", "Acme", 1, true, "").await;
    let priya = sign_in(&app, "priya@agency.example").await;
    let page = priya.get("/me").await.text().await.unwrap();
    assert_eq!(emails_ticked(&page), (Some(true), Some(true)), "{page}");
    assert!(page.contains("the jobs that need your score"), "{page}");
    assert!(!page.contains("id=\"email-off\""), "email is set up");
    // Untick the digest, keep alerts.
    let res = priya.post("/me/notifications", &[("alerts", "1")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/me?done=notifications");
    let page = priya
        .get("/me?done=notifications")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Your email settings were saved."), "{page}");
    assert_eq!(emails_ticked(&page), (Some(false), Some(true)), "{page}");

    // Monday 08:30: the server makes the week's digest itself.
    app.clock.advance(chrono::Duration::minutes(8 * 60 + 29));
    app.state.notifier.as_ref().unwrap().wake_digest();
    let got = messages(&smtp, 2).await;
    let to: Vec<&str> = got.iter().map(|m| m.rcpt_tos[0].as_str()).collect();
    assert!(!to.contains(&"priya@agency.example"), "{to:?}");
    assert!(
        to.contains(&"tom@agency.example") && to.contains(&"claire@agency.example"),
        "{to:?}"
    );
    let week = digest::local_week(app.clock.now());
    let made = app
        .store
        .read(move |c| notifications::find_digest(c, week))
        .await
        .unwrap();
    assert_eq!(made.map(|(_, n)| n), Some(2));

    // The CEO sees who receives what.
    let claire = sign_in(&app, "claire@agency.example").await;
    let admin = claire.get("/admin").await.text().await.unwrap();
    let row = admin
        .split("id=\"receives\"")
        .nth(1)
        .unwrap()
        .split("<td>User priya@agency.example</td>")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("Priya's row in who receives what");
    assert!(
        row.starts_with("<td>No: switched off</td><td>Yes: jobs of their hiring teams"),
        "{row}"
    );
    assert!(admin.contains("Email: on, through 127.0.0.1:"), "{admin}");
    // Signed out, the page is not there.
    let res = app.get("/me").await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn changing_ones_own_password_needs_the_current_one_and_ends_other_sessions() {
    let app = spawn_app_with(&[]).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    let here = sign_in(&app, "tom@agency.example").await;
    let elsewhere = sign_in(&app, "tom@agency.example").await;
    let page = here.get("/me").await.text().await.unwrap();
    assert!(page.contains("id=\"email-off\""), "no SMTP: {page}");

    let new = "a much longer new password";
    let wrong = here
        .post(
            "/me/password",
            &[
                ("current_password", "not my password"),
                ("new_password", new),
                ("confirm_password", new),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("Your current password is wrong.")
    );
    let differ = here
        .post(
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("confirm_password", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(differ.status(), 422);
    assert!(
        differ
            .text()
            .await
            .unwrap()
            .contains("The two new passwords differ")
    );
    let short = here
        .post(
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "short"),
                ("confirm_password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status(), 422);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("at least 10 characters")
    );
    assert!(let_in(&elsewhere).await, "nothing changed yet");

    let done = here
        .post(
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("confirm_password", new),
            ],
        )
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()[LOCATION], "/me?done=password");
    assert!(let_in(&here).await, "this session stays");
    assert!(!let_in(&elsewhere).await, "the other session ended");
    assert_eq!(
        post_login(&app, "tom@agency.example", PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(
        post_login(&app, "tom@agency.example", new).await.status(),
        303
    );
    let audit: Vec<(String, String)> = app
        .store
        .read(|c| {
            let mut s = c.prepare("SELECT action, details FROM audit_log ORDER BY id")?;
            let rows = s
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
        .unwrap();
    assert_eq!(
        audit,
        [(
            "password_reset".to_string(),
            "changed their own password on My settings; their other sessions ended".to_string()
        )]
    );
}

/// Whether a session still opens the dashboard.
async fn let_in(b: &Browser<'_>) -> bool {
    b.get("/").await.status() == 200
}

/// Opens the "forgot password" form and posts `email`: (status, page).
async fn ask_for_link(app: &TestApp, email: &str) -> (u16, String) {
    let (cookie, token) = login_form(app).await;
    let res = app
        .client
        .post(app.url("/login/forgot"))
        .header(COOKIE, format!("jobrank_login={cookie}"))
        .form(&[("email", email), ("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// A page with every CSRF token (64 hex digits) taken out.
fn without_tokens(page: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in page.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        if run.len() != 64 {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out + &run
}

/// Posts a new password with a link's token: the answer.
async fn choose_password(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    let (cookie, csrf) = login_form(app).await;
    app.client
        .post(app.url("/login/reset"))
        .header(COOKIE, format!("jobrank_login={cookie}"))
        .form(&[
            ("token", token),
            ("password", password),
            ("confirm", password),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap()
}

/// The link's token in a reset email.
fn token_in(m: &Received) -> String {
    let text = m.text.clone().unwrap();
    let at = text
        .find("http://jobrank.test/login/reset?token=")
        .unwrap_or_else(|| panic!("no link in {text}"));
    text[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn forgot_password_sends_a_link_that_works_once_within_30_minutes() {
    let smtp = SmtpServer::plain().await;
    let app = notifying_app(&smtp, None).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    let old_session = sign_in(&app, "tom@agency.example").await;
    let login = app.get("/login").await.text().await.unwrap();
    assert!(login.contains("href=\"/login/forgot\""), "{login}");
    assert_eq!(app.get("/login/forgot").await.status(), 200);

    // The answer is the same whether or not the address belongs to someone.
    let (known_status, known) = ask_for_link(&app, "tom@agency.example").await;
    let (unknown_status, unknown) = ask_for_link(&app, "nobody@agency.example").await;
    assert_eq!((known_status, unknown_status), (200, 200));
    assert!(
        known.contains("If an account uses tom@agency.example, we have sent it a link"),
        "{known}"
    );
    assert_eq!(
        without_tokens(&known.replace("tom@agency.example", "X")),
        without_tokens(&unknown.replace("nobody@agency.example", "X")),
        "no address disclosure"
    );
    let got = messages(&smtp, 1).await;
    assert_eq!(got.len(), 1, "only the known address gets mail");
    assert_eq!(got[0].rcpt_tos, ["tom@agency.example"]);
    assert_eq!(got[0].subject, "Reset your jobrank password");
    let token = token_in(&got[0]);
    // Once sent, the link is no longer kept in the queue.
    let sent = eventually("the reset email marked sent", || async {
        let m = app
            .store
            .read(|c| notifications::list_messages(c, Kind::PasswordReset))
            .await
            .unwrap();
        (m[0].status == Status::Sent).then(|| m[0].clone())
    })
    .await;
    assert!(
        sent.body_text.is_empty() && sent.body_html.is_none(),
        "{sent:?}"
    );

    let page = app.get(&format!("/login/reset?token={token}")).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Choose a new password"));
    let new = "a brand new password";
    let done = choose_password(&app, &token, new).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()[LOCATION], "/login?reset=done");
    let signed_out = app.get("/login?reset=done").await.text().await.unwrap();
    assert!(
        signed_out.contains("Your password was changed"),
        "{signed_out}"
    );
    assert_ne!(
        old_session.get("/").await.status(),
        200,
        "every session ended"
    );
    assert_eq!(
        post_login(&app, "tom@agency.example", new).await.status(),
        303
    );
    // It works once.
    assert_eq!(
        app.get(&format!("/login/reset?token={token}"))
            .await
            .status(),
        410
    );
    assert_eq!(
        choose_password(&app, &token, "yet another password")
            .await
            .status(),
        410
    );
    assert_eq!(
        post_login(&app, "tom@agency.example", new).await.status(),
        303
    );

    // A second link, used 31 minutes later: expired.
    ask_for_link(&app, "tom@agency.example").await;
    let got = messages(&smtp, 2).await;
    let second = got
        .iter()
        .map(token_in)
        .find(|t| *t != token)
        .expect("a second link");
    app.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(
        app.get(&format!("/login/reset?token={second}"))
            .await
            .status(),
        410
    );
    assert_eq!(
        choose_password(&app, &second, "too late a password")
            .await
            .status(),
        410
    );
    assert_eq!(
        post_login(&app, "tom@agency.example", new).await.status(),
        303
    );
    // Garbage is not a link either.
    assert_eq!(
        app.get("/login/reset?token=not-a-token").await.status(),
        410
    );
    assert_eq!(app.get("/login/reset").await.status(), 410);

    let audit: Vec<String> = app
        .store
        .read(|c| {
            let mut s =
                c.prepare("SELECT details FROM audit_log WHERE action = 'password_reset'")?;
            let rows = s
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
        .unwrap();
    assert_eq!(
        audit,
        ["chose a new password with an emailed reset link; all their sessions ended"]
    );
}

/// Issue 11, item 1: hashing a new password takes an argon2 turn like a password check
/// (the counter of `password_checks_run_two_at_a_time_and_a_long_wait_is_a_503`). Ten
/// simultaneous posts of one reset link: never more than two argon2 runs at once, at
/// most two hashes in all (a post that gets its turn after the link was used hashes
/// nothing), one new password, and the link used. With every turn taken a post waits,
/// then 503 with `Retry-After`, and the link still works.
#[tokio::test]
async fn simultaneous_posts_of_one_reset_link_hash_in_turn_and_set_one_password() {
    let smtp = SmtpServer::plain().await;
    let app = notifying_app(&smtp, None).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    assert_eq!(ask_for_link(&app, "tom@agency.example").await.0, 200);
    let token = token_in(&messages(&smtp, 1).await[0]);
    let checks = app.state.password_checks.clone();
    let before = checks.hashes();
    let password = |i: usize| format!("new password number {i}");
    let posts = (0..10).map(|i| {
        let (app, token, password) = (&app, &token, password(i));
        async move {
            choose_password(app, token, &password)
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(posts).await;
    let hashed = checks.hashes() - before;
    assert!(
        (1..=2).contains(&hashed),
        "{hashed} new passwords hashed for one link"
    );
    assert!(
        checks.max_in_flight() <= 2,
        "{} argon2 runs at once",
        checks.max_in_flight()
    );
    let won: Vec<usize> = (0..10).filter(|&i| statuses[i] == 303).collect();
    assert_eq!(won.len(), 1, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|&&s| s == 410).count(),
        9,
        "{statuses:?}"
    );
    assert_eq!(
        app.get(&format!("/login/reset?token={token}"))
            .await
            .status(),
        410,
        "the link is used"
    );
    assert_eq!(
        post_login(&app, "tom@agency.example", &password(won[0]))
            .await
            .status(),
        303
    );

    assert_eq!(ask_for_link(&app, "tom@agency.example").await.0, 200);
    let second = messages(&smtp, 2)
        .await
        .iter()
        .map(token_in)
        .find(|t| *t != token)
        .expect("a second link");
    let turns = [
        checks.take_turn().await.unwrap(),
        checks.take_turn().await.unwrap(),
    ];
    let busy = choose_password(&app, &second, "a password in a busy hour").await;
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.headers()["retry-after"], "5");
    let page = busy.text().await.unwrap();
    assert!(
        page.contains("The server is busy checking passwords"),
        "{page}"
    );
    drop(turns);
    let later = choose_password(&app, &second, "a password in a quiet hour").await;
    assert_eq!(later.status(), 303, "the link outlived the busy hour");
}

#[tokio::test]
async fn a_reset_link_of_someone_deactivated_since_changes_nothing() {
    let smtp = SmtpServer::plain().await;
    let app = notifying_app(&smtp, None).await;
    let tom = add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    assert_eq!(ask_for_link(&app, "tom@agency.example").await.0, 200);
    let token = token_in(&messages(&smtp, 1).await[0]);
    let set_active = |active: bool| {
        let id = tom.id.clone();
        app.store.write(move |tx| {
            commands::set_user_active(tx, &id, active, jobrank::store::now()).map(|_| ())
        })
    };
    set_active(false).await.unwrap();
    let away = "a password chosen while away";
    assert_eq!(choose_password(&app, &token, away).await.status(), 410);
    // Back in the team: the old password still signs in and the link stays used up.
    set_active(true).await.unwrap();
    assert_eq!(choose_password(&app, &token, away).await.status(), 410);
    assert_eq!(
        post_login(&app, "tom@agency.example", PASSWORD)
            .await
            .status(),
        303
    );
    assert_eq!(
        post_login(&app, "tom@agency.example", away).await.status(),
        401
    );
}

#[tokio::test]
async fn reset_links_are_throttled_like_sign_in_whoever_has_the_address() {
    let smtp = SmtpServer::plain().await;
    let app = notifying_app(&smtp, None).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    for email in ["tom@agency.example", "nobody@agency.example"] {
        for _ in 0..5 {
            assert_eq!(ask_for_link(&app, email).await.0, 200);
        }
        let (status, page) = ask_for_link(&app, email).await;
        assert_eq!(status, 429, "{email}");
        assert!(
            page.contains("Too many reset links were asked for"),
            "{page}"
        );
    }
    // Only the last link of the five works (each new one ends the one before).
    let got = messages(&smtp, 5).await;
    assert_eq!(got.len(), 5);
    let tokens: Vec<String> = got.iter().map(token_in).collect();
    let valid = {
        let mut n = 0;
        for t in &tokens {
            if app.get(&format!("/login/reset?token={t}")).await.status() == 200 {
                n += 1;
            }
        }
        n
    };
    assert_eq!(valid, 1);
    // Fifteen minutes later the account may ask again.
    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(ask_for_link(&app, "tom@agency.example").await.0, 200);
    // A malformed address is said so, and counts nothing.
    let (status, page) = ask_for_link(&app, "no at sign").await;
    assert_eq!(status, 422);
    assert!(
        page.contains("Type the email address you sign in with"),
        "{page}"
    );
}

#[tokio::test]
async fn without_email_there_is_no_forgot_password() {
    let app = spawn_app_with(&[]).await;
    let login = app.get("/login").await.text().await.unwrap();
    assert!(!login.contains("/login/forgot"), "{login}");
    let res = app.get("/login/forgot").await;
    assert_eq!(res.status(), 404);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("not set up on this server")
    );
    let (status, _) = ask_for_link(&app, "tom@agency.example").await;
    assert_eq!(status, 404);
    // Email without a public URL: links would have nowhere to point.
    let smtp = SmtpServer::plain().await;
    let app = spawn_app_with(&[
        ("JOBRANK_SMTP_URL", smtp.url()),
        ("JOBRANK_MAIL_FROM", "jobrank@agency.example".to_string()),
    ])
    .await;
    assert_eq!(app.get("/login/forgot").await.status(), 404);
}

#[tokio::test]
async fn dead_letters_are_listed_for_the_ceo_and_retried_with_an_audit_entry() {
    let smtp = SmtpServer::start(Variant {
        refuse: Some(550),
        ..Variant::default()
    })
    .await;
    let app = notifying_app(&smtp, None).await;
    add_user(&app, "claire@agency.example", Role::Ceo, true).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_job(&app, 1, "Head of Data", "Acme", 1, true, "").await;
    let now = app.clock.now();
    digest::make(
        &app.store,
        app.state.notifier.as_ref().unwrap().channels(),
        now,
        digest::local_week(now),
    )
    .await
    .unwrap();
    app.state.notifier.as_ref().unwrap().wake_sender();
    let dead = eventually("both digests are dead letters", || async {
        let d = app
            .store
            .read(|c| notifications::list_dead_messages(c, 10))
            .await
            .unwrap();
        (d.len() == 2).then_some(d)
    })
    .await;
    let tom = app
        .store
        .read(|c| users::find_user_by_email(c, "tom@agency.example"))
        .await
        .unwrap()
        .unwrap();
    let toms = dead.iter().find(|m| m.recipient == tom.id).unwrap().id;

    let claire = sign_in(&app, "claire@agency.example").await;
    let admin = claire.get("/admin").await.text().await.unwrap();
    assert!(admin.contains(&format!("id=\"message-{toms}\"")), "{admin}");
    assert!(admin.contains("Weekly digest by email"), "{admin}");
    assert!(admin.contains("2 dead letters"), "{admin}");
    assert!(admin.contains("550"), "the server's answer: {admin}");
    // Only the CEO may retry.
    let tom_b = sign_in(&app, "tom@agency.example").await;
    assert_eq!(
        tom_b
            .post(&format!("/admin/messages/{toms}/retry"), &[])
            .await
            .status(),
        403
    );
    let res = claire
        .post(&format!("/admin/messages/{toms}/retry"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/admin?done=message");
    let page = claire
        .get("/admin?done=message")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("The message is queued again"), "{page}");
    let entry: (String, String, String) = app
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT action, target, details FROM audit_log ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(entry.0, "dead_letter_retried");
    assert_eq!(
        entry.1,
        format!("message {toms} (weekly digest by email to User tom@agency.example)")
    );
    assert_eq!(entry.2, "queued again after 1 failed attempt");
    // The server still refuses: a dead letter again, after one more attempt.
    eventually("retried and dead again", || async {
        let m = app
            .store
            .read(move |c| notifications::find_message(c, toms))
            .await
            .unwrap()
            .unwrap();
        m.status == Status::Dead && m.attempts == 1
    })
    .await;
    // A message that is not a dead letter, or a made-up id, cannot be retried.
    assert_eq!(
        claire.post("/admin/messages/999/retry", &[]).await.status(),
        404
    );
    assert_eq!(
        claire.post("/admin/messages/x/retry", &[]).await.status(),
        400
    );
}
