//! The signaling server, end to end: each test starts the real router on `127.0.0.1:0` and
//! drives it with WebSocket clients over TCP, as pages do. Together they show that frames
//! reach only the other party of a call, stamped with the sender's real name; that rings and
//! calls end (decline, cancel, busy, timeout, a page gone) with both sides told why; that bad
//! names and bad frames are refused without harming anyone; that a page which stops reading
//! is cut off instead of buffered for; and that a page written for the original server still
//! completes a call.

mod common;

use common::{Client, QUIET_MS, SDP, WAIT, http_get, in_call, relays, ring, server, start};
use duet::protocol::{
    ACCEPT, DECLINE, DEFAULT_CONNECT_TIMEOUT_SECS, ErrorCode, IceCandidate, IceServer,
    MAX_NAME_CHARS, Message, Reason, Route, SYSTEM_USER, close,
};
use duet::server::Settings;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{self, Message as Frame};

/// A trickled candidate as Chrome writes it.
fn candidate() -> IceCandidate {
    IceCandidate {
        candidate: "candidate:1679555437 1 udp 2122260223 172.16.12.156 60155 typ host generation 0 ufrag Ex36 network-id 1".into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
    }
}

/// The HTTP status with which the server refuses to open a socket at `path`.
async fn refused_upgrade(addr: SocketAddr, path: &str) -> u16 {
    let url = format!("ws://{addr}{path}");
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(&url)).await {
        Ok(Err(tungstenite::Error::Http(response))) => response.status().as_u16(),
        Ok(Err(other)) => panic!("{path}: expected an HTTP refusal, got {other}"),
        Ok(Ok(_)) => panic!("{path}: the socket opened"),
        Err(_) => panic!("{path}: connecting timed out"),
    }
}

/// `from` trickles [`candidate`] to `to`, who gets it stamped and intact.
async fn ice(from: &mut Client, to: &mut Client) {
    from.send_json(json!({"type": "_ice", "toUser": to.name, "iceCandidate": candidate()}))
        .await;
    let ice = Message::Ice {
        route: Route::new(&from.name, &to.name),
        ice_candidate: candidate(),
    };
    assert_eq!(to.recv().await, ice, "{} → {} _ice", from.name, to.name);
}

#[tokio::test]
async fn a_call_relays_offer_answer_and_ice_between_its_two_parties() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;

    in_call(&mut alice, &mut bob).await;

    alice
        .send_json(json!({"type": "offer", "fromUser": "alice", "toUser": "bob", "sdp": SDP}))
        .await;
    let offer = Message::Offer {
        route: Route::new("alice", "bob"),
        sdp: SDP.into(),
    };
    assert_eq!(bob.recv().await, offer);

    bob.send_json(json!({"type": "answer", "fromUser": "bob", "toUser": "alice", "sdp": SDP}))
        .await;
    let answer = Message::Answer {
        route: Route::new("bob", "alice"),
        sdp: SDP.into(),
    };
    assert_eq!(alice.recv().await, answer);

    ice(&mut alice, &mut bob).await;
    ice(&mut bob, &mut alice).await;

    alice.expect_silence(QUIET_MS).await;
    bob.expect_silence(QUIET_MS).await;
}

#[tokio::test]
async fn the_welcome_tells_each_page_its_name_ring_timeout_ice_servers_and_limits() {
    let turn = IceServer {
        urls: vec!["turn:turn.example.org:3478".into()],
        username: Some("duet".into()),
        credential: Some("secret".into()),
    };
    let addr = start(Settings {
        ring_timeout_secs: 7,
        ice_servers: vec![turn.clone()],
        max_chat_chars: 123,
        max_message_bytes: 4567,
        ..common::test_settings()
    })
    .await;
    let mut alice = Client::open(addr, "alice").await;
    let got = alice.recv().await;
    let Message::Welcome { resume, .. } = &got else {
        panic!("expected a welcome, got {got:?}");
    };
    let resume = resume.clone().expect("a resume secret");
    assert_eq!(resume.len(), 32, "128 bits as hex: {resume}");
    let welcome = Message::Welcome {
        route: Route::new(SYSTEM_USER, "alice"),
        user: "alice".into(),
        ice_servers: vec![turn],
        ice_transport_policy: Default::default(),
        ring_timeout_secs: 7,
        connect_timeout_secs: Some(DEFAULT_CONNECT_TIMEOUT_SECS),
        resume: Some(resume),
        resumed: false,
        // The page refuses a longer message, or a larger frame, before sending it.
        max_chat_chars: Some(123),
        max_message_bytes: Some(4567),
    };
    assert_eq!(got, welcome);
    alice.expect_silence(QUIET_MS).await;
}

#[tokio::test]
async fn calling_someone_offline_is_answered_by_the_server() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;

    alice.call("bob").await;
    let msg = alice
        .expect_call_back(SYSTEM_USER, Some(Reason::Offline))
        .await;
    assert!(msg.contains("bob"), "an old page shows {msg:?}");

    // Still idle: a ring to someone online goes through.
    let mut carol = Client::connect(addr, "carol").await;
    in_call(&mut alice, &mut carol).await;
}

#[tokio::test]
async fn calling_someone_in_a_call_is_busy_and_leaves_the_call_alone() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    let mut carol = Client::connect(addr, "carol").await;
    in_call(&mut alice, &mut bob).await;

    carol.call("alice").await;
    carol
        .expect_call_back(SYSTEM_USER, Some(Reason::Busy))
        .await;
    carol.call("bob").await;
    carol
        .expect_call_back(SYSTEM_USER, Some(Reason::Busy))
        .await;

    alice.expect_silence(QUIET_MS).await;
    bob.expect_silence(QUIET_MS).await;
    relays(&mut alice, &mut bob).await;
    relays(&mut bob, &mut alice).await;
}

#[tokio::test]
async fn calling_someone_whose_phone_rings_is_busy() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    let mut carol = Client::connect(addr, "carol").await;
    ring(&mut alice, &mut bob).await;

    carol.call("bob").await;
    carol
        .expect_call_back(SYSTEM_USER, Some(Reason::Busy))
        .await;
    carol.call("alice").await;
    carol
        .expect_call_back(SYSTEM_USER, Some(Reason::Busy))
        .await;

    bob.expect_silence(QUIET_MS).await;
    bob.call_back("alice", ACCEPT).await;
    assert_eq!(alice.expect_call_back("bob", None).await, ACCEPT);
}

#[tokio::test]
async fn the_caller_can_cancel_a_ring() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    ring(&mut alice, &mut bob).await;

    alice.hangup("bob").await;
    bob.expect_hangup("alice", Reason::Cancelled).await;
    alice.expect_silence(QUIET_MS).await;

    // Both are idle again: either can start a new call.
    in_call(&mut bob, &mut alice).await;
    relays(&mut alice, &mut bob).await;
}

#[tokio::test]
async fn the_callee_can_decline_a_ring() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    ring(&mut alice, &mut bob).await;

    bob.call_back("alice", DECLINE).await;
    let msg = alice.expect_call_back("bob", Some(Reason::Declined)).await;
    assert_eq!(msg, DECLINE, "the original's value, as the callee sent it");
    bob.expect_silence(QUIET_MS).await;

    // An original page that answers with other text declines too, and the text goes along.
    ring(&mut alice, &mut bob).await;
    bob.call_back("alice", "not now").await;
    let msg = alice.expect_call_back("bob", Some(Reason::Declined)).await;
    assert_eq!(msg, "not now");

    // A hangup from the callee while it rings declines as well.
    ring(&mut alice, &mut bob).await;
    bob.hangup("alice").await;
    let msg = alice.expect_call_back("bob", Some(Reason::Declined)).await;
    assert_eq!(msg, DECLINE);

    // A page without camera or microphone says so.
    ring(&mut alice, &mut bob).await;
    bob.send_json(
        json!({"type": "call_back", "toUser": "alice", "msg": "0", "reason": "no_media"}),
    )
    .await;
    alice.expect_call_back("bob", Some(Reason::NoMedia)).await;

    in_call(&mut alice, &mut bob).await;
}

#[tokio::test]
async fn either_side_can_hang_up_a_call() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;

    in_call(&mut alice, &mut bob).await;
    bob.hangup("alice").await;
    alice.expect_hangup("bob", Reason::HungUp).await;
    bob.expect_silence(QUIET_MS).await;

    in_call(&mut alice, &mut bob).await;
    alice.hangup("bob").await;
    bob.expect_hangup("alice", Reason::HungUp).await;

    // The call is over: relaying now is refused.
    alice
        .send_json(json!({"type": "offer", "toUser": "bob", "sdp": SDP}))
        .await;
    alice.expect_error(ErrorCode::NoCall).await;
    bob.expect_silence(QUIET_MS).await;
}

#[tokio::test]
async fn an_unanswered_ring_times_out_on_both_sides() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    ring(&mut alice, &mut bob).await;
    let rang = Instant::now();

    let late = Duration::from_secs(3);
    alice
        .expect_call_back_within(SYSTEM_USER, Some(Reason::Timeout), late)
        .await;
    bob.expect_hangup_within(SYSTEM_USER, Reason::Timeout, late)
        .await;
    let after = rang.elapsed();
    assert!(
        (Duration::from_millis(800)..late).contains(&after),
        "the ring should end after about 1 s, ended after {after:?}"
    );

    // The ring is over for both.
    alice.hangup("bob").await;
    alice.expect_error(ErrorCode::NoCall).await;
    bob.call_back("alice", ACCEPT).await;
    bob.expect_error(ErrorCode::NoCall).await;
    alice.expect_silence(QUIET_MS).await;

    in_call(&mut alice, &mut bob).await;
}

#[tokio::test]
async fn the_timer_of_a_cancelled_ring_does_not_end_the_next_one() {
    let addr = start(Settings {
        ring_timeout_secs: 2,
        ..common::test_settings()
    })
    .await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;

    let first = Instant::now();
    ring(&mut alice, &mut bob).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    alice.hangup("bob").await;
    bob.expect_hangup("alice", Reason::Cancelled).await;
    ring(&mut alice, &mut bob).await;

    // The first ring's timer fires at 2 s; the second ring lasts until about 3 s.
    tokio::time::sleep_until((first + Duration::from_millis(2500)).into()).await;
    alice.expect_silence(0).await;
    bob.expect_silence(0).await;
    bob.call_back("alice", ACCEPT).await;
    assert_eq!(alice.expect_call_back("bob", None).await, ACCEPT);
    relays(&mut alice, &mut bob).await;

    // Nor does the second ring's timer end the call it became.
    tokio::time::sleep_until((first + Duration::from_millis(3500)).into()).await;
    alice.expect_silence(QUIET_MS).await;
    bob.expect_silence(QUIET_MS).await;
    relays(&mut bob, &mut alice).await;
}

#[tokio::test]
async fn a_closed_page_ends_its_call() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    let mut carol = Client::connect(addr, "carol").await;

    // The socket just drops, with no Close frame.
    in_call(&mut alice, &mut bob).await;
    drop(bob);
    let msg = alice.expect_hangup(SYSTEM_USER, Reason::Gone).await;
    assert!(msg.contains("bob"), "{msg:?}");

    // The socket closes properly.
    in_call(&mut alice, &mut carol).await;
    alice.close().await;
    carol.expect_hangup(SYSTEM_USER, Reason::Gone).await;
    carol.expect_silence(QUIET_MS).await;

    // Both names are free again.
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    in_call(&mut alice, &mut bob).await;
}

#[tokio::test]
async fn a_closed_page_ends_its_ring() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    let mut carol = Client::connect(addr, "carol").await;

    // The callee goes.
    ring(&mut alice, &mut bob).await;
    drop(bob);
    alice
        .expect_call_back(SYSTEM_USER, Some(Reason::Gone))
        .await;

    // The caller goes.
    ring(&mut carol, &mut alice).await;
    drop(carol);
    alice.expect_hangup(SYSTEM_USER, Reason::Gone).await;

    // No ring timer fires later for either.
    alice.expect_silence(1500).await;
    let mut dave = Client::connect(addr, "dave").await;
    in_call(&mut alice, &mut dave).await;
}

#[tokio::test]
async fn the_sender_is_stamped_whatever_the_page_claims() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    let _mallory = Client::connect(addr, "mallory").await;

    alice
        .send_json(json!({"type": "call_start", "fromUser": "mallory", "toUser": "bob"}))
        .await;
    bob.expect_call_start("alice").await;
    alice.expect_ringing().await;
    bob.send_json(json!({"type": "call_back", "fromUser": "duet", "toUser": "alice", "msg": "1"}))
        .await;
    assert_eq!(alice.expect_call_back("bob", None).await, ACCEPT);

    alice
        .send_json(json!({"type": "offer", "fromUser": "mallory", "toUser": "bob", "sdp": SDP}))
        .await;
    let offer = Message::Offer {
        route: Route::new("alice", "bob"),
        sdp: SDP.into(),
    };
    assert_eq!(bob.recv().await, offer);

    alice
        .send_json(json!({"type": "hangup", "fromUser": "duet", "toUser": "bob", "reason": "gone"}))
        .await;
    bob.expect_hangup("alice", Reason::HungUp).await;
}

#[tokio::test]
async fn call_frames_outside_a_call_are_refused() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    let mut carol = Client::connect(addr, "carol").await;

    // Idle.
    let frames = [
        json!({"type": "offer", "toUser": "bob", "sdp": SDP}),
        json!({"type": "answer", "toUser": "bob", "sdp": SDP}),
        json!({"type": "_ice", "toUser": "bob", "iceCandidate": candidate()}),
        json!({"type": "hangup", "toUser": "bob"}),
        json!({"type": "call_back", "toUser": "bob", "msg": "1"}),
    ];
    for frame in &frames {
        alice.send_json(frame.clone()).await;
        alice.expect_error(ErrorCode::NoCall).await;
    }
    bob.expect_silence(QUIET_MS).await;

    // Ringing, not yet answered: no SDP may pass.
    ring(&mut alice, &mut bob).await;
    alice.send_json(frames[0].clone()).await;
    alice.expect_error(ErrorCode::NoCall).await;
    bob.send_json(frames[1].clone()).await;
    bob.expect_error(ErrorCode::NoCall).await;
    bob.expect_silence(QUIET_MS).await;

    // In a call, but addressed to someone else.
    bob.call_back("alice", ACCEPT).await;
    alice.expect_call_back("bob", None).await;
    alice
        .send_json(json!({"type": "offer", "toUser": "carol", "sdp": SDP}))
        .await;
    alice.expect_error(ErrorCode::WrongPeer).await;
    bob.send_json(json!({"type": "_ice", "toUser": "carol", "iceCandidate": candidate()}))
        .await;
    bob.expect_error(ErrorCode::WrongPeer).await;
    carol.expect_silence(QUIET_MS).await;
    bob.expect_silence(0).await;
    alice.expect_silence(0).await;

    relays(&mut alice, &mut bob).await;
}

#[tokio::test]
async fn a_call_start_that_cannot_ring_is_refused() {
    // Six calls in a row, more than a person's burst.
    let addr = start(Settings {
        ring_burst: 10,
        ..common::test_settings()
    })
    .await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    let mut carol = Client::connect(addr, "carol").await;

    alice.send_json(json!({"type": "call_start"})).await;
    alice.expect_error(ErrorCode::BadMessage).await;
    alice.call("a b").await;
    alice.expect_error(ErrorCode::BadName).await;
    alice.call(SYSTEM_USER).await;
    alice.expect_error(ErrorCode::BadName).await;
    alice.call("alice").await;
    alice.expect_error(ErrorCode::SelfCall).await;

    in_call(&mut alice, &mut bob).await;
    alice.call("carol").await;
    alice.expect_error(ErrorCode::NotIdle).await;
    bob.call("carol").await;
    bob.expect_error(ErrorCode::NotIdle).await;
    carol.expect_silence(QUIET_MS).await;
    relays(&mut alice, &mut bob).await;
}

#[tokio::test]
async fn both_calling_each_other_at_once_keeps_the_first_ring() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;

    ring(&mut alice, &mut bob).await;
    bob.call("alice").await;
    let msg = bob.expect_call_back(SYSTEM_USER, Some(Reason::Busy)).await;
    assert!(msg.contains("alice"), "{msg:?}");
    alice.expect_silence(QUIET_MS).await;

    bob.call_back("alice", ACCEPT).await;
    assert_eq!(alice.expect_call_back("bob", None).await, ACCEPT);
    relays(&mut alice, &mut bob).await;
}

#[tokio::test]
async fn a_second_socket_for_an_online_name_is_refused() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;

    let mut second = Client::open(addr, "alice").await;
    second.expect_error(ErrorCode::NameInUse).await;
    let (code, reason) = second.expect_close().await;
    assert_eq!(code, close::NAME_IN_USE);
    assert_eq!(reason, close::NAME_IN_USE_REASON);
    second.expect_end_within(WAIT).await;

    // The first socket keeps the name.
    alice.expect_silence(QUIET_MS).await;
    let mut carol = Client::connect(addr, "carol").await;
    in_call(&mut carol, &mut alice).await;
    relays(&mut alice, &mut carol).await;

    // Once it closes, the name is free.
    alice.close().await;
    carol.expect_hangup(SYSTEM_USER, Reason::Gone).await;
    let mut alice = Client::connect(addr, "alice").await;
    in_call(&mut alice, &mut carol).await;
}

#[tokio::test]
async fn invalid_names_are_refused_before_any_page_or_socket() {
    let addr = server().await;
    let long = "a".repeat(MAX_NAME_CHARS + 1);
    for raw in ["a%20b", "duet", long.as_str(), "a%2Fb", "%3Cb%3E"] {
        let (status, response) = http_get(addr, &format!("/webrtc/{raw}.html")).await;
        assert_eq!(status, 400, "page of {raw:?}: {response}");
        assert!(
            response.contains("Invalid name"),
            "page of {raw:?}: {response}"
        );

        let (status, response) = http_get(addr, &format!("/webrtc/{raw}")).await;
        assert_eq!(status, 400, "socket of {raw:?}: {response}");
        assert!(
            response.contains("Invalid name"),
            "socket of {raw:?}: {response}"
        );

        let status = refused_upgrade(addr, &format!("/webrtc/{raw}")).await;
        assert_eq!(status, 400, "socket upgrade of {raw:?}");
    }
}

#[tokio::test]
async fn names_in_any_script_up_to_the_limit_are_accepted() {
    let addr = server().await;
    let (status, response) = http_get(addr, "/webrtc/%E5%BC%A0%E4%B8%89.html").await;
    assert_eq!(status, 200, "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: text/html"),
        "{response}"
    );

    let mut zhang = Client::connect(addr, "张三").await;
    let mut li = Client::connect(addr, "李四").await;
    in_call(&mut zhang, &mut li).await;
    relays(&mut zhang, &mut li).await;

    // The limit counts characters, not bytes.
    let longest = "张".repeat(MAX_NAME_CHARS);
    let mut longest = Client::connect(addr, &longest).await;
    let mut dots = Client::connect(addr, &"a._-".repeat(MAX_NAME_CHARS / 4)).await;
    in_call(&mut longest, &mut dots).await;
}

#[tokio::test]
async fn a_name_ending_in_html_signs_in_or_is_refused_everywhere() {
    // `/webrtc/NAME.html` is a page and `/webrtc/NAME` a socket, so the socket URL of a name
    // ending in `.html` looks like a page URL. Such a name must either work or be invalid.
    let addr = server().await;
    let (page, response) = http_get(addr, "/webrtc/x.html.html").await;
    let mut bob = Client::connect(addr, "bob").await;
    if page == 400 {
        bob.call("x.html").await;
        bob.expect_error(ErrorCode::BadName).await;
    } else {
        assert_eq!(page, 200, "{response}");
        let mut x = Client::connect(addr, "x.html").await;
        in_call(&mut bob, &mut x).await;
    }
}

#[tokio::test]
async fn bad_frames_are_answered_and_the_socket_stays_usable() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    let mut carol = Client::connect(addr, "carol").await;
    in_call(&mut alice, &mut bob).await;

    let refused = [
        ("not json".to_owned(), ErrorCode::BadJson),
        ("[1, 2]".to_owned(), ErrorCode::BadJson),
        (
            r#"{"msg": "1", "toUser": "bob"}"#.to_owned(),
            ErrorCode::BadJson,
        ),
        (r#"{"type": 7}"#.to_owned(), ErrorCode::BadJson),
        (
            r#"{"type": "dance", "toUser": "bob"}"#.to_owned(),
            ErrorCode::UnknownType,
        ),
        (r#"{"type": "offer"}"#.to_owned(), ErrorCode::BadMessage),
        (
            r#"{"type": "offer", "toUser": "bob", "sdp": 5}"#.to_owned(),
            ErrorCode::BadMessage,
        ),
        (
            r#"{"type": "_ice", "toUser": "bob", "iceCandidate": {}}"#.to_owned(),
            ErrorCode::BadMessage,
        ),
        (r#"{"type": "call_back"}"#.to_owned(), ErrorCode::BadMessage),
        (
            r#"{"type": "call_start", "toUser": 5}"#.to_owned(),
            ErrorCode::BadMessage,
        ),
        (
            json!({"type": "welcome", "user": "alice", "iceServers": [], "ringTimeoutSecs": 1})
                .to_string(),
            ErrorCode::NotAllowed,
        ),
        (
            r#"{"type": "ringing", "toUser": "bob"}"#.to_owned(),
            ErrorCode::NotAllowed,
        ),
        (
            r#"{"type": "error", "toUser": "bob", "code": "no_call", "msg": "x"}"#.to_owned(),
            ErrorCode::NotAllowed,
        ),
    ];
    for (frame, code) in refused {
        alice.send_text(frame.clone()).await;
        let msg = alice.expect_error(code).await;
        assert!(!msg.contains("Exception"), "{frame}: {msg}");
    }
    alice
        .send_frame(Frame::binary(b"{\"type\":\"offer\"}".to_vec()))
        .await;
    alice.expect_error(ErrorCode::Binary).await;

    bob.expect_silence(QUIET_MS).await;
    carol.expect_silence(0).await;

    // The call goes on, and after it the same socket can make another.
    relays(&mut alice, &mut bob).await;
    alice.hangup("bob").await;
    bob.expect_hangup("alice", Reason::HungUp).await;
    in_call(&mut alice, &mut carol).await;
    relays(&mut carol, &mut alice).await;
}

#[tokio::test]
async fn a_frame_over_the_limit_closes_only_that_socket() {
    let addr = server().await;
    let limit = common::test_settings().max_message_bytes;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    let mut carol = Client::connect(addr, "carol").await;
    in_call(&mut alice, &mut bob).await;

    // Exactly at the limit passes.
    let empty = json!({"type": "offer", "toUser": "bob", "sdp": ""}).to_string();
    let sdp = "x".repeat(limit - empty.len());
    let at_limit = json!({"type": "offer", "toUser": "bob", "sdp": sdp}).to_string();
    assert_eq!(at_limit.len(), limit);
    alice.send_text(at_limit).await;
    let offer = Message::Offer {
        route: Route::new("alice", "bob"),
        sdp,
    };
    assert_eq!(bob.recv().await, offer);

    // One byte more closes the socket with 1009.
    let over = json!({"type": "offer", "toUser": "bob", "sdp": "x".repeat(limit)});
    alice.send_json(over).await;
    let (code, _reason) = alice.expect_close().await;
    assert_eq!(code, close::TOO_BIG);
    alice.expect_end_within(WAIT).await;

    let msg = bob.expect_hangup(SYSTEM_USER, Reason::Gone).await;
    assert!(msg.contains("alice"), "{msg:?}");
    carol.expect_silence(QUIET_MS).await;
    in_call(&mut bob, &mut carol).await;
    relays(&mut carol, &mut bob).await;
}

#[tokio::test]
async fn a_page_that_stops_reading_is_disconnected_not_buffered_for() {
    let addr = start(Settings {
        send_queue: 8,
        max_message_bytes: 64 * 1024,
        heartbeat_secs: 1,
        ..common::test_settings()
    })
    .await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    in_call(&mut alice, &mut bob).await;

    // From here bob's page never reads, though it still talks (pings), so it is not the
    // silent-socket rule that ends it: the server's writes to him fill the TCP buffers,
    // then his send queue. Each offer is about 60 KB. alice is told to slow down, and bob
    // is disconnected once his queue has been stuck for three heartbeats.
    let sdp = "a".repeat(60_000);
    let started = Instant::now();
    let mut sent = 0;
    let mut slowed = 0;
    let notice = 'sending: loop {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "bob is still connected after {sent} offers ({:?})",
            started.elapsed()
        );
        alice
            .send_json(json!({"type": "offer", "toUser": "bob", "sdp": sdp}))
            .await;
        sent += 1;
        bob.try_send_frame(Frame::Ping(Default::default())).await;
        // Paced: alice reads every answer before her own queue could fill.
        let pause = Duration::from_millis(10);
        while let Ok(Some(msg)) = tokio::time::timeout(pause, alice.next_message()).await {
            match msg {
                Message::Error {
                    code: ErrorCode::RateLimited,
                    ..
                } => slowed += 1,
                other => break 'sending other,
            }
        }
    };
    match notice {
        Message::Hangup { route, reason, .. } => {
            assert_eq!(route, Route::new(SYSTEM_USER, "alice"));
            assert_eq!(reason, Some(Reason::Gone));
        }
        other => panic!("expected hangup gone after {sent} offers, got {other:?}"),
    }
    assert!(slowed > 0, "alice was never told to slow down");
    let after = started.elapsed();
    assert!(
        after < Duration::from_secs(10),
        "bob was cut off after {after:?}"
    );

    // Offers alice sent after bob was cut off find no call; each is refused, nothing else.
    for late in alice.drain(QUIET_MS).await {
        match late {
            Message::Error { code, .. } => {
                assert!(
                    matches!(code, ErrorCode::NoCall | ErrorCode::RateLimited),
                    "{code:?}"
                )
            }
            other => panic!("after the hangup alice got {other:?}"),
        }
    }

    // The server closed bob's socket; what it had written before is all he gets.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut received = 0;
    loop {
        match tokio::time::timeout_at(deadline, bob.next_message()).await {
            Ok(Some(Message::Offer { .. })) => received += 1,
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => panic!("bob's socket is still open"),
        }
    }
    assert!(received < sent, "bob got {received} of {sent} offers");

    // Everyone else carries on.
    let mut carol = Client::connect(addr, "carol").await;
    in_call(&mut alice, &mut carol).await;
    relays(&mut alice, &mut carol).await;
    let mut dave = Client::connect(addr, "dave").await;
    let mut erin = Client::connect(addr, "erin").await;
    in_call(&mut dave, &mut erin).await;
}

#[tokio::test]
async fn a_ping_is_answered_and_changes_nothing() {
    let addr = server().await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    in_call(&mut alice, &mut bob).await;

    alice
        .send_frame(Frame::Ping(b"duet?".to_vec().into()))
        .await;
    match alice.next_frame_within(WAIT).await {
        Some(Frame::Pong(payload)) => assert_eq!(&payload[..], b"duet?"),
        other => panic!("expected a pong, got {other:?}"),
    }
    bob.expect_silence(QUIET_MS).await;
    alice.expect_silence(0).await;
    relays(&mut alice, &mut bob).await;
}

/// Reads one frame as the original page would: plain JSON with a string `type` and `fromUser`.
async fn recv_original(client: &mut Client, kind: &str, from: &str) -> Value {
    let frame = client.recv_json().await;
    assert_eq!(frame["type"], kind, "{}: {frame}", client.name);
    assert_eq!(frame["fromUser"], from, "{}: {frame}", client.name);
    frame
}

#[tokio::test]
async fn a_page_written_for_the_original_server_completes_a_call() {
    let addr = server().await;
    // `connect` would parse the welcome with duet's own types; read it as JSON instead.
    let mut zs = Client::open(addr, "zs").await;
    let mut ls = Client::open(addr, "ls").await;
    for (client, name) in [(&mut zs, "zs"), (&mut ls, "ls")] {
        let welcome = recv_original(client, "welcome", SYSTEM_USER).await;
        assert_eq!(welcome["user"], name);
        assert_eq!(welcome["ringTimeoutSecs"], 1);
        assert_eq!(welcome["iceServers"], json!([]));
    }

    zs.send_text(r#"{"type":"call_start","fromUser":"zs","toUser":"ls","msg":"1"}"#)
        .await;
    recv_original(&mut ls, "call_start", "zs").await;
    // New to the original page, which ignores types it does not know.
    recv_original(&mut zs, "ringing", SYSTEM_USER).await;

    ls.send_text(r#"{"type":"call_back","fromUser":"ls","toUser":"zs","msg":"1"}"#)
        .await;
    let back = recv_original(&mut zs, "call_back", "ls").await;
    assert_eq!(back["msg"], "1");
    assert!(back.get("reason").is_none(), "{back}");

    let sdp = "v=0\r\no=- 626753068503365352 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=ssrc:1572310693 label:157a5a40-fd58-424a-bb25-7313cb390d25\r\n";
    // `{...desc.toJSON(), fromUser, toUser}`: the SDP's own "type" is the frame's type.
    zs.send_json(json!({"type": "offer", "sdp": sdp, "fromUser": "zs", "toUser": "ls"}))
        .await;
    let offer = recv_original(&mut ls, "offer", "zs").await;
    assert_eq!(offer["sdp"], sdp);

    ls.send_json(json!({"type": "answer", "sdp": sdp, "fromUser": "ls", "toUser": "zs"}))
        .await;
    let answer = recv_original(&mut zs, "answer", "ls").await;
    assert_eq!(answer["sdp"], sdp);

    // The original printed some frames without toUser; the call's other party is implied.
    let candidate = json!({
        "candidate": "candidate:1679555437 1 udp 2122260223 172.16.12.156 60155 typ host generation 0 ufrag Ex36 network-id 1",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    });
    ls.send_json(json!({"iceCandidate": candidate, "fromUser": "ls", "type": "_ice"}))
        .await;
    let ice = recv_original(&mut zs, "_ice", "ls").await;
    assert_eq!(ice["iceCandidate"], candidate);
    zs.send_json(
        json!({"type": "_ice", "fromUser": "zs", "toUser": "ls", "iceCandidate": candidate}),
    )
    .await;
    let ice = recv_original(&mut ls, "_ice", "zs").await;
    assert_eq!(ice["iceCandidate"], candidate);
    assert_eq!(ice["toUser"], "ls");

    ls.send_text(r#"{"msg":"对方挂断!","fromUser":"ls","type":"hangup"}"#)
        .await;
    let hangup = recv_original(&mut zs, "hangup", "ls").await;
    assert!(
        hangup["msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{hangup}"
    );

    // A ring to someone offline is answered the way the original page shows it.
    zs.send_text(r#"{"type":"call_start","fromUser":"zs","toUser":"ww","msg":"1"}"#)
        .await;
    let back = recv_original(&mut zs, "call_back", SYSTEM_USER).await;
    let msg = back["msg"].as_str().unwrap_or_default();
    assert!(msg != ACCEPT && msg != DECLINE && !msg.is_empty(), "{back}");
}

/// Settings with a one-second heartbeat: a socket silent for three is gone.
fn quick_heartbeat() -> Settings {
    Settings {
        heartbeat_secs: 1,
        ..common::test_settings()
    }
}

#[tokio::test]
async fn a_page_that_falls_silent_is_signed_out_and_its_call_ends() {
    let addr = start(quick_heartbeat()).await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    in_call(&mut alice, &mut bob).await;

    // bob's phone loses its network: his socket stays open but never answers a ping.
    let since = Instant::now();
    let _silent_bob = bob;
    alice
        .expect_hangup_within(SYSTEM_USER, Reason::Gone, Duration::from_secs(6))
        .await;
    let after = since.elapsed();
    assert!(
        after >= Duration::from_millis(2500),
        "signed out after {after:?}, before three heartbeats"
    );

    // The name is free again for bob's next page.
    let mut bob = Client::connect(addr, "bob").await;
    in_call(&mut alice, &mut bob).await;
}

#[tokio::test]
async fn a_page_that_answers_pings_stays_signed_in() {
    let addr = start(quick_heartbeat()).await;
    let mut alice = Client::connect(addr, "alice").await;
    let mut bob = Client::connect(addr, "bob").await;
    // Five heartbeats of quiet, both reading and so answering pings.
    tokio::join!(alice.expect_silence(5_000), bob.expect_silence(5_000));
    in_call(&mut alice, &mut bob).await;
    relays(&mut alice, &mut bob).await;
}
