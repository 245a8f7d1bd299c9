//! A person signed in on several devices, against the real server (issue 19): a call rings
//! every page, the first to accept takes it and the others are told it was answered
//! elsewhere; a decline on one ends the ring on all; chat and reads reach every page; each
//! device's session ends on its own.

mod common;

use common::chat::next_sized;
use common::http::{cookie, post, sign_in, sign_up};
use common::{Client, start, test_settings};
use duet::protocol::{
    ACCEPT, Conversation, DECLINE, Message, Reason, SYSTEM_USER, UserName, close,
};
use duet::server::Settings;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

fn settings() -> Settings {
    Settings {
        login_attempts_per_minute: 1000,
        ..test_settings()
    }
}

async fn page_of(addr: std::net::SocketAddr, name: &str, token: &str) -> Client {
    let (key, value) = cookie(token);
    Client::connect_with(addr, name, &[(key, &value)])
        .await
        .unwrap_or_else(|e| panic!("{name}'s page with its cookie: {e:?}"))
}

/// alice on a laptop and a phone (two sessions, two sockets), and bob on an open name.
async fn alice_twice_and_bob(addr: std::net::SocketAddr) -> (Client, Client, Client, String) {
    let laptop_token = sign_up(addr, "alice", PASSWORD).await;
    let phone_token = sign_in(addr, "alice", PASSWORD, "Mozilla/5.0 (Android 14) Chrome").await;
    let laptop = page_of(addr, "alice", &laptop_token).await;
    let phone = page_of(addr, "alice", &phone_token).await;
    let bob = Client::connect(addr, "bob").await;
    (laptop, phone, bob, phone_token)
}

fn with(other: &str) -> Conversation {
    Conversation::User(UserName::parse(other).expect("a valid test name"))
}

async fn sync(client: &mut Client) {
    client.send_json(json!({"type": "sync"})).await;
    loop {
        if let Message::Conversations { .. } = next_sized(client).await.1 {
            return;
        }
    }
}

/// bob calls alice: it rings, on both her pages.
async fn ring_both(bob: &mut Client, laptop: &mut Client, phone: &mut Client) {
    bob.call("alice").await;
    bob.expect_ringing().await;
    laptop.expect_call_start("bob").await;
    phone.expect_call_start("bob").await;
}

#[tokio::test]
async fn a_call_rings_every_device_and_the_first_accept_takes_it() {
    let addr = start(settings()).await;
    let (mut laptop, mut phone, mut bob, _) = alice_twice_and_bob(addr).await;

    ring_both(&mut bob, &mut laptop, &mut phone).await;

    laptop.call_back("bob", ACCEPT).await;
    assert_eq!(bob.expect_call_back("alice", None).await, ACCEPT);
    let told = phone
        .expect_hangup(SYSTEM_USER, Reason::AnsweredElsewhere)
        .await;
    assert!(told.contains("another device"), "{told}");

    // The call is between bob and the laptop: its frames reach the laptop only, and the
    // phone cannot take part.
    bob.send_json(json!({"type": "offer", "toUser": "alice", "sdp": "v=0 offer"}))
        .await;
    match laptop.recv().await {
        Message::Offer { route, sdp } => {
            assert_eq!(route.from_user.as_deref(), Some("bob"));
            assert_eq!(sdp, "v=0 offer");
        }
        other => panic!("laptop: expected the offer, got {other:?}"),
    }
    phone.expect_silence(300).await;
    phone.call_back("bob", ACCEPT).await;
    phone.expect_error(duet::protocol::ErrorCode::NoCall).await;
    laptop
        .send_json(json!({"type": "answer", "toUser": "bob", "sdp": "v=0 answer"}))
        .await;
    match bob.recv().await {
        Message::Answer { route, sdp } => {
            assert_eq!(route.from_user.as_deref(), Some("alice"));
            assert_eq!(sdp, "v=0 answer");
        }
        other => panic!("bob: expected the answer, got {other:?}"),
    }

    // Hanging up on the laptop ends it for bob; the phone hears nothing of it.
    laptop.hangup("bob").await;
    bob.expect_hangup("alice", Reason::HungUp).await;
    phone.expect_silence(300).await;
}

#[tokio::test]
async fn a_decline_on_one_device_stops_the_ring_on_all() {
    let addr = start(settings()).await;
    let (mut laptop, mut phone, mut bob, _) = alice_twice_and_bob(addr).await;

    ring_both(&mut bob, &mut laptop, &mut phone).await;

    phone.call_back("bob", DECLINE).await;
    bob.expect_call_back("alice", Some(Reason::Declined)).await;
    let told = laptop.expect_hangup(SYSTEM_USER, Reason::Declined).await;
    assert!(told.contains("another device"), "{told}");
    // Nobody rings any more: bob can call again, and both devices ring again.
    ring_both(&mut bob, &mut laptop, &mut phone).await;
}

#[tokio::test]
async fn chat_and_reads_reach_every_page_of_a_person() {
    let addr = start(settings()).await;
    let (mut laptop, mut phone, mut bob, _) = alice_twice_and_bob(addr).await;
    for page in [&mut laptop, &mut phone, &mut bob] {
        sync(page).await;
    }

    bob.send_json(json!({"type": "chat_send", "id": "b-1", "conversation": with("alice"), "text": "hello both"}))
        .await;
    let mut ids = Vec::new();
    for page in [&mut laptop, &mut phone] {
        match next_sized(page).await.1 {
            Message::Chat { messages, .. } => {
                assert_eq!(messages.len(), 1);
                assert_eq!(messages[0].text, "hello both");
                ids.push(messages[0].id);
            }
            other => panic!("alice's page: expected the message, got {other:?}"),
        }
    }
    assert_eq!(ids[0], ids[1], "the same stored message on both pages");

    // What alice writes on her laptop shows on her phone too.
    laptop
        .send_json(json!({"type": "chat_send", "id": "a-1", "conversation": with("bob"), "text": "hi bob"}))
        .await;
    let mut phone_saw = false;
    while !phone_saw {
        if let Message::Chat { messages, .. } = next_sized(&mut phone).await.1 {
            phone_saw = messages.iter().any(|m| m.text == "hi bob");
        }
    }

    // Read on the laptop: the phone is told, so its unread count clears.
    laptop
        .send_json(json!({"type": "chat_read", "conversation": with("bob"), "upto": ids[0]}))
        .await;
    loop {
        match next_sized(&mut phone).await.1 {
            Message::ChatRead {
                conversation, upto, ..
            } => {
                assert_eq!(conversation, with("bob"));
                assert_eq!(upto, ids[0]);
                break;
            }
            Message::Chat { .. } | Message::ChatDelivered { .. } => continue,
            other => panic!("phone: expected chat_read, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn signing_one_device_out_leaves_the_others_online() {
    let addr = start(settings()).await;
    let (mut laptop, mut phone, mut bob, phone_token) = alice_twice_and_bob(addr).await;

    let (key, value) = cookie(&phone_token);
    let out = post(addr, "/signout", &[], &[(key, &value)]).await;
    assert_eq!(out.status, 303, "{out:?}");
    let (code, _) = phone.expect_close().await;
    assert_eq!(code, close::SIGNED_OUT);

    // The laptop still rings and takes calls.
    bob.call("alice").await;
    bob.expect_ringing().await;
    laptop.expect_call_start("bob").await;
    laptop.call_back("bob", ACCEPT).await;
    assert_eq!(bob.expect_call_back("alice", None).await, ACCEPT);
}
