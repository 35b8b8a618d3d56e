//! Test helpers: spawn jobrank on 127.0.0.1:0 with a fresh temporary data directory,
//! exactly as the binary starts it, and talk to it over real HTTP.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use jobrank::app::{Application, ConnectionCount, ServeLimits};
use jobrank::config::{Config, Layers};
use jobrank::store::Store;
use jobrank::web::{AppState, Clock};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A running jobrank for one test.
pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    /// The application's state as it serves (its router can be rebuilt from it; its
    /// counters and password-check turns).
    pub state: AppState,
    /// The web layer's clock: the system's, moved forward by [`TestClock::advance`].
    pub clock: TestClock,
    pub client: reqwest::Client,
    pub data_dir: TempDir,
    /// The server's open connections.
    pub connections: Arc<ConnectionCount>,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await
                .expect("server task panicked")
                .expect("server failed");
        }
    }
}

/// The clock a test app reads: the system time plus an offset the test moves, or a
/// time the test sets, so a rule that waits (the refresh cooldown) is tested without
/// waiting.
#[derive(Clone, Default)]
pub struct TestClock {
    at: Arc<Mutex<TestTime>>,
}

#[derive(Clone, Copy)]
enum TestTime {
    /// The system time plus this.
    Offset(chrono::Duration),
    /// Stopped at this time.
    At(chrono::DateTime<chrono::Utc>),
}

impl Default for TestTime {
    fn default() -> Self {
        TestTime::Offset(chrono::Duration::zero())
    }
}

impl TestClock {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        match *self.at.lock().unwrap() {
            TestTime::At(at) => at,
            TestTime::Offset(offset) => jobrank::store::now() + offset,
        }
    }

    /// Moves the app's time forward.
    pub fn advance(&self, by: chrono::Duration) {
        let mut at = self.at.lock().unwrap();
        *at = match *at {
            TestTime::At(t) => TestTime::At(t + by),
            TestTime::Offset(offset) => TestTime::Offset(offset + by),
        };
    }

    /// Stops the app's time at `at` (until the next `set` or `advance`).
    pub fn set(&self, at: chrono::DateTime<chrono::Utc>) {
        *self.at.lock().unwrap() = TestTime::At(at);
    }

    fn as_clock(&self) -> Clock {
        let me = self.clone();
        Clock::from_fn(move || me.now())
    }
}

/// A configuration for tests: port 0 on loopback, the given data directory, and
/// extra settings by canonical name.
pub fn test_config(data_dir: &Path, extra: &[(&'static str, String)]) -> Config {
    let mut layers = Layers::default();
    layers.set(
        "JOBRANK_DATA_DIR",
        data_dir.to_string_lossy().into_owned(),
        "test",
    );
    layers.set("JOBRANK_BIND", "127.0.0.1:0", "test");
    for (k, v) in extra {
        layers.set(k, v.clone(), "test");
    }
    layers.build().expect("test configuration is valid")
}

/// Spawns jobrank on a fresh data directory.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Spawns jobrank on a fresh data directory with extra settings.
pub async fn spawn_app_with(extra: &[(&'static str, String)]) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    spawn_app_in(data_dir, extra).await
}

/// Spawns jobrank on an existing data directory.
pub async fn spawn_app_in(data_dir: TempDir, extra: &[(&'static str, String)]) -> TestApp {
    spawn_app_limited(data_dir, extra, ServeLimits::DEFAULT).await
}

/// Spawns jobrank on an existing data directory with other serving limits.
pub async fn spawn_app_limited(
    data_dir: TempDir,
    extra: &[(&'static str, String)],
    limits: ServeLimits,
) -> TestApp {
    jobrank::install_crypto();
    let config = test_config(data_dir.path(), extra);
    let dir = data_dir.path().to_owned();
    let store = tokio::task::spawn_blocking(move || Store::open(&dir))
        .await
        .unwrap()
        .expect("store opens");
    let mut app = Application::build(config, store.clone())
        .await
        .expect("app builds")
        .with_limits(limits);
    let clock = TestClock::default();
    app.state_mut().clock = clock.as_clock();
    let addr = app.local_addr();
    let state = app.state().clone();
    let connections = app.connections();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        store,
        state,
        clock,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        data_dir,
        connections,
        stop: Some(tx),
        handle: Some(handle),
    }
}

/// The path of the built `jobrank` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_jobrank"))
}

/// A command for the built binary with inherited JOBRANK_/RECRUITERFLOW_/SUPABASE_
/// variables cleared, so a test sees only the settings it gives.
pub fn jobrank_command() -> Command {
    let mut cmd = Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("JOBRANK_")
            || k.starts_with("RECRUITERFLOW_")
            || k.starts_with("SUPABASE_")
        {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Runs the binary with arguments, environment and optional stdin; returns its output.
/// Inherited JOBRANK_/RECRUITERFLOW_/SUPABASE_ variables are cleared so tests see only
/// what they set.
pub fn run_cli(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = jobrank_command();
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("jobrank binary runs");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().expect("jobrank binary finishes")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
