//! Notifications end to end with real parts: a SQLite store, the SMTP server process
//! (aiosmtpd) and the Slack stand-in on loopback. The weekly digest (content, once a
//! week, nobody with nothing to do, the dry run), alerts (batched once an hour per
//! recipient with the clock as a parameter, a drop to C from a real submission) and the
//! queue (a temporary failure retried then delivered, a permanent one a dead letter, a
//! connection dropped mid-message retried, Slack's Retry-After). Time is a parameter
//! everywhere: nothing here waits for the clock.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use jobrank::domain::{FactorScores, Role};
use jobrank::mail::{MailSettings, Mailer};
use jobrank::notify::{Channels, alerts, digest, sender};
use jobrank::slack::SlackWebhook;
use jobrank::store::notifications::{self, AlertKind, Kind, Status};
use jobrank::store::submissions::NewSubmission;
use jobrank::store::users::{self, NewUser, User};
use jobrank::store::{Store, commands, jobs::JobUpsert, notification_prefs, skips};
use secrecy::SecretString;

use crate::slack_server::{Answer, SlackServer};
use crate::smtp_server::{Received, SmtpServer, Variant};

pub const FROM: &str = "jobrank <jobrank@agency.example>";
pub const PUBLIC: &str = "https://jobrank.example/";

/// A Wednesday: the week of Monday 7 December 2026.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-09T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn week() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
}

fn days(n: i64) -> chrono::Duration {
    chrono::Duration::days(n)
}

/// Channels to the given servers, links to [`PUBLIC`].
pub fn channels(smtp: Option<&SmtpServer>, slack: Option<&SlackServer>) -> Channels {
    let mailer = smtp.map(|s| {
        let mut settings = MailSettings::new(SecretString::from(s.url()), FROM);
        settings.ca_file = s.ca_file();
        settings.timeout = Duration::from_secs(20);
        Mailer::new(&settings).unwrap()
    });
    let hook = slack
        .map(|s| SlackWebhook::new(SecretString::from(s.url()), Duration::from_secs(20)).unwrap());
    Channels::new(mailer, hook, Some(url::Url::parse(PUBLIC).unwrap()))
}

/// A small agency on a fresh store: the CEO (who scores), two scorers, a read-only
/// user and a deactivated scorer, three open jobs and a closed one.
#[allow(dead_code)]
pub struct Agency {
    pub store: Store,
    pub claire: User,
    pub tom: User,
    pub priya: User,
    pub sam: User,
    pub dan: User,
    _dir: tempfile::TempDir,
}

fn add_user(store: &Store, name: &str, email: &str, role: Role, scores: bool) -> User {
    let new = NewUser {
        email: email.into(),
        name: name.into(),
        role,
        scores,
        password_hash: "not-a-hash".into(),
    };
    store
        .write_blocking(|tx| users::insert_user(tx, &new, now() - days(56)))
        .unwrap()
}

pub fn add_job(
    store: &Store,
    id: i64,
    title: &str,
    client: &str,
    opened_days_ago: i64,
    open: bool,
) {
    let j = JobUpsert {
        id,
        title: title.into(),
        client: client.into(),
        status: if open { "Open" } else { "Filled" }.into(),
        is_open: open,
        opened_at: Some(now() - days(opened_days_ago)),
        fee_minor: Some(2_500_000),
        fee_currency: Some("GBP".into()),
        hiring_team: vec![],
        description_html: None,
    };
    let _ = store
        .write_blocking(|tx| commands::upsert_job(tx, &j, now() - days(opened_days_ago)))
        .unwrap();
}

pub fn score(store: &Store, job: i64, scorer: &User, level: i64, at: DateTime<Utc>) {
    let new = NewSubmission {
        job_id: job,
        scorer_id: scorer.id.clone(),
        scores: FactorScores::from_values([level; 4]).unwrap(),
        time_open_overridden: false,
        fee_size_overridden: false,
        comment: None,
    };
    let _ = store
        .write_blocking(|tx| commands::submit_score(tx, &new, at))
        .unwrap();
}

impl Agency {
    pub fn new() -> Agency {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let claire = add_user(
            &store,
            "Claire Dupont",
            "claire@agency.example",
            Role::Ceo,
            true,
        );
        let tom = add_user(
            &store,
            "Tom Okafor",
            "tom@agency.example",
            Role::AccountManager,
            true,
        );
        let priya = add_user(
            &store,
            "Priya Shah",
            "priya@agency.example",
            Role::SalesPerson,
            true,
        );
        let sam = add_user(
            &store,
            "Sam Reader",
            "sam@agency.example",
            Role::Other,
            false,
        );
        let dan = add_user(
            &store,
            "Dan Gone",
            "dan@agency.example",
            Role::AccountManager,
            true,
        );
        let _ = store
            .write_blocking(|tx| commands::set_user_active(tx, &dan.id, false, now() - days(40)))
            .unwrap();
        add_job(&store, 1, "Head of Data", "Acme", 30, true);
        add_job(&store, 2, "Fleet Manager", "Beta Logistics", 20, true);
        add_job(&store, 3, "Analyst", "Gamma <R&D>", 3, true);
        add_job(&store, 4, "Closed Role", "Acme", 40, false);
        Agency {
            store,
            claire,
            tom,
            priya,
            sam,
            dan,
            _dir: dir,
        }
    }
}

/// The accepted message sent to `address`, if exactly one was.
fn to(messages: &[Received], address: &str) -> Option<Received> {
    let mine: Vec<&Received> = messages
        .iter()
        .filter(|m| m.rcpt_tos.iter().any(|r| r == address))
        .collect();
    assert!(mine.len() <= 1, "{} messages to {address}", mine.len());
    mine.first().map(|m| (*m).clone())
}

async fn drain_at(store: &Store, ch: &Channels, at: DateTime<Utc>) -> sender::DrainReport {
    sender::drain(store, ch, &move || at).await.unwrap()
}

#[tokio::test]
async fn the_weekly_digest_tells_each_scorer_their_jobs_and_the_ceo_participation_once_a_week() {
    let a = Agency::new();
    let smtp = SmtpServer::plain().await;
    let slack = SlackServer::start().await;
    let ch = channels(Some(&smtp), Some(&slack));
    // Tom scored the Head of Data this week and the Fleet Manager last Monday.
    score(&a.store, 2, &a.tom, 3, now() - days(9));
    score(&a.store, 1, &a.tom, 3, now() - days(2));
    // Priya cannot judge the Analyst this week.
    a.store
        .write_blocking(|tx| skips::insert_skip(tx, 3, &a.priya.id, "new to the client", now()))
        .unwrap();

    let made = digest::make(&a.store, &ch, now(), week()).await.unwrap();
    assert_eq!(
        made,
        digest::Made::New {
            week: week(),
            messages: 4
        },
        "Claire, Tom and Priya by email, and the team's channel"
    );
    let report = drain_at(&a.store, &ch, now()).await;
    assert_eq!((report.sent, report.retried, report.dead), (4, 0, 0));
    let got = smtp.messages();
    assert_eq!(got.len(), 3, "{}", smtp.log());

    let tom = to(&got, "tom@agency.example").expect("Tom's digest");
    assert_eq!(tom.mail_from, "jobrank@agency.example");
    assert_eq!(tom.to, "Tom Okafor <tom@agency.example>");
    assert_eq!(tom.subject, "2 jobs need your score this week");
    let text = tom.text.clone().unwrap();
    assert!(
        text.starts_with("Hello Tom,\n\n2 jobs need your score this week:\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "- Fleet Manager (Beta Logistics), rank B\n  https://jobrank.example/jobs/2/score"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "- Analyst (Gamma <R&D>), no rank yet\n  https://jobrank.example/jobs/3/score"
        ),
        "{text}"
    );
    assert!(!text.contains("Head of Data"), "scored this week: {text}");
    assert!(!text.contains("Participation"), "for the CEO only: {text}");
    assert!(
        text.contains("My settings: https://jobrank.example/me"),
        "{text}"
    );
    let html = tom.html.clone().unwrap();
    assert!(
        html.contains(
            "<a href=\"https://jobrank.example/jobs/3/score\">Analyst</a> (Gamma &#60;R&#38;D&#62;)"
        ) || html.contains(
            "<a href=\"https://jobrank.example/jobs/3/score\">Analyst</a> (Gamma &lt;R&amp;D&gt;)"
        ),
        "the client's name is escaped: {html}"
    );

    let priya = to(&got, "priya@agency.example").expect("Priya's digest");
    let text = priya.text.unwrap();
    assert!(text.contains("Head of Data (Acme), rank B"), "{text}");
    assert!(text.contains("Fleet Manager"), "{text}");
    assert!(!text.contains("Analyst"), "skipped this week: {text}");

    let claire = to(&got, "claire@agency.example").expect("the CEO's digest");
    assert_eq!(
        claire.subject,
        "3 jobs need your score this week; last week's participation and rank changes"
    );
    let text = claire.text.unwrap();
    assert!(
        text.contains(
            "Participation last week (30 Nov 2026 to 6 Dec 2026): jobs scored of those due"
        ),
        "{text}"
    );
    // Last week Tom scored the Fleet Manager; the Head of Data and the Analyst (open
    // from Sunday) were due too. The others scored nothing.
    assert!(text.contains("- Tom Okafor: 1 of 3\n"), "{text}");
    assert!(text.contains("- Priya Shah: 0 of 3\n"), "{text}");
    assert!(text.contains("- Claire Dupont: 0 of 3\n"), "{text}");
    assert!(!text.contains("Dan Gone"), "inactive all last week: {text}");
    assert!(
        text.contains("Rank changes in the last 7 days:\n\n- Head of Data (Acme): no rank → B\n  https://jobrank.example/jobs/1\n"),
        "{text}"
    );
    for nobody in ["sam@agency.example", "dan@agency.example"] {
        assert!(to(&got, nobody).is_none(), "{nobody} has nothing to do");
    }

    let posts = slack.posts();
    assert_eq!(posts.len(), 1, "one team post per digest");
    let post = posts[0].body.to_string();
    assert!(post.contains("Weekly digest, week of 7 Dec 2026"), "{post}");
    assert!(
        post.contains(
            "Scores due this week:* Claire Dupont 3, Priya Shah 2, Tom Okafor 2 (7 in all)"
        ),
        "{post}"
    );
    assert!(
        post.contains("<https://jobrank.example/jobs/1|Head of Data (Acme)>: no rank → B"),
        "{post}"
    );
    assert!(
        !post.contains("of 3"),
        "participation goes to the CEO only: {post}"
    );

    // A second run in the same week, even later, makes nothing new.
    let again = digest::make(&a.store, &ch, now() + days(2), week())
        .await
        .unwrap();
    assert!(
        matches!(again, digest::Made::Already { messages: 4, .. }),
        "{again:?}"
    );
    assert_eq!(drain_at(&a.store, &ch, now() + days(2)).await.sent, 0);
    assert_eq!(smtp.messages().len(), 3);
    assert_eq!(slack.posts().len(), 1);
}

#[tokio::test]
async fn nobody_with_nothing_to_do_gets_a_digest_and_the_digest_is_due_at_its_time() {
    let smtp = SmtpServer::plain().await;
    let slack = SlackServer::start().await;
    let ch = channels(Some(&smtp), Some(&slack));
    // No jobs at all: nothing to score, no participation, no rank change.
    let empty = Agency::new_empty();
    let made = digest::make(&empty.store, &ch, now(), week())
        .await
        .unwrap();
    assert_eq!(
        made,
        digest::Made::New {
            week: week(),
            messages: 0
        }
    );
    drain_at(&empty.store, &ch, now()).await;
    assert!(smtp.messages().is_empty());
    assert!(slack.posts().is_empty());

    // Two jobs opened on Monday, everyone scored them yesterday: the scorers have
    // nothing to do; the CEO hears of the new ranks, and so does the team.
    let fresh = Agency::new_empty();
    for (id, title) in [(11, "Platform Lead"), (12, "Data Engineer")] {
        add_job(&fresh.store, id, title, "Delta", 2, true);
        for u in [&fresh.claire, &fresh.tom, &fresh.priya] {
            score(&fresh.store, id, u, 4, now() - days(1));
        }
    }
    let made = digest::make(&fresh.store, &ch, now(), week())
        .await
        .unwrap();
    assert_eq!(
        made,
        digest::Made::New {
            week: week(),
            messages: 2
        }
    );
    drain_at(&fresh.store, &ch, now()).await;
    let got = smtp.messages();
    assert_eq!(got.len(), 1);
    let claire = to(&got, "claire@agency.example").unwrap();
    assert_eq!(
        claire.subject,
        "Weekly digest: last week's participation and rank changes"
    );
    let text = claire.text.unwrap();
    assert!(text.contains("- Nobody had jobs due.\n"), "{text}");
    assert!(
        text.contains("- Platform Lead (Delta): no rank → A"),
        "{text}"
    );
    assert!(!text.contains("need your score"), "{text}");
    let post = slack.posts()[0].body.to_string();
    assert!(!post.contains("Scores due"), "{post}");

    // JOBRANK_DIGEST_AT "fri 16:00": due from Friday 16:00 local time until the week ends.
    let at = jobrank::config::WeeklyAt::parse("fri 16:00").unwrap();
    let local = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    assert_eq!(digest::due_week_local(local("2026-12-11 15:59"), at), None);
    assert_eq!(
        digest::due_week_local(local("2026-12-11 16:00"), at),
        Some(week())
    );
}

impl Agency {
    /// The same people, no jobs.
    fn new_empty() -> Agency {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let claire = add_user(
            &store,
            "Claire Dupont",
            "claire@agency.example",
            Role::Ceo,
            true,
        );
        let tom = add_user(
            &store,
            "Tom Okafor",
            "tom@agency.example",
            Role::AccountManager,
            true,
        );
        let priya = add_user(
            &store,
            "Priya Shah",
            "priya@agency.example",
            Role::SalesPerson,
            true,
        );
        let sam = add_user(
            &store,
            "Sam Reader",
            "sam@agency.example",
            Role::Other,
            false,
        );
        let dan = add_user(
            &store,
            "Dan Gone",
            "dan@agency.example",
            Role::AccountManager,
            false,
        );
        Agency {
            store,
            claire,
            tom,
            priya,
            sam,
            dan,
            _dir: dir,
        }
    }
}

#[tokio::test]
async fn a_user_who_switched_the_digest_off_gets_none_and_the_others_theirs() {
    let a = Agency::new();
    let smtp = SmtpServer::plain().await;
    let ch = channels(Some(&smtp), None);
    let off = notification_prefs::Prefs {
        digest_email: false,
        alerts_email: true,
    };
    let tom = a.tom.id.clone();
    a.store
        .write(move |tx| notification_prefs::save_prefs(tx, &tom, off, now()))
        .await
        .unwrap();
    let made = digest::make(&a.store, &ch, now(), week()).await.unwrap();
    assert_eq!(
        made,
        digest::Made::New {
            week: week(),
            messages: 2
        }
    );
    drain_at(&a.store, &ch, now()).await;
    let got = smtp.messages();
    assert!(to(&got, "tom@agency.example").is_none());
    assert!(to(&got, "priya@agency.example").is_some());
    assert!(to(&got, "claire@agency.example").is_some());
}

/// Records a drop to C the way the store commands do.
fn dropped(store: &Store, job: i64, at: DateTime<Utc>) {
    let detail = serde_json::json!({"from": "B", "score": 2.25});
    store
        .write_blocking(|tx| {
            notifications::insert_alert_event(tx, AlertKind::DroppedToC, job, &detail, at)
        })
        .unwrap();
}

#[tokio::test]
async fn alerts_are_batched_one_message_per_recipient_per_hour() {
    let a = Agency::new();
    let smtp = SmtpServer::plain().await;
    let slack = SlackServer::start().await;
    let ch = channels(Some(&smtp), Some(&slack));
    a.store
        .write_blocking(|tx| notifications::set_alerts_on(tx, true))
        .unwrap();
    let t0 = now();
    dropped(&a.store, 1, t0);
    dropped(&a.store, 2, t0);
    let first = alerts::make_batch(&a.store, &ch, t0).await.unwrap();
    // The jobs' hiring teams use no jobrank: the CEO and every active scorer.
    assert_eq!(
        first.messages, 4,
        "Claire, Tom, Priya and the team's channel"
    );
    assert_eq!(drain_at(&a.store, &ch, t0).await.sent, 4);
    let got = smtp.messages();
    let tom = to(&got, "tom@agency.example").unwrap();
    assert_eq!(tom.subject, "jobrank alerts: 2 jobs need attention");
    let text = tom.text.unwrap();
    assert!(
        text.contains("- Head of Data (Acme): dropped to C (was B; team score 2.25).\n  https://jobrank.example/jobs/1\n"),
        "{text}"
    );
    assert!(
        text.contains("Fleet Manager (Beta Logistics): dropped to C"),
        "{text}"
    );
    assert!(
        to(&got, "sam@agency.example").is_none(),
        "read-only, in no hiring team"
    );
    assert!(to(&got, "dan@agency.example").is_none(), "deactivated");

    // Ten minutes later another drop waits for the hour to pass.
    dropped(&a.store, 3, t0 + chrono::Duration::minutes(10));
    let held = alerts::make_batch(&a.store, &ch, t0 + chrono::Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(held.messages, 0);
    assert_eq!(held.waiting, 1);
    assert_eq!(held.next_possible, Some(t0 + chrono::Duration::hours(1)));
    let still = alerts::make_batch(&a.store, &ch, t0 + chrono::Duration::minutes(59))
        .await
        .unwrap();
    assert_eq!(still.messages, 0);
    assert_eq!(
        drain_at(&a.store, &ch, t0 + chrono::Duration::minutes(59))
            .await
            .sent,
        0
    );
    assert_eq!(smtp.messages().len(), 3);

    let next = alerts::make_batch(&a.store, &ch, t0 + chrono::Duration::minutes(60))
        .await
        .unwrap();
    assert_eq!(next.messages, 4);
    drain_at(&a.store, &ch, t0 + chrono::Duration::minutes(60)).await;
    let got = smtp.messages();
    assert_eq!(got.len(), 6, "two messages each, an hour apart");
    let toms: Vec<&Received> = got
        .iter()
        .filter(|m| m.rcpt_tos == ["tom@agency.example"])
        .collect();
    assert_eq!(toms.len(), 2);
    assert!(
        toms.iter()
            .any(|m| m.subject == "jobrank alert: Analyst (Gamma <R&D>) dropped to C")
    );
    let posts = slack.posts();
    assert_eq!(posts.len(), 2, "one team post per batch");
    assert!(
        posts[1]
            .body
            .to_string()
            .contains("Analyst (Gamma &lt;R&amp;D&gt;)"),
        "{:?}",
        posts[1].body
    );
    // Nothing waits, and a batch with nothing is not made.
    let idle = alerts::make_batch(&a.store, &ch, t0 + chrono::Duration::hours(3))
        .await
        .unwrap();
    assert_eq!((idle.messages, idle.waiting), (0, 0));
}

#[tokio::test]
async fn the_periodic_check_alerts_a_new_unscored_job_and_a_newly_stalled_pipeline_once() {
    use jobrank::store::pipeline::{self, StageCount};
    let a = Agency::new();
    let stages = |days: f64| {
        vec![StageCount {
            stage: "Interview".into(),
            stage_order: 1,
            candidates: 3,
            avg_days_in_stage: Some(days),
        }]
    };
    // The first check takes note of what is already so: the Analyst (3 days, nobody
    // scored it) and the Head of Data's stalled pipeline are not alerted.
    a.store
        .write_blocking(|tx| pipeline::record_snapshot(tx, 1, &stages(30.0), now()))
        .unwrap();
    let first = alerts::check(&a.store, now()).await.unwrap();
    assert!(first.first);
    assert_eq!((first.unscored, first.stalled), (0, 0));
    // A new job opens; two days later nobody has scored it. The Fleet Manager stalls.
    add_job(&a.store, 5, "Sales Lead", "Epsilon", 0, true);
    a.store
        .write_blocking(|tx| pipeline::record_snapshot(tx, 2, &stages(15.0), now()))
        .unwrap();
    let later = now() + days(1);
    let found = alerts::check(&a.store, later).await.unwrap();
    assert_eq!(
        (found.unscored, found.stalled),
        (0, 1),
        "the new job is a day old"
    );
    let two_days = now() + days(2);
    let found = alerts::check(&a.store, two_days).await.unwrap();
    assert_eq!((found.unscored, found.stalled), (1, 0));
    // Each is alerted once.
    let again = alerts::check(&a.store, two_days + days(1)).await.unwrap();
    assert_eq!((again.unscored, again.stalled), (0, 0));
    // The Fleet Manager's pipeline moves again, then stalls again: a new alert.
    a.store
        .write_blocking(|tx| pipeline::record_snapshot(tx, 2, &stages(2.0), two_days + days(1)))
        .unwrap();
    alerts::check(&a.store, two_days + days(1)).await.unwrap();
    a.store
        .write_blocking(|tx| pipeline::record_snapshot(tx, 2, &stages(16.0), two_days + days(2)))
        .unwrap();
    let restalled = alerts::check(&a.store, two_days + days(2)).await.unwrap();
    assert_eq!(restalled.stalled, 1);
    let events = a.store.read(notifications::waiting_events).await.unwrap();
    let kinds: Vec<(AlertKind, i64)> = events.iter().map(|e| (e.kind, e.job_id)).collect();
    assert_eq!(
        kinds,
        [
            (AlertKind::Stalled, 2),
            (AlertKind::Unscored, 5),
            (AlertKind::Stalled, 2)
        ]
    );
    assert_eq!(events[1].detail["days_open"], 2);
    assert_eq!(events[0].detail["stage"], "Interview");

    let smtp = SmtpServer::plain().await;
    let ch = channels(Some(&smtp), None);
    alerts::make_batch(&a.store, &ch, two_days + days(2))
        .await
        .unwrap();
    drain_at(&a.store, &ch, two_days + days(2)).await;
    let claire = to(&smtp.messages(), "claire@agency.example")
        .unwrap()
        .text
        .unwrap();
    assert!(
        claire.contains("- Sales Lead (Epsilon): open 2 days and nobody has scored it yet."),
        "{claire}"
    );
    assert!(
        claire.contains("- Fleet Manager (Beta Logistics): the pipeline is stalled: candidates at Interview have waited 15 days on average."),
        "{claire}"
    );
}

#[tokio::test]
async fn a_drop_to_c_is_recorded_with_the_rank_change_unless_provisional_closed_or_alerts_are_off()
{
    let a = Agency::new();
    let events = || {
        a.store
            .read_blocking(notifications::waiting_events)
            .unwrap()
    };
    // Alerts off (no channel): nothing is recorded.
    score(&a.store, 1, &a.tom, 4, now() - days(1));
    score(&a.store, 1, &a.tom, 1, now());
    assert!(events().is_empty());
    a.store
        .write_blocking(|tx| notifications::set_alerts_on(tx, true))
        .unwrap();
    // A to C.
    score(&a.store, 1, &a.tom, 4, now() + chrono::Duration::minutes(1));
    score(&a.store, 1, &a.tom, 1, now() + chrono::Duration::minutes(2));
    let e = events();
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].kind, e[0].job_id), (AlertKind::DroppedToC, 1));
    assert_eq!(e[0].detail, serde_json::json!({"from": "A", "score": 1.0}));
    // C to C, and a first rank of C, are no drops.
    score(
        &a.store,
        1,
        &a.priya,
        1,
        now() + chrono::Duration::minutes(3),
    );
    score(&a.store, 2, &a.tom, 1, now() + chrono::Duration::minutes(3));
    assert_eq!(events().len(), 1);
    // With min_scorers 2 a job ranked on one scorer is provisional: no alert.
    let mut s = a
        .store
        .read_blocking(jobrank::store::settings::current_settings)
        .unwrap()
        .settings;
    s.min_scorers = 2;
    let _ = a
        .store
        .write_blocking(|tx| commands::save_settings(tx, &s, now(), None))
        .unwrap();
    score(&a.store, 3, &a.tom, 4, now() + chrono::Duration::minutes(4));
    score(&a.store, 3, &a.tom, 1, now() + chrono::Duration::minutes(5));
    assert_eq!(events().len(), 1, "provisional");
    // Two scorers: no longer provisional.
    score(
        &a.store,
        3,
        &a.priya,
        4,
        now() + chrono::Duration::minutes(6),
    );
    score(
        &a.store,
        3,
        &a.priya,
        1,
        now() + chrono::Duration::minutes(7),
    );
    assert_eq!(events().len(), 2);
    // Switching alerts off drops what waits.
    a.store
        .write_blocking(|tx| notifications::set_alerts_on(tx, false))
        .unwrap();
    assert!(events().is_empty());
}

/// One digest message waiting, for Tom.
async fn one_message(store: &Store) -> i64 {
    let tom = store
        .read(|c| users::find_user_by_email(c, "tom@agency.example"))
        .await
        .unwrap()
        .unwrap();
    store
        .write(move |tx| {
            notifications::insert_message(
                tx,
                &notifications::NewMessage {
                    channel: notifications::Channel::Email,
                    recipient: tom.id.clone(),
                    kind: Kind::Digest,
                    batch: "2026-12-07".into(),
                    to_address: Some("Tom Okafor <tom@agency.example>".into()),
                    subject: "2 jobs need your score this week".into(),
                    body_text: "Hello Tom".into(),
                    body_html: Some("<p>Hello Tom</p>".into()),
                    payload: None,
                },
                now(),
            )?;
            Ok(tx.last_insert_rowid())
        })
        .await
        .unwrap()
}

async fn message(store: &Store, id: i64) -> notifications::Message {
    store
        .read(move |c| notifications::find_message(c, id))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_temporary_failure_is_retried_after_the_backoff_then_delivered() {
    let a = Agency::new();
    let smtp = SmtpServer::start(Variant {
        refuse: Some(451),
        times: Some(1),
        ..Variant::default()
    })
    .await;
    let ch = channels(Some(&smtp), None);
    let id = one_message(&a.store).await;
    let first = drain_at(&a.store, &ch, now()).await;
    assert_eq!((first.sent, first.retried, first.dead), (0, 1, 0));
    assert_eq!(first.next_due, Some(now() + chrono::Duration::minutes(1)));
    let m = message(&a.store, id).await;
    assert_eq!((m.status, m.attempts), (Status::Pending, 1));
    let error = m.last_error.unwrap();
    assert!(
        error.contains("451") && error.contains("[address]"),
        "{error}"
    );
    assert!(!error.contains("tom@"), "no address: {error}");
    // Not before its time.
    assert_eq!(
        drain_at(&a.store, &ch, now() + chrono::Duration::seconds(59))
            .await
            .sent,
        0
    );
    let later = drain_at(&a.store, &ch, now() + chrono::Duration::minutes(1)).await;
    assert_eq!((later.sent, later.next_due), (1, None));
    assert_eq!(message(&a.store, id).await.status, Status::Sent);
    assert_eq!(smtp.messages().len(), 1, "{}", smtp.log());
}

#[tokio::test]
async fn a_dropped_connection_mid_message_is_retried() {
    let a = Agency::new();
    let smtp = SmtpServer::start(Variant {
        drop: true,
        times: Some(1),
        ..Variant::default()
    })
    .await;
    let ch = channels(Some(&smtp), None);
    let id = one_message(&a.store).await;
    let first = drain_at(&a.store, &ch, now()).await;
    assert_eq!((first.sent, first.retried), (0, 1));
    assert!(smtp.messages().is_empty());
    let later = drain_at(&a.store, &ch, now() + chrono::Duration::minutes(1)).await;
    assert_eq!(later.sent, 1);
    assert_eq!(message(&a.store, id).await.attempts, 2);
    assert_eq!(smtp.messages().len(), 1);
}

#[tokio::test]
async fn a_permanent_failure_or_the_last_attempt_makes_a_dead_letter() {
    let a = Agency::new();
    let refusing = SmtpServer::start(Variant {
        refuse: Some(550),
        ..Variant::default()
    })
    .await;
    let ch = channels(Some(&refusing), None);
    let id = one_message(&a.store).await;
    let report = drain_at(&a.store, &ch, now()).await;
    assert_eq!((report.sent, report.retried, report.dead), (0, 0, 1));
    let m = message(&a.store, id).await;
    assert_eq!((m.status, m.attempts), (Status::Dead, 1));
    assert!(m.last_error.unwrap().contains("550"));
    assert_eq!(
        drain_at(&a.store, &ch, now() + days(1)).await.sent,
        0,
        "never retried by itself"
    );

    // A server failing for now, every time: tried MAX_ATTEMPTS times with backoff.
    let b = Agency::new();
    let busy = SmtpServer::start(Variant {
        refuse: Some(451),
        ..Variant::default()
    })
    .await;
    let ch = channels(Some(&busy), None);
    let id = one_message(&b.store).await;
    let mut at = now();
    let mut waits = Vec::new();
    loop {
        let r = drain_at(&b.store, &ch, at).await;
        match r.next_due {
            Some(next) => {
                waits.push((next - at).num_minutes());
                at = next;
            }
            None => {
                assert_eq!(r.dead, 1);
                break;
            }
        }
    }
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60]);
    let m = message(&b.store, id).await;
    assert_eq!((m.status, m.attempts), (Status::Dead, sender::MAX_ATTEMPTS));
}

#[tokio::test]
async fn slack_posts_wait_as_long_as_slack_asks() {
    let a = Agency::new();
    let slack = SlackServer::start().await;
    let ch = channels(None, Some(&slack));
    let made = digest::make(&a.store, &ch, now(), week()).await.unwrap();
    assert_eq!(
        made,
        digest::Made::New {
            week: week(),
            messages: 1
        }
    );
    slack.queue(Answer::RateLimited {
        retry_after_secs: 300,
    });
    let first = drain_at(&a.store, &ch, now()).await;
    assert_eq!(first.retried, 1);
    assert_eq!(first.next_due, Some(now() + chrono::Duration::minutes(5)));
    let posted = drain_at(&a.store, &ch, now() + chrono::Duration::minutes(5)).await;
    assert_eq!(posted.sent, 1);
    let posts = slack.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].body, posts[1].body, "the same post, sent again");
    // An archived channel is a dead letter.
    let b = Agency::new();
    digest::make(&b.store, &ch, now(), week()).await.unwrap();
    slack.queue(Answer::Archived);
    assert_eq!(drain_at(&b.store, &ch, now()).await.dead, 1);
}

#[tokio::test]
async fn two_senders_never_send_the_same_message() {
    let a = Agency::new();
    let smtp = SmtpServer::plain().await;
    let ch = channels(Some(&smtp), None);
    digest::make(&a.store, &ch, now(), week()).await.unwrap();
    let (one, two) = tokio::join!(
        drain_at(&a.store, &ch, now()),
        drain_at(&a.store, &ch, now())
    );
    assert_eq!(one.sent + two.sent, 3);
    assert_eq!(smtp.messages().len(), 3);
}

/// Runs the binary off the async threads (the Slack stand-in answers on them).
async fn cli(args: Vec<String>, env: Vec<(String, String)>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        crate::helpers::run_cli(&args, &env, None)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_digest_prints_with_dry_run_sends_once_a_week_and_logs_no_address() {
    let smtp = SmtpServer::plain().await;
    let slack = SlackServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    {
        // The data as of now: Tom has one job to score, Claire (the CEO) hears of it.
        let store = Store::open(dir.path()).unwrap();
        let at = jobrank::store::now();
        for (name, email, role) in [
            ("Claire Dupont", "claire@agency.example", Role::Ceo),
            ("Tom Okafor", "tom@agency.example", Role::AccountManager),
        ] {
            let new = NewUser {
                email: email.into(),
                name: name.into(),
                role,
                scores: role != Role::Ceo,
                password_hash: "not-a-hash".into(),
            };
            store
                .write_blocking(|tx| users::insert_user(tx, &new, at - days(20)))
                .unwrap();
        }
        let j = JobUpsert {
            id: 7,
            title: "Head of Data".into(),
            client: "Acme".into(),
            status: "Open".into(),
            is_open: true,
            opened_at: Some(at - days(10)),
            fee_minor: None,
            fee_currency: None,
            hiring_team: vec![],
            description_html: None,
        };
        let _ = store
            .write_blocking(|tx| commands::upsert_job(tx, &j, at - days(10)))
            .unwrap();
    }
    let data = dir.path().to_string_lossy().into_owned();
    let env = vec![
        ("JOBRANK_SMTP_URL".to_string(), smtp.url()),
        ("JOBRANK_MAIL_FROM".to_string(), FROM.to_string()),
        ("JOBRANK_SLACK_WEBHOOK_URL".to_string(), slack.url()),
        ("JOBRANK_PUBLIC_URL".to_string(), PUBLIC.to_string()),
        ("RUST_LOG".to_string(), "debug".to_string()),
    ];
    let args = |extra: &[&str]| {
        let mut a = vec![
            "--data-dir".to_string(),
            data.clone(),
            "notify".into(),
            "digest".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };

    let dry = cli(args(&["--dry-run"]), env.clone()).await;
    let out = crate::helpers::stdout(&dry);
    assert!(
        dry.status.success(),
        "{out}{}",
        crate::helpers::stderr(&dry)
    );
    assert!(
        out.starts_with("Dry run: the digest of the week of "),
        "{out}"
    );
    assert!(
        out.contains("To: \"Tom Okafor\" <tom@agency.example>")
            || out.contains("To: Tom Okafor <tom@agency.example>"),
        "{out}"
    );
    assert!(
        out.contains("Subject: 1 job needs your score this week"),
        "{out}"
    );
    assert!(
        out.contains("- Head of Data (Acme), no rank yet\n  https://jobrank.example/jobs/7/score"),
        "{out}"
    );
    assert!(out.contains("To: the team's Slack channel"), "{out}");
    assert!(out.ends_with("3 messages would be sent.\n"), "{out}");
    assert!(
        smtp.messages().is_empty() && slack.posts().is_empty(),
        "a dry run sends nothing"
    );
    let store = Store::open(dir.path()).unwrap();
    assert!(
        store
            .read_blocking(|c| notifications::list_messages(c, Kind::Digest))
            .unwrap()
            .is_empty()
    );

    let real = cli(args(&[]), env.clone()).await;
    let out = crate::helpers::stdout(&real);
    let err = crate::helpers::stderr(&real);
    assert!(real.status.success(), "{out}{err}");
    assert!(out.contains(": 3 messages; 3 sent."), "{out}");
    assert_eq!(smtp.messages().len(), 2);
    assert_eq!(slack.posts().len(), 1);
    // The log (debug) says how many, never who or what.
    for secret in [
        "tom@agency.example",
        "claire@agency.example",
        "Tom Okafor",
        "Head of Data",
        "need your score",
        crate::slack_server::HOOK_PATH,
    ] {
        assert!(!err.contains(secret), "{secret:?} in the log:\n{err}");
    }
    assert!(
        err.contains("recipients=1"),
        "the log counts recipients:\n{err}"
    );

    let again = cli(args(&[]), env.clone()).await;
    let out = crate::helpers::stdout(&again);
    assert!(again.status.success(), "{out}");
    assert!(out.contains("was already made on"), "{out}");
    assert!(out.contains("nothing new was sent"), "{out}");
    assert_eq!(smtp.messages().len(), 2);
    let dry_again = cli(args(&["--dry-run"]), env.clone()).await;
    assert!(crate::helpers::stdout(&dry_again).contains("a real run now would send nothing new"));

    // Without email or Slack there is nothing to send with.
    let off = cli(args(&[]), vec![]).await;
    assert_eq!(off.status.code(), Some(1));
    assert!(
        crate::helpers::stderr(&off).contains("notifications are off"),
        "{}",
        crate::helpers::stderr(&off)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_says_whether_smtp_takes_the_configuration_and_slack_answers() {
    use crate::smtp_server::ServerTls;
    let smtp = SmtpServer::start(Variant {
        tls: Some(ServerTls::StartTls),
        auth: Some(("jobrank".into(), "correct-horse-battery".into())),
        ..Variant::default()
    })
    .await;
    let slack = SlackServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_string_lossy().into_owned();
    let ca = smtp.ca_file().unwrap().to_string_lossy().into_owned();
    let env = |smtp_url: String, slack_url: String| {
        vec![
            ("JOBRANK_SMTP_URL".to_string(), smtp_url),
            ("JOBRANK_SMTP_CA_FILE".to_string(), ca.clone()),
            ("JOBRANK_MAIL_FROM".to_string(), FROM.to_string()),
            ("JOBRANK_SLACK_WEBHOOK_URL".to_string(), slack_url),
        ]
    };
    let args = vec!["--data-dir".to_string(), data.clone(), "check".to_string()];
    let ok = cli(args.clone(), env(smtp.url(), slack.url())).await;
    let out = crate::helpers::stdout(&ok);
    assert!(ok.status.success(), "{out}{}", crate::helpers::stderr(&ok));
    assert!(
        out.contains(&format!(
            "email: ok (127.0.0.1:{} answered with STARTTLS and accepted the login)",
            smtp.port
        )),
        "{out}"
    );
    assert!(out.contains("slack: ok (the webhook answered)"), "{out}");
    assert!(smtp.messages().is_empty(), "a check sends no mail");
    let posts = slack.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].status, 400,
        "a post without text, refused with no_text"
    );

    let wrong = smtp
        .url()
        .replace("correct-horse-battery", "wrong-password-here");
    let bad = cli(args.clone(), env(wrong, slack.wrong_token_url())).await;
    let out = crate::helpers::stdout(&bad);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(out.contains("email: FAILED: the mail server"), "{out}");
    assert!(
        out.contains(
            "slack: FAILED: the Slack webhook refused the message: HTTP 403 invalid_token"
        ),
        "{out}"
    );
    let all = format!("{out}{}", crate::helpers::stderr(&bad));
    assert!(
        !all.contains("wrong-password-here") && !all.contains("/services/"),
        "{all}"
    );

    // Not configured: said so, and not a failure.
    let none = cli(args, vec![]).await;
    let out = crate::helpers::stdout(&none);
    assert!(none.status.success(), "{out}");
    assert!(
        out.contains("email: not configured (JOBRANK_SMTP_URL is not set)"),
        "{out}"
    );
    assert!(
        out.contains("slack: not configured (JOBRANK_SLACK_WEBHOOK_URL is not set)"),
        "{out}"
    );
}
