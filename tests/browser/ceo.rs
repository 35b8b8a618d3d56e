//! The CEO's week in the browser, on a phone (390 x 844) and at a desk (1366 x 900)
//! (issue 13, items 14 to 16): the review points at the scorer who stands apart and
//! says why, with each scorer's week-by-week chart; on the admin page the CEO types
//! weights as percentages, watches the running total, previews the effect (the jobs
//! that would change rank and the A/B/C counts before and after, nothing saved), saves,
//! and sees the new version. The users table keeps every column on screen and no
//! page scrolls sideways. Screenshots: `ceo-review-*`, `ceo-users-*`, `ceo-weights-*`,
//! `ceo-preview-*`, `ceo-saved-*`.

use fantoccini::Locator;
use jobrank::domain::Role;
use jobrank::store::{jobs, settings};
use serde_json::json;

use super::{Browser, account, demo_app};
use crate::helpers::TestApp;

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1366, 900);

/// Whether every element matching `css` lies within the viewport's width.
async fn within_width(b: &Browser, css: &str) -> bool {
    b.js(&format!(
        "const els = Array.from(document.querySelectorAll({css:?})); \
         return els.length > 0 && els.every(e => {{ const r = e.getBoundingClientRect(); \
         return r.left >= 0 && r.right <= window.innerWidth + 0.5; }})"
    ))
    .await
        == json!(true)
}

async fn review(b: &Browser, app: &TestApp, label: &str) {
    b.goto(&app.url("/review")).await;
    b.wait_until("document.getElementById('scorers')", "the review's scorers")
        .await;
    let flagged = b
        .js("const f = document.getElementById('flagged'); return f ? f.innerText : ''")
        .await;
    let flagged = flagged.as_str().unwrap();
    assert!(
        flagged.contains("Priya Shah"),
        "the review points at the demo's optimistic scorer: {flagged:?}"
    );
    assert!(
        flagged.contains("higher than the rest of the team on average")
            || flagged.contains("Far from the rest of the team"),
        "the rule that fired, in words: {flagged:?}"
    );
    assert!(
        !flagged.contains("Tom Okafor"),
        "only the scorer who stands apart: {flagged:?}"
    );
    // Her row is marked, in text as well as colour, and its chart has bars.
    let row = "Array.from(document.querySelectorAll('#scorers tbody tr')).find(tr => tr.querySelector('th').innerText.includes('Priya Shah'))";
    assert_eq!(
        b.js(&format!(
            "const tr = {row}; return [tr.classList.contains('flagged'), tr.querySelector('.flag').innerText, tr.querySelectorAll('svg.spark rect').length > 0]"
        ))
        .await,
        json!([true, "Look at this", true])
    );
    // The flagged scorer's link leads to her row.
    b.click("#flagged a").await;
    b.wait_until(
        &format!("location.hash === '#' + ({row}).id"),
        "the link goes to her row",
    )
    .await;
    // Key columns and the charts stay on screen: cards on the phone, the table at a
    // desk.
    assert!(
        within_width(b, "#scorers svg.spark").await,
        "the weekly charts fit the width at {label}"
    );
    assert!(
        within_width(b, "#scorers td[data-label='Difference from the team']").await,
        "the difference from the team is on screen at {label}"
    );
    assert!(
        within_width(b, "#factor-deviation td").await,
        "every factor's difference is on screen at {label}"
    );
    b.assert_no_sideways_scroll(&format!("review at {label}"))
        .await;
    b.js("document.getElementById('flagged').scrollIntoView(); return 0")
        .await;
    b.screenshot(&format!("ceo-review-{label}")).await;
}

async fn versions(app: &TestApp) -> usize {
    app.store.read(settings::list_settings).await.unwrap().len()
}

async fn type_into(b: &Browser, id: &str, text: &str) {
    let input = b.c().find(Locator::Id(id)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

async fn total(b: &Browser) -> (String, bool) {
    let v = b
        .js("const t = document.getElementById('weights-total'); return [t.textContent, t.classList.contains('off')]")
        .await;
    (v[0].as_str().unwrap().to_string(), v[1].as_bool().unwrap())
}

/// Types `weights` as percentages, previews, checks the preview, saves, and checks the
/// new version `version`.
async fn change_weights(b: &Browser, app: &TestApp, weights: [&str; 4], version: i64, label: &str) {
    b.goto(&app.url("/admin")).await;
    b.wait_until(
        "document.getElementById('weights-total')",
        "the settings form",
    )
    .await;
    // Item 14: every column of the users table stays on screen (cards on a phone).
    b.assert_table_fits("#users", &format!("admin at {label}"))
        .await;
    b.js("document.getElementById('users-title').scrollIntoView(); return 0")
        .await;
    b.screenshot(&format!("ceo-users-{label}")).await;
    let ids = [
        "weight_client_engagement",
        "weight_search_difficulty",
        "weight_time_open",
        "weight_fee_size",
    ];
    // The running total follows the typing, and says when it is off.
    type_into(b, ids[0], "99%").await;
    b.wait_until(
        "document.getElementById('weights-total').classList.contains('off')",
        "the total says it is off",
    )
    .await;
    let (words, off) = total(b).await;
    assert!(off);
    assert!(
        words.starts_with("Total: ")
            && words.ends_with("; percentages must total 100%, fractions 1"),
        "{words}"
    );
    for (id, w) in ids.iter().zip(weights) {
        type_into(b, id, w).await;
    }
    assert_eq!(total(b).await, ("Total: 100%".to_string(), false));
    b.assert_no_sideways_scroll(&format!("admin at {label}"))
        .await;
    b.js("document.getElementById('f-weights').scrollIntoView(); return 0")
        .await;
    b.screenshot(&format!("ceo-weights-{label}")).await;

    let before = versions(app).await;
    b.click("button[name=action][value=preview]").await;
    b.wait_until(
        "document.getElementById('settings-preview')",
        "the preview of the change",
    )
    .await;
    let summary = b
        .js("return document.getElementById('preview-summary').innerText")
        .await;
    let summary = summary.as_str().unwrap().to_string();
    let moved: usize = summary
        .split(" of ")
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("how many jobs would move: {summary:?}"));
    let open = app.store.read(jobs::list_open_job_ids).await.unwrap().len();
    assert!(
        summary.contains(&format!(" of {open} open jobs would change rank.")),
        "{summary}"
    );
    assert!(moved > 0, "these weights move some demo jobs: {summary}");
    assert_eq!(
        b.js("return document.querySelectorAll('#preview-moves tbody tr').length")
            .await,
        json!(moved),
        "each job that would move is listed"
    );
    // Counts before and after, for A, B, C and the unscored; they add up to the open
    // jobs.
    let counts = b
        .js("return Array.from(document.querySelectorAll('#preview-counts tbody tr')).map(tr => Array.from(tr.querySelectorAll('td')).map(td => parseInt(td.innerText)))")
        .await;
    let counts: Vec<Vec<u64>> = serde_json::from_value(counts).unwrap();
    assert_eq!(counts.len(), 4, "{counts:?}");
    for side in 0..2 {
        assert_eq!(
            counts.iter().map(|c| c[side]).sum::<u64>(),
            open as u64,
            "{counts:?}"
        );
    }
    assert_eq!(versions(app).await, before, "a preview saves nothing");
    // What was typed stays in the form, ready to save.
    assert_eq!(
        b.js(&format!(
            "return document.getElementById('{}').value",
            ids[0]
        ))
        .await,
        json!(weights[0])
    );
    assert!(
        within_width(b, "#preview-moves td[data-label='After saving']").await,
        "the new rank is on screen at {label}"
    );
    b.assert_no_sideways_scroll(&format!("preview at {label}"))
        .await;
    b.js("document.getElementById('settings-preview').scrollIntoView(); return 0")
        .await;
    b.screenshot(&format!("ceo-preview-{label}")).await;

    b.click("button[name=action][value=save]").await;
    b.wait_until(
        "document.getElementById('notice') && location.search === '?done=settings'",
        "the saved notice",
    )
    .await;
    assert_eq!(versions(app).await, before + 1);
    let current = b
        .js("return Array.from(document.querySelectorAll('#versions tbody tr')).find(tr => tr.innerText.includes('(in force)')).innerText")
        .await;
    let current = current.as_str().unwrap();
    let shown: Vec<String> = [
        "Client engagement",
        "Search difficulty",
        "Time open",
        "Fee size",
    ]
    .iter()
    .zip(weights)
    .map(|(factor, w)| format!("{factor} {}", w.replace(' ', "")))
    .collect();
    assert!(
        current.contains(&format!("v{version} (in force)")) && current.contains(&shown.join(", ")),
        "the new version is in force: {current:?}"
    );
    b.assert_no_sideways_scroll(&format!("admin after saving at {label}"))
        .await;
    b.js("document.getElementById('versions').scrollIntoView(); return 0")
        .await;
    b.screenshot(&format!("ceo-saved-{label}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ceo_reviews_scorers_and_previews_a_weight_change_on_a_phone_and_at_a_desk() {
    let (app, accounts) = demo_app().await;
    let (email, password) = account(&accounts, Role::Ceo);
    let b = Browser::start().await;
    b.resize(PHONE).await;
    b.sign_in(&app, &email, &password).await;
    review(&b, &app, "phone").await;
    change_weights(&b, &app, ["40%", "20%", "20%", "20%"], 2, "phone").await;

    b.resize(DESKTOP).await;
    review(&b, &app, "desktop").await;
    change_weights(&b, &app, ["10%", "30%", "30%", "30%"], 3, "desktop").await;
    drop(b);
    app.stop().await;
}
