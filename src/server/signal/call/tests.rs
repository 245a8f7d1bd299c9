//! Every transition of the call state machine, including the races the socket handler can
//! feed it: both sides call at once, cancel crossing accept, hang-up crossing the timeout.

use super::*;
use crate::protocol::{DECLINE, IceCandidate};

fn name(s: &str) -> UserName {
    UserName::parse(s).unwrap()
}

/// The device of every one-device test.
const ONE: DeviceId = DeviceId(1);

/// `s` on their one device.
fn dev(s: &str) -> Party {
    Party::new(&name(s), ONE)
}

/// A machine with these users online and idle.
fn online(names: &[&str]) -> Calls {
    let mut calls = Calls::new();
    for n in names {
        calls.join(&name(n), ONE, false).unwrap();
    }
    calls
}

fn call_start(to: &str) -> Message {
    Message::CallStart {
        route: Route::to(to),
        msg: None,
    }
}

fn call_back(answer: &str) -> Message {
    Message::CallBack {
        route: Route::default(),
        msg: answer.into(),
        reason: None,
    }
}

fn hangup_msg() -> Message {
    Message::Hangup {
        route: Route::default(),
        msg: None,
        reason: None,
    }
}

fn offer(to: Option<&str>, spoofed_from: Option<&str>) -> Message {
    Message::Offer {
        route: Route {
            from_user: spoofed_from.map(Into::into),
            to_user: to.map(Into::into),
        },
        sdp: "v=0\r\n".into(),
    }
}

fn ice() -> Message {
    Message::Ice {
        route: Route::default(),
        ice_candidate: IceCandidate {
            candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        },
    }
}

/// The messages `effects` send to `to`.
fn sent_to(effects: &[Effect], to: &str) -> Vec<Message> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to: t, msg } if t.name.as_str() == to => Some(msg.clone()),
            _ => None,
        })
        .collect()
}

fn only_sent_to(effects: &[Effect], to: &str) -> Message {
    let msgs = sent_to(effects, to);
    assert_eq!(msgs.len(), 1, "expected one message to {to}: {effects:?}");
    msgs.into_iter().next().unwrap()
}

fn reason_of(msg: &Message) -> Option<Reason> {
    match msg {
        Message::CallBack { reason, .. } | Message::Hangup { reason, .. } => *reason,
        _ => None,
    }
}

fn error_code(msg: &Message) -> Option<ErrorCode> {
    match msg {
        Message::Error { code, .. } => Some(*code),
        _ => None,
    }
}

fn state(calls: &Calls, n: &str) -> State {
    calls.state(&name(n)).cloned().expect("online")
}

/// alice rings bob; returns the ring timer's id.
fn ring(calls: &mut Calls, caller: &str, callee: &str) -> RingId {
    let effects = calls.handle(&dev(caller), call_start(callee));
    effects
        .iter()
        .find_map(|e| match e {
            Effect::StartRingTimer { ring, .. } => Some(*ring),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{caller} → {callee} did not ring: {effects:?}"))
}

fn in_call(calls: &mut Calls, caller: &str, callee: &str) {
    ring(calls, caller, callee);
    calls.handle(&dev(callee), call_back(ACCEPT));
    assert_eq!(
        state(calls, caller),
        State::InCall {
            device: ONE,
            with: dev(callee),
            caller: true
        }
    );
}

#[test]
fn a_name_joins_once() {
    let mut calls = online(&["alice"]);
    assert_eq!(
        calls.join(&name("alice"), DeviceId(2), false),
        Err(NameInUse)
    );
    assert_eq!(state(&calls, "alice"), State::Idle);
    calls.leave(&name("alice"), ONE);
    assert!(calls.join(&name("alice"), ONE, false).is_ok());
}

#[test]
fn call_start_rings_the_callee_stamped_with_the_caller() {
    let mut calls = online(&["alice", "bob"]);
    let effects = calls.handle(
        &dev("alice"),
        Message::CallStart {
            route: Route::new("mallory", "bob"),
            msg: None,
        },
    );
    let ring = only_sent_to(&effects, "bob");
    assert_eq!(ring.route(), &Route::new("alice", "bob"));
    assert!(matches!(ring, Message::CallStart { .. }));
    assert!(matches!(
        only_sent_to(&effects, "alice"),
        Message::Ringing { .. }
    ));
    assert!(effects.contains(&Effect::StartRingTimer {
        caller: name("alice"),
        ring: RingId(0)
    }));
    assert_eq!(
        state(&calls, "alice"),
        State::RingingOut {
            device: ONE,
            to: name("bob"),
            ring: RingId(0)
        }
    );
    assert_eq!(
        state(&calls, "bob"),
        State::RingingIn { from: dev("alice") }
    );
}

#[test]
fn accept_puts_both_in_the_call_and_tells_the_caller() {
    let mut calls = online(&["alice", "bob"]);
    ring(&mut calls, "alice", "bob");
    let effects = calls.handle(&dev("bob"), call_back(ACCEPT));
    let msg = only_sent_to(&effects, "alice");
    assert_eq!(
        msg,
        Message::CallBack {
            route: Route::new("bob", "alice"),
            msg: ACCEPT.into(),
            reason: None
        }
    );
    assert_eq!(
        state(&calls, "bob"),
        State::InCall {
            device: ONE,
            with: dev("alice"),
            caller: false
        }
    );
}

#[test]
fn decline_frees_both_and_says_why() {
    let mut calls = online(&["alice", "bob"]);
    ring(&mut calls, "alice", "bob");
    let effects = calls.handle(&dev("bob"), call_back(DECLINE));
    let msg = only_sent_to(&effects, "alice");
    assert_eq!(reason_of(&msg), Some(Reason::Declined));
    assert!(matches!(msg, Message::CallBack { ref msg, .. } if msg == DECLINE));
    assert_eq!(state(&calls, "alice"), State::Idle);
    assert_eq!(state(&calls, "bob"), State::Idle);
}

#[test]
fn declining_for_lack_of_media_carries_that_reason() {
    let mut calls = online(&["alice", "bob"]);
    ring(&mut calls, "alice", "bob");
    let effects = calls.handle(
        &dev("bob"),
        Message::CallBack {
            route: Route::default(),
            msg: DECLINE.into(),
            reason: Some(Reason::NoMedia),
        },
    );
    assert_eq!(
        reason_of(&only_sent_to(&effects, "alice")),
        Some(Reason::NoMedia)
    );
}

#[test]
fn an_original_pages_error_text_declines() {
    let mut calls = online(&["alice", "bob"]);
    ring(&mut calls, "alice", "bob");
    let effects = calls.handle(&dev("bob"), call_back("camera broken"));
    let msg = only_sent_to(&effects, "alice");
    assert_eq!(reason_of(&msg), Some(Reason::Declined));
    assert!(matches!(msg, Message::CallBack { ref msg, .. } if msg == "camera broken"));
    assert_eq!(state(&calls, "bob"), State::Idle);
}

#[test]
fn the_callees_hangup_while_ringing_declines() {
    let mut calls = online(&["alice", "bob"]);
    ring(&mut calls, "alice", "bob");
    let effects = calls.handle(&dev("bob"), hangup_msg());
    assert_eq!(
        reason_of(&only_sent_to(&effects, "alice")),
        Some(Reason::Declined)
    );
    assert_eq!(state(&calls, "alice"), State::Idle);
}

/// The `msg` an original page shows is in the server's `default_language`.
#[test]
fn notices_speak_the_servers_language() {
    let text = |msg: &Message| match msg {
        Message::CallBack { msg, .. } => msg.clone(),
        other => panic!("not a call_back: {other:?}"),
    };
    let mut calls = online(&["alice"]);
    let effects = calls.handle(&dev("alice"), call_start("bob"));
    assert_eq!(text(&only_sent_to(&effects, "alice")), "bob is not online.");

    let mut calls = Calls::speaking(crate::text::Lang::ZhCn);
    calls.join(&name("alice"), ONE, false).unwrap();
    let effects = calls.handle(&dev("alice"), call_start("bob"));
    assert_eq!(text(&only_sent_to(&effects, "alice")), "bob 不在线。");
}

#[test]
fn offline_callee_answers_the_caller_with_a_call_back() {
    let mut calls = online(&["alice"]);
    let effects = calls.handle(&dev("alice"), call_start("bob"));
    let msg = only_sent_to(&effects, "alice");
    assert!(matches!(msg, Message::CallBack { .. }));
    assert_eq!(msg.route().from_user.as_deref(), Some(SYSTEM_USER));
    assert_eq!(reason_of(&msg), Some(Reason::Offline));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::StartRingTimer { .. })),
        "no timer for an offline callee"
    );
    assert_eq!(state(&calls, "alice"), State::Idle);
}

#[test]
fn busy_callee_ringing_or_talking() {
    let mut calls = online(&["alice", "bob", "carol", "dave"]);
    ring(&mut calls, "alice", "bob");
    for busy in ["alice", "bob"] {
        let effects = calls.handle(&dev("carol"), call_start(busy));
        assert_eq!(
            reason_of(&only_sent_to(&effects, "carol")),
            Some(Reason::Busy)
        );
        assert!(
            sent_to(&effects, busy).is_empty(),
            "{busy} must not be disturbed"
        );
    }
    calls.handle(&dev("bob"), call_back(ACCEPT));
    let effects = calls.handle(&dev("dave"), call_start("alice"));
    assert_eq!(
        reason_of(&only_sent_to(&effects, "dave")),
        Some(Reason::Busy)
    );
    assert_eq!(
        state(&calls, "alice"),
        State::InCall {
            device: ONE,
            with: dev("bob"),
            caller: true
        }
    );
    assert_eq!(state(&calls, "carol"), State::Idle);
}

#[test]
fn a_caller_who_is_not_idle_cannot_call() {
    let mut calls = online(&["alice", "bob", "carol"]);
    ring(&mut calls, "alice", "bob");
    let effects = calls.handle(&dev("alice"), call_start("carol"));
    assert_eq!(
        error_code(&only_sent_to(&effects, "alice")),
        Some(ErrorCode::NotIdle)
    );
    assert!(sent_to(&effects, "carol").is_empty());
    assert_eq!(state(&calls, "carol"), State::Idle);
}

#[test]
fn bad_call_starts_are_refused() {
    let mut calls = online(&["alice"]);
    let cases = [
        (call_start("alice"), ErrorCode::SelfCall),
        (call_start("a b"), ErrorCode::BadName),
        (call_start(SYSTEM_USER), ErrorCode::BadName),
        (
            Message::CallStart {
                route: Route::default(),
                msg: None,
            },
            ErrorCode::BadMessage,
        ),
    ];
    for (msg, code) in cases {
        let effects = calls.handle(&dev("alice"), msg);
        assert_eq!(error_code(&only_sent_to(&effects, "alice")), Some(code));
        assert_eq!(state(&calls, "alice"), State::Idle);
    }
}

#[test]
fn cancel_while_ringing() {
    let mut calls = online(&["alice", "bob"]);
    ring(&mut calls, "alice", "bob");
    let effects = calls.handle(&dev("alice"), hangup_msg());
    let msg = only_sent_to(&effects, "bob");
    assert_eq!(reason_of(&msg), Some(Reason::Cancelled));
    assert_eq!(msg.route().from_user.as_deref(), Some("alice"));
    assert_eq!(state(&calls, "alice"), State::Idle);
    assert_eq!(state(&calls, "bob"), State::Idle);
}

#[test]
fn ring_timeout_tells_both() {
    let mut calls = online(&["alice", "bob"]);
    let id = ring(&mut calls, "alice", "bob");
    let effects = calls.ring_timeout(&name("alice"), id);
    assert_eq!(
        reason_of(&only_sent_to(&effects, "alice")),
        Some(Reason::Timeout)
    );
    assert_eq!(
        reason_of(&only_sent_to(&effects, "bob")),
        Some(Reason::Timeout)
    );
    assert_eq!(state(&calls, "alice"), State::Idle);
    assert_eq!(state(&calls, "bob"), State::Idle);
}

#[test]
fn a_stale_ring_timer_is_ignored() {
    let mut calls = online(&["alice", "bob"]);
    let first = ring(&mut calls, "alice", "bob");
    calls.handle(&dev("alice"), hangup_msg());
    let second = ring(&mut calls, "alice", "bob");
    assert_ne!(first, second);
    assert!(calls.ring_timeout(&name("alice"), first).is_empty());
    assert_eq!(
        state(&calls, "bob"),
        State::RingingIn { from: dev("alice") }
    );
    // and a timer never touches an accepted call
    calls.handle(&dev("bob"), call_back(ACCEPT));
    assert!(calls.ring_timeout(&name("alice"), second).is_empty());
    assert_eq!(
        state(&calls, "alice"),
        State::InCall {
            device: ONE,
            with: dev("bob"),
            caller: true
        }
    );
}

#[test]
fn hangup_ends_the_call_for_both() {
    for who in ["alice", "bob"] {
        let other = if who == "alice" { "bob" } else { "alice" };
        let mut calls = online(&["alice", "bob"]);
        in_call(&mut calls, "alice", "bob");
        let effects = calls.handle(&dev(who), hangup_msg());
        let msg = only_sent_to(&effects, other);
        assert_eq!(reason_of(&msg), Some(Reason::HungUp));
        assert_eq!(msg.route(), &Route::new(who, other));
        assert_eq!(state(&calls, "alice"), State::Idle);
        assert_eq!(state(&calls, "bob"), State::Idle);
    }
}

#[test]
fn relay_within_a_call_is_stamped_and_addressed() {
    let mut calls = online(&["alice", "bob"]);
    in_call(&mut calls, "alice", "bob");
    for msg in [
        offer(Some("bob"), Some("mallory")),
        offer(None, None),
        ice(),
    ] {
        let effects = calls.handle(&dev("alice"), msg);
        assert_eq!(
            only_sent_to(&effects, "bob").route(),
            &Route::new("alice", "bob")
        );
    }
    let answer = Message::Answer {
        route: Route::to("alice"),
        sdp: "v=0\r\n".into(),
    };
    let effects = calls.handle(&dev("bob"), answer);
    assert_eq!(
        only_sent_to(&effects, "alice").route(),
        &Route::new("bob", "alice")
    );
}

fn ring_offer(to: Option<&str>, spoofed_from: Option<&str>) -> Message {
    Message::RingOffer {
        route: Route {
            from_user: spoofed_from.map(Into::into),
            to_user: to.map(Into::into),
        },
        sdp: "v=0\r\n".into(),
    }
}

#[test]
fn a_ring_offer_passes_only_from_the_caller_to_the_callee_while_it_rings() {
    let mut calls = online(&["alice", "bob", "carol"]);
    let refused = |calls: &mut Calls, from: &str, msg: Message| {
        let effects = calls.handle(&dev(from), msg);
        assert_eq!(sent_to(&effects, "bob"), vec![], "{from}: {effects:?}");
        error_code(&only_sent_to(&effects, from))
    };
    // Before it rings, there is nobody to give it to.
    assert_eq!(
        refused(&mut calls, "alice", ring_offer(Some("bob"), None)),
        Some(ErrorCode::NoCall)
    );
    ring(&mut calls, "alice", "bob");
    // Stamped with the caller, whatever the frame claimed.
    let effects = calls.handle(&dev("alice"), ring_offer(None, Some("mallory")));
    match only_sent_to(&effects, "bob") {
        Message::RingOffer { route, sdp } => {
            assert_eq!(route, Route::new("alice", "bob"));
            assert_eq!(sdp, "v=0\r\n");
        }
        other => panic!("bob got {other:?}"),
    }
    assert_eq!(
        refused(&mut calls, "alice", ring_offer(Some("carol"), None)),
        Some(ErrorCode::WrongPeer)
    );
    // Not from the callee, nor from anyone else.
    assert_eq!(
        refused(&mut calls, "carol", ring_offer(Some("bob"), None)),
        Some(ErrorCode::NoCall)
    );
    let effects = calls.handle(&dev("bob"), ring_offer(Some("alice"), None));
    assert_eq!(
        error_code(&only_sent_to(&effects, "bob")),
        Some(ErrorCode::NoCall)
    );
    // Once the call is on, offers are plain `offer`s.
    calls.handle(&dev("bob"), call_back(ACCEPT));
    assert_eq!(
        refused(&mut calls, "alice", ring_offer(Some("bob"), None)),
        Some(ErrorCode::NoCall)
    );
}

#[test]
fn relay_outside_a_call_is_refused() {
    let mut calls = online(&["alice", "bob", "carol"]);
    // idle
    let effects = calls.handle(&dev("alice"), offer(Some("bob"), None));
    assert_eq!(
        error_code(&only_sent_to(&effects, "alice")),
        Some(ErrorCode::NoCall)
    );
    assert!(sent_to(&effects, "bob").is_empty());
    // ringing is not yet a call
    ring(&mut calls, "alice", "bob");
    let effects = calls.handle(&dev("alice"), ice());
    assert_eq!(
        error_code(&only_sent_to(&effects, "alice")),
        Some(ErrorCode::NoCall)
    );
    // in a call, but addressed to someone else
    calls.handle(&dev("bob"), call_back(ACCEPT));
    let effects = calls.handle(&dev("alice"), offer(Some("carol"), None));
    assert_eq!(
        error_code(&only_sent_to(&effects, "alice")),
        Some(ErrorCode::WrongPeer)
    );
    assert!(sent_to(&effects, "carol").is_empty());
    // a third party cannot inject into the call
    let effects = calls.handle(&dev("carol"), offer(Some("bob"), Some("alice")));
    assert_eq!(
        error_code(&only_sent_to(&effects, "carol")),
        Some(ErrorCode::NoCall)
    );
    assert!(sent_to(&effects, "bob").is_empty());
}

#[test]
fn answering_without_a_ring_is_refused() {
    let mut calls = online(&["alice", "bob"]);
    for msg in [call_back(ACCEPT), hangup_msg()] {
        let effects = calls.handle(&dev("bob"), msg);
        assert_eq!(
            error_code(&only_sent_to(&effects, "bob")),
            Some(ErrorCode::NoCall)
        );
    }
    // the caller cannot answer its own ring
    ring(&mut calls, "alice", "bob");
    let effects = calls.handle(&dev("alice"), call_back(ACCEPT));
    assert_eq!(
        error_code(&only_sent_to(&effects, "alice")),
        Some(ErrorCode::NoCall)
    );
    assert_eq!(
        state(&calls, "bob"),
        State::RingingIn { from: dev("alice") }
    );
}

#[test]
fn server_only_types_are_refused() {
    let mut calls = online(&["alice", "bob"]);
    let fake = Message::Ringing {
        route: Route::to("bob"),
    };
    let effects = calls.handle(&dev("alice"), fake);
    assert_eq!(
        error_code(&only_sent_to(&effects, "alice")),
        Some(ErrorCode::NotAllowed)
    );
    assert!(sent_to(&effects, "bob").is_empty());
}

#[test]
fn leaving_ends_a_ring_or_call_and_tells_the_other() {
    // the caller leaves while it rings
    let mut calls = online(&["alice", "bob"]);
    let id = ring(&mut calls, "alice", "bob");
    let effects = calls.leave(&name("alice"), ONE);
    assert_eq!(
        reason_of(&only_sent_to(&effects, "bob")),
        Some(Reason::Gone)
    );
    assert_eq!(state(&calls, "bob"), State::Idle);
    assert!(calls.state(&name("alice")).is_none());
    assert!(calls.ring_timeout(&name("alice"), id).is_empty());

    // the callee leaves while it rings
    let mut calls = online(&["alice", "bob"]);
    ring(&mut calls, "alice", "bob");
    let effects = calls.leave(&name("bob"), ONE);
    let msg = only_sent_to(&effects, "alice");
    assert!(matches!(msg, Message::CallBack { .. }));
    assert_eq!(reason_of(&msg), Some(Reason::Gone));
    assert_eq!(state(&calls, "alice"), State::Idle);

    // either leaves mid-call
    let mut calls = online(&["alice", "bob"]);
    in_call(&mut calls, "alice", "bob");
    let effects = calls.leave(&name("bob"), ONE);
    assert_eq!(
        reason_of(&only_sent_to(&effects, "alice")),
        Some(Reason::Gone)
    );
    assert_eq!(state(&calls, "alice"), State::Idle);

    // an idle user leaves quietly
    let mut calls = online(&["alice"]);
    assert!(calls.leave(&name("alice"), ONE).is_empty());
    assert!(calls.leave(&name("alice"), ONE).is_empty());
}

#[test]
fn race_both_call_each_other_at_once() {
    let mut calls = online(&["alice", "bob"]);
    // alice's call_start reached the server first; bob's crossed it on the wire.
    ring(&mut calls, "alice", "bob");
    let effects = calls.handle(&dev("bob"), call_start("alice"));
    let msg = only_sent_to(&effects, "bob");
    assert!(matches!(msg, Message::CallBack { .. }), "{msg:?}");
    assert!(sent_to(&effects, "alice").is_empty());
    // alice's ring stands and bob can answer it
    assert_eq!(
        state(&calls, "bob"),
        State::RingingIn { from: dev("alice") }
    );
    calls.handle(&dev("bob"), call_back(ACCEPT));
    assert_eq!(
        state(&calls, "alice"),
        State::InCall {
            device: ONE,
            with: dev("bob"),
            caller: true
        }
    );
}

#[test]
fn race_cancel_crossing_accept() {
    // cancel first: the accept that crossed it finds no ring and is refused.
    let mut calls = online(&["alice", "bob"]);
    ring(&mut calls, "alice", "bob");
    calls.handle(&dev("alice"), hangup_msg());
    let effects = calls.handle(&dev("bob"), call_back(ACCEPT));
    assert_eq!(
        error_code(&only_sent_to(&effects, "bob")),
        Some(ErrorCode::NoCall)
    );
    assert!(sent_to(&effects, "alice").is_empty());
    assert_eq!(state(&calls, "alice"), State::Idle);
    assert_eq!(state(&calls, "bob"), State::Idle);

    // accept first: the cancel that crossed it hangs the new call up.
    let mut calls = online(&["alice", "bob"]);
    ring(&mut calls, "alice", "bob");
    calls.handle(&dev("bob"), call_back(ACCEPT));
    let effects = calls.handle(&dev("alice"), hangup_msg());
    assert_eq!(
        reason_of(&only_sent_to(&effects, "bob")),
        Some(Reason::HungUp)
    );
    assert_eq!(state(&calls, "alice"), State::Idle);
    assert_eq!(state(&calls, "bob"), State::Idle);
}

#[test]
fn race_hangup_crossing_the_ring_timeout() {
    // hang-up first: the timer finds the ring gone.
    let mut calls = online(&["alice", "bob"]);
    let id = ring(&mut calls, "alice", "bob");
    calls.handle(&dev("alice"), hangup_msg());
    assert!(calls.ring_timeout(&name("alice"), id).is_empty());

    // timeout first: the hang-up finds nothing to end.
    let mut calls = online(&["alice", "bob"]);
    let id = ring(&mut calls, "alice", "bob");
    calls.ring_timeout(&name("alice"), id);
    let effects = calls.handle(&dev("alice"), hangup_msg());
    assert_eq!(
        error_code(&only_sent_to(&effects, "alice")),
        Some(ErrorCode::NoCall)
    );
    assert!(sent_to(&effects, "bob").is_empty());
}

#[test]
fn a_hangup_that_says_no_media_keeps_that_reason() {
    let mut calls = online(&["alice", "bob"]);
    in_call(&mut calls, "alice", "bob");
    // bob accepted, then found no camera or microphone.
    let effects = calls.handle(
        &dev("bob"),
        Message::Hangup {
            route: Route::default(),
            msg: None,
            reason: Some(Reason::NoMedia),
        },
    );
    assert_eq!(
        reason_of(&only_sent_to(&effects, "alice")),
        Some(Reason::NoMedia)
    );
    // For the chat log it is a call bob missed.
    assert_eq!(
        missed(&effects),
        vec![("alice".to_owned(), "bob".to_owned(), Reason::NoMedia)]
    );
}

fn no_connection() -> Message {
    Message::Hangup {
        route: Route::default(),
        msg: None,
        reason: Some(Reason::NoConnection),
    }
}

#[test]
fn a_call_that_could_not_connect_ends_for_both_and_is_logged_as_missed() {
    // Either page may give up first; the line names alice as the caller either way.
    for gives_up in ["alice", "bob"] {
        let other = if gives_up == "alice" { "bob" } else { "alice" };
        let mut calls = online(&["alice", "bob"]);
        in_call(&mut calls, "alice", "bob");
        let effects = calls.handle(&dev(gives_up), no_connection());
        let told = only_sent_to(&effects, other);
        assert!(matches!(told, Message::Hangup { .. }), "{told:?}");
        assert_eq!(reason_of(&told), Some(Reason::NoConnection));
        assert_eq!(told.route().from_user.as_deref(), Some(gives_up));
        assert!(
            matches!(&told, Message::Hangup { msg: Some(msg), .. } if msg.contains("TURN")),
            "an original page shows the words: {told:?}"
        );
        assert_eq!(
            missed(&effects),
            vec![("alice".to_owned(), "bob".to_owned(), Reason::NoConnection)]
        );
        assert_eq!(state(&calls, "alice"), State::Idle);
        assert_eq!(state(&calls, "bob"), State::Idle);

        // Both deadlines fire: the second hang-up finds no call, and logs nothing more.
        let effects = calls.handle(&dev(other), no_connection());
        assert_eq!(
            error_code(&only_sent_to(&effects, other)),
            Some(ErrorCode::NoCall)
        );
        assert!(missed(&effects).is_empty());
    }
}

#[test]
fn no_connection_is_only_a_calls_reason() {
    // While it rings there is no path to find yet: the ring is cancelled or declined.
    let mut calls = online(&["alice", "bob"]);
    ring(&mut calls, "alice", "bob");
    let effects = calls.handle(&dev("alice"), no_connection());
    assert_eq!(
        reason_of(&only_sent_to(&effects, "bob")),
        Some(Reason::Cancelled)
    );
    let mut calls = online(&["alice", "bob"]);
    ring(&mut calls, "alice", "bob");
    let effects = calls.handle(&dev("bob"), no_connection());
    assert_eq!(
        reason_of(&only_sent_to(&effects, "alice")),
        Some(Reason::Declined)
    );
}

#[test]
fn after_a_call_both_can_call_again() {
    let mut calls = online(&["alice", "bob", "carol"]);
    in_call(&mut calls, "alice", "bob");
    calls.handle(&dev("bob"), hangup_msg());
    in_call(&mut calls, "bob", "carol");
    let effects = calls.handle(&dev("alice"), call_start("bob"));
    assert_eq!(
        reason_of(&only_sent_to(&effects, "alice")),
        Some(Reason::Busy)
    );
    calls.handle(&dev("carol"), hangup_msg());
    in_call(&mut calls, "alice", "bob");
}

#[test]
fn answers_and_hangups_addressed_to_someone_else_are_refused() {
    let mut calls = online(&["alice", "bob", "carol"]);
    ring(&mut calls, "alice", "bob");
    let misaddressed = Message::CallBack {
        route: Route::to("carol"),
        msg: ACCEPT.into(),
        reason: None,
    };
    let effects = calls.handle(&dev("bob"), misaddressed);
    assert_eq!(
        error_code(&only_sent_to(&effects, "bob")),
        Some(ErrorCode::WrongPeer)
    );
    assert_eq!(
        state(&calls, "bob"),
        State::RingingIn { from: dev("alice") }
    );
    let misaddressed = Message::Hangup {
        route: Route::to("carol"),
        msg: None,
        reason: None,
    };
    let effects = calls.handle(&dev("alice"), misaddressed);
    assert_eq!(
        error_code(&only_sent_to(&effects, "alice")),
        Some(ErrorCode::WrongPeer)
    );
    assert!(sent_to(&effects, "carol").is_empty());
    assert_eq!(
        state(&calls, "alice"),
        State::RingingOut {
            device: ONE,
            to: name("bob"),
            ring: RingId(0)
        }
    );
}

/// The `Missed` effects among `effects`, as (caller, callee, reason).
fn missed(effects: &[Effect]) -> Vec<(String, String, Reason)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Missed {
                caller,
                callee,
                reason,
            } => Some((caller.to_string(), callee.to_string(), *reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn every_ring_that_does_not_become_a_call_is_missed_once() {
    let want = |reason| vec![("alice".to_owned(), "bob".to_owned(), reason)];

    let mut calls = online(&["alice"]);
    let effects = calls.handle(&dev("alice"), call_start("bob"));
    assert_eq!(missed(&effects), want(Reason::Offline), "offline");

    let mut calls = online(&["alice", "bob", "carol"]);
    calls.handle(&dev("carol"), call_start("bob"));
    let effects = calls.handle(&dev("alice"), call_start("bob"));
    assert_eq!(missed(&effects), want(Reason::Busy), "busy");

    let mut calls = online(&["alice", "bob"]);
    let ring = ring(&mut calls, "alice", "bob");
    let effects = calls.ring_timeout(&name("alice"), ring);
    assert_eq!(missed(&effects), want(Reason::Timeout), "timeout");

    let mut calls = online(&["alice", "bob"]);
    calls.handle(&dev("alice"), call_start("bob"));
    let effects = calls.handle(&dev("bob"), call_back(DECLINE));
    assert_eq!(missed(&effects), want(Reason::Declined), "declined");

    let mut calls = online(&["alice", "bob"]);
    calls.handle(&dev("alice"), call_start("bob"));
    let effects = calls.handle(&dev("alice"), hangup_msg());
    assert_eq!(missed(&effects), want(Reason::Cancelled), "cancelled");

    let mut calls = online(&["alice", "bob"]);
    calls.handle(&dev("alice"), call_start("bob"));
    let effects = calls.leave(&name("alice"), ONE);
    assert_eq!(missed(&effects), want(Reason::Gone), "caller gone");

    let mut calls = online(&["alice", "bob"]);
    let effects = calls.handle(&dev("alice"), call_start("bob"));
    assert!(missed(&effects).is_empty(), "a ring is not missed yet");
    let effects = calls.handle(&dev("bob"), call_back(ACCEPT));
    assert!(
        missed(&effects).is_empty(),
        "an answered call is not missed"
    );
    let effects = calls.handle(&dev("alice"), hangup_msg());
    assert!(missed(&effects).is_empty(), "nor is its end");
}

mod devices;
