//! Chat's bounds, end to end against the real router and its SQLite file: groups are
//! capped in members and per person (chat_scale.rs times announcing one); no history
//! page, catch-up or conversation list is one huge frame; a confirmation is bounded; what
//! waits for a page expires and is capped per recipient; the database is private to its
//! owner; and a row that no longer reads is left out rather than failing someone's whole
//! history.

mod common;

use common::chat::{chat_page, create_group, expect_group, names, next_sized, roomy};
use common::{Client, open_database, scratch_dir, start, start_stoppable};
use duet::protocol::{ChatMessage, Conversation, Delivery, ErrorCode, Message, UserName};
use duet::server::Settings;
use duet::server::chat::frames::FRAME_BUDGET;
use serde_json::json;

fn with(other: &str) -> Conversation {
    Conversation::User(UserName::parse(other).unwrap())
}

/// The messages of the `chat` frames in a sync's answer, each frame checked against the
/// budget.
fn backlog(name: &str, answer: &[(usize, Message)]) -> Vec<ChatMessage> {
    let mut messages = Vec::new();
    for (len, msg) in answer {
        match msg {
            Message::Chat { messages: m, .. } => {
                assert!(*len <= FRAME_BUDGET, "{name}: a chat frame of {len} bytes");
                messages.extend(m.iter().cloned());
            }
            Message::Conversations { .. } | Message::Group { .. } => {}
            other => panic!("{name}: unexpected in a sync's answer: {other:?}"),
        }
    }
    messages
}

async fn expect_error(client: &mut Client, code: ErrorCode) -> String {
    match next_sized(client).await.1 {
        Message::Error { code: got, msg, .. } if got == code => msg,
        other => {
            let other: String = format!("{other:?}").chars().take(300).collect();
            panic!("{}: expected error {code:?}, got {other}…", client.name)
        }
    }
}

async fn sent(client: &mut Client, id: &str, to: &Conversation, text: &str) -> ChatMessage {
    client
        .send_json(json!({"type": "chat_send", "id": id, "conversation": to, "text": text}))
        .await;
    match next_sized(client).await.1 {
        Message::ChatAck { message, .. } => message,
        other => panic!("{}: expected chat_ack for {id}, got {other:?}", client.name),
    }
}

/// One history page: its length on the wire, its messages and whether there is more.
async fn history_page(
    client: &mut Client,
    conversation: &Conversation,
    before: Option<i64>,
    limit: u32,
) -> (usize, Vec<ChatMessage>, bool) {
    let mut frame = json!({"type": "history", "conversation": conversation, "limit": limit});
    if let Some(before) = before {
        frame["before"] = json!(before);
    }
    client.send_json(frame).await;
    match next_sized(client).await {
        (len, Message::HistoryPage { messages, more, .. }) => (len, messages, more),
        (_, other) => panic!("{}: expected history_page, got {other:?}", client.name),
    }
}

/// Every page of `conversation`'s history, newest first, each checked against the budget.
async fn whole_history(client: &mut Client, conversation: &Conversation) -> Vec<ChatMessage> {
    let (mut all, mut before) = (Vec::new(), None);
    for _ in 0..50 {
        let (len, page, more) = history_page(client, conversation, before, 100).await;
        assert!(len <= FRAME_BUDGET, "a history page of {len} bytes");
        before = page.last().map(|m| m.id);
        all.extend(page);
        if !more {
            return all;
        }
    }
    panic!("{}: history without an end", client.name);
}

fn count(settings: &Settings, sql: &str) -> i64 {
    open_database(settings)
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn open_writable(settings: &Settings) -> rusqlite::Connection {
    rusqlite::Connection::open(settings.database()).expect("open the database to change it")
}

#[tokio::test]
async fn a_group_past_the_member_cap_is_refused_and_nothing_is_stored() {
    // The default cap: 100.
    let settings = roomy();
    let addr = start(settings.clone()).await;
    let (mut alice, _) = chat_page(addr, "alice").await;
    let crowd = names("u", 5000);

    create_group(&mut alice, "crowd", &crowd).await;
    let why = expect_error(&mut alice, ErrorCode::TooMany).await;
    assert!(why.contains("100"), "the refusal names the cap: {why}");
    let stored = count(
        &settings,
        "SELECT COUNT(*) FROM conversations WHERE name = 'crowd'",
    );
    assert_eq!(stored, 0, "the refused group was stored");
    assert_eq!(count(&settings, "SELECT COUNT(*) FROM members"), 0);

    // alice and 99 others, named twice and with alice among them: 100, the cap.
    let mut full = crowd[..99].to_vec();
    full.extend(crowd[..10].iter().cloned());
    full.push("alice".into());
    create_group(&mut alice, "full", &full).await;
    assert_eq!(expect_group(&mut alice, "full").await.len(), 100);

    alice
        .send_json(json!({"type": "group_add", "group": "full", "members": [crowd[99]]}))
        .await;
    expect_error(&mut alice, ErrorCode::TooMany).await;
    // Members already in: nothing new, so nothing past the cap.
    alice
        .send_json(json!({"type": "group_add", "group": "full", "members": &crowd[..5]}))
        .await;
    assert_eq!(expect_group(&mut alice, "full").await.len(), 100);
    assert_eq!(count(&settings, "SELECT COUNT(*) FROM members"), 100);
}

#[tokio::test]
async fn a_person_is_in_at_most_max_groups_per_user_groups() {
    let settings = Settings {
        max_groups_per_user: 2,
        ..roomy()
    };
    let addr = start(settings.clone()).await;
    let (mut alice, _) = chat_page(addr, "alice").await;
    let (mut carol, _) = chat_page(addr, "carol").await;
    for group in ["one", "two"] {
        create_group(&mut alice, group, &["bob".into()]).await;
        expect_group(&mut alice, group).await;
    }

    create_group(&mut alice, "three", &["dave".into()]).await;
    let why = expect_error(&mut alice, ErrorCode::TooMany).await;
    assert!(why.contains("alice") && why.contains('2'), "{why}");
    create_group(&mut carol, "four", &["bob".into(), "erin".into()]).await;
    let why = expect_error(&mut carol, ErrorCode::TooMany).await;
    assert!(why.contains("bob"), "the refusal names who is full: {why}");
    create_group(&mut carol, "five", &["dave".into()]).await;
    expect_group(&mut carol, "five").await;
    carol
        .send_json(json!({"type": "group_add", "group": "five", "members": ["bob"]}))
        .await;
    expect_error(&mut carol, ErrorCode::TooMany).await;

    let listed: String = open_database(&settings)
        .query_row(
            "SELECT group_concat(name, ',') FROM (SELECT name FROM conversations ORDER BY name)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(listed, "five,one,two", "only the groups within the caps");
    assert_eq!(
        count(&settings, "SELECT COUNT(*) FROM members WHERE user = 'bob'"),
        2
    );
}

#[tokio::test]
async fn a_history_page_is_at_most_one_frame_budget() {
    let settings = roomy();
    let addr = start(settings).await;
    let (mut alice, _) = chat_page(addr, "alice").await;
    let long = "x".repeat(4000);
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(
            sent(&mut alice, &format!("long-{i}"), &with("bob"), &long)
                .await
                .id,
        );
    }

    let (len, page, more) = history_page(&mut alice, &with("bob"), None, 30).await;
    assert!(len <= FRAME_BUDGET, "a page of {len} bytes");
    assert!(more, "a page cut short says there is more");
    assert!(
        (10..30).contains(&page.len()),
        "{} messages of 4000 characters in a page",
        page.len()
    );
    let newest_first: Vec<i64> = ids.iter().rev().copied().collect();
    let got: Vec<i64> = whole_history(&mut alice, &with("bob"))
        .await
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(
        got, newest_first,
        "the pages together hold every message once"
    );
}

#[tokio::test]
async fn a_catch_up_comes_in_frames_of_at_most_the_budget() {
    let settings = roomy();
    let addr = start(settings).await;
    let (mut alice, _) = chat_page(addr, "alice").await;
    let long = "y".repeat(4000);
    // Long and short, and more than the server reads from the database at once.
    let mut ids = Vec::new();
    for i in 0..150 {
        let text = if i % 5 == 0 { long.as_str() } else { "short" };
        ids.push(
            sent(&mut alice, &format!("c-{i}"), &with("bob"), text)
                .await
                .id,
        );
    }

    let (_bob, answer) = chat_page(addr, "bob").await;
    let got: Vec<i64> = backlog("bob", &answer).iter().map(|m| m.id).collect();
    assert_eq!(got, ids, "bob's backlog, every message once, oldest first");
    let frames = answer
        .iter()
        .filter(|(_, m)| matches!(m, Message::Chat { .. }))
        .count();
    assert!(frames >= 3, "120 KB of text in {frames} frames");
}

#[tokio::test]
async fn a_conversation_list_is_at_most_one_frame_budget() {
    let settings = roomy();
    let addr = start(settings.clone()).await;
    let (mut alice, _) = chat_page(addr, "alice").await;
    // 20 groups of 100 members with names of 32 characters: about 70 KB of names.
    let mut groups = Vec::new();
    for g in 0..20 {
        let members: Vec<String> = (0..99)
            .map(|i| format!("g{g:02}-member-{i:02}-{}", "x".repeat(18)))
            .collect();
        let group = format!("group {g:02}");
        create_group(&mut alice, &group, &members).await;
        assert_eq!(expect_group(&mut alice, &group).await.len(), 100);
        groups.push(group);
    }
    alice.close().await;

    let (_alice, answer) = chat_page(addr, "alice").await;
    let (len, Message::Conversations { conversations, .. }) = &answer[0] else {
        panic!("the conversations first: {:?}", answer[0]);
    };
    assert!(*len <= FRAME_BUDGET, "a conversation list of {len} bytes");
    assert_eq!(conversations.len(), 20, "every group is listed");
    // Each group's members, in the list or in a frame of their own after it.
    let mut members: std::collections::BTreeMap<String, usize> = conversations
        .iter()
        .filter(|c| !c.members.is_empty())
        .map(|c| (format!("{:?}", c.conversation), c.members.len()))
        .collect();
    for (len, msg) in &answer[1..] {
        let Message::Group {
            group, members: m, ..
        } = msg
        else {
            panic!("alice: unexpected after the list: {msg:?}");
        };
        assert!(*len <= FRAME_BUDGET);
        let key = format!("{:?}", Conversation::Group(group.clone()));
        assert!(members.insert(key, m.len()).is_none(), "members sent twice");
    }
    assert_eq!(members.len(), 20, "{members:?}");
    assert!(members.values().all(|&n| n == 100), "{members:?}");
}

#[tokio::test]
async fn a_message_stops_waiting_for_a_page_after_pending_days() {
    let settings = Settings {
        pending_days: 30,
        ..roomy()
    };
    let server = start_stoppable(settings.clone()).await;
    let (mut alice, _) = chat_page(server.addr, "alice").await;
    let old = sent(&mut alice, "old", &with("bob"), "from long ago").await;
    let new = sent(&mut alice, "new", &with("bob"), "recent").await;
    alice.close().await;
    server.stop().await;
    let month = 31 * 24 * 60 * 60 * 1000_i64;
    open_writable(&settings)
        .execute(
            "UPDATE messages SET created_at = created_at - ?1 WHERE id = ?2",
            [month, old.id],
        )
        .unwrap();

    // The first sync after a start trims.
    let server = start_stoppable(settings.clone()).await;
    let (mut bob, answer) = chat_page(server.addr, "bob").await;
    let got: Vec<i64> = backlog("bob", &answer).iter().map(|m| m.id).collect();
    assert_eq!(
        got,
        vec![new.id],
        "bob's backlog without the expired message"
    );
    let waiting = count(
        &settings,
        &format!("SELECT COUNT(*) FROM pending WHERE message_id = {}", old.id),
    );
    assert_eq!(waiting, 0, "the expired pending row");
    bob.send_json(json!({"type": "chat_received", "ids": [new.id]}))
        .await;

    // Still in the history; only the recent one delivered.
    let lines = whole_history(&mut bob, &with("alice")).await;
    let shown: Vec<(i64, Delivery)> = lines.iter().map(|m| (m.id, m.state)).collect();
    assert_eq!(
        shown,
        vec![(new.id, Delivery::Delivered), (old.id, Delivery::Sent)],
        "the history keeps the expired message, not delivered"
    );
}

#[tokio::test]
async fn at_most_max_pending_per_user_messages_wait_for_one_page() {
    let settings = Settings {
        max_pending_per_user: 3,
        ..roomy()
    };
    let addr = start(settings.clone()).await;
    let (mut alice, _) = chat_page(addr, "alice").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            sent(&mut alice, &format!("p-{i}"), &with("bob"), "hi")
                .await
                .id,
        );
    }
    let waiting = count(&settings, "SELECT COUNT(*) FROM pending WHERE user = 'bob'");
    assert_eq!(waiting, 3, "bob's pending rows");

    let (mut bob, answer) = chat_page(addr, "bob").await;
    let got: Vec<i64> = backlog("bob", &answer).iter().map(|m| m.id).collect();
    assert_eq!(got, ids[2..], "the newest three wait for bob");
    let all = whole_history(&mut bob, &with("alice")).await;
    assert_eq!(all.len(), 5, "the history keeps all five");
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_the_data_directory_it_creates_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let settings = Settings {
        data_dir: scratch_dir().join("made").join("data"),
        ..roomy()
    };
    let addr = start(settings.clone()).await;
    let (mut alice, _) = chat_page(addr, "alice").await;
    sent(&mut alice, "m", &with("bob"), "for bob's eyes only").await;

    let db = settings.database();
    let made = settings.data_dir.parent().unwrap();
    assert_eq!(mode(made), 0o700, "{}", made.display());
    assert_eq!(mode(&settings.data_dir), 0o700, "the data directory");
    assert_eq!(mode(&db), 0o600, "the database");
    for suffix in ["-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }

    // A database an older server left readable by everyone is narrowed at start.
    let settings = Settings {
        data_dir: scratch_dir(),
        ..roomy()
    };
    std::fs::write(settings.database(), b"").unwrap();
    std::fs::set_permissions(settings.database(), std::fs::Permissions::from_mode(0o644)).unwrap();
    start(settings.clone()).await;
    assert_eq!(mode(&settings.database()), 0o600, "an existing database");
}

#[tokio::test]
async fn a_row_that_no_longer_reads_is_left_out_not_fatal() {
    let settings = roomy();
    let server = start_stoppable(settings.clone()).await;
    let (mut alice, _) = chat_page(server.addr, "alice").await;
    let mut good = Vec::new();
    for i in 0..3 {
        good.push(
            sent(&mut alice, &format!("g-{i}"), &with("bob"), "fine")
                .await
                .id,
        );
    }
    alice.close().await;
    server.stop().await;
    // Rows no page could have made: a sender that is no name, a body that is not text.
    let db = open_writable(&settings);
    let conversation: i64 = db
        .query_row(
            "SELECT conversation_id FROM messages WHERE id = ?1",
            [good[0]],
            |r| r.get(0),
        )
        .unwrap();
    for (sender, body) in [
        (
            "not a name!",
            rusqlite::types::Value::Text("bad sender".into()),
        ),
        ("alice", rusqlite::types::Value::Blob(vec![0xff, 0x00])),
    ] {
        db.execute(
            "INSERT INTO messages (conversation_id, sender, kind, body, created_at) \
             VALUES (?1, ?2, 'text', ?3, 0)",
            rusqlite::params![conversation, sender, body],
        )
        .unwrap();
        let id = db.last_insert_rowid();
        db.execute(
            "INSERT INTO pending (user, message_id) VALUES ('bob', ?1)",
            [id],
        )
        .unwrap();
    }
    drop(db);

    let server = start_stoppable(settings).await;
    let (mut bob, answer) = chat_page(server.addr, "bob").await;
    let got: Vec<i64> = backlog("bob", &answer).iter().map(|m| m.id).collect();
    assert_eq!(got, good, "bob's backlog: the readable messages");
    let lines: Vec<i64> = whole_history(&mut bob, &with("alice"))
        .await
        .iter()
        .map(|m| m.id)
        .collect();
    let newest_first: Vec<i64> = good.iter().rev().copied().collect();
    assert_eq!(lines, newest_first, "bob's history: the readable messages");
}

#[tokio::test]
async fn a_confirmation_of_more_ids_than_any_frame_holds_is_refused() {
    let settings = roomy();
    let addr = start(settings.clone()).await;
    let (mut alice, _) = chat_page(addr, "alice").await;
    let hi = sent(&mut alice, "hi", &with("bob"), "hi").await;
    let (mut bob, _) = chat_page(addr, "bob").await;

    // Each id is database work.
    let mut ids: Vec<i64> = (1_000_000..1_005_000).collect();
    ids.push(hi.id);
    bob.send_json(json!({"type": "chat_received", "ids": ids}))
        .await;
    let why = expect_error(&mut bob, ErrorCode::BadMessage).await;
    assert!(why.contains("500"), "{why}");
    let waiting = count(&settings, "SELECT COUNT(*) FROM pending WHERE user = 'bob'");
    assert_eq!(waiting, 1, "nothing of the refused frame was confirmed");

    bob.send_json(json!({"type": "chat_received", "ids": [hi.id]}))
        .await;
    match next_sized(&mut alice).await.1 {
        Message::ChatDelivered { ids, .. } => assert_eq!(ids, vec![hi.id]),
        other => panic!("alice: expected chat_delivered, got {other:?}"),
    }
}

#[tokio::test]
async fn a_spelling_of_the_servers_own_name_is_no_member() {
    let settings = roomy();
    let addr = start(settings.clone()).await;
    let (mut alice, _) = chat_page(addr, "alice").await;

    create_group(&mut alice, "friends", &["bob".into(), "Duet".into()]).await;
    let why = expect_error(&mut alice, ErrorCode::BadName).await;
    assert!(why.contains("reserved"), "{why}");
    let stored = count(
        &settings,
        "SELECT COUNT(*) FROM conversations WHERE name = 'friends'",
    );
    assert_eq!(stored, 0, "the refused group was stored");
}
