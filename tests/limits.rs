//! What a page, or many pages from one address, can make the server do. Every kind of
//! frame a page sends counts against an allowance of its name and of its address; a frame
//! over either is answered with `rate_limited` and the socket stays open. A flood never
//! reaches the database, or another person's queue, beyond what the allowance lets
//! through, and the person flooded is not signed out. (All test clients share 127.0.0.1,
//! so they share one address's allowances.)

mod common;

use common::{Client, QUIET_MS, WAIT, in_call, open_database, relays, ring, start, test_settings};
use duet::protocol::{ACCEPT, ErrorCode, Message, Reason, SYSTEM_USER};
use duet::server::Settings;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as Frame;

/// Small allowances, so that a flood is over them at once however fast the machine, and
/// queues that a page reading its answers in batches never fills.
fn metered() -> Settings {
    Settings {
        chat_rate_per_sec: 5,
        chat_burst: 10,
        call_rate_per_sec: 5,
        call_burst: 10,
        ring_rate_per_min: 60,
        ring_burst: 3,
        send_queue: 64,
        max_message_bytes: 64 * 1024,
        ..test_settings()
    }
}

/// How many frames of a flood are sent before the answers are read.
const BATCH: usize = 16;

/// Sends `frame(i)` for i in `0..times`, reading the answers after each batch, as a page
/// would (so its own queue never fills). Returns every answer.
async fn flood(client: &mut Client, times: usize, frame: impl Fn(usize) -> Frame) -> Vec<Message> {
    let mut answers = Vec::new();
    for i in 0..times {
        client.send_frame(frame(i)).await;
        if i % BATCH == BATCH - 1 || i == times - 1 {
            answers.extend(client.drain(30).await);
        }
    }
    answers.extend(client.drain(QUIET_MS).await);
    answers
}

fn text(value: Value) -> Frame {
    Frame::text(value.to_string())
}

fn rate_limited(answers: &[Message]) -> usize {
    answers
        .iter()
        .filter(|msg| {
            matches!(
                msg,
                Message::Error {
                    code: ErrorCode::RateLimited,
                    ..
                }
            )
        })
        .count()
}

/// At least `least` of `answers` are `rate_limited`, and nothing else came back.
fn refused_mostly(answers: &[Message], least: usize) {
    let refused = rate_limited(answers);
    assert!(refused >= least, "{refused} refused");
    assert_eq!(refused, answers.len(), "besides rate_limited: {answers:?}");
}

/// The socket is open and answering: a ping gets its pong.
async fn still_open(client: &mut Client) {
    client
        .send_frame(Frame::Ping(b"open?".to_vec().into()))
        .await;
    match client.next_frame_within(WAIT).await {
        Some(Frame::Pong(payload)) => assert_eq!(&payload[..], b"open?"),
        other => panic!("{}: expected a pong, got {other:?}", client.name),
    }
}

fn count(settings: &Settings, sql: &str) -> i64 {
    open_database(settings)
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The `i`th frame of a flood.
type MakeFrame<'a> = Box<dyn Fn(usize) -> Frame + 'a>;

/// Every kind of frame a page can send, flooded by a page of its own: each flood is
/// answered with `rate_limited` (besides whatever the frames let through), the socket stays
/// open, and what the frames store stays within the allowance.
#[tokio::test]
async fn every_kind_of_frame_is_metered() {
    let settings = metered();
    let addr = start(settings.clone()).await;
    let sdp = "v=0\r\n";
    let candidate =
        json!({"candidate": "candidate:1 1 udp 1 10.0.0.2 5000 typ host", "sdpMid": "0"});
    let kinds: Vec<(&str, MakeFrame)> = vec![
        (
            "call_start",
            Box::new(|_| text(json!({"type": "call_start", "toUser": "ghost"}))),
        ),
        (
            "call_back",
            Box::new(|_| text(json!({"type": "call_back", "msg": ACCEPT}))),
        ),
        ("hangup", Box::new(|_| text(json!({"type": "hangup"})))),
        (
            "ring_offer",
            Box::new(|_| text(json!({"type": "ring_offer", "sdp": sdp}))),
        ),
        (
            "offer",
            Box::new(|_| text(json!({"type": "offer", "sdp": sdp}))),
        ),
        (
            "answer",
            Box::new(|_| text(json!({"type": "answer", "sdp": sdp}))),
        ),
        (
            "_ice",
            Box::new(move |_| text(json!({"type": "_ice", "iceCandidate": candidate}))),
        ),
        ("sync", Box::new(|_| text(json!({"type": "sync"})))),
        (
            "chat_send",
            Box::new(|i| {
                let to = json!({"user": "ghost"});
                text(
                    json!({"type": "chat_send", "id": format!("m{i}"), "conversation": to, "text": "hi"}),
                )
            }),
        ),
        (
            "history",
            Box::new(|_| text(json!({"type": "history", "conversation": {"user": "ghost"}}))),
        ),
        (
            "group_create",
            Box::new(|i| {
                text(
                    json!({"type": "group_create", "group": format!("g{i}"), "members": ["ghost"]}),
                )
            }),
        ),
        (
            "group_add",
            Box::new(|_| text(json!({"type": "group_add", "group": "g0", "members": ["ghost"]}))),
        ),
        (
            "chat_received",
            Box::new(|_| text(json!({"type": "chat_received", "ids": [1]}))),
        ),
        (
            "chat_read",
            Box::new(|_| {
                text(json!({"type": "chat_read", "conversation": {"user": "ghost"}, "upto": 1}))
            }),
        ),
        ("bad JSON", Box::new(|_| Frame::text("not json"))),
        ("unknown type", Box::new(|_| text(json!({"type": "dance"})))),
        (
            "server-only type",
            Box::new(|_| text(json!({"type": "ringing"}))),
        ),
        ("binary", Box::new(|_| Frame::binary(vec![1, 2, 3]))),
    ];
    let started = Instant::now();
    for (i, (kind, frame)) in kinds.iter().enumerate() {
        let mut client = Client::connect(addr, &format!("flooder{i}")).await;
        let answers = flood(&mut client, 40, frame).await;
        assert!(
            rate_limited(&answers) > 0,
            "{kind}: 40 frames, none refused"
        );
        still_open(&mut client).await;
        client.close().await;
    }
    // A name's allowance, plus what it earned back while the test ran, and no more.
    let most = 10 + (5.0 * started.elapsed().as_secs_f64()).ceil() as i64;
    let stored = count(
        &settings,
        "SELECT COUNT(*) FROM messages WHERE kind = 'text'",
    );
    assert!(
        stored <= most,
        "{stored} chat messages stored, at most {most}"
    );
    let groups = count(
        &settings,
        "SELECT COUNT(*) FROM conversations WHERE kind = 'group'",
    );
    assert!(groups <= most, "{groups} groups created, at most {most}");
    let missed = count(
        &settings,
        "SELECT COUNT(*) FROM messages WHERE kind = 'missed_call'",
    );
    assert_eq!(
        missed, 1,
        "one refused ring stored, however often it was tried"
    );
}

/// alice, ringing bob, floods him with ring offers of 30 KB while his page is busy (not
/// reading). She is told to slow down; he is not signed out, gets no more than her
/// allowance, and answers the ring once he reads again.
#[tokio::test]
async fn a_ring_offer_flood_leaves_the_callee_signed_in() {
    // A ring long enough to outlast the flood.
    let addr = start(Settings {
        ring_timeout_secs: 30,
        ..metered()
    })
    .await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    ring(&mut alice, &mut bob).await;

    let sdp = "a".repeat(30_000);
    let began = std::time::Instant::now();
    let answers = flood(&mut alice, 300, |_| {
        text(json!({"type": "ring_offer", "toUser": "bob", "sdp": sdp}))
    })
    .await;
    // Her allowance: the burst, and what it refilled while the flood went on (longer on
    // a loaded machine).
    let allowance = 10 + (5.0 * began.elapsed().as_secs_f64()).ceil() as usize;
    refused_mostly(&answers, 300 - allowance);

    let offers = bob.drain(QUIET_MS).await;
    assert!(
        offers
            .iter()
            .all(|m| matches!(m, Message::RingOffer { .. })),
        "{offers:?}"
    );
    assert!(
        offers.len() <= allowance,
        "bob got {} ring offers, her allowance was {allowance}",
        offers.len()
    );
    bob.call_back("alice", ACCEPT).await;
    assert_eq!(alice.expect_call_back("bob", None).await, ACCEPT);
    relays(&mut alice, &mut bob).await;
}

/// In a call, alice floods bob with offers and candidates while his page is busy: the
/// same, by the relay's fast path and by the general one.
#[tokio::test]
async fn a_relay_flood_leaves_the_other_party_signed_in() {
    let addr = start(metered()).await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    in_call(&mut alice, &mut bob).await;

    let sdp = "a".repeat(30_000);
    let candidate =
        json!({"candidate": "candidate:1 1 udp 1 10.0.0.2 5000 typ host", "sdpMid": "0"});
    let answers = flood(&mut alice, 300, |i| match i % 3 {
        0 => text(json!({"type": "offer", "toUser": "bob", "sdp": sdp})),
        // An escape in a candidate: the general path.
        1 => text(json!({"type": "_ice", "toUser": "bob", "iceCandidate": {"candidate": "c\tx"}})),
        _ => text(json!({"type": "_ice", "fromUser": "alice", "toUser": "bob", "iceCandidate": candidate})),
    })
    .await;
    refused_mostly(&answers, 250);

    let relayed = bob.drain(QUIET_MS).await;
    assert!(relayed.len() <= 20, "bob got {} frames", relayed.len());
    // Their allowances back, both go on with their call.
    tokio::time::sleep(Duration::from_secs(1)).await;
    relays(&mut bob, &mut alice).await;
}

/// A name's allowance is the name's, not its socket's: a new socket does not restore it.
#[tokio::test]
async fn a_new_socket_does_not_restore_a_names_allowance() {
    let settings = Settings {
        chat_rate_per_sec: 1,
        chat_burst: 3,
        ..metered()
    };
    let addr = start(settings.clone()).await;
    let send = |i: usize| {
        text(
            json!({"type": "chat_send", "id": format!("m{i}"), "conversation": {"user": "bob"}, "text": "hi"}),
        )
    };
    let mut alice = Client::connect(addr, "alice").await;
    let answers = flood(&mut alice, 5, send).await;
    assert_eq!(rate_limited(&answers), 2, "{answers:?}");
    alice.close().await;

    let mut again = Client::connect(addr, "alice").await;
    let answers = flood(&mut again, 3, |i| send(10 + i)).await;
    assert!(rate_limited(&answers) >= 2, "a new socket, a new allowance");
}

/// Fresh names from one address share that address's allowance: many sockets that each
/// stay within their own still store no more than the address may.
#[tokio::test]
async fn fresh_names_from_one_address_share_its_allowance() {
    let settings = Settings {
        chat_rate_per_sec: 1,
        chat_burst: 5,
        names_per_address: 2,
        ..metered()
    };
    let addr = start(settings.clone()).await;
    let started = Instant::now();
    let mut refused = 0;
    for n in 0..30 {
        let mut client = Client::connect(addr, &format!("fresh{n}")).await;
        let answers = flood(&mut client, 5, |i| {
            text(json!({"type": "chat_send", "id": format!("m{i}"), "conversation": {"user": "bob"}, "text": "hi"}))
        })
        .await;
        refused += rate_limited(&answers);
        drop(client);
    }
    let stored = count(&settings, "SELECT COUNT(*) FROM messages");
    // The address's burst of two names' worth, and two a second since.
    let most = 10 + (2.0 * started.elapsed().as_secs_f64()).ceil() as i64;
    assert!(stored <= most, "{stored} of 150 stored, at most {most}");
    assert_eq!(stored + refused as i64, 150);
}

/// A call that cannot ring (the callee offline or busy) is answered every time, but stored
/// as a missed call once per caller and callee for a while; the busy callee stays in
/// their call.
#[tokio::test]
async fn a_ring_that_cannot_ring_is_stored_once() {
    let settings = Settings {
        ring_burst: 10,
        ..metered()
    };
    let addr = start(settings.clone()).await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    let mut carol = Client::connect(addr, "carol").await;
    in_call(&mut bob, &mut carol).await;
    for _ in 0..4 {
        alice.call("ghost").await;
        alice
            .expect_call_back(SYSTEM_USER, Some(Reason::Offline))
            .await;
        alice.call("bob").await;
        alice
            .expect_call_back(SYSTEM_USER, Some(Reason::Busy))
            .await;
    }
    // The lines are stored in a task of their own.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let missed = |callee: &str| {
        open_database(&settings)
            .query_row(
                "SELECT COUNT(*) FROM messages m JOIN members b ON b.conversation_id = m.conversation_id \
                 WHERE m.kind = 'missed_call' AND m.sender = 'alice' AND b.user = ?1",
                [callee],
                |r| r.get::<_, i64>(0),
            )
            .expect("count missed calls")
    };
    assert_eq!(missed("ghost"), 1);
    assert_eq!(missed("bob"), 1);
    relays(&mut bob, &mut carol).await;
}

#[tokio::test]
async fn chat_received_confirms_at_most_500_ids() {
    let addr = start(metered()).await;
    let mut alice = Client::connect(addr, "alice").await;
    let ids: Vec<i64> = (1..=501).collect();
    alice
        .send_json(json!({"type": "chat_received", "ids": ids}))
        .await;
    let why = alice.expect_error(ErrorCode::BadMessage).await;
    assert!(why.contains("500"), "{why}");
    alice
        .send_json(json!({"type": "chat_received", "ids": ids[..500]}))
        .await;
    alice.expect_silence(QUIET_MS).await;
}
