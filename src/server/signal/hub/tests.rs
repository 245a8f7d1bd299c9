//! The hub's side of the queue rule (`server/queue.rs`), on real queues: a relayed frame
//! that finds no room is dropped and its sender told while the receiver stays; a notice
//! that finds none disconnects; what is held for an away page keeps the newest frames, its
//! call's ending above all; a ring that cannot ring is stored once in a while.

use super::*;
use crate::protocol::{ACCEPT, ErrorCode};
use futures::FutureExt;

fn name(s: &str) -> UserName {
    UserName::parse(s).unwrap()
}

/// `who` on the device of `session`.
fn me(who: &str, session: &Session) -> Party {
    Party::new(&name(who), session.device)
}

fn hub(settings: Settings) -> Arc<Hub> {
    Hub::new(Arc::new(settings), Store::in_memory().unwrap(), None)
}

/// Every frame waiting in `session`'s queue, taken (so the queue has room again).
fn drain(session: &mut Session) -> Vec<Message> {
    let mut frames = Vec::new();
    while let Some(Some(out)) = session.queue.recv().now_or_never() {
        if let Outgoing::Text(text) = out {
            frames.push(crate::protocol::decode(&text).unwrap());
        }
    }
    frames
}

/// Signs `who` in; returns the session and its resume secret, with the queue read.
fn join(hub: &Arc<Hub>, who: &str) -> (Session, String) {
    let mut session = hub.join(&name(who), Device::default(), None).unwrap();
    match drain(&mut session).as_slice() {
        [Message::Welcome { resume, .. }] => {
            let resume = resume.clone().unwrap();
            (session, resume)
        }
        other => panic!("{who}: expected a welcome, got {other:?}"),
    }
}

/// alice rings bob; both queues read.
fn ringing(hub: &Arc<Hub>) -> (Session, Session, String) {
    let (mut alice, _) = join(hub, "alice");
    let (mut bob, resume) = join(hub, "bob");
    hub.handle(
        &me("alice", &alice),
        Message::CallStart {
            route: Route::to("bob"),
            msg: None,
        },
    );
    drain(&mut alice);
    drain(&mut bob);
    (alice, bob, resume)
}

/// alice and bob in a call; both queues read. Also bob's resume secret.
fn in_call(hub: &Arc<Hub>) -> (Session, Session, String) {
    let (mut alice, mut bob, resume) = ringing(hub);
    let accept = Message::CallBack {
        route: Route::to("alice"),
        msg: ACCEPT.into(),
        reason: None,
    };
    hub.handle(&me("bob", &bob), accept);
    drain(&mut alice);
    drain(&mut bob);
    (alice, bob, resume)
}

/// Relays candidate `n` from alice's `device` to bob, by the fast path as a socket does.
fn relay_ice(hub: &Arc<Hub>, alice: &Party, n: usize) {
    let text: Utf8Bytes = format!(
        r#"{{"type":"_ice","fromUser":"alice","toUser":"bob","iceCandidate":{{"candidate":"candidate:{n} 1 udp 1 10.0.0.2 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}}}"#
    )
    .into();
    hub.relay(alice, &RelayFrame::parse(&text).unwrap());
}

fn kicked(session: &Session) -> bool {
    session.closer.kicked().now_or_never().is_some()
}

fn rate_limited(frames: &[Message]) -> usize {
    frames
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

#[tokio::test]
async fn a_relayed_frame_without_room_is_dropped_and_its_sender_told() {
    let hub = hub(Settings {
        send_queue: 8,
        ..Settings::default()
    });
    let (mut alice, mut bob, _) = in_call(&hub);
    for n in 0..10 {
        relay_ice(&hub, &me("alice", &alice), n);
    }
    let to_bob = drain(&mut bob);
    assert_eq!(to_bob.len(), 4, "half of bob's queue: {to_bob:?}");
    let to_alice = drain(&mut alice);
    assert_eq!(rate_limited(&to_alice), 6, "{to_alice:?}");
    assert_eq!(to_alice.len(), 6);
    assert!(!kicked(&bob), "bob is reading: he stays");
    assert!(!kicked(&alice));

    // Read, bob's queue has room again.
    relay_ice(&hub, &me("alice", &alice), 10);
    assert!(matches!(drain(&mut bob).as_slice(), [Message::Ice { .. }]));
    assert!(drain(&mut alice).is_empty());
}

#[tokio::test]
async fn ring_offers_without_room_are_dropped_and_their_sender_told() {
    let hub = hub(Settings {
        send_queue: 8,
        ..Settings::default()
    });
    let (mut alice, mut bob, _) = ringing(&hub);
    for _ in 0..10 {
        let offer = Message::RingOffer {
            route: Route::to("bob"),
            sdp: "v=0\r\n".into(),
        };
        hub.handle(&me("alice", &alice), offer);
    }
    assert_eq!(drain(&mut bob).len(), 4);
    assert_eq!(rate_limited(&drain(&mut alice)), 6);
    assert!(!kicked(&bob));
}

#[tokio::test]
async fn a_notice_without_room_disconnects() {
    let hub = hub(Settings {
        send_queue: 4,
        ..Settings::default()
    });
    let (bob, _) = join(&hub, "bob");
    let bob_name = name("bob");
    let bob_page = me("bob", &bob);
    for _ in 0..4 {
        hub.notify(
            &bob_page,
            &Message::error(&bob_name, ErrorCode::NoCall, "x".into()),
        );
        assert!(!kicked(&bob));
    }
    hub.notify(
        &bob_page,
        &Message::error(&bob_name, ErrorCode::NoCall, "x".into()),
    );
    assert!(kicked(&bob), "a fifth notice finds no room");
}

#[tokio::test]
async fn what_is_held_for_an_away_page_ends_with_its_hang_up() {
    let hub = hub(Settings {
        send_queue: 8,
        grace_secs: 60,
        ..Settings::default()
    });
    let (alice, bob, resume) = in_call(&hub);
    // bob's network drops: he is away, his call kept for him.
    hub.leave(&name("bob"), bob.id, Ending::Lost);
    for n in 0..10 {
        relay_ice(&hub, &me("alice", &alice), n);
    }
    let hangup = Message::Hangup {
        route: Route::to("bob"),
        msg: None,
        reason: None,
    };
    hub.handle(&me("alice", &alice), hangup);

    let mut back = hub
        .join(&name("bob"), Device::default(), Some(&resume))
        .unwrap();
    let frames = drain(&mut back);
    assert!(
        matches!(frames[0], Message::Welcome { resumed: true, .. }),
        "{frames:?}"
    );
    let held = &frames[1..];
    assert_eq!(held.len(), 4, "half a queue: {held:?}");
    assert!(
        matches!(held.last(), Some(Message::Hangup { .. })),
        "the hang-up is kept: {held:?}"
    );
    // The newest candidates before it, in order.
    let kept: Vec<String> = held[..3]
        .iter()
        .map(|msg| match msg {
            Message::Ice { ice_candidate, .. } => ice_candidate.candidate.clone(),
            other => panic!("expected a candidate, got {other:?}"),
        })
        .collect();
    let newest: Vec<String> = (7..10)
        .map(|n| format!("candidate:{n} 1 udp 1 10.0.0.2 5000 typ host"))
        .collect();
    assert_eq!(kept, newest);
}

#[tokio::test]
async fn what_is_held_stays_within_half_the_queue_bytes() {
    let hub = hub(Settings {
        send_queue: 256,
        send_queue_bytes: 100_000,
        grace_secs: 60,
        ..Settings::default()
    });
    let (alice, bob, resume) = in_call(&hub);
    hub.leave(&name("bob"), bob.id, Ending::Lost);
    let sdp = "a".repeat(20_000);
    for _ in 0..10 {
        let offer = Message::Offer {
            route: Route::to("bob"),
            sdp: sdp.clone(),
        };
        hub.handle(&me("alice", &alice), offer);
    }
    let mut back = hub
        .join(&name("bob"), Device::default(), Some(&resume))
        .unwrap();
    let held = drain(&mut back).len() - 1;
    assert_eq!(held, 2, "two 20 KB offers in 50 KB");
}

#[tokio::test]
async fn a_ring_that_cannot_ring_is_stored_once_in_a_while() {
    let hub = hub(Settings::default());
    let mut inner = hub.lock();
    let (alice, ghost, bob) = (name("alice"), name("ghost"), name("bob"));
    assert!(first_in_a_while(
        &mut inner,
        &alice,
        &ghost,
        Reason::Offline
    ));
    assert!(!first_in_a_while(
        &mut inner,
        &alice,
        &ghost,
        Reason::Offline
    ));
    assert!(!first_in_a_while(&mut inner, &alice, &ghost, Reason::Busy));
    assert!(
        first_in_a_while(&mut inner, &alice, &bob, Reason::Busy),
        "another callee"
    );
    assert!(
        first_in_a_while(&mut inner, &ghost, &alice, Reason::Offline),
        "another caller"
    );
    // A ring that rang is always stored.
    assert!(first_in_a_while(
        &mut inner,
        &alice,
        &ghost,
        Reason::Declined
    ));
    assert!(first_in_a_while(
        &mut inner,
        &alice,
        &ghost,
        Reason::Declined
    ));
    // Once the period is over, the next one is stored again.
    let long_ago = Instant::now() - REFUSED_RING_EVERY;
    for at in inner.refused_rings.values_mut() {
        *at = long_ago;
    }
    assert!(first_in_a_while(
        &mut inner,
        &alice,
        &ghost,
        Reason::Offline
    ));
}
