//! A real PostgreSQL for the replication tests. Uses TEST_DATABASE_URL when set;
//! otherwise starts a throwaway PostgreSQL (initdb + postgres of the newest major version
//! installed under /usr/lib/postgresql/*/bin, the rule `scripts/test` installs by) in a
//! temporary directory on a loopback port, run as the `postgres` user when the tests
//! run as root. Each test gets a fresh database, so tests run in parallel; fault tests
//! start their own server, which they can stop and restart. When PostgreSQL cannot be
//! started the test fails with the reason.

#![allow(dead_code)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::helpers::eventually;

/// Where PostgreSQL's programs are: the newest major version installed under
/// /usr/lib/postgresql (Debian's layout; `scripts/test` installs the `postgresql`
/// package when none is).
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new("/usr/lib/postgresql");
        let mut versions: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let version = name
                    .split('.')
                    .map(|part| part.parse::<u32>().ok())
                    .collect::<Option<Vec<u32>>>()?;
                let bin = e.path().join("bin");
                (bin.join("initdb").is_file() && bin.join("postgres").is_file())
                    .then_some((version, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
            panic!(
                "PostgreSQL cannot be started: no {}/*/bin/initdb (Debian package `postgresql`; \
                 scripts/test installs it), and TEST_DATABASE_URL is not set",
                root.display()
            )
        })
    })
}

fn program(name: &str) -> String {
    bin_dir().join(name).to_string_lossy().into_owned()
}

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

/// A port for a PostgreSQL server. PostgreSQL cannot be asked for port 0, so the port
/// is chosen here: below the kernel's ephemeral range (where the kernel never hands a
/// port out by itself, as it would to outgoing connections) and never twice in this
/// process. Another program may still hold it: the start then fails with "Address
/// already in use" and is retried on another port ([`PORT_TRIES`]).
fn pick_port() -> u16 {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let ephemeral_low: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let mut given = GIVEN.lock().unwrap();
    let given = given.get_or_insert_with(HashSet::new);
    loop {
        let port = rand::random_range(10_000..ephemeral_low.max(10_001));
        if given.insert(port) {
            return port;
        }
    }
}

/// Starts on another port when the one picked is taken, at most this many times.
const PORT_TRIES: usize = 10;

/// What the server log says when the port was taken.
fn port_taken(log: &str) -> bool {
    log.contains("Address already in use")
}

fn initdb(data: &Path) {
    let out = pg_command(&program("initdb"))
        .arg("-D")
        .arg(data)
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
            panic!(
                "PostgreSQL cannot be started: initdb in {} failed to run: {e}",
                bin_dir().display()
            )
        });
    assert!(
        out.status.success(),
        "PostgreSQL cannot be started: initdb failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chown_to_postgres(path: &Path) {
    if is_root() {
        let st = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path)
            .status()
            .expect("chown runs");
        assert!(st.success(), "cannot chown {} to postgres", path.display());
    }
}

/// Whether the server at `url` takes connections and is the one whose data directory
/// is `data` (another program's PostgreSQL may hold the port picked).
async fn serves(url: &str, data: &Path) -> bool {
    // Whatever holds the port may never answer: this attempt then ends, and the next
    // one is made (by `eventually`) after a look at the server's log.
    let connect = tokio_postgres::connect(url, tokio_postgres::NoTls);
    let Ok(Ok((client, conn))) = tokio::time::timeout(Duration::from_secs(2), connect).await else {
        return false;
    };
    let conn = tokio::spawn(conn);
    let dir: Option<String> = client
        .query_one("SELECT current_setting('data_directory')", &[])
        .await
        .ok()
        .map(|r| r.get(0));
    drop(client);
    let _ = conn.await;
    dir.is_some_and(|d| Path::new(&d) == data)
}

/// How a start ended.
enum Started {
    Up(Child),
    PortTaken,
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
        chown_to_postgres(dir.path());
        let data = dir.path().join("data");
        initdb(&data);
        for (name, content) in files {
            // Relative file settings resolve against the data directory.
            let path = data.join(name);
            std::fs::write(&path, content).expect("write server file");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            chown_to_postgres(&path);
        }
        let mut server = PgServer {
            dir,
            port: 0,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            child: Mutex::new(None),
        };
        for _ in 0..PORT_TRIES {
            server.port = pick_port();
            if let Started::Up(child) = server.launch().await {
                *server.child.lock().unwrap() = Some(child);
                return server;
            }
        }
        panic!("PostgreSQL cannot be started: {PORT_TRIES} ports in a row were taken");
    }

    /// The server's directory (owned by postgres when running as root).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts postgres on `self.port` and waits until it takes connections.
    async fn launch(&self) -> Started {
        let data = self.dir.path().join("data");
        let mut cmd = pg_command(&program("postgres"));
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
        let child = Mutex::new(child);
        let url = self.url("postgres");
        let up = eventually("PostgreSQL accepts connections", || async {
            let exited = child.lock().unwrap().try_wait();
            match exited {
                Ok(Some(_)) if port_taken(&self.log()) => return Ok(false),
                Ok(Some(status)) => panic!(
                    "PostgreSQL cannot be started: postgres exited with {status}: {}",
                    self.log()
                ),
                _ => {}
            }
            if serves(&url, &data).await {
                Ok(true)
            } else {
                Err(self.log())
            }
        })
        .await;
        let mut child = child.into_inner().unwrap();
        if up {
            Started::Up(child)
        } else {
            // It has exited; reap it.
            let _ = child.wait();
            Started::PortTaken
        }
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
            let _ = pg_command(&program("pg_ctl"))
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .args(["stop", "-m", "fast", "-w"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
        }
    }

    /// Starts the server again after [`PgServer::stop`], on the same port and data (the
    /// clients know it by that port; no other server of this process is given it).
    pub async fn restart(&self) {
        self.stop();
        match self.launch().await {
            Started::Up(child) => *self.child.lock().unwrap() = Some(child),
            Started::PortTaken => panic!(
                "PostgreSQL cannot be restarted: another program took port {} meanwhile",
                self.port
            ),
        }
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
            for _ in 0..PORT_TRIES {
                if let Some(server) = start_shared().await {
                    return server;
                }
            }
            panic!("PostgreSQL cannot be started: {PORT_TRIES} ports in a row were taken");
        })
        .await
}

/// Starts the shared server; `None` when its port was taken (the watchdog then removes
/// the directory, and the caller tries again).
async fn start_shared() -> Option<SharedServer> {
    let dir: PathBuf = tempfile::Builder::new()
        .prefix("jobrank-pg-shared-")
        .tempdir()
        .expect("temp dir")
        .keep();
    chown_to_postgres(&dir);
    let data = dir.join("data");
    initdb(&data);
    let port = pick_port();
    let script = format!(
        "{postgres} -D '{d}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 -c fsync=off \
         -c max_connections=300 -c shared_buffers=64MB >'{dir}/server.log' 2>&1 & pid=$!; \
         cat >/dev/null; kill -INT $pid; wait $pid; rm -rf '{dir}'",
        postgres = program("postgres"),
        d = data.display(),
        dir = dir.display()
    );
    let watchdog = Mutex::new(spawn_watchdog(&script, Some(())));
    let admin_url = format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable");
    let log = || std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    let up = eventually("the shared PostgreSQL accepts connections", || async {
        if port_taken(&log()) {
            Ok(false)
        } else if serves(&admin_url, &data).await {
            Ok(true)
        } else {
            Err(log())
        }
    })
    .await;
    // Dropping the watchdog closes its stdin: it stops the server and removes its files.
    up.then(|| SharedServer {
        admin_url,
        _watchdog: watchdog,
    })
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
