//! A person on several devices: every device rings, the first answer decides for all, a
//! call is between two devices, and a device comes and goes on its own.

use super::*;

/// `who` on device `d`.
fn at(who: &str, d: u64) -> Party {
    Party::new(&name(who), DeviceId(d))
}

/// A machine with these claimed names online, each on its devices.
fn claimed(people: &[(&str, &[u64])]) -> Calls {
    let mut calls = Calls::new();
    for (who, devices) in people {
        for d in *devices {
            let effects = calls.join(&name(who), DeviceId(*d), true).unwrap();
            assert!(effects.is_empty(), "{who} {d}: {effects:?}");
        }
    }
    calls
}

/// The messages `effects` send to device `d` of `who`.
fn sent_to_device(effects: &[Effect], who: &str, d: u64) -> Vec<Message> {
    let to = at(who, d);
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to: t, msg } if *t == to => Some(msg.clone()),
            _ => None,
        })
        .collect()
}

fn only_sent_to_device(effects: &[Effect], who: &str, d: u64) -> Message {
    let msgs = sent_to_device(effects, who, d);
    assert_eq!(
        msgs.len(),
        1,
        "expected one message to {who} {d}: {effects:?}"
    );
    msgs.into_iter().next().unwrap()
}

/// alice (devices 1 and 2) rings bob (devices 1, 2 and 3) from device 1.
fn bob_rings_everywhere() -> (Calls, Vec<Effect>) {
    let mut calls = claimed(&[("alice", &[1, 2]), ("bob", &[1, 2, 3])]);
    let effects = calls.handle(&at("alice", 1), call_start("bob"));
    (calls, effects)
}

#[test]
fn a_claimed_name_joins_on_many_devices_an_unclaimed_one_on_one() {
    let mut calls = claimed(&[("alice", &[1, 2, 3])]);
    assert_eq!(
        calls.devices(&name("alice")),
        &[DeviceId(1), DeviceId(2), DeviceId(3)]
    );
    // Neither beside an account's devices, nor an account's beside an open name's.
    assert_eq!(
        calls.join(&name("alice"), DeviceId(4), false),
        Err(NameInUse)
    );
    calls.join(&name("bob"), DeviceId(5), false).unwrap();
    assert_eq!(calls.join(&name("bob"), DeviceId(6), false), Err(NameInUse));
    assert_eq!(calls.join(&name("bob"), DeviceId(6), true), Err(NameInUse));
    assert_eq!(calls.devices(&name("bob")), &[DeviceId(5)]);
    // The person stays online until their last device leaves.
    for d in [1, 2] {
        assert!(calls.leave(&name("alice"), DeviceId(d)).is_empty());
        assert_eq!(state(&calls, "alice"), State::Idle);
    }
    calls.leave(&name("alice"), DeviceId(3));
    assert!(calls.state(&name("alice")).is_none());
    assert!(calls.join(&name("alice"), DeviceId(7), false).is_ok());
}

#[test]
fn a_ring_rings_every_device_of_the_callee_and_only_the_callers_own() {
    let (calls, effects) = bob_rings_everywhere();
    for d in [1, 2, 3] {
        let ring = only_sent_to_device(&effects, "bob", d);
        assert!(matches!(ring, Message::CallStart { .. }), "{ring:?}");
        assert_eq!(ring.route(), &Route::new("alice", "bob"));
    }
    assert!(matches!(
        only_sent_to_device(&effects, "alice", 1),
        Message::Ringing { .. }
    ));
    assert!(
        sent_to_device(&effects, "alice", 2).is_empty(),
        "not involved"
    );
    assert_eq!(
        state(&calls, "bob"),
        State::RingingIn {
            from: at("alice", 1)
        }
    );
    assert!(matches!(
        state(&calls, "alice"),
        State::RingingOut {
            device: DeviceId(1),
            ..
        }
    ));
}

#[test]
fn the_first_device_to_accept_takes_the_call_and_the_others_stop_ringing() {
    let (mut calls, _) = bob_rings_everywhere();
    let effects = calls.handle(&at("bob", 2), call_back(ACCEPT));
    assert_eq!(
        only_sent_to_device(&effects, "alice", 1),
        Message::CallBack {
            route: Route::new("bob", "alice"),
            msg: ACCEPT.into(),
            reason: None,
        }
    );
    for d in [1, 3] {
        let stop = only_sent_to_device(&effects, "bob", d);
        assert!(matches!(stop, Message::Hangup { .. }), "{stop:?}");
        assert_eq!(reason_of(&stop), Some(Reason::AnsweredElsewhere));
        assert_eq!(stop.route(), &Route::new(SYSTEM_USER, "bob"));
        assert!(
            matches!(&stop, Message::Hangup { msg: Some(msg), .. } if msg.contains("another device")),
            "an original page shows the words: {stop:?}"
        );
    }
    assert!(sent_to_device(&effects, "bob", 2).is_empty());
    assert!(sent_to_device(&effects, "alice", 2).is_empty());
    assert!(
        missed(&effects).is_empty(),
        "an answered call is not missed"
    );
    assert_eq!(
        state(&calls, "alice"),
        State::InCall {
            device: DeviceId(1),
            with: at("bob", 2),
            caller: true
        }
    );
    assert_eq!(
        state(&calls, "bob"),
        State::InCall {
            device: DeviceId(2),
            with: at("alice", 1),
            caller: false
        }
    );

    // An accept that crossed the winner's finds no ring, and changes nothing.
    let late = calls.handle(&at("bob", 3), call_back(ACCEPT));
    assert_eq!(
        error_code(&only_sent_to_device(&late, "bob", 3)),
        Some(ErrorCode::NoCall)
    );
    assert_eq!(late.len(), 1, "{late:?}");
}

#[test]
fn call_frames_pass_only_between_the_two_devices_in_the_call() {
    let (mut calls, _) = bob_rings_everywhere();
    calls.handle(&at("bob", 2), call_back(ACCEPT));
    let effects = calls.handle(&at("alice", 1), offer(Some("bob"), None));
    let to_bob = only_sent_to_device(&effects, "bob", 2);
    assert_eq!(to_bob.route(), &Route::new("alice", "bob"));
    assert_eq!(effects.len(), 1);
    assert_eq!(
        calls.relay_to(&name("bob"), DeviceId(2), "_ice", Some("alice")),
        Ok(&at("alice", 1))
    );
    // Neither person's other devices may speak in the call.
    for from in [at("alice", 2), at("bob", 1), at("bob", 3)] {
        for msg in [offer(None, None), ice(), hangup_msg()] {
            let effects = calls.handle(&from, msg);
            assert_eq!(
                error_code(&only_sent_to(&effects, from.name.as_str())),
                Some(ErrorCode::NoCall),
                "{from:?}"
            );
            assert_eq!(effects.len(), 1, "{effects:?}");
        }
        let refused = calls.relay_to(&from.name, from.device, "offer", None);
        assert!(
            matches!(refused, Err(ref e) if matches!(**e, Effect::Send { ref to, .. } if *to == from)),
            "{refused:?}"
        );
    }
    // The hang-up of the device in the call reaches only the other end.
    let effects = calls.handle(&at("bob", 2), hangup_msg());
    assert_eq!(
        reason_of(&only_sent_to_device(&effects, "alice", 1)),
        Some(Reason::HungUp)
    );
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(state(&calls, "alice"), State::Idle);
    assert_eq!(state(&calls, "bob"), State::Idle);
}

#[test]
fn a_decline_on_one_device_ends_the_ring_on_all() {
    // By pressing Decline, or by hanging up while it rings (as an original page does).
    for answer in [call_back(DECLINE), hangup_msg()] {
        let (mut calls, _) = bob_rings_everywhere();
        let effects = calls.handle(&at("bob", 3), answer);
        let told = only_sent_to_device(&effects, "alice", 1);
        assert!(matches!(told, Message::CallBack { ref msg, .. } if msg == DECLINE));
        assert_eq!(reason_of(&told), Some(Reason::Declined));
        for d in [1, 2] {
            let stop = only_sent_to_device(&effects, "bob", d);
            assert!(matches!(stop, Message::Hangup { .. }), "{stop:?}");
            assert_eq!(reason_of(&stop), Some(Reason::Declined));
            assert!(
                matches!(&stop, Message::Hangup { msg: Some(msg), .. } if msg.contains("declined on another device")),
                "{stop:?}"
            );
        }
        assert!(sent_to_device(&effects, "bob", 3).is_empty());
        assert_eq!(
            missed(&effects),
            vec![("alice".to_owned(), "bob".to_owned(), Reason::Declined)],
            "one missed call, not one per device"
        );
        assert_eq!(state(&calls, "alice"), State::Idle);
        assert_eq!(state(&calls, "bob"), State::Idle);
    }
}

#[test]
fn a_ringing_device_that_closes_stops_only_itself_unless_it_was_the_last() {
    let (mut calls, _) = bob_rings_everywhere();
    for d in [1, 3] {
        assert!(calls.leave(&name("bob"), DeviceId(d)).is_empty());
        assert_eq!(
            state(&calls, "bob"),
            State::RingingIn {
                from: at("alice", 1)
            }
        );
    }
    // The last one ringing: the caller hears that bob is gone, as with one device.
    let effects = calls.leave(&name("bob"), DeviceId(2));
    let told = only_sent_to_device(&effects, "alice", 1);
    assert!(matches!(told, Message::CallBack { .. }), "{told:?}");
    assert_eq!(reason_of(&told), Some(Reason::Gone));
    assert_eq!(
        missed(&effects),
        vec![("alice".to_owned(), "bob".to_owned(), Reason::Gone)]
    );
    assert_eq!(state(&calls, "alice"), State::Idle);
    assert!(calls.state(&name("bob")).is_none());
}

#[test]
fn the_callers_other_devices_stay_out_of_the_ring() {
    let (mut calls, _) = bob_rings_everywhere();
    let from_other = at("alice", 2);
    for msg in [hangup_msg(), ring_offer(Some("bob"), None)] {
        let effects = calls.handle(&from_other, msg);
        assert_eq!(
            error_code(&only_sent_to(&effects, "alice")),
            Some(ErrorCode::NoCall)
        );
        assert!(sent_to(&effects, "bob").is_empty());
    }
    // Nor can they call anyone while the person rings: one ring or call at a time.
    calls.join(&name("carol"), DeviceId(9), true).unwrap();
    let effects = calls.handle(&from_other, call_start("carol"));
    assert_eq!(
        error_code(&only_sent_to(&effects, "alice")),
        Some(ErrorCode::NotIdle)
    );
    // The ring offer of the calling device reaches every ringing device.
    let effects = calls.handle(&at("alice", 1), ring_offer(None, None));
    for d in [1, 2, 3] {
        assert!(matches!(
            only_sent_to_device(&effects, "bob", d),
            Message::RingOffer { .. }
        ));
    }
    // Another device of the caller closing changes nothing; the calling one cancels.
    assert!(calls.leave(&name("alice"), DeviceId(2)).is_empty());
    assert!(matches!(state(&calls, "bob"), State::RingingIn { .. }));
    let effects = calls.leave(&name("alice"), DeviceId(1));
    for d in [1, 2, 3] {
        assert_eq!(
            reason_of(&only_sent_to_device(&effects, "bob", d)),
            Some(Reason::Gone)
        );
    }
    assert_eq!(state(&calls, "bob"), State::Idle);
}

#[test]
fn a_cancel_or_timeout_reaches_every_ringing_device() {
    let (mut calls, _) = bob_rings_everywhere();
    let effects = calls.handle(&at("alice", 1), hangup_msg());
    for d in [1, 2, 3] {
        let stop = only_sent_to_device(&effects, "bob", d);
        assert_eq!(reason_of(&stop), Some(Reason::Cancelled));
        assert_eq!(stop.route(), &Route::new("alice", "bob"));
    }
    assert_eq!(missed(&effects).len(), 1);

    let (mut calls, effects) = bob_rings_everywhere();
    let id = effects
        .iter()
        .find_map(|e| match e {
            Effect::StartRingTimer { ring, .. } => Some(*ring),
            _ => None,
        })
        .unwrap();
    let effects = calls.ring_timeout(&name("alice"), id);
    assert_eq!(
        reason_of(&only_sent_to_device(&effects, "alice", 1)),
        Some(Reason::Timeout)
    );
    for d in [1, 2, 3] {
        assert_eq!(
            reason_of(&only_sent_to_device(&effects, "bob", d)),
            Some(Reason::Timeout)
        );
    }
    assert_eq!(missed(&effects).len(), 1);
}

#[test]
fn a_device_that_joins_while_the_person_rings_rings_too() {
    let (mut calls, _) = bob_rings_everywhere();
    let effects = calls.join(&name("bob"), DeviceId(4), true).unwrap();
    let ring = only_sent_to_device(&effects, "bob", 4);
    assert_eq!(
        ring,
        Message::CallStart {
            route: Route::new("alice", "bob"),
            msg: None
        }
    );
    assert_eq!(effects.len(), 1);
    // ...and can take the call.
    calls.handle(&at("bob", 4), call_back(ACCEPT));
    assert!(matches!(
        state(&calls, "bob"),
        State::InCall {
            device: DeviceId(4),
            ..
        }
    ));
    // Once it is a call, a new device is not rung.
    assert!(
        calls
            .join(&name("bob"), DeviceId(5), true)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn someone_ringing_or_talking_on_any_device_is_busy() {
    let (mut calls, _) = bob_rings_everywhere();
    calls.join(&name("carol"), DeviceId(9), true).unwrap();
    let effects = calls.handle(&at("carol", 9), call_start("bob"));
    assert_eq!(
        reason_of(&only_sent_to(&effects, "carol")),
        Some(Reason::Busy)
    );
    assert!(sent_to(&effects, "bob").is_empty());
    calls.handle(&at("bob", 1), call_back(ACCEPT));
    // bob's idle devices are still bob, who is in a call.
    let effects = calls.handle(&at("carol", 9), call_start("bob"));
    assert_eq!(
        reason_of(&only_sent_to(&effects, "carol")),
        Some(Reason::Busy)
    );
    let effects = calls.handle(&at("bob", 2), call_start("carol"));
    assert_eq!(
        error_code(&only_sent_to(&effects, "bob")),
        Some(ErrorCode::NotIdle)
    );
}

#[test]
fn a_device_that_comes_back_keeps_its_call_while_the_others_come_and_go() {
    let (mut calls, _) = bob_rings_everywhere();
    calls.handle(&at("bob", 2), call_back(ACCEPT));
    // bob's device 2 lost its socket: the hub keeps it (grace) and tells the machine
    // nothing. Meanwhile his other devices close and a new one opens.
    assert!(calls.leave(&name("bob"), DeviceId(1)).is_empty());
    assert!(calls.leave(&name("bob"), DeviceId(3)).is_empty());
    assert!(
        calls
            .join(&name("bob"), DeviceId(4), true)
            .unwrap()
            .is_empty()
    );
    // Device 2 is back on a new socket: the same device, nothing changes.
    assert!(
        calls
            .join(&name("bob"), DeviceId(2), true)
            .unwrap()
            .is_empty()
    );
    assert_eq!(calls.devices(&name("bob")), &[DeviceId(2), DeviceId(4)]);
    assert_eq!(
        state(&calls, "bob"),
        State::InCall {
            device: DeviceId(2),
            with: at("alice", 1),
            caller: false
        }
    );
    let effects = calls.handle(&at("alice", 1), ice());
    assert!(matches!(
        only_sent_to_device(&effects, "bob", 2),
        Message::Ice { .. }
    ));
    // Its grace over without it coming back, the call ends; bob stays online.
    let effects = calls.leave(&name("bob"), DeviceId(2));
    assert_eq!(
        reason_of(&only_sent_to_device(&effects, "alice", 1)),
        Some(Reason::Gone)
    );
    assert_eq!(state(&calls, "bob"), State::Idle);
    assert_eq!(state(&calls, "alice"), State::Idle);
    assert_eq!(calls.devices(&name("bob")), &[DeviceId(4)]);
}
