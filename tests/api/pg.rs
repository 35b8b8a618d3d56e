//! A real PostgreSQL for the replication tests. Uses TEST_DATABASE_URL when set;
//! otherwise starts a throwaway PostgreSQL 15 (initdb + postgres from
//! /usr/lib/postgresql/15/bin) in a temporary directory on a free loopback port, run as
//! the `postgres` user when the tests run as root. Each test gets a fresh database, so
//! tests run in parallel; fault tests start their own server, which they can stop and
//! restart. When PostgreSQL cannot be started the test fails with the reason.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

const BIN: &str = "/usr/lib/postgresql/15/bin";

fn is_root() -> bool {
    // The effective uid from /proc, to stay in safe Rust.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// A command run as the `postgres` user when we are root.
fn pg_command(program: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free loopback port")
        .local_addr()
        .unwrap()
        .port()
}

/// A PostgreSQL server this test process started.
pub struct PgServer {
    dir: tempfile::TempDir,
    pub port: u16,
    extra: Vec<String>,
    child: Mutex<Option<Child>>,
}

impl PgServer {
    /// Initialises a cluster and starts it.
    pub async fn start() -> PgServer {
        Self::start_with(&[]).await
    }

    /// Initialises a cluster and starts it with TLS on, serving this certificate chain
    /// and key (PEM).
    pub async fn start_tls(cert_pem: &[u8], key_pem: &[u8]) -> PgServer {
        Self::start_inner(
            &[
                "ssl=on",
                "ssl_cert_file=server.crt",
                "ssl_key_file=server.key",
            ],
            &[("server.crt", cert_pem), ("server.key", key_pem)],
        )
        .await
    }

    /// Initialises a cluster and starts it with extra `-c name=value` settings.
    pub async fn start_with(extra: &[&str]) -> PgServer {
        Self::start_inner(extra, &[]).await
    }

    async fn start_inner(extra: &[&str], files: &[(&str, &[u8])]) -> PgServer {
        let dir = tempfile::Builder::new()
            .prefix("jobrank-pg-")
            .tempdir()
            .expect("temp dir for PostgreSQL");
        if is_root() {
            let st = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(
                st.success(),
                "cannot chown {} to postgres",
                dir.path().display()
            );
        }
        let data = dir.path().join("data");
        let out = pg_command(&format!("{BIN}/initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C.UTF-8",
            ])
            .output()
            .unwrap_or_else(|e| {
                panic!("PostgreSQL cannot be started: initdb in {BIN} failed to run: {e}")
            });
        assert!(
            out.status.success(),
            "PostgreSQL cannot be started: initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for (name, content) in files {
            // Relative file settings resolve against the data directory.
            let path = data.join(name);
            std::fs::write(&path, content).expect("write server file");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            if is_root() {
                let st = Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(&path)
                    .status()
                    .unwrap();
                assert!(st.success());
            }
        }
        let server = PgServer {
            dir,
            port: free_port(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            child: Mutex::new(None),
        };
        server.start_process().await;
        server
    }

    /// The server's directory (owned by postgres when running as root).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn start_process(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            let data = self.dir.path().join("data");
            let mut cmd = pg_command(&format!("{BIN}/postgres"));
            cmd.arg("-D")
                .arg(&data)
                .args(["-p", &self.port.to_string(), "-k"])
                .arg(self.dir.path())
                .args([
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "max_connections=200",
                    "-c",
                    "shared_buffers=32MB",
                ]);
            for e in &self.extra {
                cmd.args(["-c", e]);
            }
            let log = std::fs::File::create(self.dir.path().join("server.log")).expect("log file");
            cmd.stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log);
            let child = cmd.spawn().unwrap_or_else(|e| {
                panic!("PostgreSQL cannot be started: postgres failed to run: {e}")
            });
            *self.child.lock().unwrap() = Some(child);
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
                    .await
                    .is_ok()
                {
                    return;
                }
                if let Some(status) = self
                    .child
                    .lock()
                    .unwrap()
                    .as_mut()
                    .and_then(|c| c.try_wait().ok().flatten())
                {
                    panic!(
                        "PostgreSQL cannot be started: postgres exited with {status}: {}",
                        self.log()
                    );
                }
                assert!(
                    Instant::now() < deadline,
                    "PostgreSQL did not accept connections within 30 s: {}",
                    self.log()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    }

    /// The server log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// A URL for one database on this server, without TLS.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres:not-the-password@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    /// Stops the server (fast shutdown: clients are disconnected) and waits for it.
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = pg_command(&format!("{BIN}/pg_ctl"))
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .args(["stop", "-m", "fast", "-w"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
        }
    }

    /// Starts the server again after [`PgServer::stop`], on the same port and data.
    pub async fn restart(&self) {
        self.stop();
        self.start_process().await;
    }

    /// A fresh database on this server.
    pub async fn create_db(&self) -> TestDb {
        create_db_at(&self.url("postgres")).await
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One fresh database for one test.
pub struct TestDb {
    pub url: String,
    pub name: String,
}

impl TestDb {
    /// A new client on this database.
    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"));
        tokio::spawn(conn);
        client
    }

    /// A count from a query returning one bigint.
    pub async fn count(&self, sql: &str) -> i64 {
        self.client()
            .await
            .query_one(sql, &[])
            .await
            .unwrap()
            .get(0)
    }
}

fn with_db(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

async fn create_db_at(admin_url: &str) -> TestDb {
    let (client, conn) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL to create a test database: {e}"));
    tokio::spawn(conn);
    let name = format!("jobrank_test_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
    TestDb {
        url: with_db(admin_url, &name),
        name,
    }
}

/// The server shared by the tests of this process; it stops when the process exits
/// (a watchdog shell holding its stdin pipe stops it and removes its directory).
struct SharedServer {
    admin_url: String,
    _watchdog: Mutex<Child>,
}

static SHARED: OnceCell<SharedServer> = OnceCell::const_new();

async fn shared() -> &'static SharedServer {
    SHARED
        .get_or_init(|| async {
            if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
                return SharedServer {
                    admin_url: url,
                    _watchdog: Mutex::new(spawn_watchdog("true", None)),
                };
            }
            let dir: PathBuf = tempfile::Builder::new()
                .prefix("jobrank-pg-shared-")
                .tempdir()
                .expect("temp dir")
                .keep();
            if is_root() {
                let st = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().unwrap();
                assert!(st.success(), "cannot chown the PostgreSQL directory");
            }
            let data = dir.join("data");
            let out = pg_command(&format!("{BIN}/initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"])
                .output()
                .unwrap_or_else(|e| panic!("PostgreSQL cannot be started: initdb failed to run: {e}"));
            assert!(out.status.success(), "PostgreSQL cannot be started: initdb failed: {}", String::from_utf8_lossy(&out.stderr));
            let port = free_port();
            let script = format!(
                "{BIN}/postgres -D '{d}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 -c fsync=off \
                 -c max_connections=300 -c shared_buffers=64MB >'{dir}/server.log' 2>&1 & pid=$!; \
                 cat >/dev/null; kill -INT $pid; wait $pid; rm -rf '{dir}'",
                d = data.display(),
                dir = dir.display()
            );
            let watchdog = spawn_watchdog(&script, Some(()));
            let admin_url = format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable");
            let deadline = Instant::now() + Duration::from_secs(30);
            while tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await.is_err() {
                assert!(
                    Instant::now() < deadline,
                    "PostgreSQL cannot be started: no connection within 30 s: {}",
                    std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            SharedServer {
                admin_url,
                _watchdog: Mutex::new(watchdog),
            }
        })
        .await
}

fn spawn_watchdog(script: &str, as_postgres: Option<()>) -> Child {
    let mut cmd = if as_postgres.is_some() {
        let mut c = pg_command("sh");
        c.args(["-c", script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    };
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("PostgreSQL cannot be started: sh failed to run: {e}"));
    // The child keeps its stdin pipe open until this process exits.
    child
}

/// A fresh database on the shared server (or on TEST_DATABASE_URL's server).
pub async fn test_db() -> TestDb {
    create_db_at(&shared().await.admin_url).await
}
