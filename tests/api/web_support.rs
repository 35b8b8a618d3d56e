//! Web test support: users, sign-in and a signed-in client that carries the session
//! cookie and the CSRF token, over real HTTP.

#![allow(dead_code)]

use jobrank::domain::Role;
use jobrank::store::users::{self, NewUser};
use reqwest::header::{COOKIE, SET_COOKIE};

use crate::helpers::TestApp;

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

/// The value of a cookie set by a response, if any.
pub fn set_cookie_value(res: &reqwest::Response, name: &str) -> Option<String> {
    set_cookie_header(res, name).and_then(|h| {
        h.split(';')
            .next()
            .and_then(|kv| kv.split_once('='))
            .map(|(_, v)| v.to_string())
    })
}

/// The whole Set-Cookie header for a cookie, if any.
pub fn set_cookie_header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// Pulls `value="..."` of the hidden `csrf` input out of a page.
pub fn csrf_field(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[i..].split('"').next()?.to_string())
}

/// Opens the sign-in page: (login cookie, form token).
pub async fn login_form(app: &TestApp) -> (String, String) {
    let res = app.get("/login").await;
    assert_eq!(res.status(), 200);
    let cookie = set_cookie_value(&res, "jobrank_login").expect("login cookie");
    let html = res.text().await.unwrap();
    (cookie, csrf_field(&html).expect("csrf field"))
}

/// Posts the sign-in form.
pub async fn post_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let (cookie, token) = login_form(app).await;
    app.client
        .post(app.url("/login"))
        .header(COOKIE, format!("jobrank_login={cookie}"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap()
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
    let res = post_login(app, email, password).await;
    assert_eq!(res.status(), 303, "sign-in should redirect");
    let cookie = set_cookie_value(&res, "jobrank_session").expect("session cookie");
    let mut b = Browser {
        app,
        cookie,
        csrf: String::new(),
    };
    let html = b.get("/").await.text().await.unwrap();
    b.csrf = csrf_field(&html).expect("csrf token on the dashboard");
    b
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

/// Sends a urlencoded form body (reqwest's `form` feature is not enabled).
pub trait FormBody {
    fn form(self, fields: &[(&str, &str)]) -> Self;
}

impl FormBody for reqwest::RequestBuilder {
    fn form(self, fields: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
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
