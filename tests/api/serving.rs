//! Slow and greedy clients over raw TCP: a request's headers and body must arrive
//! within their time limits, and open connections are capped.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use jobrank::app::ServeLimits;

use crate::helpers::{TestApp, eventually, spawn_app_limited};

/// A jobrank whose header and body limits are one second.
async fn impatient_app() -> TestApp {
    let limits = ServeLimits {
        header_read: Duration::from_secs(1),
        body_read: Duration::from_secs(1),
        ..ServeLimits::DEFAULT
    };
    spawn_app_limited(tempfile::tempdir().unwrap(), &[], limits).await
}

/// What a dripping client saw.
#[derive(Debug)]
struct Dripped {
    /// Bytes of the drip sent before the server answered or closed.
    sent: usize,
    /// Whatever the server wrote before closing (empty when it just closed).
    answer: String,
    /// Whether the server closed or answered before `give_up`.
    ended: bool,
}

/// Sends `prefix` at once, then `drip` one byte every `every`, until the server
/// answers and closes the connection, or `give_up` passes.
async fn drip(
    addr: SocketAddr,
    prefix: &[u8],
    drip: impl Fn(usize) -> u8,
    every: Duration,
    give_up: Duration,
) -> Dripped {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let mut reader = tokio::spawn(async move {
        let mut got = Vec::new();
        let _ = rd.read_to_end(&mut got).await;
        String::from_utf8_lossy(&got).into_owned()
    });
    wr.write_all(prefix).await.unwrap();
    let deadline = Instant::now() + give_up;
    let mut sent = 0;
    while !reader.is_finished() && Instant::now() < deadline {
        if wr.write_all(&[drip(sent)]).await.is_err() {
            break;
        }
        sent += 1;
        tokio::time::sleep(every).await;
    }
    let (ended, answer) = match tokio::time::timeout_at(deadline.into(), &mut reader).await {
        Ok(answer) => (true, answer.unwrap()),
        Err(_) => {
            reader.abort();
            (false, String::new())
        }
    };
    drop(wr);
    Dripped {
        sent,
        answer,
        ended,
    }
}

/// Issue 11, item 9: headers sent a byte at a time do not hold a connection.
#[tokio::test]
async fn headers_sent_a_byte_at_a_time_are_cut_off() {
    let app = impatient_app().await;
    let filler = b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    let got = drip(
        app.addr,
        b"GET /healthz HTTP/1.1\r\nHost: jobrank\r\n",
        |i| filler[i % filler.len()],
        Duration::from_millis(100),
        Duration::from_secs(30),
    )
    .await;
    assert!(got.ended, "the connection is still open: {got:?}");
    assert!(!got.answer.contains(" 200 "), "{got:?}");
    // The filler is 52 bytes a line: the header never completed.
    assert!(got.sent < 30 * 10, "{got:?}");
}

/// Issue 11, item 9: a body sent a byte at a time is answered 408, for pages and for
/// webhooks (which take larger bodies).
#[tokio::test]
async fn bodies_sent_a_byte_at_a_time_are_answered_408() {
    let app = impatient_app().await;
    for (path, length) in [("/login", 60_000), ("/webhooks/recruiterflow", 900_000)] {
        // The sign-in form's cookie makes the CSRF check read the body for its token.
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: jobrank\r\nCookie: jobrank_login={}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n",
            "a".repeat(64)
        );
        let got = drip(
            app.addr,
            head.as_bytes(),
            |_| b'a',
            Duration::from_millis(100),
            Duration::from_secs(30),
        )
        .await;
        assert!(got.ended, "{path}: still reading the body: {got:?}");
        assert!(got.answer.starts_with("HTTP/1.1 408"), "{path}: {got:?}");
    }
}

/// Issue 11, item 9: open connections are capped; a client beyond the cap waits until
/// another leaves.
#[tokio::test]
async fn open_connections_are_capped() {
    let limits = ServeLimits {
        // Long enough that the held connections stay open for the whole test.
        header_read: Duration::from_secs(120),
        max_connections: 2,
        ..ServeLimits::DEFAULT
    };
    let app = spawn_app_limited(tempfile::tempdir().unwrap(), &[], limits).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(app.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    // Both are accepted, and the server then waits for a turn before it accepts again.
    eventually(
        "the held connections are accepted and the cap is reached",
        || async { app.connections.open() == 2 && app.connections.waiting_for_turn() },
    )
    .await;
    let url = app.url("/healthz");
    let third = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    assert!(!third.is_finished(), "a third connection was served");
    drop(held.pop());
    let status = tokio::time::timeout(Duration::from_secs(30), third)
        .await
        .expect("the third client was served once a connection ended")
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(app.connections.max_open(), 2);
}
