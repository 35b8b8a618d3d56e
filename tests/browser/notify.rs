//! "Forgot password" and "My settings" in the browser, at phone and desktop sizes:
//! the pages fit the screen (no sideways scroll), the forms work without JavaScript
//! help, and the admin page's notifications part. Screenshots go to
//! `target/screenshots/` (`me-*`, `forgot-*`, `admin-notifications-*`).
//!
//! Email points at a loopback port nothing listens on: messages are queued and their
//! sending fails for now in the background, which these pages do not depend on.

use fantoccini::Locator;
use jobrank::domain::Role;

use super::{Browser, account, helpers};

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1366, 900);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_and_my_settings_fit_a_phone_and_a_desktop() {
    let app = helpers::spawn_app_public(&[
        ("JOBRANK_SMTP_URL", "smtp://127.0.0.1:9".to_string()),
        (
            "JOBRANK_MAIL_FROM",
            "jobrank <jobrank@agency.example>".to_string(),
        ),
    ])
    .await;
    let accounts: Vec<(String, String, Role)> = jobrank::cli::fill_demo(&app.store)
        .await
        .expect("demo fills the store")
        .accounts
        .into_iter()
        .map(|(email, _, role, password)| (email, password, role))
        .collect();
    let (email, password) = account(&accounts, Role::Ceo);
    let b = Browser::start().await;
    for (size, label) in [(PHONE, "phone"), (DESKTOP, "desktop")] {
        b.resize(size).await;
        // Signed out: the sign-in page offers the link, the form answers in words.
        b.goto(&app.url("/login")).await;
        let c = b.c();
        c.find(Locator::Id("forgot-link"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait_until("location.pathname === '/login/forgot'", "the forgot page")
            .await;
        b.assert_no_sideways_scroll(&format!("forgot at {label}"))
            .await;
        b.screenshot(&format!("forgot-{label}")).await;
        c.find(Locator::Id("email"))
            .await
            .unwrap()
            .send_keys("someone@agency.example")
            .await
            .unwrap();
        c.find(Locator::Css(
            "form[action='/login/forgot'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        b.wait_until(
            "document.getElementById('notice') && document.getElementById('notice').textContent.includes('If an account uses someone@agency.example')",
            "the same answer for any address",
        )
        .await;
        b.assert_no_sideways_scroll(&format!("forgot answer at {label}"))
            .await;
        b.screenshot(&format!("forgot-sent-{label}")).await;

        // Signed in: My settings, switch the digest off.
        b.sign_in(&app, &email, &password).await;
        let c = b.c();
        if label == "phone" {
            open_menu(&b).await;
        }
        b.click("header a[href='/me']").await;
        b.wait_until("location.pathname === '/me'", "My settings")
            .await;
        b.assert_no_sideways_scroll(&format!("me at {label}")).await;
        b.screenshot(&format!("me-{label}")).await;
        let digest = c.find(Locator::Id("digest")).await.unwrap();
        if digest.prop("checked").await.unwrap().as_deref() == Some("true") {
            digest.click().await.unwrap();
        }
        b.click("form[action='/me/notifications'] button").await;
        b.wait_until(
            "location.search === '?done=notifications' && !document.getElementById('digest').checked",
            "the choice is saved and shown",
        )
        .await;
        b.screenshot(&format!("me-saved-{label}")).await;
        // A wrong current password is said next to the field.
        c.find(Locator::Id("current_password"))
            .await
            .unwrap()
            .send_keys("not the password")
            .await
            .unwrap();
        for id in ["new_password", "confirm_password"] {
            c.find(Locator::Id(id))
                .await
                .unwrap()
                .send_keys("a long new password")
                .await
                .unwrap();
        }
        b.click("form[action='/me/password'] button").await;
        b.wait_until(
            "document.getElementById('err-current_password')",
            "the error next to the field",
        )
        .await;
        b.assert_no_sideways_scroll(&format!("me with an error at {label}"))
            .await;
        b.screenshot(&format!("me-error-{label}")).await;

        // The CEO's view of who receives what.
        b.goto(&app.url("/admin")).await;
        b.js("document.getElementById('notifications').scrollIntoView(); return true")
            .await;
        b.assert_no_sideways_scroll(&format!("admin at {label}"))
            .await;
        b.screenshot(&format!("admin-notifications-{label}")).await;
        let row = b
            .js("return document.querySelector('#receives tbody tr').textContent")
            .await;
        assert!(
            row.as_str().unwrap().contains("No: switched off"),
            "the CEO's own digest shows as switched off: {row}"
        );
        // Sign out for the next size.
        if label == "phone" {
            open_menu(&b).await;
        }
        b.click("form[action='/logout'] button").await;
        b.wait_until("location.pathname === '/login'", "signed out")
            .await;
    }
    drop(b);
    app.stop().await;
}

/// On a phone the header's links and the sign-out button are behind "Menu": opens it.
async fn open_menu(b: &Browser) {
    b.click("a.menu-open").await;
    b.wait_until(
        "document.querySelector(\"header a[href='/me']\").checkVisibility()",
        "the menu opens",
    )
    .await;
}
