//! Round trips against the frames the original server printed (SEED-PROTOCOL.md), and
//! every duet extension.

use super::chat::GroupNameError;
use super::*;
use serde_json::{Value, json};

/// Parses `raw`, writes it back, and checks nothing was lost or invented.
fn round_trip(raw: &str) -> Message {
    let msg = decode(raw).unwrap_or_else(|e| panic!("{raw} did not decode: {e}"));
    let back: Value = serde_json::from_str(&msg.to_json()).unwrap();
    let want: Value = serde_json::from_str(raw).unwrap();
    assert_eq!(back, want, "round trip changed {raw}");
    msg
}

#[test]
fn seed_call_start() {
    let msg = round_trip(r#"{"msg":"1","fromUser":"zs","type":"call_start"}"#);
    assert!(
        matches!(msg, Message::CallStart { ref route, .. } if route.from_user.as_deref() == Some("zs"))
    );
}

#[test]
fn seed_call_back() {
    let msg = round_trip(r#"{"msg":"1","fromUser":"zs","type":"call_back"}"#);
    assert!(matches!(msg, Message::CallBack { ref msg, reason: None, .. } if msg == ACCEPT));
}

#[test]
fn seed_offer() {
    let msg = round_trip(
        r#"{"fromUser":"ls","type":"offer","sdp":"v=0\r\no=- 626753068503365352 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n...a=ssrc:1572310693 label:157a5a40-fd58-424a-bb25-7313cb390d25\r\n"}"#,
    );
    assert!(matches!(msg, Message::Offer { ref sdp, .. } if sdp.starts_with("v=0\r\n")));
}

#[test]
fn seed_ice() {
    let msg = round_trip(
        r#"{"iceCandidate":{"candidate":"candidate:1679555437 1 udp 2122260223 172.16.12.156 60155 typ host generation 0 ufrag Ex36 network-id 1","sdpMid":"0","sdpMLineIndex":0},"fromUser":"ls","type":"_ice"}"#,
    );
    let Message::Ice { ice_candidate, .. } = msg else {
        panic!("not _ice")
    };
    assert_eq!(ice_candidate.sdp_mid.as_deref(), Some("0"));
    assert_eq!(ice_candidate.sdp_m_line_index, Some(0));
}

#[test]
fn seed_answer() {
    let msg = round_trip(
        r#"{"fromUser":"zs","type":"answer","sdp":"v=0\r\no=- 6281552672698732270 2 IN IP4 127.0.0.1\r\n..."}"#,
    );
    assert_eq!(msg.kind(), "answer");
}

#[test]
fn seed_hangup() {
    let msg = round_trip(r#"{"msg":"对方挂断!","fromUser":"ls","type":"hangup"}"#);
    assert!(matches!(msg, Message::Hangup { msg: Some(ref m), .. } if m == "对方挂断!"));
}

#[test]
fn seed_offline_notice() {
    // The original server's answer to a call for someone offline.
    round_trip(
        r#"{"type":"call_back","fromUser":"system","toUser":"zs","msg":"Sorry,呼叫的用户不在线!"}"#,
    );
}

#[test]
fn offer_as_rtc_session_description_to_json() {
    // The original page spread RTCSessionDescription.toJSON() into the frame: its own
    // `type` is the frame's `type`.
    let raw = json!({"type": "offer", "sdp": "v=0\r\n", "toUser": "bob"}).to_string();
    round_trip(&raw);
}

#[test]
fn duet_extensions_round_trip() {
    let samples = [
        json!({"type":"call_back","fromUser":"duet","toUser":"alice","msg":"bob is busy","reason":"busy"}),
        json!({"type":"call_back","fromUser":"bob","toUser":"alice","msg":"0","reason":"no_media"}),
        json!({"type":"hangup","fromUser":"duet","toUser":"bob","msg":"Missed call","reason":"timeout"}),
        json!({"type":"welcome","fromUser":"duet","user":"alice","iceServers":[{"urls":["stun:stun.example.org"]},{"urls":["turn:t.example.org"],"username":"u","credential":"p"}],"ringTimeoutSecs":30}),
        json!({"type":"welcome","fromUser":"duet","user":"alice","iceServers":[],"ringTimeoutSecs":30,"maxChatChars":4000,"maxMessageBytes":65536}),
        json!({"type":"ringing","fromUser":"duet","toUser":"bob"}),
        json!({"type":"error","fromUser":"duet","code":"no_call","msg":"no call"}),
    ];
    for sample in samples {
        round_trip(&sample.to_string());
    }
}

#[test]
fn every_reason_and_code_has_a_snake_case_name() {
    for (reason, name) in [
        (Reason::Declined, "declined"),
        (Reason::Busy, "busy"),
        (Reason::Offline, "offline"),
        (Reason::Cancelled, "cancelled"),
        (Reason::Timeout, "timeout"),
        (Reason::HungUp, "hung_up"),
        (Reason::Gone, "gone"),
        (Reason::NoMedia, "no_media"),
        (Reason::NoConnection, "no_connection"),
        (Reason::AnsweredElsewhere, "answered_elsewhere"),
    ] {
        assert_eq!(serde_json::to_value(reason).unwrap(), json!(name));
    }
    let unknown: Reason = serde_json::from_value(json!("from_the_future")).unwrap();
    assert_eq!(unknown, Reason::Other);
    let unknown: ErrorCode = serde_json::from_value(json!("from_the_future")).unwrap();
    assert_eq!(unknown, ErrorCode::Other);
}

#[test]
fn decode_tells_failures_apart() {
    assert_eq!(decode("not json").unwrap_err().code(), ErrorCode::BadJson);
    assert_eq!(decode("[1,2]").unwrap_err().code(), ErrorCode::BadJson);
    assert_eq!(
        decode(r#"{"type":7}"#).unwrap_err().code(),
        ErrorCode::BadJson
    );
    assert_eq!(
        decode(r#"{"type":"dance"}"#).unwrap_err().code(),
        ErrorCode::UnknownType
    );
    assert_eq!(
        decode(r#"{"type":"offer","toUser":"bob"}"#)
            .unwrap_err()
            .code(),
        ErrorCode::BadMessage
    );
    assert_eq!(
        decode(r#"{"type":"_ice","iceCandidate":{}}"#)
            .unwrap_err()
            .code(),
        ErrorCode::BadMessage
    );
    assert_eq!(
        decode(r#"{"type":"call_back"}"#).unwrap_err().code(),
        ErrorCode::BadMessage
    );
}

#[test]
fn every_known_type_is_a_variant() {
    for kind in KNOWN_TYPES {
        let err = decode(&json!({"type": kind}).to_string()).err();
        assert!(
            !matches!(err, Some(DecodeError::UnknownType(_))),
            "{kind} is listed but not decodable"
        );
    }
}

#[test]
fn names() {
    for good in [
        "alice",
        "bob_2",
        "a.b-c",
        "张三",
        "Ωμέγα",
        "x",
        &"n".repeat(32),
    ] {
        assert!(UserName::parse(good).is_ok(), "{good} should be valid");
    }
    assert_eq!(UserName::parse(""), Err(NameError::Empty));
    assert_eq!(UserName::parse(&"n".repeat(33)), Err(NameError::TooLong));
    assert_eq!(UserName::parse(&"张".repeat(33)), Err(NameError::TooLong));
    assert_eq!(UserName::parse("a b"), Err(NameError::BadChar(' ')));
    assert_eq!(UserName::parse("a/b"), Err(NameError::BadChar('/')));
    assert_eq!(UserName::parse("<script>"), Err(NameError::BadChar('<')));
    assert_eq!(UserName::parse(SYSTEM_USER), Err(NameError::Reserved));
}

#[test]
fn chat_frames_have_their_documented_shape() {
    let sent = decode(
        r#"{"type":"chat_send","id":"c1","conversation":{"user":"bob"},"text":"<b>hi</b>"}"#,
    )
    .expect("a chat_send");
    let Message::ChatSend {
        id,
        conversation,
        text,
        ..
    } = &sent
    else {
        panic!("decoded as {sent:?}");
    };
    assert_eq!(id, "c1");
    assert_eq!(
        conversation,
        &Conversation::User(UserName::parse("bob").unwrap())
    );
    assert_eq!(text, "<b>hi</b>");
    assert_eq!(decode(&sent.to_json()).unwrap(), sent);

    let group = json!({"type": "group_create", "group": "Team 1", "members": ["bob", "carol"]});
    let Message::GroupCreate { group, members, .. } = decode(&group.to_string()).unwrap() else {
        panic!("a group_create");
    };
    assert_eq!(group.as_str(), "Team 1");
    assert_eq!(members.len(), 2);

    // A bad member name or group name is a malformed message, refused whole.
    for bad in [
        json!({"type": "group_create", "group": "team", "members": ["no spaces"]}),
        json!({"type": "group_create", "group": " team", "members": []}),
        json!({"type": "chat_send", "id": "c1", "conversation": {"room": "x"}, "text": "hi"}),
        json!({"type": "chat_received", "ids": ["1"]}),
    ] {
        assert_eq!(
            decode(&bad.to_string()).unwrap_err().code(),
            ErrorCode::BadMessage,
            "{bad}"
        );
    }
}

#[test]
fn group_names_and_client_ids() {
    for good in ["team", "Team 1", "张三的群", "a.b-c_d", &"g".repeat(64)] {
        assert!(GroupName::parse(good).is_ok(), "{good} should be valid");
    }
    assert_eq!(GroupName::parse(""), Err(GroupNameError::Empty));
    assert_eq!(
        GroupName::parse(&"g".repeat(65)),
        Err(GroupNameError::TooLong)
    );
    assert_eq!(GroupName::parse("a<b"), Err(GroupNameError::BadChar('<')));
    assert_eq!(GroupName::parse("team "), Err(GroupNameError::Padded));

    assert!(chat::valid_client_id("0f3a-9_Z"));
    assert!(!chat::valid_client_id(""));
    assert!(!chat::valid_client_id("a b"));
    assert!(!chat::valid_client_id(&"a".repeat(65)));
}

/// Every variant with every field set, written by serde's derive and read back by the
/// hand-written reader (`fields.rs`): the two must agree on each type and field name.
#[test]
fn every_variant_reads_back_what_was_written() {
    let route = Route::new("alice", "bob");
    let name = |raw: &str| UserName::parse(raw).unwrap();
    let group = GroupName::parse("team").unwrap();
    let conversation = Conversation::Group(group.clone());
    let message = ChatMessage {
        id: 7,
        client_id: Some("c7".into()),
        conversation: conversation.clone(),
        from: name("alice"),
        at: 1_700_000_000_000,
        kind: ChatKind::MissedCall,
        text: String::new(),
        reason: Some(Reason::Timeout),
        state: Delivery::Delivered,
    };
    let ice_servers = vec![IceServer {
        urls: vec!["turn:t.example.org".into()],
        username: Some("u".into()),
        credential: Some("p".into()),
    }];
    let all = [
        Message::CallStart {
            route: route.clone(),
            msg: Some("1".into()),
        },
        Message::CallBack {
            route: route.clone(),
            msg: "0".into(),
            reason: Some(Reason::Busy),
        },
        Message::RingOffer {
            route: route.clone(),
            sdp: "v=0\r\n".into(),
        },
        Message::Offer {
            route: route.clone(),
            sdp: "v=0\r\n".into(),
        },
        Message::Answer {
            route: route.clone(),
            sdp: "v=0\r\n".into(),
        },
        Message::Ice {
            route: route.clone(),
            ice_candidate: IceCandidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
            },
        },
        Message::Hangup {
            route: route.clone(),
            msg: Some("bye".into()),
            reason: Some(Reason::HungUp),
        },
        Message::Welcome {
            route: route.clone(),
            user: "alice".into(),
            ice_servers: ice_servers.clone(),
            ice_transport_policy: IcePolicy::Relay,
            ring_timeout_secs: 30,
            connect_timeout_secs: Some(20),
            resume: Some("secret".into()),
            resumed: true,
            max_chat_chars: Some(4000),
            max_message_bytes: Some(65536),
        },
        Message::IceServers {
            route: route.clone(),
            ice_servers,
        },
        Message::Ringing {
            route: route.clone(),
        },
        Message::Error {
            route: route.clone(),
            code: ErrorCode::TooLong,
            msg: "too long".into(),
            id: Some("c1".into()),
        },
        Message::Sync {
            route: route.clone(),
        },
        Message::Presence {
            route: route.clone(),
            users: vec![PresenceEntry {
                user: name("bob"),
                state: Presence::InCall,
            }],
            full: true,
        },
        Message::Conversations {
            route: route.clone(),
            conversations: vec![ConversationSummary {
                conversation: conversation.clone(),
                members: vec![name("alice"), name("bob")],
                unread: 2,
                last_id: Some(7),
            }],
        },
        Message::ChatSend {
            route: route.clone(),
            id: "c1".into(),
            conversation: Conversation::User(name("bob")),
            text: "hi".into(),
        },
        Message::ChatAck {
            route: route.clone(),
            id: "c7".into(),
            message: message.clone(),
        },
        Message::Chat {
            route: route.clone(),
            messages: vec![message.clone()],
        },
        Message::ChatReceived {
            route: route.clone(),
            ids: vec![1, 2],
        },
        Message::ChatDelivered {
            route: route.clone(),
            ids: vec![3],
        },
        Message::ChatRead {
            route: route.clone(),
            conversation: conversation.clone(),
            upto: 7,
        },
        Message::History {
            route: route.clone(),
            conversation: conversation.clone(),
            before: Some(9),
            limit: Some(50),
        },
        Message::HistoryPage {
            route: route.clone(),
            conversation: conversation.clone(),
            messages: vec![message],
            more: true,
        },
        Message::GroupCreate {
            route: route.clone(),
            group: group.clone(),
            members: vec![name("bob")],
        },
        Message::GroupAdd {
            route: route.clone(),
            group: group.clone(),
            members: vec![name("carol")],
        },
        Message::Group {
            route,
            group,
            members: vec![name("alice"), name("bob")],
        },
    ];
    assert_eq!(all.len(), KNOWN_TYPES.len(), "a variant is missing here");
    for msg in all {
        assert_eq!(decode(&msg.to_json()), Ok(msg.clone()), "{}", msg.kind());
    }
}

#[test]
fn a_missing_field_is_named() {
    let err = decode(r#"{"type":"offer","toUser":"bob"}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `sdp`"), "{err}");
    let err = decode(r#"{"type":"welcome","user":"a","iceServers":[]}"#).unwrap_err();
    assert!(
        err.to_string().contains("missing field `ringTimeoutSecs`"),
        "{err}"
    );
    // Absent and null are the same; unknown fields are ignored.
    let msg = decode(r#"{"type":"hangup","msg":null,"future":{"x":1}}"#).unwrap();
    assert_eq!(
        msg,
        Message::Hangup {
            route: Route::default(),
            msg: None,
            reason: None
        }
    );
}
