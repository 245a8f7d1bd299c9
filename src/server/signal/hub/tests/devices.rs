//! A person on several devices, on the real hub and real queues: every page rings, the
//! first accept wins, presence is the person's, chat reaches every page, and each device
//! resumes and is signed out on its own.

use super::*;

/// A sign-in session of a claimed name.
fn signed_in(session: &str) -> Device {
    Device {
        session: Some(session.to_owned()),
    }
}

/// Joins `who` on a new device; returns the session (queue read) and its resume secret.
fn join_as(hub: &Arc<Hub>, who: &str, device: Device) -> (Session, String) {
    let mut session = hub.join(&name(who), device, None).unwrap();
    match drain(&mut session).as_slice() {
        [Message::Welcome { resume, .. }] => (session, resume.clone().unwrap()),
        other => panic!("{who}: expected a welcome, got {other:?}"),
    }
}

/// The close code queued for `session`, if any (frames before it are taken too).
fn close_code(session: &mut Session) -> Option<u16> {
    while let Some(Some(out)) = session.queue.recv().now_or_never() {
        if let Outgoing::Close(code, _) = out {
            return Some(code);
        }
    }
    None
}

fn presence_of(frames: &[Message], who: &str) -> Vec<Presence> {
    frames
        .iter()
        .filter_map(|msg| match msg {
            Message::Presence {
                users, full: false, ..
            } => Some(users),
            _ => None,
        })
        .flatten()
        .filter(|entry| entry.user.as_str() == who)
        .map(|entry| entry.state)
        .collect()
}

fn call_start(to: &str) -> Message {
    Message::CallStart {
        route: Route::to(to),
        msg: None,
    }
}

fn accept(to: &str) -> Message {
    Message::CallBack {
        route: Route::to(to),
        msg: ACCEPT.into(),
        reason: None,
    }
}

/// alice (an open name) calls bob, signed in on two devices; bob's second accepts.
/// Returns alice, bob's first and second device, and the second's resume secret.
fn bob_answers_on_his_second(hub: &Arc<Hub>) -> (Session, Session, Session, String) {
    let (mut alice, _) = join(hub, "alice");
    let (mut bob1, _) = join_as(hub, "bob", signed_in("s1"));
    let (mut bob2, resume) = join_as(hub, "bob", signed_in("s2"));
    assert_ne!(bob1.device, bob2.device);
    hub.handle(&me("alice", &alice), call_start("bob"));
    for bob in [&mut bob1, &mut bob2] {
        assert!(
            matches!(drain(bob).as_slice(), [Message::CallStart { .. }]),
            "every device rings"
        );
    }
    drain(&mut alice);
    hub.handle(&me("bob", &bob2), accept("alice"));
    assert!(matches!(
        drain(&mut alice).as_slice(),
        [Message::CallBack { msg, .. }] if msg == ACCEPT
    ));
    match drain(&mut bob1).as_slice() {
        [Message::Hangup { reason, .. }] => {
            assert_eq!(*reason, Some(Reason::AnsweredElsewhere));
        }
        other => panic!("bob's first device: {other:?}"),
    }
    assert!(drain(&mut bob2).is_empty());
    (alice, bob1, bob2, resume)
}

#[tokio::test]
async fn an_unclaimed_name_keeps_one_socket_a_claimed_one_has_many() {
    let hub = hub(Settings::default());
    let (_alice, _) = join(&hub, "alice");
    assert!(matches!(
        hub.join(&name("alice"), Device::default(), None),
        Err(NameInUse)
    ));
    assert!(matches!(
        hub.join(&name("alice"), signed_in("s1"), None),
        Err(NameInUse)
    ));
    let pages: Vec<_> = (0..3)
        .map(|n| join_as(&hub, "bob", signed_in(&format!("s{n}"))).0)
        .collect();
    assert!(matches!(
        hub.join(&name("bob"), Device::default(), None),
        Err(NameInUse)
    ));
    let mut sessions = hub.online_sessions();
    sessions.sort();
    assert_eq!(sessions, ["s0", "s1", "s2"]);
    drop(pages);
}

#[tokio::test]
async fn every_device_rings_the_first_accept_wins_and_the_call_is_between_two_devices() {
    let hub = hub(Settings::default());
    let (mut alice, mut bob1, mut bob2, _) = bob_answers_on_his_second(&hub);
    // Candidates reach only the device in the call, by the fast path and the general one.
    relay_ice(&hub, &me("alice", &alice), 1);
    assert!(matches!(drain(&mut bob2).as_slice(), [Message::Ice { .. }]));
    assert!(drain(&mut bob1).is_empty());
    let answer = Message::Answer {
        route: Route::to("alice"),
        sdp: "v=0\r\n".into(),
    };
    hub.handle(&me("bob", &bob2), answer.clone());
    assert!(matches!(
        drain(&mut alice).as_slice(),
        [Message::Answer { .. }]
    ));
    // bob's other device is not in the call.
    hub.handle(&me("bob", &bob1), answer);
    assert!(drain(&mut alice).is_empty());
    assert!(matches!(
        drain(&mut bob1).as_slice(),
        [Message::Error {
            code: ErrorCode::NoCall,
            ..
        }]
    ));
    // Closing it changes nothing for the call.
    hub.leave(&name("bob"), bob1.id, Ending::Closed);
    assert!(drain(&mut alice).is_empty());
    relay_ice(&hub, &me("alice", &alice), 2);
    assert!(matches!(drain(&mut bob2).as_slice(), [Message::Ice { .. }]));
}

#[tokio::test]
async fn presence_is_the_persons_available_while_any_device_is_in_a_call_while_one_is() {
    let hub = hub(Settings::default());
    let (mut carol, _) = join(&hub, "carol");
    hub.sync(&name("carol"), carol.device.0);
    drain(&mut carol);
    let (alice, bob1, bob2, _) = bob_answers_on_his_second(&hub);
    let frames = drain(&mut carol);
    assert_eq!(
        presence_of(&frames, "bob"),
        [Presence::Available, Presence::InCall],
        "one sign-in for two devices, then the call: {frames:?}"
    );
    // The device that is not in the call leaves: bob is still in a call.
    hub.leave(&name("bob"), bob1.id, Ending::Closed);
    assert!(presence_of(&drain(&mut carol), "bob").is_empty());
    // The call ends; bob is still online on his other device.
    let hangup = Message::Hangup {
        route: Route::to("bob"),
        msg: None,
        reason: None,
    };
    hub.handle(&me("alice", &alice), hangup);
    assert_eq!(
        presence_of(&drain(&mut carol), "bob"),
        [Presence::Available]
    );
    hub.leave(&name("bob"), bob2.id, Ending::Closed);
    assert_eq!(presence_of(&drain(&mut carol), "bob"), [Presence::Offline]);
}

#[tokio::test]
async fn closing_the_device_in_the_call_ends_it_and_the_person_stays_online() {
    let hub = hub(Settings::default());
    let (mut alice, mut bob1, bob2, _) = bob_answers_on_his_second(&hub);
    // bob's second device, in the call, is closed: the call ends, bob stays online.
    hub.leave(&name("bob"), bob2.id, Ending::Closed);
    match drain(&mut alice).as_slice() {
        [Message::Hangup { reason, .. }] => assert_eq!(*reason, Some(Reason::Gone)),
        other => panic!("alice: {other:?}"),
    }
    assert!(drain(&mut bob1).is_empty());
    // bob can be called again, on the device he has left.
    hub.handle(&me("alice", &alice), call_start("bob"));
    assert!(matches!(
        drain(&mut bob1).as_slice(),
        [Message::CallStart { .. }]
    ));
}

#[tokio::test]
async fn chat_reaches_every_device_that_shows_it() {
    let hub = hub(Settings::default());
    let (mut bob1, _) = join_as(&hub, "bob", signed_in("s1"));
    let (mut bob2, _) = join_as(&hub, "bob", signed_in("s2"));
    let (mut bob3, _) = join_as(&hub, "bob", signed_in("s3"));
    for bob in [&bob1, &bob2] {
        hub.sync(&name("bob"), bob.device.0);
    }
    drain(&mut bob1);
    drain(&mut bob2);
    let msg = Message::ChatDelivered {
        route: Route::new(SYSTEM_USER, "bob"),
        ids: vec![7],
    };
    hub.push(&name("bob"), &msg);
    for bob in [&mut bob1, &mut bob2] {
        assert_eq!(drain(bob), std::slice::from_ref(&msg));
    }
    assert!(drain(&mut bob3).is_empty(), "a page without chat gets none");
    // What one page did, the others hear of.
    hub.push_others(&name("bob"), bob1.device.0, &msg);
    assert!(drain(&mut bob1).is_empty());
    assert_eq!(drain(&mut bob2), std::slice::from_ref(&msg));
    assert!(drain(&mut bob3).is_empty());
    // A kick disconnects that page alone.
    hub.kick(&name("bob"), bob2.device.0);
    assert!(kicked(&bob2));
    assert!(!kicked(&bob1) && !kicked(&bob3));
}

#[tokio::test]
async fn each_device_resumes_on_its_own() {
    let hub = hub(Settings {
        grace_secs: 60,
        ..Settings::default()
    });
    let (mut alice, bob1, bob2, resume2) = bob_answers_on_his_second(&hub);
    // bob's first device, not in the call, loses its socket: signed out at once.
    hub.leave(&name("bob"), bob1.id, Ending::Lost);
    assert_eq!(hub.online_sessions().len(), 1);
    // His second, in the call, loses its socket: kept for the grace period, its frames held.
    hub.leave(&name("bob"), bob2.id, Ending::Lost);
    assert_eq!(
        hub.online_sessions(),
        ["s2"],
        "a device within its grace is online"
    );
    relay_ice(&hub, &me("alice", &alice), 3);
    assert!(drain(&mut alice).is_empty(), "held, not refused");
    // A new device of bob's meanwhile is just that: a new device, not in the call.
    let (bob3, _) = join_as(&hub, "bob", signed_in("s3"));
    assert_ne!(bob3.device, bob2.device);
    // The second comes back with its own secret, to its own device and call.
    let mut back = hub
        .join(&name("bob"), signed_in("s2"), Some(&resume2))
        .unwrap();
    assert_eq!(back.device, bob2.device);
    let frames = drain(&mut back);
    assert!(
        matches!(
            frames.as_slice(),
            [Message::Welcome { resumed: true, .. }, Message::Ice { .. }]
        ),
        "{frames:?}"
    );
    hub.handle(
        &me("bob", &back),
        Message::Answer {
            route: Route::to("alice"),
            sdp: "v=0\r\n".into(),
        },
    );
    assert!(matches!(
        drain(&mut alice).as_slice(),
        [Message::Answer { .. }]
    ));
    // The old socket's end signs nothing out.
    hub.leave(&name("bob"), bob2.id, Ending::Closed);
    assert!(drain(&mut alice).is_empty());
    let mut sessions = hub.online_sessions();
    sessions.sort();
    assert_eq!(sessions, ["s2", "s3"]);
}

#[tokio::test]
async fn ended_sessions_close_their_devices_now_and_leave_the_others() {
    let hub = hub(Settings {
        grace_secs: 60,
        ..Settings::default()
    });
    let (mut alice, mut bob1, mut bob2, _) = bob_answers_on_his_second(&hub);
    // The device in the call is signed out: closed with 4401, no grace, the call ends.
    hub.end_sessions(&["s2".to_owned()]);
    assert_eq!(close_code(&mut bob2), Some(close::SIGNED_OUT));
    match drain(&mut alice).as_slice() {
        [Message::Hangup { reason, .. }] => assert_eq!(*reason, Some(Reason::Gone)),
        other => panic!("alice: {other:?}"),
    }
    assert_eq!(hub.online_sessions(), ["s1"]);
    assert!(drain(&mut bob1).is_empty(), "the other device stays");
    // Its socket's own end afterwards changes nothing.
    hub.leave(&name("bob"), bob2.id, Ending::Lost);
    assert_eq!(hub.online_sessions(), ["s1"]);
    // The account removed: every device goes.
    let (mut bob3, _) = join_as(&hub, "bob", signed_in("s3"));
    hub.end_user(&name("bob"));
    assert_eq!(close_code(&mut bob1), Some(close::SIGNED_OUT));
    assert_eq!(close_code(&mut bob3), Some(close::SIGNED_OUT));
    assert!(hub.online_sessions().is_empty());
    assert!(hub.join(&name("bob"), Device::default(), None).is_ok());
}
