//! Web test support: users, jobs, and a signed-in client that carries the session
//! cookie and the CSRF token, over real HTTP (signing in itself is in `helpers`).

#![allow(dead_code)]

use jobrank::domain::Role;
use jobrank::store::users::{self, NewUser};
use reqwest::header::COOKIE;

use crate::helpers::TestApp;
pub use crate::helpers::{
    FormBody, Session, csrf_field, login_form_at, post_login_at, set_cookie_header,
    set_cookie_value, sign_in_at,
};

pub const PASSWORD: &str = "correct horse battery";

/// Adds a user with [`PASSWORD`].
pub async fn add_user(app: &TestApp, email: &str, role: Role, scores: bool) -> users::User {
    let email = email.to_string();
    let hash =
        tokio::task::spawn_blocking(|| jobrank::credentials::hash_password(PASSWORD).unwrap())
            .await
            .unwrap();
    app.store
        .write(move |tx| {
            users::insert_user(
                tx,
                &NewUser {
                    email: email.clone(),
                    name: format!("User {email}"),
                    role,
                    scores,
                    password_hash: hash,
                },
                jobrank::store::now(),
            )
        })
        .await
        .unwrap()
}

/// Opens the sign-in page: (login cookie, form token).
pub async fn login_form(app: &TestApp) -> (String, String) {
    login_form_at(&app.client, &app.url("")).await
}

/// Posts the sign-in form.
pub async fn post_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    post_login_at(&app.client, &app.url(""), email, password).await
}

/// A signed-in browser: the session cookie and its CSRF token.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
    pub csrf: String,
}

/// Signs in and reads the session's CSRF token from the dashboard.
pub async fn sign_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    sign_in_with(app, email, PASSWORD).await
}

pub async fn sign_in_with<'a>(app: &'a TestApp, email: &str, password: &str) -> Browser<'a> {
    let Session { cookie, csrf } = sign_in_at(&app.client, &app.url(""), email, password).await;
    Browser { app, cookie, csrf }
}

impl Browser<'_> {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.app
            .client
            .get(self.app.url(path))
            .header(COOKIE, format!("jobrank_session={}", self.cookie))
            .send()
            .await
            .unwrap()
    }

    /// A GET as htmx sends it.
    pub async fn htmx_get(&self, path: &str) -> reqwest::Response {
        self.app
            .client
            .get(self.app.url(path))
            .header(COOKIE, format!("jobrank_session={}", self.cookie))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap()
    }

    /// Posts a form with this session's CSRF token added.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &self.csrf));
        self.post_raw(path, &fields).await
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.app
            .client
            .post(self.app.url(path))
            .header(COOKIE, format!("jobrank_session={}", self.cookie))
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

/// Adds (or updates) a job the way the Recruiterflow sync would.
pub async fn add_job(
    app: &TestApp,
    id: i64,
    title: &str,
    client: &str,
    days_open: i64,
    open: bool,
    description: &str,
) {
    let job = jobrank::store::jobs::JobUpsert {
        id,
        title: title.into(),
        client: client.into(),
        status: if open { "Open".into() } else { "Closed".into() },
        is_open: open,
        opened_at: Some(jobrank::store::now() - chrono::Duration::days(days_open)),
        fee_minor: Some(2_500_000),
        fee_currency: Some("GBP".into()),
        hiring_team: vec!["Tom Okafor".into()],
        description_html: Some(description.into()),
    };
    app.store
        .write(move |tx| {
            jobrank::store::commands::upsert_job(tx, &job, jobrank::store::now()).map(|_| ())
        })
        .await
        .unwrap();
}

/// How many submissions are stored.
pub async fn submission_count(app: &TestApp) -> i64 {
    app.store
        .read(jobrank::store::submissions::count_submissions)
        .await
        .unwrap()
}
