//! The test harness, shared by the API tests, the browser tests and the benchmarks
//! (`#[path = "../tests/api/helpers.rs"] mod helpers;`):
//! - jobrank in process on 127.0.0.1:0 with a fresh temporary data directory, started
//!   as the binary starts it ([`spawn_app`] and friends, [`TestApp`]);
//! - the built binary as a child process on 127.0.0.1:0, its port read from the address
//!   line `serve` prints ([`ServeProcess`]), and other servers that print or take their
//!   port ([`ChildServer`], [`listening_ports`]); no test picks a "free" port and hopes;
//! - [`eventually`]: wait for a state with a deadline, the one polling loop;
//! - signing in and the CSRF token over plain HTTP ([`sign_in_at`], [`csrf_field`]);
//! - the binary's other commands ([`run_cli`]);
//! - what the benchmarks measure with ([`percentile`], [`status_kib`], [`load_average`]).

#![allow(dead_code)]

use std::collections::HashSet;
use std::future::Future;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use jobrank::app::{Application, ConnectionCount, ServeLimits};
use jobrank::config::{Config, Layers};
use jobrank::store::Store;
use jobrank::web::{AppState, Clock};
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
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

    /// Waits until at least `n` full Recruiterflow syncs are recorded as finished and
    /// the syncer itself says none runs (it records a run a moment before it says so,
    /// and "Refresh now" asks the syncer); returns the latest run.
    pub async fn syncs_finished(&self, n: usize) -> jobrank::store::sync_runs::SyncRun {
        use jobrank::recruiterflow::sync::RUN_KIND;
        eventually(&format!("{n} Recruiterflow syncs finished"), || async {
            let runs: Vec<_> = self
                .store
                .read(|c| jobrank::store::sync_runs::recent_runs(c, 1000))
                .await
                .unwrap()
                .into_iter()
                .filter(|r| r.kind == RUN_KIND)
                .collect();
            let syncer_idle = self
                .state
                .syncer
                .as_ref()
                .is_none_or(|s| !s.status().running);
            if runs.len() >= n && runs.iter().all(|r| r.status != "running") && syncer_idle {
                Ok(runs[0].clone())
            } else {
                Err(format!("syncer idle: {syncer_idle}; runs: {runs:?}"))
            }
        })
        .await
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
    let dir = data_dir.path().to_owned();
    let store = tokio::task::spawn_blocking(move || Store::open(&dir))
        .await
        .unwrap()
        .expect("store opens");
    spawn_app_on(data_dir, store, extra, limits).await
}

/// Spawns jobrank serving a store already open on `data_dir` (a benchmark that fills
/// the store first, and keeps writing through the same handle).
pub async fn spawn_app_on(
    data_dir: TempDir,
    store: Store,
    extra: &[(&'static str, String)],
    limits: ServeLimits,
) -> TestApp {
    spawn_app_clocked(data_dir, store, extra, limits, TestClock::default(), false).await
}

/// Spawns jobrank on a fresh data directory with `JOBRANK_PUBLIC_URL` set to the
/// address it is bound to (known only once bound), as a browser sees it: links in its
/// messages point there and a browser's `Origin` matches it.
pub async fn spawn_app_public(extra: &[(&'static str, String)]) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let dir = data_dir.path().to_owned();
    let store = tokio::task::spawn_blocking(move || Store::open(&dir))
        .await
        .unwrap()
        .expect("store opens");
    spawn_app_clocked(
        data_dir,
        store,
        extra,
        ServeLimits::DEFAULT,
        TestClock::default(),
        true,
    )
    .await
}

/// Spawns jobrank on a fresh data directory with its clock stopped at `at` from the
/// start (before any background task runs): it moves only when the test moves it.
pub async fn spawn_app_at(
    extra: &[(&'static str, String)],
    at: chrono::DateTime<chrono::Utc>,
) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let dir = data_dir.path().to_owned();
    let store = tokio::task::spawn_blocking(move || Store::open(&dir))
        .await
        .unwrap()
        .expect("store opens");
    let clock = TestClock::default();
    clock.set(at);
    spawn_app_clocked(data_dir, store, extra, ServeLimits::DEFAULT, clock, false).await
}

/// Spawns jobrank serving `store` with `clock` as its clock, and with its public URL
/// set to the bound address when `public`.
async fn spawn_app_clocked(
    data_dir: TempDir,
    store: Store,
    extra: &[(&'static str, String)],
    limits: ServeLimits,
    clock: TestClock,
    public: bool,
) -> TestApp {
    jobrank::install_crypto();
    let config = test_config(data_dir.path(), extra);
    let mut app = Application::build(config, store.clone())
        .await
        .expect("app builds")
        .with_limits(limits);
    if public {
        let mut config = (*app.state().config).clone();
        config.public_url =
            Some(url::Url::parse(&format!("http://{}/", app.local_addr())).unwrap());
        app.state_mut().notifier = jobrank::notify::Notifier::from_config(&config).unwrap();
        app.state_mut().config = Arc::new(config);
    }
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

// ---------- waiting ----------

/// How long [`eventually`] waits before it fails the test. Generous: the machines that
/// run the suite are shared and busy, and only a failing test ever waits this long.
pub const WAIT: Duration = Duration::from_secs(60);

/// What a check given to [`eventually`] answers: `true`, `Some(v)` or `Ok(v)` once the
/// awaited state is there; `false`, `None` or `Err(why)` while it is not (the last `why`
/// is in the failure message).
pub trait Outcome {
    type Value;
    fn settled(self) -> Result<Self::Value, String>;
}

impl Outcome for bool {
    type Value = ();
    fn settled(self) -> Result<(), String> {
        if self { Ok(()) } else { Err("not yet".into()) }
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;
    fn settled(self) -> Result<T, String> {
        self.ok_or_else(|| "not yet".into())
    }
}

impl<T, E: std::fmt::Display> Outcome for Result<T, E> {
    type Value = T;
    fn settled(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

/// Runs `check` until it reports the awaited state, and returns its value; fails the
/// test naming `what` (and the last answer) after [`WAIT`]. The one way tests wait
/// for something that happens in the background: never a fixed sleep.
pub async fn eventually<F, Fut, O>(what: &str, check: F) -> O::Value
where
    F: FnMut() -> Fut,
    Fut: Future<Output = O>,
    O: Outcome,
{
    eventually_within(WAIT, what, check).await
}

/// [`eventually`] with another deadline.
pub async fn eventually_within<F, Fut, O>(within: Duration, what: &str, check: F) -> O::Value
where
    F: FnMut() -> Fut,
    Fut: Future<Output = O>,
    O: Outcome,
{
    poll(within, Duration::from_millis(50), what, check).await
}

/// [`eventually`] looking every `every` at most (a benchmark timing the moment a state
/// is reached).
pub async fn eventually_every<F, Fut, O>(every: Duration, what: &str, check: F) -> O::Value
where
    F: FnMut() -> Fut,
    Fut: Future<Output = O>,
    O: Outcome,
{
    poll(WAIT, every, what, check).await
}

/// Looks after 1 ms, then twice as long each time up to `longest`, until `within`.
async fn poll<F, Fut, O>(within: Duration, longest: Duration, what: &str, mut check: F) -> O::Value
where
    F: FnMut() -> Fut,
    Fut: Future<Output = O>,
    O: Outcome,
{
    let deadline = Instant::now() + within;
    let mut pause = Duration::from_millis(1).min(longest);
    loop {
        let last = match check().await.settled() {
            Ok(v) => return v,
            Err(last) => last,
        };
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting until {what}; last: {last}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(longest);
    }
}

/// [`eventually`] for code outside an async runtime (child processes, benchmarks).
pub fn eventually_blocking<F, O>(what: &str, mut check: F) -> O::Value
where
    F: FnMut() -> O,
    O: Outcome,
{
    let deadline = Instant::now() + WAIT;
    let mut pause = Duration::from_millis(1);
    loop {
        let last = match check().settled() {
            Ok(v) => return v,
            Err(last) => last,
        };
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting until {what}; last: {last}"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

// ---------- servers as child processes ----------

/// A server run as a child process on a port it chose itself (port 0), the address read
/// from what it prints. Its stdout and stderr are collected ([`ChildServer::output`])
/// and copied to this process's stderr, which the test harness shows when a test fails.
/// Killed (SIGKILL) and reaped on drop if it is still running.
pub struct ChildServer {
    pub child: Child,
    pub addr: SocketAddr,
    name: String,
    output: Arc<Mutex<String>>,
}

impl ChildServer {
    /// Starts `cmd` (stdout and stderr are taken over) and waits until a line of its
    /// stdout or stderr gives its address through `find_addr`. Fails the test, with
    /// everything the process printed, when it exits first or prints no address within
    /// [`WAIT`].
    pub fn spawn(
        name: &str,
        mut cmd: Command,
        find_addr: impl Fn(&str) -> Option<SocketAddr> + Send + Sync + 'static,
    ) -> ChildServer {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{name} cannot be started: {e}"));
        let output = Arc::new(Mutex::new(String::new()));
        let (found, address) = mpsc::channel();
        let find_addr = Arc::new(find_addr);
        let pipes: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("stdout is piped")),
            Box::new(child.stderr.take().expect("stderr is piped")),
        ];
        for pipe in pipes {
            let (output, found, find_addr) = (output.clone(), found.clone(), find_addr.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    eprintln!("{line}");
                    {
                        let mut out = output.lock().unwrap();
                        out.push_str(&line);
                        out.push('\n');
                    }
                    if let Some(addr) = find_addr(&line) {
                        let _ = found.send(addr);
                    }
                }
            });
        }
        // Both readers end at the process's exit: the channel then closes.
        drop(found);
        let addr = match address.recv_timeout(WAIT) {
            Ok(addr) => addr,
            Err(why) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "{name} printed no address ({}; {status:?}); its output:\n{}",
                    match why {
                        mpsc::RecvTimeoutError::Timeout => "timed out",
                        mpsc::RecvTimeoutError::Disconnected => "it exited",
                    },
                    output.lock().unwrap()
                )
            }
        };
        ChildServer {
            child,
            addr,
            name: name.to_string(),
            output,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process printed so far, stdout and stderr, line by line.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the process has printed `text` at least `times` times.
    pub fn wait_for_output(&self, text: &str, times: usize) {
        eventually_blocking(
            &format!("{} printed {text:?} {times} times", self.name),
            || self.output().matches(text).count() >= times,
        )
    }

    /// Sends SIGTERM (a graceful stop).
    pub fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill(1) runs")
            .success();
        assert!(ok, "kill -TERM {} failed", self.pid());
    }

    /// Sends SIGKILL (no graceful stop) and reaps the process.
    pub fn kill(&mut self) {
        if self.running() {
            let _ = self.child.kill();
        }
        self.child.wait().expect("reap the process");
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Waits for the process to exit (at most [`WAIT`]) and returns how it ended.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let name = self.name.clone();
        let child = &mut self.child;
        eventually_blocking(&format!("{name} exited"), || {
            child.try_wait().expect("try_wait")
        })
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address in the line `jobrank serve` prints once it listens (README, "Commands"):
/// `jobrank is serving on http://ADDR/`.
pub fn serving_address(line: &str) -> Option<SocketAddr> {
    let rest = line.strip_prefix("jobrank is serving on http://")?;
    rest.split('/').next()?.parse().ok()
}

/// `jobrank serve`, the built binary, as a child process on 127.0.0.1:0: the
/// [`ChildServer`] whose address is read from the line `serve` prints.
pub type ServeProcess = ChildServer;

/// Starts `jobrank --data-dir DIR serve` on 127.0.0.1:0 with `env` on top of a clean
/// environment ([`jobrank_command`]); returns once it listens.
pub fn serve_process(data_dir: &Path, env: &[(&str, &str)]) -> ServeProcess {
    let mut cmd = jobrank_command();
    cmd.arg("--data-dir").arg(data_dir).arg("serve");
    cmd.envs(env.iter().copied());
    serve_command(cmd)
}

/// Starts a prepared `serve` command (another binary, more flags, more environment)
/// and returns once it listens. Unless the command sets `JOBRANK_BIND` or passes
/// `--bind`, it listens on 127.0.0.1:0.
pub fn serve_command(mut cmd: Command) -> ServeProcess {
    let binds = cmd.get_args().any(|a| a == "--bind")
        || cmd
            .get_envs()
            .any(|(k, v)| k == "JOBRANK_BIND" && v.is_some());
    if !binds {
        cmd.env("JOBRANK_BIND", "127.0.0.1:0");
    }
    ChildServer::spawn("jobrank serve", cmd, serving_address)
}

/// The TCP ports process `pid` listens on, read from /proc (its sockets' inodes found
/// in /proc/net/tcp and tcp6): for a server that takes port 0 but does not print the
/// port it got.
pub fn listening_ports(pid: u32) -> Vec<u16> {
    let inodes: HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let t = target.to_string_lossy();
            Some(t.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            if f.len() > 9 && f[3] == "0A" && inodes.contains(f[9]) {
                let port = f[1].rsplit(':').next().unwrap_or_default();
                if let Ok(p) = u16::from_str_radix(port, 16) {
                    ports.push(p);
                }
            }
        }
    }
    ports.sort_unstable();
    ports.dedup();
    ports
}

// ---------- signing in over plain HTTP ----------

/// A urlencoded form body.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// Sends a urlencoded form body (reqwest's `form` feature is not enabled).
pub trait FormBody {
    fn form(self, fields: &[(&str, &str)]) -> Self;
}

impl FormBody for reqwest::RequestBuilder {
    fn form(self, fields: &[(&str, &str)]) -> Self {
        self.header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form_body(fields))
    }
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

/// A signed-in session as a browser holds it: the session cookie and its CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    /// The `Cookie` header value of this session.
    pub fn cookie_header(&self) -> String {
        format!("jobrank_session={}", self.cookie)
    }
}

/// Opens the sign-in page of the jobrank at `base` (`http://ADDR`): (login cookie,
/// form token).
pub async fn login_form_at(client: &reqwest::Client, base: &str) -> (String, String) {
    let res = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("GET /login");
    assert_eq!(res.status(), 200, "GET /login");
    let cookie = set_cookie_value(&res, "jobrank_login").expect("login cookie");
    let html = res.text().await.expect("the sign-in page");
    (cookie, csrf_field(&html).expect("csrf field on /login"))
}

/// Posts the sign-in form (with its cookie and token) and returns the answer.
pub async fn post_login_at(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let (cookie, token) = login_form_at(client, base).await;
    client
        .post(format!("{base}/login"))
        .header(COOKIE, format!("jobrank_login={cookie}"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .expect("POST /login")
}

/// Signs in through the real form and reads the session's CSRF token from the
/// dashboard. `client` must not follow redirects.
pub async fn sign_in_at(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> Session {
    let res = post_login_at(client, base, email, password).await;
    assert_eq!(res.status(), 303, "sign-in of {email} should redirect");
    let cookie = set_cookie_value(&res, "jobrank_session").expect("session cookie");
    let html = client
        .get(format!("{base}/"))
        .header(COOKIE, format!("jobrank_session={cookie}"))
        .send()
        .await
        .expect("GET /")
        .text()
        .await
        .expect("the dashboard");
    Session {
        csrf: csrf_field(&html).expect("csrf token on the dashboard"),
        cookie,
    }
}

// ---------- measuring (benchmarks) ----------

/// The sample at quantile `q` (0.0 to 1.0) of `sorted`, nearest rank; zero when there
/// are no samples.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

/// A field of `/proc/PID/status` in KiB (`"VmRSS:"`, `"VmHWM:"`); 0 when it cannot be
/// read (the process is gone).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The machine's load averages over 1, 5 and 15 minutes, as `/proc/loadavg` has them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
