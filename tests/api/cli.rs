//! Command-line tests: the real binary, real files, real HTTP.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::helpers::{jobrank_command, run_cli, serve_command, stderr, stdout};

#[test]
fn a_bad_bind_address_exits_2_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = run_cli(
        &["serve"],
        &[("JOBRANK_BIND", "nonsense"), ("JOBRANK_DATA_DIR", d)],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("JOBRANK_BIND"), "{}", stderr(&out));
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing was written"
    );
}

#[test]
fn every_bad_setting_is_listed_at_once_and_secrets_are_not_echoed() {
    let out = run_cli(
        &["check"],
        &[
            ("JOBRANK_SYNC_INTERVAL", "soon"),
            ("JOBRANK_RECONCILE_AT", "half past two"),
            (
                "SUPABASE_DB_URL",
                "https://user:s3cret-pw@example.invalid/db",
            ),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    for name in [
        "JOBRANK_SYNC_INTERVAL",
        "JOBRANK_RECONCILE_AT",
        "SUPABASE_DB_URL",
    ] {
        assert!(err.contains(name), "{name} not named in: {err}");
    }
    assert!(!err.contains("s3cret-pw"), "{err}");
}

#[test]
fn unknown_subcommands_and_flags_are_usage_errors() {
    let out = run_cli(&["frobnicate"], &[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("frobnicate"), "{}", stderr(&out));
    let out = run_cli(&["serve", "--colour"], &[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--colour"), "{}", stderr(&out));
}

#[test]
fn an_unwritable_data_directory_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let target = file.join("data");
    let out = run_cli(
        &["migrate", "--data-dir", target.to_str().unwrap()],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("plain-file"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn users_are_added_with_a_password_from_stdin_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let env = [("JOBRANK_DATA_DIR", d)];
    let out = run_cli(
        &[
            "user",
            "add",
            "--email",
            "dana@agency.example",
            "--name",
            "Dana Reyes",
            "--role",
            "account_manager",
        ],
        &env,
        Some("a long enough password\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_cli(&["user", "list"], &env, None);
    assert!(
        stdout(&out).contains("dana@agency.example"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("account_manager"));

    // Bad role, duplicate email, short password: refused, nothing added.
    let out = run_cli(
        &[
            "user",
            "add",
            "--email",
            "x@agency.example",
            "--name",
            "X",
            "--role",
            "boss",
        ],
        &env,
        Some("a long enough password\n"),
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("role"), "{}", stderr(&out));
    let out = run_cli(
        &[
            "user",
            "add",
            "--email",
            "dana@agency.example",
            "--name",
            "D",
            "--role",
            "other",
        ],
        &env,
        Some("another long password\n"),
    );
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let out = run_cli(
        &[
            "user",
            "add",
            "--email",
            "y@agency.example",
            "--name",
            "Y",
            "--role",
            "other",
        ],
        &env,
        Some("short\n"),
    );
    assert!(stderr(&out).contains("password"), "{}", stderr(&out));
    let out = run_cli(&["user", "list"], &env, None);
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));

    let out = run_cli(
        &["user", "set-password", "--email", "dana@agency.example"],
        &env,
        Some("a brand new password\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_cli(
        &["user", "deactivate", "--email", "dana@agency.example"],
        &env,
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_cli(&["user", "list"], &env, None);
    assert!(
        stdout(&out)
            .lines()
            .nth(1)
            .unwrap()
            .trim_end()
            .ends_with("no"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn demo_backup_and_restore_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();
    let env = [("JOBRANK_DATA_DIR", d)];
    let out = run_cli(&["demo"], &env, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).matches("@agency.example").count(),
        4,
        "{}",
        stdout(&out)
    );
    let out = run_cli(&["demo"], &env, None);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));

    let backup = dir.path().join("b.sqlite3");
    let out = run_cli(&["backup", backup.to_str().unwrap()], &env, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_cli(&["restore", backup.to_str().unwrap()], &env, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_cli(
        &[
            "restore",
            dir.path().join("missing.sqlite3").to_str().unwrap(),
        ],
        &env,
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("missing.sqlite3"), "{}", stderr(&out));
    let out = run_cli(&["check"], &env, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        // The open demo's 40 jobs and its past quarter's 24 closed ones.
        stdout(&out).contains("4 users, 64 jobs"),
        "{}",
        stdout(&out)
    );
}

/// `serve --demo` under a service manager (stdout not a terminal, so it goes to the
/// journal) writes the demo passwords to `data/demo-accounts.txt`, readable by its
/// owner only, and says only where they are.
#[test]
fn serve_demo_answers_healthz_on_a_fresh_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut cmd = jobrank_command();
    cmd.args(["serve", "--demo", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(&data);
    // Its stdout is a pipe, as under a service manager; the address line comes anyway.
    let mut server = serve_command(cmd);
    let resp = http_get(&server.addr.to_string(), "/healthz");
    server.sigterm();
    let status = server.wait_exit();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(status.success(), "graceful stop exits 0: {status:?}");
    let logged = server.output();
    assert!(
        logged
            .lines()
            .any(|l| l == format!("jobrank is serving on http://{}/", server.addr)),
        "the address line, without a terminal: {logged}"
    );

    let file = data.join("demo-accounts.txt");
    let written = std::fs::read_to_string(&file).expect("the demo accounts file");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "readable by its owner only");
    let passwords: Vec<&str> = written
        .lines()
        .filter(|l| l.contains("@agency.example"))
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(passwords.len(), 4, "{written}");
    assert!(logged.contains(&file.display().to_string()), "{logged}");
    for p in passwords {
        assert_eq!(p.len(), 16, "{written}");
        assert!(
            !logged.contains(p),
            "a password reached the output: {logged}"
        );
    }
}

/// A minimal blocking HTTP GET for tests that drive the real binary.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Issue 13, item 18: a command other than `serve` prints its result and nothing else;
/// the migration library's chatter ("going to batch apply ...") stays out of sight
/// (shown only when `RUST_LOG` asks for it), while `serve` keeps its structured logs.
#[test]
fn commands_print_only_their_result_and_serve_keeps_its_logs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str], rust_log: Option<&str>| {
        let mut cmd = jobrank_command();
        cmd.arg("--data-dir").arg(&data).args(args);
        cmd.env_remove("RUST_LOG");
        if let Some(l) = rust_log {
            cmd.env("RUST_LOG", l);
        }
        cmd.stdin(std::process::Stdio::null());
        cmd.output().expect("jobrank runs")
    };
    // A fresh data directory: the first command creates and migrates the store.
    let out = run(&["user", "list"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "{:<32} {:<24} {:<16} {:<6} ACTIVE\n",
            "EMAIL", "NAME", "ROLE", "SCORES"
        ),
        "only the list"
    );
    assert_eq!(stderr(&out), "", "nothing on stderr");
    let out = run(&["migrate"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    assert_eq!(stderr(&out), "", "nothing on stderr");

    // The library's INFO lines are DEBUG lines: not there at `info`, there (as DEBUG)
    // when asked for.
    for (level, shown) in [("info", false), ("debug", true)] {
        let fresh = dir.path().join(format!("other-{level}"));
        let mut cmd = jobrank_command();
        cmd.arg("--data-dir").arg(&fresh).args(["user", "list"]);
        cmd.env("RUST_LOG", level);
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        let err = stderr(&out);
        let chatter: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("going to batch apply"))
            .collect();
        assert_eq!(!chatter.is_empty(), shown, "RUST_LOG={level}: {err}");
        assert!(
            chatter.iter().all(|l| l.contains("DEBUG")),
            "lowered to DEBUG: {chatter:?}"
        );
    }

    // `serve` logs as before, without the library's chatter.
    let mut cmd = jobrank_command();
    cmd.env_remove("RUST_LOG");
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("served"));
    let mut server = serve_command(cmd);
    let resp = http_get(&server.addr.to_string(), "/healthz");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    server.sigterm();
    assert!(server.wait_exit().success());
    let logged = server.output();
    assert!(
        logged.contains("applied store migrations"),
        "serve keeps its own logs: {logged}"
    );
    assert!(!logged.contains("going to batch apply"), "{logged}");
}
