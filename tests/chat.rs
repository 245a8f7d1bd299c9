//! Chat and presence, end to end: each test starts the real router on `127.0.0.1:0` with a
//! SQLite file in a data directory of its own and drives it with WebSocket clients, as chat
//! pages do (a page turns chat on with `sync`; an original page never does). Together they
//! show that presence follows sign-ins, sign-outs and calls; that a message is acknowledged
//! once stored, reaches its recipient live or at their next sync, in order, and survives a
//! restart; that history pages cleanly; that groups and their membership hold; that a resent
//! message is stored once; that the limits refuse without storing; and that a ring that
//! did not become a call is a line in both people's conversation.

mod common;

use common::{
    Client, QUIET_MS, WAIT, in_call, open_database, ring, start, start_stoppable, test_settings,
};
use duet::protocol::{
    ChatKind, ChatMessage, Conversation, ConversationSummary, DECLINE, Delivery, ErrorCode,
    GroupName, Message, Presence, PresenceEntry, Reason, SYSTEM_USER, UserName,
};
use duet::server::Settings;
use serde_json::json;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as Frame;

fn name(raw: &str) -> UserName {
    UserName::parse(raw).expect("a valid test name")
}

/// The one-to-one conversation with `other`, as the reader names it.
fn with(other: &str) -> Conversation {
    Conversation::User(name(other))
}

fn group(raw: &str) -> Conversation {
    Conversation::Group(GroupName::parse(raw).expect("a valid test group"))
}

fn entry(user: &str, state: Presence) -> PresenceEntry {
    PresenceEntry {
        user: name(user),
        state,
    }
}

/// A full presence list in name order (the server sends it in no particular order).
fn by_name(mut list: Vec<PresenceEntry>) -> Vec<PresenceEntry> {
    list.sort_by(|a, b| a.user.cmp(&b.user));
    list
}

/// Test settings with a rate limit and a send queue that bursts of messages stay under.
fn roomy_settings() -> Settings {
    Settings {
        chat_rate_per_sec: 1000,
        chat_burst: 1000,
        send_queue: 256,
        ..test_settings()
    }
}

/// What a page learns when it turns chat on.
struct Synced {
    /// The full presence list.
    presence: Vec<PresenceEntry>,
    conversations: Vec<ConversationSummary>,
    /// Every message in the `chat` frames that came before the socket fell quiet.
    messages: Vec<ChatMessage>,
}

/// Sends `sync` and reads its answer: the full presence list, the conversations, and the
/// backlog (everything until the socket is quiet). Presence changes on the way are skipped.
async fn sync(client: &mut Client) -> Synced {
    client.send_json(json!({"type": "sync"})).await;
    let mut presence = None;
    let mut messages = Vec::new();
    let conversations = loop {
        match client.recv().await {
            Message::Presence {
                users, full: true, ..
            } => presence = Some(users),
            Message::Presence { .. } => {}
            Message::Chat { messages: m, .. } => messages.extend(m),
            Message::Conversations { conversations, .. } => break conversations,
            other => panic!("{}: unexpected answer to sync: {other:?}", client.name),
        }
    };
    let presence = presence.unwrap_or_else(|| {
        panic!(
            "{}: the full presence list comes before the conversations",
            client.name
        )
    });
    for msg in client.drain(QUIET_MS).await {
        match msg {
            Message::Chat { messages: m, .. } => messages.extend(m),
            Message::Presence { full: false, .. } => {}
            other => panic!("{}: unexpected frame after sync: {other:?}", client.name),
        }
    }
    Synced {
        presence,
        conversations,
        messages,
    }
}

/// Connects `name` as a chat page: [`Client::connect`], then [`sync`].
async fn sync_client(addr: SocketAddr, name: &str) -> (Client, Synced) {
    let mut client = Client::connect(addr, name).await;
    let synced = sync(&mut client).await;
    (client, synced)
}

/// The next frame that is not a presence change.
async fn next_skipping_presence(client: &mut Client) -> Message {
    loop {
        match client.recv().await {
            Message::Presence { full: false, .. } => continue,
            other => return other,
        }
    }
}

/// The next frame must be a presence change saying `user` is now `state`.
async fn expect_presence(client: &mut Client, user: &str, state: Presence) {
    match client.recv().await {
        Message::Presence {
            users, full: false, ..
        } => assert_eq!(
            users,
            vec![entry(user, state)],
            "{}: presence change",
            client.name
        ),
        other => panic!(
            "{}: expected presence {user} {state:?}, got {other:?}",
            client.name
        ),
    }
}

/// Asserts that nothing but presence changes arrives for [`QUIET_MS`].
async fn expect_only_presence(client: &mut Client) {
    for msg in client.drain(QUIET_MS).await {
        assert!(
            matches!(msg, Message::Presence { full: false, .. }),
            "{}: expected nothing but presence changes, got {msg:?}",
            client.name
        );
    }
}

async fn send_chat(client: &mut Client, id: &str, conversation: &Conversation, text: &str) {
    client
        .send_json(
            json!({"type": "chat_send", "id": id, "conversation": conversation, "text": text}),
        )
        .await;
}

/// The next frame (presence aside) must acknowledge client id `id`; returns the stored message.
async fn expect_ack(client: &mut Client, id: &str) -> ChatMessage {
    match next_skipping_presence(client).await {
        Message::ChatAck {
            id: got, message, ..
        } => {
            assert_eq!(got, id, "{}: chat_ack id", client.name);
            assert_eq!(
                message.client_id.as_deref(),
                Some(id),
                "{}: the stored message keeps its client id",
                client.name
            );
            assert_eq!(message.from.as_str(), client.name, "acked message's sender");
            message
        }
        other => panic!("{}: expected chat_ack for {id}, got {other:?}", client.name),
    }
}

/// Sends a message and waits for its acknowledgement.
async fn sent(
    client: &mut Client,
    id: &str,
    conversation: &Conversation,
    text: &str,
) -> ChatMessage {
    send_chat(client, id, conversation, text).await;
    expect_ack(client, id).await
}

/// The next frame (presence aside) must be a `chat`; returns its messages.
async fn expect_chat(client: &mut Client) -> Vec<ChatMessage> {
    match next_skipping_presence(client).await {
        Message::Chat { route, messages } => {
            assert_eq!(route.to_user.as_deref(), Some(client.name.as_str()));
            assert!(!messages.is_empty(), "{}: an empty chat frame", client.name);
            messages
        }
        other => panic!("{}: expected chat, got {other:?}", client.name),
    }
}

/// The next frame (presence aside) must be an `error` with `code` and client id `id`.
async fn expect_chat_error(client: &mut Client, code: ErrorCode, id: Option<&str>) -> String {
    match next_skipping_presence(client).await {
        Message::Error {
            route,
            code: got,
            msg,
            id: got_id,
        } => {
            assert_eq!(got, code, "{}: error code (msg {msg:?})", client.name);
            assert_eq!(
                got_id.as_deref(),
                id,
                "{}: error id (msg {msg:?})",
                client.name
            );
            assert_eq!(route.from_user.as_deref(), Some(SYSTEM_USER));
            assert!(!msg.is_empty(), "{}: an error says why", client.name);
            msg
        }
        other => panic!("{}: expected error {code:?}, got {other:?}", client.name),
    }
}

/// One page of `conversation`'s history, newest first, and whether there is more.
async fn history(
    client: &mut Client,
    conversation: &Conversation,
    before: Option<i64>,
    limit: u32,
) -> (Vec<ChatMessage>, bool) {
    let mut frame = json!({"type": "history", "conversation": conversation, "limit": limit});
    if let Some(before) = before {
        frame["before"] = json!(before);
    }
    client.send_json(frame).await;
    match next_skipping_presence(client).await {
        Message::HistoryPage {
            conversation: got,
            messages,
            more,
            ..
        } => {
            assert_eq!(
                &got, conversation,
                "{}: history_page conversation",
                client.name
            );
            (messages, more)
        }
        other => panic!("{}: expected history_page, got {other:?}", client.name),
    }
}

/// Every text message of `conversation` this client can read, newest first.
async fn all_history(client: &mut Client, conversation: &Conversation) -> Vec<ChatMessage> {
    let (messages, more) = history(client, conversation, None, 100).await;
    assert!(!more, "the tests' conversations fit one page");
    messages
}

/// Rows in the `messages` table with this sender and client id.
fn stored_count(settings: &Settings, sender: &str, client_id: &str) -> i64 {
    open_database(settings)
        .query_row(
            "SELECT COUNT(*) FROM messages WHERE sender = ?1 AND client_id = ?2",
            [sender, client_id],
            |r| r.get(0),
        )
        .expect("count messages")
}

fn total_messages(settings: &Settings) -> i64 {
    open_database(settings)
        .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
        .expect("count messages")
}

/// A missed-call line from `caller` for `reason`, as `reader` sees it.
fn assert_missed_call(line: &ChatMessage, caller: &str, other: &str, reason: Reason) {
    assert_eq!(
        line.kind,
        ChatKind::MissedCall,
        "a missed-call line: {line:?}"
    );
    assert_eq!(line.from.as_str(), caller, "the caller: {line:?}");
    assert_eq!(line.reason, Some(reason), "why: {line:?}");
    assert_eq!(line.conversation, with(other), "in the pair's conversation");
    assert_eq!(
        line.client_id, None,
        "the server's own line has no client id"
    );
}

#[tokio::test]
async fn presence_follows_sign_ins_sign_outs_and_calls() {
    let addr = start(test_settings()).await;
    let (mut alice, synced) = sync_client(addr, "alice").await;
    assert_eq!(synced.presence, vec![entry("alice", Presence::Available)]);
    assert!(synced.conversations.is_empty() && synced.messages.is_empty());

    let (mut bob, synced) = sync_client(addr, "bob").await;
    let both = vec![
        entry("alice", Presence::Available),
        entry("bob", Presence::Available),
    ];
    assert_eq!(by_name(synced.presence), both, "bob's full list");
    expect_presence(&mut alice, "bob", Presence::Available).await;

    // An original page: online for everyone, but it never asks for chat.
    let mut carol = Client::connect(addr, "carol").await;
    expect_presence(&mut alice, "carol", Presence::Available).await;
    expect_presence(&mut bob, "carol", Presence::Available).await;

    in_call(&mut alice, &mut bob).await;
    expect_presence(&mut alice, "bob", Presence::InCall).await;
    expect_presence(&mut bob, "alice", Presence::InCall).await;
    alice.hangup("bob").await;
    bob.expect_hangup("alice", Reason::HungUp).await;
    expect_presence(&mut alice, "bob", Presence::Available).await;
    expect_presence(&mut bob, "alice", Presence::Available).await;
    carol.expect_silence(QUIET_MS).await;

    bob.close().await;
    expect_presence(&mut alice, "bob", Presence::Offline).await;

    // carol is listed, and nothing of chat reaches her page: neither a message nor the
    // missed call of a declined ring. Her call traffic does.
    let listed = by_name(sync(&mut alice).await.presence);
    let expected = vec![
        entry("alice", Presence::Available),
        entry("carol", Presence::Available),
    ];
    assert_eq!(listed, expected, "alice's full list after bob left");
    sent(&mut alice, "to-carol", &with("carol"), "can you see this?").await;
    ring(&mut alice, &mut carol).await;
    carol.call_back("alice", DECLINE).await;
    alice
        .expect_call_back("carol", Some(Reason::Declined))
        .await;
    let line = expect_chat(&mut alice).await;
    assert_missed_call(&line[0], "alice", "carol", Reason::Declined);
    carol.expect_silence(QUIET_MS).await;
    alice.expect_silence(QUIET_MS).await;
}

#[tokio::test]
async fn a_message_reaches_its_online_recipient_and_comes_back_delivered() {
    let addr = start(test_settings()).await;
    let (mut alice, _) = sync_client(addr, "alice").await;
    let (mut bob, _) = sync_client(addr, "bob").await;

    let acked = sent(&mut alice, "m-1", &with("bob"), "hello 👋").await;
    assert!(acked.id > 0, "a server id: {acked:?}");
    assert_eq!(acked.state, Delivery::Sent);
    assert_eq!(acked.conversation, with("bob"), "alice's name for it");
    assert_eq!(
        (acked.kind, acked.text.as_str()),
        (ChatKind::Text, "hello 👋")
    );

    let got = expect_chat(&mut bob).await;
    assert_eq!(got.len(), 1, "one message: {got:?}");
    let got = &got[0];
    assert_eq!(got.id, acked.id, "the same server id");
    assert_eq!(got.text, "hello 👋");
    assert_eq!(got.from.as_str(), "alice");
    assert_eq!(got.conversation, with("alice"), "bob's name for it");
    assert_eq!(got.client_id.as_deref(), Some("m-1"));

    bob.send_json(json!({"type": "chat_received", "ids": [got.id]}))
        .await;
    match next_skipping_presence(&mut alice).await {
        Message::ChatDelivered { ids, .. } => assert_eq!(ids, vec![acked.id]),
        other => panic!("alice: expected chat_delivered, got {other:?}"),
    }
    for (client, other) in [(&mut alice, "bob"), (&mut bob, "alice")] {
        let lines = all_history(client, &with(other)).await;
        assert_eq!(lines.len(), 1, "{}: {lines:?}", client.name);
        assert_eq!(lines[0].id, acked.id);
        assert_eq!(
            lines[0].state,
            Delivery::Delivered,
            "{}: history",
            client.name
        );
    }
    alice.expect_silence(QUIET_MS).await;
    bob.expect_silence(QUIET_MS).await;
}

#[tokio::test]
async fn messages_for_an_offline_user_wait_for_their_sync_in_order() {
    let addr = start(test_settings()).await;
    let (mut alice, _) = sync_client(addr, "alice").await;
    let mut acked = Vec::new();
    for (i, text) in ["one", "two", "three"].into_iter().enumerate() {
        acked.push(sent(&mut alice, &format!("o-{i}"), &with("bob"), text).await);
    }
    let ids: Vec<i64> = acked.iter().map(|m| m.id).collect();
    assert!(ids.is_sorted(), "server ids grow in sending order: {ids:?}");

    let (mut bob, synced) = sync_client(addr, "bob").await;
    let got: Vec<(i64, &str)> = synced
        .messages
        .iter()
        .map(|m| (m.id, m.text.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![(ids[0], "one"), (ids[1], "two"), (ids[2], "three")],
        "bob's backlog, oldest first"
    );
    assert_eq!(synced.conversations.len(), 1, "{:?}", synced.conversations);
    let summary = &synced.conversations[0];
    assert_eq!(summary.conversation, with("alice"));
    assert_eq!(summary.unread, 3, "three unread from alice");
    assert_eq!(summary.last_id, Some(ids[2]));

    bob.send_json(json!({"type": "chat_received", "ids": ids}))
        .await;
    match next_skipping_presence(&mut alice).await {
        Message::ChatDelivered { ids: got, .. } => assert_eq!(got, ids, "all three delivered"),
        other => panic!("alice: expected chat_delivered, got {other:?}"),
    }

    // Received is not read: the next page gets no backlog, but the count stays.
    bob.close().await;
    let (mut bob, synced) = sync_client(addr, "bob").await;
    assert!(
        synced.messages.is_empty(),
        "sent again: {:?}",
        synced.messages
    );
    assert_eq!(synced.conversations[0].unread, 3);

    bob.send_json(json!({"type": "chat_read", "conversation": with("alice"), "upto": ids[2]}))
        .await;
    let synced = sync(&mut bob).await;
    assert_eq!(synced.conversations[0].unread, 0, "read up to the last");
    assert!(synced.messages.is_empty());
}

#[tokio::test]
async fn history_pages_go_back_without_gaps_or_overlap() {
    let addr = start(roomy_settings()).await;
    let (mut alice, _) = sync_client(addr, "alice").await;
    let mut ids = Vec::new();
    for i in 0..45 {
        ids.push(
            sent(
                &mut alice,
                &format!("h-{i}"),
                &with("bob"),
                &format!("line {i}"),
            )
            .await
            .id,
        );
    }
    let newest_first: Vec<i64> = ids.iter().rev().copied().collect();

    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let (page, more) = history(&mut alice, &with("bob"), before, 20).await;
        let page: Vec<i64> = page.iter().map(|m| m.id).collect();
        assert!(
            page.windows(2).all(|w| w[0] > w[1]),
            "each page newest first: {page:?}"
        );
        before = page.last().copied();
        pages.push((page, more));
        if !more || pages.len() > 3 {
            break;
        }
    }
    let shape: Vec<(usize, bool)> = pages.iter().map(|(p, more)| (p.len(), *more)).collect();
    assert_eq!(
        shape,
        vec![(20, true), (20, true), (5, false)],
        "page sizes"
    );
    let joined: Vec<i64> = pages.into_iter().flat_map(|(p, _)| p).collect();
    assert_eq!(
        joined, newest_first,
        "the pages together are every message once"
    );
}

#[tokio::test]
async fn a_group_reaches_every_member_and_no_one_else() {
    let settings = test_settings();
    let addr = start(settings.clone()).await;
    let (mut alice, _) = sync_client(addr, "alice").await;
    let (mut bob, _) = sync_client(addr, "bob").await;
    let (mut dave, _) = sync_client(addr, "dave").await;
    let team = group("the team");

    alice
        .send_json(
            json!({"type": "group_create", "group": "the team", "members": ["bob", "carol"]}),
        )
        .await;
    let everyone = vec![name("alice"), name("bob"), name("carol")];
    for client in [&mut alice, &mut bob] {
        match next_skipping_presence(client).await {
            Message::Group { group, members, .. } => {
                assert_eq!(group.as_str(), "the team");
                assert_eq!(members, everyone, "{}: the members", client.name);
            }
            other => panic!("{}: expected group, got {other:?}", client.name),
        }
    }

    // carol is offline when alice writes.
    let hello = sent(&mut alice, "g-1", &team, "hello team").await;
    assert_eq!(hello.conversation, team);
    let got = expect_chat(&mut bob).await;
    assert_eq!(
        (got[0].id, got[0].conversation.clone()),
        (hello.id, team.clone())
    );
    let (mut carol, synced) = sync_client(addr, "carol").await;
    let backlog: Vec<i64> = synced.messages.iter().map(|m| m.id).collect();
    assert_eq!(backlog, vec![hello.id], "carol's backlog");
    let listed = synced
        .conversations
        .iter()
        .find(|c| c.conversation == team)
        .expect("carol's conversations list the group");
    assert_eq!(listed.members, everyone);

    // dave is not a member: he can neither write, read nor add himself.
    send_chat(&mut dave, "d-1", &team, "let me in").await;
    expect_chat_error(&mut dave, ErrorCode::NotMember, Some("d-1")).await;
    dave.send_json(json!({"type": "history", "conversation": team}))
        .await;
    expect_chat_error(&mut dave, ErrorCode::NotMember, None).await;
    dave.send_json(json!({"type": "group_add", "group": "the team", "members": ["dave"]}))
        .await;
    expect_chat_error(&mut dave, ErrorCode::NotMember, None).await;
    dave.send_json(json!({"type": "group_create", "group": "the team", "members": []}))
        .await;
    expect_chat_error(&mut dave, ErrorCode::GroupExists, None).await;

    assert_eq!(
        stored_count(&settings, "dave", "d-1"),
        0,
        "dave's line stored"
    );
    let lines: Vec<i64> = all_history(&mut carol, &team)
        .await
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(lines, vec![hello.id], "the group's history");
    expect_only_presence(&mut alice).await;
    expect_only_presence(&mut bob).await;
    expect_only_presence(&mut dave).await;
}

#[tokio::test]
async fn a_resent_message_is_stored_and_shown_once() {
    let settings = test_settings();
    let addr = start(settings.clone()).await;
    let (mut alice, _) = sync_client(addr, "alice").await;
    let (mut bob, _) = sync_client(addr, "bob").await;

    let first = sent(&mut alice, "same-1", &with("bob"), "only once").await;
    let got = expect_chat(&mut bob).await;
    assert_eq!(got[0].id, first.id);
    // bob's page confirms it, as a page does for every message.
    bob.send_json(json!({"type": "chat_received", "ids": [first.id]}))
        .await;
    assert!(matches!(
        next_skipping_presence(&mut alice).await,
        Message::ChatDelivered { .. }
    ));

    let again = sent(&mut alice, "same-1", &with("bob"), "only once").await;
    assert_eq!(
        again.id, first.id,
        "the repeat's ack names the stored message"
    );
    alice.close().await;
    let (mut alice, _) = sync_client(addr, "alice").await;
    let after_reconnect = sent(&mut alice, "same-1", &with("bob"), "only once").await;
    assert_eq!(after_reconnect.id, first.id, "also from a new socket");

    expect_only_presence(&mut bob).await;
    let lines = all_history(&mut alice, &with("bob")).await;
    assert_eq!(lines.len(), 1, "history: {lines:?}");
    assert_eq!(stored_count(&settings, "alice", "same-1"), 1);

    // Repeats for someone offline: their backlog has the message once.
    let a = sent(&mut alice, "same-2", &with("carol"), "for carol").await;
    let b = sent(&mut alice, "same-2", &with("carol"), "for carol").await;
    assert_eq!(a.id, b.id);
    let (_carol, synced) = sync_client(addr, "carol").await;
    let backlog: Vec<i64> = synced.messages.iter().map(|m| m.id).collect();
    assert_eq!(backlog, vec![a.id], "carol's backlog");
}

#[tokio::test]
async fn an_acknowledged_message_survives_a_restart() {
    let settings = test_settings();
    let server = start_stoppable(settings.clone()).await;
    let (mut alice, _) = sync_client(server.addr, "alice").await;
    let acked = sent(&mut alice, "r-1", &with("bob"), "still there?").await;
    alice.close().await;
    server.stop().await;

    let server = start_stoppable(settings).await;
    let (_bob, synced) = sync_client(server.addr, "bob").await;
    assert_eq!(
        synced.messages.len(),
        1,
        "bob's backlog: {:?}",
        synced.messages
    );
    let got = &synced.messages[0];
    assert_eq!((got.id, got.text.as_str()), (acked.id, "still there?"));
    assert_eq!(got.from.as_str(), "alice");
}

#[tokio::test]
async fn refused_messages_are_answered_and_not_stored() {
    let settings = Settings {
        max_chat_chars: 50,
        ..roomy_settings()
    };
    let addr = start(settings.clone()).await;
    let (mut alice, _) = sync_client(addr, "alice").await;
    let (mut bob, _) = sync_client(addr, "bob").await;

    // Characters, not bytes: each of these three is 4, 3 and 2 bytes long.
    let too_long = "😀张é".repeat(17);
    assert_eq!(too_long.chars().count(), 51);
    send_chat(&mut alice, "long-1", &with("bob"), &too_long).await;
    expect_chat_error(&mut alice, ErrorCode::TooLong, Some("long-1")).await;
    let longest = format!("{}ab", "😀张é".repeat(16));
    assert_eq!(longest.chars().count(), 50);
    let kept = sent(&mut alice, "long-2", &with("bob"), &longest).await;
    assert_eq!(kept.text, longest);

    for (id, text) in [("empty-1", ""), ("blank-1", " \n\t ")] {
        send_chat(&mut alice, id, &with("bob"), text).await;
        expect_chat_error(&mut alice, ErrorCode::BadMessage, Some(id)).await;
    }
    let long_id = "x".repeat(65);
    for bad_id in ["", "has space", "ünï", long_id.as_str()] {
        send_chat(&mut alice, bad_id, &with("bob"), "hi").await;
        expect_chat_error(&mut alice, ErrorCode::BadMessage, None).await;
    }
    send_chat(&mut alice, "self-1", &with("alice"), "note to self").await;
    expect_chat_error(&mut alice, ErrorCode::BadMessage, Some("self-1")).await;
    alice
        .send_json(json!({"type": "chat_send", "id": "room-1", "conversation": {"room": "x"}, "text": "hi"}))
        .await;
    expect_chat_error(&mut alice, ErrorCode::BadMessage, None).await;
    // The socket goes on.
    let after = sent(&mut alice, "after-1", &with("bob"), "still here").await;

    let got: Vec<i64> = [expect_chat(&mut bob).await, expect_chat(&mut bob).await]
        .concat()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(got, vec![kept.id, after.id], "bob gets the accepted two");
    bob.expect_silence(QUIET_MS).await;
    assert_eq!(
        total_messages(&settings),
        2,
        "only the accepted two are stored"
    );
}

#[tokio::test]
async fn the_rate_limit_holds_back_one_socket_only() {
    let settings = Settings {
        chat_rate_per_sec: 5,
        chat_burst: 5,
        send_queue: 256,
        ..test_settings()
    };
    let addr = start(settings.clone()).await;
    let (mut alice, _) = sync_client(addr, "alice").await;
    let (mut carol, _) = sync_client(addr, "carol").await;
    let (mut bob, _) = sync_client(addr, "bob").await;

    // alice floods; carol writes at her usual pace, at the same time.
    let flood: Vec<String> = (0..20).map(|i| format!("f-{i:02}")).collect();
    for (i, id) in flood.iter().enumerate() {
        send_chat(&mut alice, id, &with("bob"), "flood").await;
        if i % 4 == 0 {
            send_chat(&mut carol, &format!("c-{i:02}"), &with("bob"), "calm").await;
        }
    }
    let mut acked = BTreeSet::new();
    let mut limited = BTreeSet::new();
    for _ in &flood {
        match next_skipping_presence(&mut alice).await {
            Message::ChatAck { id, .. } => assert!(acked.insert(id)),
            Message::Error {
                code: ErrorCode::RateLimited,
                id: Some(id),
                ..
            } => assert!(limited.insert(id)),
            other => panic!("alice: expected chat_ack or rate_limited, got {other:?}"),
        }
    }
    let answered: Vec<String> = acked.union(&limited).cloned().collect();
    assert_eq!(answered, flood, "each flood message answered once");
    assert!(acked.len() >= 5, "at least the burst is stored: {acked:?}");
    assert!(!limited.is_empty(), "the flood is held back");
    for i in (0..20).step_by(4) {
        expect_ack(&mut carol, &format!("c-{i:02}")).await;
    }

    for id in &acked {
        assert_eq!(stored_count(&settings, "alice", id), 1, "{id} stored once");
    }
    for id in &limited {
        assert_eq!(
            stored_count(&settings, "alice", id),
            0,
            "{id} refused but stored"
        );
    }
    let mut got = BTreeSet::new();
    for msg in bob.drain(QUIET_MS).await {
        if let Message::Chat { messages, .. } = msg {
            got.extend(
                messages
                    .into_iter()
                    .map(|m| (m.from.to_string(), m.client_id.unwrap())),
            );
        }
    }
    let expected: BTreeSet<(String, String)> = acked
        .iter()
        .map(|id| ("alice".to_owned(), id.clone()))
        .chain(
            (0..20)
                .step_by(4)
                .map(|i| ("carol".to_owned(), format!("c-{i:02}"))),
        )
        .collect();
    assert_eq!(got, expected, "bob gets exactly the acknowledged messages");
}

#[tokio::test]
async fn a_call_to_someone_offline_is_a_missed_call_on_both_pages() {
    let addr = start(test_settings()).await;
    let (mut alice, _) = sync_client(addr, "alice").await;
    alice.call("bob").await;
    alice
        .expect_call_back(SYSTEM_USER, Some(Reason::Offline))
        .await;
    let live = expect_chat(&mut alice).await;
    assert_eq!(live.len(), 1);
    assert_missed_call(&live[0], "alice", "bob", Reason::Offline);

    let (_bob, synced) = sync_client(addr, "bob").await;
    assert_eq!(
        synced.messages.len(),
        1,
        "bob's backlog: {:?}",
        synced.messages
    );
    assert_eq!(synced.messages[0].id, live[0].id, "the same line");
    assert_missed_call(&synced.messages[0], "alice", "alice", Reason::Offline);
}

/// Two chat pages, alice and bob; alice rings bob.
async fn ringing_pair(addr: SocketAddr) -> (Client, Client) {
    let (mut alice, _) = sync_client(addr, "alice").await;
    let (mut bob, _) = sync_client(addr, "bob").await;
    expect_presence(&mut alice, "bob", Presence::Available).await;
    ring(&mut alice, &mut bob).await;
    (alice, bob)
}

/// Both pages get the same missed-call line from alice for `reason`.
async fn expect_missed_on_both(alice: &mut Client, bob: &mut Client, reason: Reason) {
    let mine = expect_chat(alice).await;
    assert_missed_call(&mine[0], "alice", "bob", reason);
    let theirs = expect_chat(bob).await;
    assert_missed_call(&theirs[0], "alice", "alice", reason);
    assert_eq!(mine[0].id, theirs[0].id, "one stored line");
    alice.expect_silence(QUIET_MS).await;
    bob.expect_silence(QUIET_MS).await;
}

#[tokio::test]
async fn a_declined_ring_is_a_missed_call_on_both_pages() {
    let addr = start(test_settings()).await;
    let (mut alice, mut bob) = ringing_pair(addr).await;
    bob.call_back("alice", DECLINE).await;
    alice.expect_call_back("bob", Some(Reason::Declined)).await;
    expect_missed_on_both(&mut alice, &mut bob, Reason::Declined).await;
}

#[tokio::test]
async fn an_unanswered_ring_is_a_missed_call_on_both_pages() {
    let addr = start(test_settings()).await;
    let (mut alice, mut bob) = ringing_pair(addr).await;
    let late = WAIT + Duration::from_secs(1);
    alice
        .expect_call_back_within(SYSTEM_USER, Some(Reason::Timeout), late)
        .await;
    bob.expect_hangup_within(SYSTEM_USER, Reason::Timeout, late)
        .await;
    expect_missed_on_both(&mut alice, &mut bob, Reason::Timeout).await;
}

#[tokio::test]
async fn a_page_that_stops_reading_its_catch_up_is_disconnected() {
    // Enough backlog (16 MB) to fill the socket's queue and loopback's TCP buffers.
    const MESSAGES: usize = 4000;
    let settings = Settings {
        heartbeat_secs: 1,
        send_queue: 4,
        max_message_bytes: 64 * 1024,
        chat_rate_per_sec: 1_000_000,
        chat_burst: 1_000_000,
        ..test_settings()
    };
    let addr = start(settings).await;
    let (mut alice, _) = sync_client(addr, "alice").await;
    let text = "x".repeat(4000);
    for batch in 0..MESSAGES / 100 {
        for i in 0..100 {
            send_chat(&mut alice, &format!("m{batch}-{i}"), &with("bob"), &text).await;
        }
        for i in 0..100 {
            expect_ack(&mut alice, &format!("m{batch}-{i}")).await;
        }
    }

    // Nobody else is online to send him anything (a frame for a full queue also ends him).
    alice.close().await;

    // bob asks for everything and then never reads a byte, while he keeps talking (pings),
    // so it is not the silent-socket rule that ends him.
    let mut stuck = Client::open(addr, "bob").await;
    stuck.send_json(json!({"type": "sync"})).await;

    // The server gives up on him after three heartbeats of a full queue, which frees his
    // name: a new page of his is welcomed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        // Once he is disconnected, this fails; that is the point.
        stuck.try_send_frame(Frame::Ping(Default::default())).await;
        let mut again = Client::open(addr, "bob").await;
        match again.recv().await {
            Message::Welcome { .. } => break,
            Message::Error {
                code: ErrorCode::NameInUse,
                ..
            } => {}
            other => panic!("bob's second page: unexpected {other:?}"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "bob's stuck page still holds his name after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(stuck);
}
