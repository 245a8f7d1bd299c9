//! Calls that survive a dropped signaling socket: a socket lost mid-call (no close frame,
//! or one with an error code) keeps the call for the grace period; the same page, showing
//! the secret from its welcome, takes its name and call back, with the frames held for it.
//! A page closed on purpose ends its call at once (see signaling.rs).

mod common;

use common::{Client, QUIET_MS, WAIT, in_call, relays, start, test_settings};
use duet::protocol::{ErrorCode, Message, Reason, SYSTEM_USER};
use duet::server::Settings;
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

fn with_grace(secs: u64) -> Settings {
    Settings {
        grace_secs: secs,
        ..test_settings()
    }
}

/// Signs `name` in; returns the client and its resume secret.
async fn sign_in(addr: SocketAddr, name: &str) -> (Client, String) {
    let mut client = Client::open(addr, name).await;
    match client.recv().await {
        Message::Welcome {
            resume: Some(secret),
            resumed: false,
            ..
        } => (client, secret),
        other => panic!("{name}: expected a first welcome with a secret, got {other:?}"),
    }
}

/// `name` comes back with `secret`; the welcome must say whether the call was kept.
async fn come_back(addr: SocketAddr, name: &str, secret: &str, resumed: bool) -> Client {
    let mut client = Client::open_resuming(addr, name, secret).await;
    match client.recv().await {
        Message::Welcome {
            resumed: got,
            resume: Some(again),
            ..
        } => {
            assert_eq!(got, resumed, "{name}: welcome.resumed");
            if resumed {
                assert_eq!(again, secret, "{name}: the secret stays the page's");
            }
        }
        other => panic!("{name}: expected a welcome, got {other:?}"),
    }
    client
}

fn candidate_to(to: &str) -> serde_json::Value {
    json!({"type": "_ice", "toUser": to, "iceCandidate": {
        "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
        "sdpMid": "0", "sdpMLineIndex": 0}})
}

#[tokio::test]
async fn a_page_back_within_the_grace_period_keeps_its_call() {
    let addr = start(with_grace(5)).await;
    let (mut alice, _) = sign_in(addr, "alice").await;
    let (mut bob, secret) = sign_in(addr, "bob").await;
    in_call(&mut alice, &mut bob).await;

    // bob's network goes: the socket just drops.
    drop(bob);
    // alice hears nothing, and what she sends meanwhile is kept for bob.
    alice.send_json(candidate_to("bob")).await;
    alice.expect_silence(500).await;

    let mut bob = come_back(addr, "bob", &secret, true).await;
    match bob.recv().await {
        Message::Ice { route, .. } => assert_eq!(route.from_user.as_deref(), Some("alice")),
        other => panic!("bob: expected the held candidate, got {other:?}"),
    }
    // Still in the call with each other.
    relays(&mut alice, &mut bob).await;
    relays(&mut bob, &mut alice).await;
    alice.expect_silence(QUIET_MS).await;
}

#[tokio::test]
async fn a_socket_cut_with_an_error_code_counts_as_lost() {
    let addr = start(with_grace(5)).await;
    let (mut alice, _) = sign_in(addr, "alice").await;
    let (mut bob, secret) = sign_in(addr, "bob").await;
    in_call(&mut alice, &mut bob).await;

    // A proxy in between gives up with an error code, not the page's 1000/1001.
    let cut = CloseFrame {
        code: 1011.into(),
        reason: "upstream went away".into(),
    };
    bob.send_frame(Frame::Close(Some(cut))).await;
    alice.expect_silence(500).await;
    let mut bob = come_back(addr, "bob", &secret, true).await;
    relays(&mut alice, &mut bob).await;
}

#[tokio::test]
async fn the_call_ends_once_the_grace_period_is_over() {
    let addr = start(with_grace(1)).await;
    let (mut alice, _) = sign_in(addr, "alice").await;
    let (mut bob, secret) = sign_in(addr, "bob").await;
    in_call(&mut alice, &mut bob).await;

    let lost = Instant::now();
    drop(bob);
    alice.expect_silence(700).await;
    alice.expect_hangup(SYSTEM_USER, Reason::Gone).await;
    assert!(
        lost.elapsed() >= Duration::from_secs(1),
        "told after {:?}, before the grace period was over",
        lost.elapsed()
    );

    // Too late: bob's page signs in afresh, with no call.
    let mut bob = come_back(addr, "bob", &secret, false).await;
    bob.expect_silence(QUIET_MS).await;
    in_call(&mut alice, &mut bob).await;
}

#[tokio::test]
async fn the_same_page_takes_over_a_socket_the_server_still_holds() {
    let addr = start(with_grace(5)).await;
    let (mut alice, _) = sign_in(addr, "alice").await;
    let (mut old_bob, secret) = sign_in(addr, "bob").await;
    in_call(&mut alice, &mut old_bob).await;

    // bob's phone changed networks: its old socket is half open, the server has not
    // noticed, and the page is already back on a new one.
    let mut bob = come_back(addr, "bob", &secret, true).await;
    old_bob.expect_end_within(WAIT).await;
    relays(&mut alice, &mut bob).await;
    alice.expect_silence(QUIET_MS).await;
}

#[tokio::test]
async fn a_wrong_secret_takes_no_name() {
    let addr = start(with_grace(5)).await;
    let (mut bob, secret) = sign_in(addr, "bob").await;
    let wrong: String = secret.chars().rev().collect();
    for guess in [wrong.as_str(), ""] {
        let mut mallory = Client::open_resuming(addr, "bob", guess).await;
        mallory.expect_error(ErrorCode::NameInUse).await;
    }
    bob.expect_silence(QUIET_MS).await;
}
