//! Chat pages for the tests of chat's bounds (chat_bounds, chat_scale): frames read with
//! their length on the wire, a page's sync answer, groups.

use super::{Client, QUIET_MS, WAIT, test_settings};
use duet::protocol::{self, Message, UserName};
use duet::server::Settings;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as Frame;

/// Settings under which the tests' bursts are neither rate limited nor too big a frame.
pub fn roomy() -> Settings {
    Settings {
        chat_rate_per_sec: 1_000_000,
        chat_burst: 1_000_000,
        send_queue: 256,
        max_message_bytes: 256 * 1024,
        ..test_settings()
    }
}

/// `n` names: `prefix`0, `prefix`1, ...
pub fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// The next frame that is not a presence change, and its length on the wire.
pub async fn next_sized(client: &mut Client) -> (usize, Message) {
    next_sized_within(client, WAIT).await
}

pub async fn next_sized_within(client: &mut Client, wait: Duration) -> (usize, Message) {
    loop {
        let text = match client.next_frame_within(wait).await {
            Some(Frame::Text(text)) => text,
            other => panic!("{}: expected a text frame, got {other:?}", client.name),
        };
        match protocol::decode(&text).expect("the server's frames decode") {
            Message::Presence { full: false, .. } => continue,
            msg => return (text.len(), msg),
        }
    }
}

/// Connects `name` as a chat page and syncs: returns the client and every frame of the
/// answer after the presence list (the conversations first), with its length.
pub async fn chat_page(addr: SocketAddr, name: &str) -> (Client, Vec<(usize, Message)>) {
    let mut client = Client::connect(addr, name).await;
    client.send_json(json!({"type": "sync"})).await;
    let mut answer = Vec::new();
    loop {
        let (len, msg) = next_sized(&mut client).await;
        match msg {
            Message::Presence { full: true, .. } => {}
            Message::Conversations { .. } => {
                answer.push((len, msg));
                break;
            }
            other => panic!("{name}: unexpected before the conversations: {other:?}"),
        }
    }
    loop {
        match tokio::time::timeout(Duration::from_millis(QUIET_MS), next_sized(&mut client)).await {
            Ok(frame) => answer.push(frame),
            Err(_) => return (client, answer),
        }
    }
}

/// The next frame (presence aside) must be `group` `name`; returns its members.
pub async fn expect_group(client: &mut Client, name: &str) -> Vec<UserName> {
    match next_sized(client).await.1 {
        Message::Group { group, members, .. } if group.as_str() == name => members,
        other => panic!("{}: expected group {name}, got {other:?}", client.name),
    }
}

pub async fn create_group(client: &mut Client, group: &str, members: &[String]) {
    client
        .send_json(json!({"type": "group_create", "group": group, "members": members}))
        .await;
}
