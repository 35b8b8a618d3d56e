//! Fees in currencies with other minor units than pence: yen have none, dinars have
//! three decimals. Shown, exported and banded by each currency's exponent.

use jobrank::domain::Role;

use crate::helpers::TestApp;
use crate::helpers::spawn_app;
use crate::web_support::*;

/// Adds an open job with a fee of `minor` units of `currency`, as the sync stores it.
async fn add_job_with_fee(app: &TestApp, id: i64, title: &str, minor: i64, currency: &str) {
    let job = jobrank::store::jobs::JobUpsert {
        id,
        title: title.into(),
        client: "Sakura Trading".into(),
        status: "Open".into(),
        is_open: true,
        opened_at: Some(jobrank::store::now() - chrono::Duration::days(3)),
        fee_minor: Some(minor),
        fee_currency: Some(currency.into()),
        hiring_team: Vec::new(),
        description_html: None,
    };
    app.store
        .write(move |tx| {
            jobrank::store::commands::upsert_job(tx, &job, jobrank::store::now()).map(|_| ())
        })
        .await
        .unwrap();
}

/// The scoring form's preselected fee-size level and whether it is marked suggested.
fn suggested_fee_level(form: &str) -> Option<char> {
    let at = form.find("name=\"fee_size\" value=\"")?;
    let rest = &form[at..];
    let checked = rest.find(" checked")?;
    let value_at = rest[..checked].rfind("value=\"")? + "value=\"".len();
    rest[value_at..].chars().next()
}

/// The cells of one column of a CSV download, by its header.
fn column(csv_text: &str, name: &str) -> Vec<String> {
    let mut rows = csv::Reader::from_reader(csv_text.as_bytes());
    let at = rows
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == name)
        .unwrap();
    rows.records().map(|r| r.unwrap()[at].to_string()).collect()
}

fn settings_in(
    currency: &'static str,
    bands: [&'static str; 4],
) -> Vec<(&'static str, &'static str)> {
    vec![
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
        ("fee_5", bands[0]),
        ("fee_4", bands[1]),
        ("fee_3", bands[2]),
        ("fee_2", bands[3]),
        ("fee_currency", currency),
        ("cadence_days", "7"),
    ]
}

#[tokio::test]
async fn a_yen_fee_shows_exports_and_bands_in_yen() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    // 3,500,000 yen: yen have no minor unit, so 3,500,000 minor units.
    add_job_with_fee(&app, 701, "Tokyo Sales Lead", 3_500_000, "JPY").await;
    let ceo = sign_in(&app, "ceo@agency.example").await;

    let page = ceo.get("/jobs/701").await.text().await.unwrap();
    assert!(page.contains("JPY 3,500,000"), "job page: {page}");
    let dash = ceo.get("/").await.text().await.unwrap();
    assert!(dash.contains("JPY 3,500,000"), "dashboard: {dash}");

    let csv = ceo.get("/export/jobs.csv").await.text().await.unwrap();
    assert_eq!(column(&csv, "fee"), ["3500000"], "{csv}");
    assert_eq!(column(&csv, "fee_currency"), ["JPY"], "{csv}");

    // Bands entered in whole yen on the admin page.
    let res = ceo
        .post(
            "/admin/settings",
            &settings_in("JPY", ["4000000", "3000000", "2000000", "1000000"]),
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let form = ceo.get("/jobs/701/score").await.text().await.unwrap();
    assert_eq!(suggested_fee_level(&form), Some('4'), "3.5M yen is level 4");
    assert!(
        form.contains("Suggested 4 from the fee (JPY 3,500,000)."),
        "{form}"
    );
}

#[tokio::test]
async fn a_dinar_fee_keeps_its_three_decimals_and_bands_in_dinars() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    // 12,500.500 dinars is 12,500,500 fils.
    add_job_with_fee(&app, 702, "Kuwait Finance Director", 12_500_500, "KWD").await;
    add_job_with_fee(&app, 703, "London Analyst", 2_500_050, "GBP").await;
    let ceo = sign_in(&app, "ceo@agency.example").await;

    let page = ceo.get("/jobs/702").await.text().await.unwrap();
    assert!(page.contains("KWD 12,500.500"), "{page}");
    let page = ceo.get("/jobs/703").await.text().await.unwrap();
    assert!(page.contains("GBP 25,000.50"), "{page}");

    let csv = ceo
        .get("/export/jobs.csv?sort=fee")
        .await
        .text()
        .await
        .unwrap();
    // Largest amount first: 25,000.50 pounds before 12,500.500 dinars.
    assert_eq!(column(&csv, "fee"), ["25000.50", "12500.500"], "{csv}");
    assert_eq!(column(&csv, "fee_currency"), ["GBP", "KWD"], "{csv}");

    let res = ceo
        .post(
            "/admin/settings",
            &settings_in("KWD", ["40000", "30000", "20000", "10000"]),
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let form = ceo.get("/jobs/702/score").await.text().await.unwrap();
    assert_eq!(
        suggested_fee_level(&form),
        Some('2'),
        "12,500 dinars is level 2"
    );
    let form = ceo.get("/jobs/703/score").await.text().await.unwrap();
    assert!(
        form.contains("No suggestion: the job has no fee in the bands&#39; currency."),
        "a pound fee against dinar bands: {form}"
    );
}
