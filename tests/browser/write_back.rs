//! The admin page's "Rank in Recruiterflow" section with a dead letter and a job that
//! shows another rank, at desktop and phone sizes: nothing scrolls sideways, and the
//! screenshots are saved (`admin-write-back-desktop.png`, `admin-write-back-phone.png`).

use jobrank::store::write_back as queue;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rank_write_back_section_fits_a_phone() {
    let app =
        helpers::spawn_app_with(&[("RECRUITERFLOW_RANK_FIELD", "jobrank rank".to_string())]).await;
    let accounts: Vec<(String, String, Role)> = jobrank::cli::fill_demo(&app.store)
        .await
        .expect("demo fills the store")
        .accounts
        .into_iter()
        .map(|(email, _, role, password)| (email, password, role))
        .collect();
    // As a server writing back would have left it (this one has no API key, so it
    // switched write-back off at its start): a dead letter and a mismatch.
    jobrank::recruiterflow::write_back::switch(&app.store, true)
        .await
        .unwrap();
    app.store
        .write(|tx| {
            let now = jobrank::store::now();
            queue::enqueue_open_jobs(tx, now)?;
            let queued = queue::list_queued(tx)?;
            let (dead, differs) = (&queued[0], &queued[1]);
            queue::mark_failed(
                tx,
                dead.job_id,
                dead.seq,
                &format!(
                    "Recruiterflow has no job {} any more (404 at POST /api/external/job/update (job {})): nothing to write to",
                    dead.job_id, dead.job_id
                ),
                None,
                now,
            )?;
            let fields = r#"[{"id":900,"value":901}]"#;
            queue::mark_sent(tx, differs.job_id, differs.seq, differs.standing.as_ref(), fields, now)?;
            queue::record_check(
                tx,
                differs.job_id,
                fields,
                Some("\"jobrank rank\": \"C\"; \"jobrank score\": no value"),
                now,
            )
        })
        .await
        .unwrap();
    let b = Browser::start().await;
    let (email, password) = account(&accounts, Role::Ceo);
    b.sign_in(&app, &email, &password).await;
    for (size, label) in [(DESKTOP, "desktop"), (PHONE, "phone")] {
        b.resize(size).await;
        b.goto(&app.url("/admin")).await;
        b.wait_until(
            "document.querySelector('#write-back-dead tbody tr[id]') && document.querySelector('#write-back-mismatches tbody tr[id]')",
            "the section lists the dead letter and the mismatch",
        )
        .await;
        b.assert_no_sideways_scroll(&format!("admin at {label}"))
            .await;
        // The Retry button and the error are on screen, not in a table scrolled aside.
        let off = b
            .js("return Array.from(document.querySelectorAll('#write-back td')).filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth; }).length")
            .await;
        assert_eq!(off, json!(0), "every cell of the section fits at {label}");
        b.js("document.getElementById('write-back').scrollIntoView(); return true")
            .await;
        b.screenshot(&format!("admin-write-back-{label}")).await;
    }
    drop(b);
    app.stop().await;
}
