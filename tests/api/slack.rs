//! The Slack webhook module against a local stand-in answering like Slack: posting,
//! `check()` through Slack's `no_text`, the temporary/permanent classification, no
//! redirects, and the webhook URL kept out of errors.

use std::time::Duration;

use jobrank::slack::{Block, SlackError, SlackMessage, SlackWebhook, escape};
use secrecy::SecretString;
use serde_json::json;

use crate::slack_server::{Answer, HOOK_PATH, SlackServer};

fn webhook(url: &str) -> SlackWebhook {
    SlackWebhook::new(SecretString::from(url), Duration::from_secs(10)).unwrap()
}

fn message() -> SlackMessage {
    SlackMessage {
        text: "Senior Analyst (Acme) dropped from A to C".into(),
        blocks: vec![
            Block::Header("Rank alerts".into()),
            Block::Section(format!("*{}* dropped from A to C", escape("R&D <Lead>"))),
        ],
    }
}

#[tokio::test]
async fn a_message_is_posted_as_json_and_check_proves_the_url_without_posting_text() {
    let server = SlackServer::start().await;
    let hook = webhook(&server.url());
    hook.post(&message()).await.unwrap();
    hook.check().await.unwrap();
    let posts = server.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].path, HOOK_PATH);
    assert_eq!(posts[0].status, 200);
    assert_eq!(posts[0].headers["content-type"], "application/json");
    assert_eq!(
        posts[0].body["text"],
        "Senior Analyst (Acme) dropped from A to C"
    );
    assert_eq!(
        posts[0].body["blocks"][1],
        json!({"type": "section", "text": {"type": "mrkdwn", "text": "*R&amp;D &lt;Lead&gt;* dropped from A to C"}})
    );
    // The check's post carries no text: Slack answers no_text, which proves the URL.
    assert_eq!(posts[1].body, json!({}));
    assert_eq!(posts[1].status, 400);

    // A message with neither text nor blocks is refused like any bad message.
    let err = hook.post(&SlackMessage::default()).await.unwrap_err();
    assert!(matches!(err, SlackError::Permanent { .. }), "{err:?}");
    assert!(err.to_string().contains("no_text"), "{err}");
}

#[tokio::test]
async fn check_names_a_wrong_webhook_without_repeating_it() {
    let server = SlackServer::start().await;
    let err = webhook(&server.wrong_token_url())
        .check()
        .await
        .unwrap_err();
    assert!(matches!(err, SlackError::Permanent { .. }), "{err:?}");
    assert!(err.to_string().contains("invalid_token"), "{err}");
    assert!(!format!("{err} {err:?}").contains("/services/"), "{err:?}");
    let err = webhook(&format!("http://{}/hooks/nothing", server.addr))
        .check()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no_service"), "{err}");
    // An archived channel is permanent too.
    server.queue(Answer::Archived);
    let err = webhook(&server.url()).check().await.unwrap_err();
    assert!(err.to_string().contains("channel_is_archived"), "{err}");
    assert!(!err.is_temporary());
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_temporary() {
    let server = SlackServer::start().await;
    let hook = webhook(&server.url());
    server.queue(Answer::RateLimited {
        retry_after_secs: 7,
    });
    let err = hook.post(&message()).await.unwrap_err();
    assert!(err.is_temporary(), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.to_string().contains("rate_limited"), "{err}");
    server.queue(Answer::ServerError);
    let err = hook.post(&message()).await.unwrap_err();
    assert!(err.is_temporary() && err.retry_after().is_none(), "{err:?}");
    server.queue(Answer::ServerError);
    assert!(hook.check().await.unwrap_err().is_temporary());
    // Nothing retries on its own: each failure is one request, the caller decides.
    assert_eq!(server.posts().len(), 3);
    hook.post(&message()).await.unwrap();
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let server = SlackServer::start().await;
    server.queue(Answer::Redirect(format!(
        "http://{}/elsewhere",
        server.addr
    )));
    let err = webhook(&server.url()).post(&message()).await.unwrap_err();
    assert!(matches!(err, SlackError::Permanent { .. }), "{err:?}");
    assert!(err.to_string().contains("redirect"), "{err}");
    let posts = server.posts();
    assert_eq!(posts.len(), 1, "the redirect was not followed");
}

#[tokio::test]
async fn no_server_or_a_silent_one_is_temporary() {
    let err = webhook("http://127.0.0.1:1/services/T0/B0/x")
        .post(&message())
        .await
        .unwrap_err();
    assert!(err.is_temporary(), "{err:?}");
    assert!(!err.to_string().contains("/services/"), "{err}");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let hook = SlackWebhook::new(
        SecretString::from(format!("http://{addr}/services/T0/B0/x")),
        Duration::from_millis(300),
    )
    .unwrap();
    let err = hook.check().await.unwrap_err();
    assert!(err.is_temporary(), "{err:?}");
    assert!(err.to_string().contains("no answer in time"), "{err}");
    held.abort();
}
