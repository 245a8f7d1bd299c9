//! A page that stops reading but keeps talking: it asks for a long history page again and
//! again (each answer a frame of over a megabyte that the server builds) and sends pings,
//! so it never falls silent, while its TCP window stays shut. The server holds little
//! more for it than its queue's bytes, and disconnects it once its queue has been stuck for
//! three heartbeats. The server runs in this process, so its memory is this process's
//! (this file holds one test, so no other test's memory is counted with it).

mod common;

use common::{Client, WAIT, start, test_settings};
use duet::protocol::{ErrorCode, Message};
use duet::server::Settings;
use futures::SinkExt;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::net::TcpSocket;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message as Frame;

/// Messages in the conversation the page asks for, and characters in each: a history page
/// of them all is about 1.2 MB (`€` is three bytes).
const MESSAGES: usize = 100;
const CHARS: usize = 4000;

/// How many times the page asks.
const ASKS: usize = 200;

/// What the server may hold for the page beyond what it held before: its queue's bytes,
/// the frame being written, the answer waiting for room, and the allocator's slack.
const MEMORY_BOUND: u64 = 32 << 20;

/// How soon after it stops reading the page must be gone: three heartbeats of one
/// second, the beat that notices, and a margin for a loaded machine.
const GONE_WITHIN: Duration = Duration::from_secs(10);

/// This process's resident memory, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kib * 1024
}

/// Whether `name` is free: a new socket for it is welcomed (and then closed).
async fn is_free(addr: std::net::SocketAddr, name: &str) -> bool {
    let mut page = Client::open(addr, name).await;
    match page.recv().await {
        Message::Welcome { .. } => {
            page.close().await;
            true
        }
        Message::Error {
            code: ErrorCode::NameInUse,
            ..
        } => false,
        other => panic!("{name}'s second page: unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_page_that_stops_reading_is_held_to_its_queue_and_disconnected() {
    let settings = Settings {
        send_queue: 256,
        heartbeat_secs: 1,
        max_message_bytes: 64 * 1024,
        chat_rate_per_sec: 1_000_000,
        chat_burst: 1_000_000,
        ..test_settings()
    };
    let addr = start(settings).await;

    // alice writes bob a long conversation.
    let mut alice = Client::connect(addr, "alice").await;
    let text = "€".repeat(CHARS);
    for i in 0..MESSAGES {
        alice
            .send_json(json!({"type": "chat_send", "id": format!("m{i}"), "conversation": {"user": "bob"}, "text": text}))
            .await;
    }
    let mut acked = 0;
    while acked < MESSAGES {
        if let Message::ChatAck { .. } = alice.recv().await {
            acked += 1;
        }
    }
    alice.close().await;

    // bob's page, on a socket whose receive window is a few KiB, never reads.
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small window");
    let tcp = socket.connect(addr).await.expect("connect");
    let url = common::socket_url(addr, "bob");
    let (mut bob, _) = timeout(WAIT, tokio_tungstenite::client_async(url, tcp))
        .await
        .expect("handshake in time")
        .expect("handshake");

    let before = rss();
    let mut peak = before;
    let asked = json!({"type": "history", "conversation": {"user": "alice"}, "limit": MESSAGES})
        .to_string();
    let stopped = Instant::now();
    for _ in 0..ASKS {
        // Once the server stops reading him too, his writes stall: he keeps trying.
        let _ = timeout(
            Duration::from_millis(20),
            bob.send(Frame::text(asked.clone())),
        )
        .await;
        let _ = timeout(
            Duration::from_millis(5),
            bob.send(Frame::Ping(Default::default())),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        peak = peak.max(rss());
    }
    let asking = stopped.elapsed();

    // Gone within the bound: his name is free again.
    let gone = loop {
        peak = peak.max(rss());
        if is_free(addr, "bob").await {
            break Some(stopped.elapsed());
        }
        if stopped.elapsed() > GONE_WITHIN {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let grew = peak.saturating_sub(before);
    println!(
        "asked {ASKS} times in {asking:?}; disconnected after {gone:?}; memory grew {} KiB",
        grew / 1024
    );
    assert!(
        grew < MEMORY_BOUND,
        "the server grew by {} MiB for one page that does not read",
        grew >> 20
    );
    assert!(
        gone.is_some(),
        "bob's page, reading nothing for {GONE_WITHIN:?}, still holds his name"
    );
    drop(bob);
}
