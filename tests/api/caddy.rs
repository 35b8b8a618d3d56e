//! jobrank behind a real Caddy, configured by the deploy kit's own Caddyfile
//! (`deploy/Caddyfile`, read at run time) with only what a loopback test must change:
//! the site address (port 0: Caddy picks a free port, found in /proc), the upstream,
//! the access log's path and Caddy's admin endpoint (off, so tests running at once do
//! not fight over its port).
//!
//! Needs Debian's `caddy` (scripts/test installs it); a missing one fails the test with
//! a message naming it, never skips.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use jobrank::domain::Role;
use reqwest::header::COOKIE;

use crate::helpers::{TestApp, eventually, listening_ports, spawn_app_with};
use crate::web_support::*;

/// A Caddy process serving the deploy Caddyfile on a loopback port it chose itself
/// (port 0, found in /proc: Caddy does not print it); killed on drop.
struct Caddy {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

fn caddy_program() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join("caddy"))
        .find(|p| p.is_file())
        .expect("these tests need caddy (Debian package `caddy`; scripts/test installs it)")
}

/// Replaces `from` with `to` in `text`, failing loudly when the Caddyfile no longer
/// holds `from` (the test must follow the real file).
fn rewrite(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "deploy/Caddyfile no longer contains {from:?}; update this test"
    );
    text.replace(from, to)
}

impl Caddy {
    async fn start(upstream: SocketAddr) -> Caddy {
        let program = caddy_program();
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/Caddyfile"),
        )
        .unwrap();
        let log = dir.path().join("access.log");
        let mut text = rewrite(&real, "jobrank.example.com {", "http://127.0.0.1:0 {");
        text = rewrite(&text, "127.0.0.1:8080", &upstream.to_string());
        text = rewrite(
            &text,
            "/var/log/caddy/jobrank-access.log",
            &log.to_string_lossy(),
        );
        // The global options block is the file's first block.
        assert!(
            text.contains("\n{\n"),
            "deploy/Caddyfile has no global options block"
        );
        text = text.replacen("\n{\n", "\n{\n\tadmin off\n", 1);
        let file = dir.path().join("Caddyfile");
        std::fs::write(&file, &text).unwrap();
        let child = Command::new(program)
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&file)
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("caddy.log")).unwrap())
            .spawn()
            .expect("caddy starts");
        let mut caddy = Caddy {
            child,
            port: 0,
            dir,
        };
        let pid = caddy.child.id();
        caddy.port = eventually("caddy listens", || {
            let exited = caddy.child.try_wait().ok().flatten();
            let ports = listening_ports(pid);
            let log = caddy.log();
            let text = &text;
            async move {
                if let Some(status) = exited {
                    panic!("caddy exited ({status}):\n{log}\n{text}");
                }
                match ports[..] {
                    [port] => Ok(port),
                    _ => Err(format!("listening on {ports:?}; its log:\n{log}")),
                }
            }
        })
        .await;
        let probe = reqwest::Client::new();
        eventually("caddy answers /healthz from jobrank", || async {
            match probe.get(caddy.url("/healthz")).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("{}; its log:\n{}", r.status(), caddy.log())),
                Err(e) => Err(format!("{e}; its log:\n{}", caddy.log())),
            }
        })
        .await;
        caddy
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("caddy.log")).unwrap_or_default()
    }
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client whose connections leave from `source` (any 127.x.y.z works on loopback).
fn client_from(source: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(source))
        .build()
        .unwrap()
}

/// Signs in through Caddy from one client: the sign-in form, then the post.
async fn sign_in_through(
    caddy: &Caddy,
    client: &reqwest::Client,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::StatusCode {
    let res = client.get(caddy.url("/login")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let cookie = set_cookie_value(&res, "jobrank_login").expect("login cookie");
    let token = csrf_field(&res.text().await.unwrap()).expect("csrf field");
    let mut req = client
        .post(caddy.url("/login"))
        .header(COOKIE, format!("jobrank_login={cookie}"))
        .form(&[("email", email), ("password", password), ("csrf", &token)]);
    if let Some(xff) = forwarded_for {
        req = req.header("X-Forwarded-For", xff);
    }
    req.send().await.unwrap().status()
}

async fn app_behind_caddy() -> (TestApp, Caddy) {
    let app = spawn_app_with(&[("JOBRANK_TRUSTED_PROXIES", "127.0.0.1/32,::1/128".into())]).await;
    let caddy = Caddy::start(app.addr).await;
    (app, caddy)
}

/// Issue 11, item 2: behind Caddy, failures from one client address throttle that
/// address only; the per-account limit still holds across addresses.
#[tokio::test]
async fn behind_caddy_failures_from_one_address_do_not_lock_out_another() {
    let (app, caddy) = app_behind_caddy().await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_user(&app, "priya@agency.example", Role::SalesPerson, true).await;
    let attacker = client_from(Ipv4Addr::new(127, 0, 0, 2));
    for i in 0..20 {
        let email = format!("guess{i}@agency.example");
        assert_eq!(
            sign_in_through(&caddy, &attacker, &email, "wrong password!", None).await,
            401,
            "guess {i}"
        );
    }
    // The attacking address is throttled, even with the right password, and a forged
    // X-Forwarded-For does not get it out (Caddy replaces the header).
    assert_eq!(
        sign_in_through(&caddy, &attacker, "tom@agency.example", PASSWORD, None).await,
        429
    );
    assert_eq!(
        sign_in_through(
            &caddy,
            &attacker,
            "tom@agency.example",
            PASSWORD,
            Some("203.0.113.9")
        )
        .await,
        429,
        "a forged X-Forwarded-For escapes the throttle"
    );
    // Another address signs in.
    let colleague = client_from(Ipv4Addr::new(127, 0, 0, 3));
    assert_eq!(
        sign_in_through(&caddy, &colleague, "tom@agency.example", PASSWORD, None).await,
        303,
        "a colleague at another address is locked out"
    );

    // The per-account limit counts every address: 5 failures for priya from 5
    // addresses lock her account everywhere.
    for last in 10..15 {
        let from = client_from(Ipv4Addr::new(127, 0, 0, last));
        assert_eq!(
            sign_in_through(
                &caddy,
                &from,
                "priya@agency.example",
                "wrong password!",
                None
            )
            .await,
            401
        );
    }
    let from = client_from(Ipv4Addr::new(127, 0, 0, 20));
    assert_eq!(
        sign_in_through(&caddy, &from, "priya@agency.example", PASSWORD, None).await,
        429
    );
}

/// Issue 11, item 17: `/readyz` (sync error texts) and `/metrics` are for the VM only.
#[tokio::test]
async fn caddy_hides_readyz_and_metrics_from_outside() {
    let (app, caddy) = app_behind_caddy().await;
    let outside = client_from(Ipv4Addr::new(127, 0, 0, 4));
    for path in ["/readyz", "/metrics", "/readyz?x=1", "/metrics/"] {
        let res = outside.get(caddy.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path} through Caddy");
        let body = res.text().await.unwrap();
        assert!(!body.contains("store"), "{path}: {body}");
    }
    assert_eq!(
        app.get("/readyz").await.status(),
        200,
        "on the VM it answers"
    );
    assert_eq!(
        outside
            .get(caddy.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
