//! The README's table of routes by role, checked against the running application: every
//! row is walked as a visitor, a read-only user, a scorer and the CEO, and the table
//! must list exactly the routes the router has, so a route added later without a row
//! fails here.
//!
//! The router's routes are read from the router itself: axum prints, in its `Debug`
//! output, each route's path and the methods it answers. That output is not a stable
//! interface, so [`router_routes`] insists on finding the routes every jobrank has and
//! fails loudly (rather than passing on an empty list) if axum ever prints otherwise.

use std::collections::BTreeSet;

use jobrank::domain::Role;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION};

use crate::helpers::{TestApp, spawn_app_with};
use crate::web_support::*;

/// The README, as the test was built.
const README: &str = include_str!("../../README.md");

/// One row of the table: method, route, and whether each role is let through
/// (visitor, read-only, scorer, CEO).
#[derive(Debug, Clone)]
struct Row {
    method: String,
    path: String,
    allowed: [bool; 4],
}

const ROLES: [&str; 4] = ["a visitor", "a read-only user", "a scorer", "the CEO"];

/// The rows of the route table in the README's "Security" section.
fn readme_table() -> Vec<Row> {
    let section = README
        .split("\n## Security\n")
        .nth(1)
        .expect("README.md has a Security section")
        .split("\n## ")
        .next()
        .unwrap();
    let rows: Vec<Row> = section
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("| `/"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            assert!(cells.len() >= 6, "a short row in the README's table: {l}");
            let yes = |c: &str| match c {
                "yes" => true,
                "no" => false,
                other => panic!("{other:?} is neither yes nor no in: {l}"),
            };
            Row {
                method: cells[0].to_string(),
                path: cells[1].trim_matches('`').to_string(),
                allowed: [yes(cells[2]), yes(cells[3]), yes(cells[4]), yes(cells[5])],
            }
        })
        .collect();
    assert!(
        rows.len() >= 30,
        "the README's route table has {} rows",
        rows.len()
    );
    rows
}

/// Every (method, route) a router answers, read from its `Debug` output (HEAD, which
/// axum adds to every GET route, is left out).
fn router_routes(router: &axum::Router) -> BTreeSet<(String, String)> {
    let text = format!("{router:?}");
    // Only the router's own routes: the fallback router follows.
    let own = text
        .split("fallback_router:")
        .next()
        .expect("axum's Router debug output names its path router");
    let routes_part = own
        .split("node: Node")
        .next()
        .expect("axum's PathRouter debug output has its routes, then its node");
    let paths_part = own
        .split("paths: {")
        .nth(1)
        .expect("axum's Node debug output has its paths");
    // RouteId(N): "path"
    let mut paths = std::collections::HashMap::new();
    for piece in paths_part.split("RouteId(").skip(1) {
        let (id, rest) = piece.split_once(')').unwrap();
        let path = rest
            .split('"')
            .nth(1)
            .expect("a quoted path after a route id");
        paths.insert(id.trim().to_string(), path.to_string());
    }
    // RouteId(N): MethodRouter(MethodRouter { ... allow_header: Bytes(b"GET,HEAD") ... })
    let mut out = BTreeSet::new();
    for piece in routes_part.split("RouteId(").skip(1) {
        let (id, rest) = piece.split_once(')').unwrap();
        let path = paths
            .get(id.trim())
            .unwrap_or_else(|| panic!("route id {id} has no path in: {text}"));
        let methods = rest
            .split("allow_header: Bytes(b\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("ANY");
        for m in methods.split(',').filter(|m| *m != "HEAD") {
            out.insert((m.to_string(), path.clone()));
        }
    }
    for must in [
        ("GET", "/healthz"),
        ("GET", "/admin"),
        ("POST", "/jobs/{id}/score"),
    ] {
        assert!(
            out.contains(&(must.0.to_string(), must.1.to_string())),
            "{must:?} not found in the router's debug output; has axum changed it? {out:?}"
        );
    }
    out
}

/// The routes the router has and the table lacks, and those the table has and the
/// router lacks.
fn differences(router: &BTreeSet<(String, String)>, table: &[Row]) -> (Vec<String>, Vec<String>) {
    let table: BTreeSet<(String, String)> = table
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let show = |(m, p): &(String, String)| format!("{m} {p}");
    (
        router.difference(&table).map(show).collect(),
        table.difference(router).map(show).collect(),
    )
}

#[tokio::test]
async fn the_readme_table_lists_exactly_the_routes_of_the_router() {
    let app = spawn_app_with(&[]).await;
    let routes = router_routes(&jobrank::web::router(app.state.clone()));
    let (missing, stale) = differences(&routes, &readme_table());
    assert!(
        missing.is_empty(),
        "routes missing from the README's table of routes by role (Security section): {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "rows of the README's route table that the router does not have: {stale:?}"
    );
}

/// The check above really fails: a route added to the router without a row is named.
#[tokio::test]
async fn a_route_added_without_a_row_in_the_table_is_caught() {
    let app = spawn_app_with(&[]).await;
    let grown = jobrank::web::router(app.state.clone())
        .route(
            "/admin/new-feature",
            axum::routing::get(|| async { "x" }).post(|| async { "y" }),
        )
        .route("/jobs/{id}/score", axum::routing::delete(|| async { "z" }));
    let (missing, stale) = differences(&router_routes(&grown), &readme_table());
    assert_eq!(
        missing,
        [
            "DELETE /jobs/{id}/score",
            "GET /admin/new-feature",
            "POST /admin/new-feature"
        ]
    );
    assert!(stale.is_empty(), "{stale:?}");
}

/// What a walk needs: the app, a signed-in browser per role, and ids to put in paths.
struct Walk<'a> {
    app: &'a TestApp,
    emails: [&'static str; 3],
    browsers: Vec<Browser<'a>>,
    target_user: String,
    token_id: String,
    css: String,
}

impl Walk<'_> {
    /// The route with real values for its parameters.
    fn concrete(&self, path: &str) -> String {
        let id = if path.starts_with("/admin/users/") {
            self.target_user.as_str()
        } else if path.starts_with("/admin/tokens/") {
            self.token_id.as_str()
        } else {
            "1"
        };
        path.replace("{id}", id)
            .replace("{file}", &self.css)
            .replace("{token}", "not-the-token")
            .replace("{name}", "Acme")
    }

    /// Sends the row's request as role `who` (0 a visitor, then read-only, scorer, CEO).
    async fn send(&self, who: usize, row: &Row) -> reqwest::Response {
        let app = self.app;
        let url = app.url(&self.concrete(&row.path));
        let browser = who.checked_sub(1).map(|i| &self.browsers[i]);
        let with_session = |req: reqwest::RequestBuilder, b: Option<&Browser<'_>>| match b {
            Some(b) => req.header(COOKIE, format!("jobrank_session={}", b.cookie)),
            None => req,
        };
        match (row.method.as_str(), row.path.as_str()) {
            ("GET", _) => with_session(app.client.get(url), browser)
                .send()
                .await
                .unwrap(),
            // Signing in as a known user, with the sign-in form's own token.
            ("POST", "/login") => post_login(app, "walker@agency.example", PASSWORD).await,
            // The other signed-out forms take the sign-in form's token too, whoever sends
            // them (a link asked for, a new password chosen with a stale link).
            ("POST", "/login/forgot" | "/login/reset") => {
                let (cookie, token) = login_form(app).await;
                let mut req = app.client.post(url);
                if let Some(b) = browser {
                    req = req.header(
                        COOKIE,
                        format!("jobrank_session={}; jobrank_login={cookie}", b.cookie),
                    );
                } else {
                    req = req.header(COOKIE, format!("jobrank_login={cookie}"));
                }
                req.form(&[
                    ("email", "walker@agency.example"),
                    ("token", "not-a-link"),
                    ("csrf", token.as_str()),
                ])
                .send()
                .await
                .unwrap()
            }
            // Signing out ends a session of that role made for the purpose.
            ("POST", "/logout") => match who {
                0 => app.client.post(url).form(&[]).send().await.unwrap(),
                _ => {
                    let own = sign_in(app, self.emails[who - 1]).await;
                    let res = own.post("/logout", &[]).await;
                    assert!(
                        !let_through(&own.get("/").await),
                        "signing out ended the session"
                    );
                    res
                }
            },
            ("POST", p) if p.starts_with("/api/") || p.starts_with("/webhooks/") => {
                let mut req = with_session(app.client.post(url), browser)
                    .header(CONTENT_TYPE, "application/json")
                    .body("{}");
                if let Some(b) = browser {
                    req = req.header("x-csrf-token", &b.csrf);
                }
                req.send().await.unwrap()
            }
            ("POST", _) => match browser {
                Some(b) => b.post(&self.concrete(&row.path), &[]).await,
                None => app.client.post(url).form(&[]).send().await.unwrap(),
            },
            (m, p) => panic!("the walk cannot send {m} {p}: teach it"),
        }
    }
}

/// Whether a response let the caller through: not 401, not 403, not sent to sign in
/// (signing out, which ends on the sign-in page, is judged by its status).
fn let_through(res: &reqwest::Response) -> bool {
    if res.url().path() == "/logout" {
        return res.status().is_redirection();
    }
    let status = res.status().as_u16();
    let to_sign_in = res.status().is_redirection()
        && res
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.starts_with("/login"));
    !(status == 401 || status == 403 || to_sign_in)
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_readme_table_says() {
    let app = spawn_app_with(&[
        ("RECRUITERFLOW_WEBHOOK_SECRET", "walk-secret".to_string()),
        (
            "RECRUITERFLOW_WEBHOOK_TOKEN",
            "walk-token-0123456789abcdef0123456789abcdef".to_string(),
        ),
    ])
    .await;
    let emails = [
        "sam@agency.example",
        "tom@agency.example",
        "claire@agency.example",
    ];
    add_user(&app, emails[0], Role::Other, false).await;
    add_user(&app, emails[1], Role::AccountManager, true).await;
    add_user(&app, emails[2], Role::Ceo, true).await;
    add_user(&app, "walker@agency.example", Role::SalesPerson, false).await;
    let target = add_user(&app, "target@agency.example", Role::SalesPerson, true).await;
    add_job(&app, 1, "Head of Data", "Acme", 10, true, "").await;
    let mut browsers = Vec::new();
    for e in emails {
        browsers.push(sign_in(&app, e).await);
    }
    let res = browsers[2]
        .post(
            "/admin/tokens",
            &[("user_id", target.id.as_str()), ("label", "walk")],
        )
        .await;
    assert_eq!(res.status(), 201);
    let token_id = app
        .store
        .read(jobrank::store::api_tokens::list_tokens)
        .await
        .unwrap()[0]
        .0
        .id
        .clone();
    let page = browsers[0].get("/").await.text().await.unwrap();
    let css = page
        .split("href=\"/static/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the stylesheet's address")
        .to_string();
    let walk = Walk {
        app: &app,
        emails,
        browsers,
        target_user: target.id.clone(),
        token_id,
        css,
    };

    let mut wrong = Vec::new();
    for row in readme_table() {
        for (who, role) in ROLES.iter().enumerate() {
            let res = walk.send(who, &row).await;
            let status = res.status();
            let through = let_through(&res);
            if through != row.allowed[who] {
                wrong.push(format!(
                    "{} {} as {role}: the table says {}, the app answered {status}",
                    row.method,
                    row.path,
                    if row.allowed[who] { "yes" } else { "no" }
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
