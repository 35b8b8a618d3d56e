//! Durability: the real `jobrank serve` binary is killed with SIGKILL in the middle of
//! a burst of concurrent score submissions from four users. After a restart on the same
//! data directory every submission that was acknowledged is stored, and every job's
//! stored rank equals a recomputation from the stored submissions.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jobrank::domain::rank_job;
use jobrank::store::{Store, commands, jobs, ranks, settings, submissions, users};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};

use crate::helpers::{FormBody, ServeProcess, Session, eventually, serve_process, sign_in_at};

/// `jobrank serve` on `data_dir`, warnings only in its log.
fn start_server(data_dir: &Path) -> ServeProcess {
    serve_process(data_dir, &[("RUST_LOG", "warn")])
}

/// A signed-in user over plain HTTP: session cookie and CSRF token.
struct Scorer {
    email: String,
    cookie: String,
    csrf: String,
}

async fn sign_in(
    client: &reqwest::Client,
    addr: SocketAddr,
    email: &str,
    password: &str,
) -> Scorer {
    let Session { cookie, csrf } =
        sign_in_at(client, &format!("http://{addr}"), email, password).await;
    Scorer {
        email: email.to_string(),
        cookie,
        csrf,
    }
}

/// One acknowledged submission: who, which job, and its unique comment.
#[derive(Debug, Clone)]
struct Acked {
    email: String,
    job_id: i64,
    comment: String,
}

const PER_USER: usize = 60;
const IN_FLIGHT_PER_USER: usize = 3;
const KILL_AFTER_ACKS: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_submissions_survive_sigkill_and_ranks_match_a_recomputation() {
    jobrank::install_crypto();
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_owned();

    // A demo agency; Sam (who does not score by default) is made a scorer so that
    // four users submit.
    let store = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || Store::open(&dir))
            .await
            .unwrap()
            .unwrap()
    };
    let accounts = jobrank::cli::fill_demo(&store).await.unwrap().accounts;
    assert_eq!(accounts.len(), 4);
    let (emails_to_ids, open_jobs) = store
        .write(|tx| {
            let now = jobrank::store::now();
            let mut ids = HashMap::new();
            for u in users::list_users(tx)? {
                if !u.scores {
                    let _ = commands::set_user_scores(tx, &u.id, true, now)?;
                }
                ids.insert(u.email.clone(), u.id.clone());
            }
            let open: Vec<i64> = jobs::list_open_jobs(tx)?.iter().map(|j| j.id).collect();
            Ok((ids, open))
        })
        .await
        .unwrap();
    let before = store.read(submissions::count_submissions).await.unwrap();
    drop(store);
    assert!(open_jobs.len() >= 20, "the demo has open jobs to score");

    let mut server = start_server(&dir);
    let addr = server.addr;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(16)
        .build()
        .unwrap();
    let mut scorers = Vec::new();
    for (email, _, _, password) in &accounts {
        scorers.push(Arc::new(sign_in(&client, addr, email, password).await));
    }

    // The burst: each user keeps a few submissions in flight over the open jobs.
    let acks = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (u, scorer) in scorers.iter().enumerate() {
        for lane in 0..IN_FLIGHT_PER_USER {
            let scorer = scorer.clone();
            let client = client.clone();
            let acks = acks.clone();
            let open_jobs = open_jobs.clone();
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                let mut failed = 0usize;
                for n in (lane..PER_USER).step_by(IN_FLIGHT_PER_USER) {
                    let job_id = open_jobs[(n * 7 + u * 3) % open_jobs.len()];
                    let comment = format!("burst u{u} n{n}");
                    let levels = [1 + (n % 5), 1 + ((n + u) % 5), 1 + (u % 5), 3];
                    let lv: Vec<String> = levels.iter().map(|l| l.to_string()).collect();
                    let res = client
                        .post(format!("http://{addr}/jobs/{job_id}/score"))
                        .header(COOKIE, format!("jobrank_session={}", scorer.cookie))
                        .form(&[
                            ("client_engagement", lv[0].as_str()),
                            ("search_difficulty", lv[1].as_str()),
                            ("time_open", lv[2].as_str()),
                            ("fee_size", lv[3].as_str()),
                            ("comment", comment.as_str()),
                            ("action", "submit"),
                            ("csrf", scorer.csrf.as_str()),
                        ])
                        .timeout(Duration::from_secs(20))
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status() == StatusCode::SEE_OTHER => {
                            let to = r
                                .headers()
                                .get(LOCATION)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string();
                            assert!(
                                to.starts_with("/jobs/") || to.starts_with("/?scored="),
                                "a submission redirected to {to:?}"
                            );
                            acked.push(Acked {
                                email: scorer.email.clone(),
                                job_id,
                                comment,
                            });
                            acks.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(r) => panic!(
                            "submission answered {} before the kill: {}",
                            r.status(),
                            r.text().await.unwrap_or_default()
                        ),
                        // The server is gone: this one and the rest are unacknowledged.
                        Err(_) => {
                            failed += 1;
                            break;
                        }
                    }
                }
                (acked, failed)
            }));
        }
    }
    eventually(
        &format!("{KILL_AFTER_ACKS} submissions are acknowledged"),
        || async {
            let n = acks.load(Ordering::SeqCst);
            if n >= KILL_AFTER_ACKS {
                Ok(())
            } else {
                Err(format!("{n} acknowledged"))
            }
        },
    )
    .await;
    server.kill();
    let mut acked = Vec::new();
    let mut cut_off = 0;
    for t in tasks {
        let (a, f) = t.await.expect("a submitting task panicked");
        acked.extend(a);
        cut_off += f;
    }
    assert!(
        acked.len() >= KILL_AFTER_ACKS,
        "{} acknowledged",
        acked.len()
    );
    assert!(
        cut_off > 0 && acked.len() < scorers.len() * PER_USER,
        "the kill should land mid-burst ({} acknowledged, {cut_off} cut off)",
        acked.len()
    );

    // Restart on the same data directory: it starts and serves after the crash.
    let mut server = start_server(&dir);
    let after_restart = sign_in(&client, server.addr, &accounts[0].0, &accounts[0].3).await;
    let res = client
        .get(format!("http://{}/", server.addr))
        .header(COOKIE, format!("jobrank_session={}", after_restart.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "dashboard after the restart");
    server.sigterm();
    let exit = server.wait_exit();
    assert!(exit.success(), "server did not stop cleanly: {exit}");

    let store = tokio::task::spawn_blocking(move || Store::open(&dir))
        .await
        .unwrap()
        .unwrap();
    let (stored, checked) = store
        .read(move |c| {
            let all = submissions::list_all(c)?;
            let current = settings::current_settings(c)?;
            let mut checked = 0;
            for job in jobs::list_open_jobs(c)? {
                let inputs = submissions::ranking_inputs(c, job.id)?;
                let expected = rank_job(&inputs, &current.settings);
                let stored = ranks::find_job_rank(c, job.id)?;
                match (&expected, &stored) {
                    (None, None) => {}
                    (Some(e), Some(s)) => {
                        assert_eq!(
                            (e.team, e.rank, e.at),
                            (s.team, s.rank, s.last_scored_at),
                            "job {}: stored rank differs from a recomputation",
                            job.id
                        );
                        checked += 1;
                    }
                    _ => panic!(
                        "job {}: stored rank {stored:?} but recomputation {expected:?}",
                        job.id
                    ),
                }
            }
            Ok((all, checked))
        })
        .await
        .unwrap();
    assert!(checked > 0, "some ranks were compared");
    for a in &acked {
        let scorer = &emails_to_ids[&a.email];
        assert!(
            stored.iter().any(|s| s.job_id == a.job_id
                && &s.scorer_id == scorer
                && s.comment.as_deref() == Some(a.comment.as_str())),
            "acknowledged submission lost after SIGKILL: {a:?}"
        );
    }
    let burst_rows = stored
        .iter()
        .filter(|s| {
            s.comment
                .as_deref()
                .is_some_and(|c| c.starts_with("burst "))
        })
        .count();
    assert!(burst_rows >= acked.len());
    assert_eq!(stored.len() - burst_rows, before as usize);
}
