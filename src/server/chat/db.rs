//! The chat queries, as plain functions of a connection. The store's thread runs them inside
//! its transactions; every one checks that the user belongs to the conversation it touches,
//! whatever the page sent.

use super::pending;
use super::store::StoreError;
use crate::protocol::{
    ChatKind, ChatMessage, Conversation, ConversationSummary, Delivery, ErrorCode, GroupName,
    Reason, UserName,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

/// The most messages one history page holds.
pub const MAX_PAGE: u32 = 100;

/// The most conversations listed at a sync, the most recently active: the list is one
/// frame (older ones still open by name, and come back to the list when active).
pub const MAX_LISTED: u32 = 1000;

/// A conversation as the database names it, the same for every member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConvKey {
    /// The two names, sorted.
    Direct(UserName, UserName),
    Group(GroupName),
}

impl ConvKey {
    /// `conversation` as `me` named it.
    pub fn of(me: &UserName, conversation: &Conversation) -> Self {
        match conversation {
            Conversation::User(other) => {
                let (a, b) = if me <= other {
                    (me, other)
                } else {
                    (other, me)
                };
                ConvKey::Direct(a.clone(), b.clone())
            }
            Conversation::Group(group) => ConvKey::Group(group.clone()),
        }
    }

    /// How `reader` names it.
    pub fn seen_by(&self, reader: &UserName) -> Conversation {
        match self {
            ConvKey::Direct(a, b) => Conversation::User(if a == reader { b } else { a }.clone()),
            ConvKey::Group(group) => Conversation::Group(group.clone()),
        }
    }

    fn kind_and_name(&self) -> (&'static str, String) {
        match self {
            ConvKey::Direct(a, b) => ("direct", format!("{a}\n{b}")),
            ConvKey::Group(group) => ("group", group.to_string()),
        }
    }

    fn from_row(kind: &str, name: &str) -> rusqlite::Result<Self> {
        let bad = || rusqlite::Error::InvalidColumnName(format!("conversation {kind} {name:?}"));
        match kind {
            "direct" => {
                let (a, b) = name.split_once('\n').ok_or_else(bad)?;
                let a = UserName::parse(a).map_err(|_| bad())?;
                let b = UserName::parse(b).map_err(|_| bad())?;
                Ok(ConvKey::Direct(a, b))
            }
            _ => Ok(ConvKey::Group(GroupName::parse(name).map_err(|_| bad())?)),
        }
    }
}

/// One stored message, before it is shown to a reader.
#[derive(Clone, Debug)]
pub struct Stored {
    pub id: i64,
    pub conv: ConvKey,
    pub sender: UserName,
    pub client_id: Option<String>,
    pub kind: ChatKind,
    pub body: String,
    pub reason: Option<Reason>,
    pub at: i64,
    /// Every recipient's page has it.
    pub delivered: bool,
}

impl Stored {
    /// The message as `reader` sees it.
    pub fn to_wire(&self, reader: &UserName) -> ChatMessage {
        ChatMessage {
            id: self.id,
            client_id: self.client_id.clone(),
            conversation: self.conv.seen_by(reader),
            from: self.sender.clone(),
            at: self.at,
            kind: self.kind,
            text: self.body.clone(),
            reason: self.reason,
            state: if self.delivered {
                Delivery::Delivered
            } else {
                Delivery::Sent
            },
        }
    }
}

/// The columns [`stored`] reads, from `messages m` joined with `conversations c`. A
/// message is delivered once no recipient's page is waited for, unless the server gave up
/// waiting for one (see `pending.rs`).
const STORED_COLUMNS: &str = "m.id, c.kind, c.name, m.sender, m.client_id, m.kind, m.body, \
     m.reason, m.created_at, \
     NOT m.abandoned AND NOT EXISTS (SELECT 1 FROM pending q WHERE q.message_id = m.id)";

fn stored(row: &Row<'_>) -> rusqlite::Result<Stored> {
    let kind: String = row.get(1)?;
    let name: String = row.get(2)?;
    let sender: String = row.get(3)?;
    let message_kind: String = row.get(5)?;
    let reason: Option<String> = row.get(7)?;
    Ok(Stored {
        id: row.get(0)?,
        conv: ConvKey::from_row(&kind, &name)?,
        sender: UserName::parse(&sender)
            .map_err(|_| rusqlite::Error::InvalidColumnName(format!("sender {sender:?}")))?,
        client_id: row.get(4)?,
        kind: from_text(&message_kind).unwrap_or(ChatKind::Other),
        body: row.get(6)?,
        reason: reason.and_then(|r| from_text(&r)),
        at: row.get(8)?,
        delivered: row.get(9)?,
    })
}

/// [`stored`], or `None` for a row that no longer reads as a message (a name or a column
/// that does not parse): it is logged and left out, so one bad row does not hide the rest
/// of someone's history. Only the row's contents are read here; the database's own
/// failures still end the query.
fn readable(row: &Row<'_>) -> rusqlite::Result<Option<Stored>> {
    match stored(row) {
        Ok(line) => Ok(Some(line)),
        Err(err) => {
            let id = row.get::<_, i64>(0).ok();
            tracing::warn!(message = ?id, "leaving out a chat message that cannot be read: {err}");
            Ok(None)
        }
    }
}

/// A snake_case enum as the database stores it (the same words as the wire).
fn to_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn from_text<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

fn load(conn: &Connection, id: i64) -> Result<Stored, StoreError> {
    let sql = format!(
        "SELECT {STORED_COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.id = ?1"
    );
    Ok(conn.query_row(&sql, [id], stored)?)
}

fn not_member(key: &ConvKey) -> StoreError {
    let what = match key {
        ConvKey::Group(group) => format!("you are not a member of the group {group:?}"),
        ConvKey::Direct(..) => "that conversation is not yours".to_owned(),
    };
    StoreError::refused(ErrorCode::NotMember, what)
}

/// The id of `key` if `user` is a member. A one-to-one conversation is made on first use
/// when `create` is set (its two people are its members); a group never is.
fn conversation_id(
    conn: &Connection,
    user: &UserName,
    key: &ConvKey,
    create: bool,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let (kind, name) = key.kind_and_name();
    let found: Option<i64> = conn
        .query_row(
            "SELECT id FROM conversations WHERE kind = ?1 AND name = ?2",
            params![kind, name],
            |r| r.get(0),
        )
        .optional()?;
    let id = match (found, key) {
        (Some(id), _) => id,
        (None, ConvKey::Direct(a, b)) if create => {
            conn.execute(
                "INSERT INTO conversations (kind, name, created_by, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![kind, name, user.as_str(), now],
            )?;
            let id = conn.last_insert_rowid();
            for member in [a, b] {
                conn.execute(
                    "INSERT INTO members (conversation_id, user) VALUES (?1, ?2)",
                    params![id, member.as_str()],
                )?;
            }
            return Ok(Some(id));
        }
        (None, ConvKey::Direct(..)) => return Ok(None),
        (None, ConvKey::Group(_)) => return Err(not_member(key)),
    };
    let member: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM members WHERE conversation_id = ?1 AND user = ?2)",
        params![id, user.as_str()],
        |r| r.get(0),
    )?;
    if member {
        Ok(Some(id))
    } else {
        Err(not_member(key))
    }
}

/// The result of [`send`].
#[derive(Debug)]
pub struct Sent {
    pub message: Stored,
    /// Who should get it now: every other member, or for a repeat those still without it.
    pub recipients: Vec<UserName>,
    /// The sender had sent this client id before; nothing new was stored.
    pub duplicate: bool,
}

/// Stores `text` from `sender` in `conversation` under the sender's `client_id`, unless that
/// id is already stored, and marks it pending for every other member, of whom none then
/// waits for more than `max_pending` messages.
pub fn send(
    conn: &Connection,
    sender: &UserName,
    conversation: &Conversation,
    client_id: &str,
    text: &str,
    now: i64,
    max_pending: usize,
) -> Result<Sent, StoreError> {
    let earlier: Option<i64> = conn
        .query_row(
            "SELECT id FROM messages WHERE sender = ?1 AND client_id = ?2",
            params![sender.as_str(), client_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = earlier {
        let mut q = conn.prepare("SELECT user FROM pending WHERE message_id = ?1")?;
        let recipients = names(q.query_map([id], |r| r.get::<_, String>(0))?)?;
        return Ok(Sent {
            message: load(conn, id)?,
            recipients,
            duplicate: true,
        });
    }
    let key = ConvKey::of(sender, conversation);
    let id = conversation_id(conn, sender, &key, true, now)?.ok_or_else(|| not_member(&key))?;
    conn.execute(
        "INSERT INTO messages (conversation_id, sender, client_id, kind, body, created_at) \
         VALUES (?1, ?2, ?3, 'text', ?4, ?5)",
        params![id, sender.as_str(), client_id, text, now],
    )?;
    let message_id = conn.last_insert_rowid();
    let recipients = add_pending(conn, id, message_id, Some(sender))?;
    pending::cap_members(conn, id, max_pending)?;
    Ok(Sent {
        message: load(conn, message_id)?,
        recipients,
        duplicate: false,
    })
}

/// Marks `message_id` pending for the members of conversation `id` (but `except`); returns them.
fn add_pending(
    conn: &Connection,
    id: i64,
    message_id: i64,
    except: Option<&UserName>,
) -> Result<Vec<UserName>, StoreError> {
    let except = except.map(UserName::as_str).unwrap_or_default();
    let mut q = conn.prepare(
        "INSERT INTO pending (user, message_id) SELECT user, ?2 FROM members \
         WHERE conversation_id = ?1 AND user != ?3 RETURNING user",
    )?;
    let recipients =
        names(q.query_map(params![id, message_id, except], |r| r.get::<_, String>(0))?)?;
    Ok(recipients)
}

fn names(
    rows: impl Iterator<Item = rusqlite::Result<String>>,
) -> Result<Vec<UserName>, StoreError> {
    let mut out = Vec::new();
    for row in rows {
        let raw = row?;
        // Every name in the database was parsed before it was stored.
        if let Ok(name) = UserName::parse(&raw) {
            out.push(name);
        }
    }
    Ok(out)
}

/// Stores a ring from `caller` to `callee` that did not become a call, in their
/// conversation, pending for both (each page shows it).
pub fn missed_call(
    conn: &Connection,
    caller: &UserName,
    callee: &UserName,
    reason: Reason,
    now: i64,
) -> Result<(Stored, Vec<UserName>), StoreError> {
    let key = ConvKey::of(caller, &Conversation::User(callee.clone()));
    let id = conversation_id(conn, caller, &key, true, now)?.ok_or_else(|| not_member(&key))?;
    conn.execute(
        "INSERT INTO messages (conversation_id, sender, kind, body, reason, created_at) \
         VALUES (?1, ?2, 'missed_call', '', ?3, ?4)",
        params![id, caller.as_str(), to_text(&reason), now],
    )?;
    let message_id = conn.last_insert_rowid();
    let recipients = add_pending(conn, id, message_id, None)?;
    Ok((load(conn, message_id)?, recipients))
}

/// `user`'s page has `ids`. Returns the messages (sender, id) that every recipient has now.
pub fn received(
    conn: &Connection,
    user: &UserName,
    ids: &[i64],
) -> Result<Vec<(UserName, i64)>, StoreError> {
    let mut done = Vec::new();
    let mut delete = conn.prepare("DELETE FROM pending WHERE user = ?1 AND message_id = ?2")?;
    let mut left = conn.prepare(
        "SELECT m.sender FROM messages m WHERE m.id = ?1 AND NOT m.abandoned \
         AND NOT EXISTS (SELECT 1 FROM pending WHERE message_id = ?1)",
    )?;
    for &id in ids {
        if delete.execute(params![user.as_str(), id])? == 0 {
            continue;
        }
        let sender: Option<String> = left.query_row([id], |r| r.get(0)).optional()?;
        if let Some(sender) = sender.and_then(|s| UserName::parse(&s).ok()) {
            done.push((sender, id));
        }
    }
    Ok(done)
}

/// The messages `user`'s page has not confirmed after message `after`, oldest first, at
/// most `limit`; and, if there may be more, the id to go on after.
pub fn undelivered(
    conn: &Connection,
    user: &UserName,
    after: i64,
    limit: u32,
) -> Result<(Vec<Stored>, Option<i64>), StoreError> {
    let sql = format!(
        "SELECT {STORED_COLUMNS} FROM pending p JOIN messages m ON m.id = p.message_id \
         JOIN conversations c ON c.id = m.conversation_id WHERE p.user = ?1 AND p.message_id > ?2 \
         ORDER BY p.message_id LIMIT ?3"
    );
    let mut q = conn.prepare(&sql)?;
    let mut rows = q.query(params![user.as_str(), after, limit])?;
    let (mut lines, mut read, mut last) = (Vec::new(), 0, after);
    while let Some(row) = rows.next()? {
        read += 1;
        last = row.get(0)?;
        lines.extend(readable(row)?);
    }
    let next = (read >= limit as usize).then_some(last);
    Ok((lines, next))
}

/// Up to `limit` messages of `conversation` older than `before`, newest first, and whether
/// there are older ones still.
pub fn history(
    conn: &Connection,
    user: &UserName,
    conversation: &Conversation,
    before: Option<i64>,
    limit: u32,
) -> Result<(Vec<Stored>, bool), StoreError> {
    let key = ConvKey::of(user, conversation);
    let Some(id) = conversation_id(conn, user, &key, false, 0)? else {
        return Ok((Vec::new(), false));
    };
    let limit = limit.clamp(1, MAX_PAGE);
    let sql = format!(
        "SELECT {STORED_COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.conversation_id = ?1 AND m.id < ?2 ORDER BY m.id DESC LIMIT ?3"
    );
    let mut q = conn.prepare(&sql)?;
    let rows = q.query_map(params![id, before.unwrap_or(i64::MAX), limit + 1], readable)?;
    let mut page: Vec<Option<Stored>> = rows.collect::<Result<_, _>>()?;
    let more = page.len() > limit as usize;
    page.truncate(limit as usize);
    Ok((page.into_iter().flatten().collect(), more))
}

/// `user`'s conversations, the most recently active first, at most [`MAX_LISTED`].
pub fn conversations(
    conn: &Connection,
    user: &UserName,
) -> Result<Vec<ConversationSummary>, StoreError> {
    let mut q = conn.prepare(
        "SELECT c.id, c.kind, c.name, \
           (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id \
              AND m.id > mb.last_read AND m.sender != ?1), \
           (SELECT MAX(m.id) FROM messages m WHERE m.conversation_id = c.id) AS last_id \
         FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         WHERE mb.user = ?1 ORDER BY last_id DESC NULLS LAST, c.id DESC LIMIT ?2",
    )?;
    let rows = q.query_map(params![user.as_str(), MAX_LISTED], |r| {
        let id: i64 = r.get(0)?;
        let kind: String = r.get(1)?;
        let name: String = r.get(2)?;
        let Ok(key) = ConvKey::from_row(&kind, &name) else {
            // As with messages: one bad row is left out, not the whole list.
            tracing::warn!(
                conversation = id,
                "leaving out a conversation that cannot be read"
            );
            return Ok(None);
        };
        Ok(Some((
            id,
            key,
            r.get::<_, u32>(3)?,
            r.get::<_, Option<i64>>(4)?,
        )))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let Some((id, key, unread, last_id)) = row? else {
            continue;
        };
        let members = match key {
            ConvKey::Group(_) => members_of(conn, id)?,
            ConvKey::Direct(..) => Vec::new(),
        };
        out.push(ConversationSummary {
            conversation: key.seen_by(user),
            members,
            unread,
            last_id,
        });
    }
    Ok(out)
}

fn members_of(conn: &Connection, id: i64) -> Result<Vec<UserName>, StoreError> {
    let mut q =
        conn.prepare("SELECT user FROM members WHERE conversation_id = ?1 ORDER BY user")?;
    names(q.query_map([id], |r| r.get::<_, String>(0))?)
}

/// `user` has read `conversation` up to message `upto`.
pub fn mark_read(
    conn: &Connection,
    user: &UserName,
    conversation: &Conversation,
    upto: i64,
) -> Result<(), StoreError> {
    let key = ConvKey::of(user, conversation);
    if let Some(id) = conversation_id(conn, user, &key, false, 0)? {
        conn.execute(
            "UPDATE members SET last_read = MAX(last_read, ?3) WHERE conversation_id = ?1 AND user = ?2",
            params![id, user.as_str(), upto],
        )?;
    }
    Ok(())
}

/// The limits on groups (from the settings).
#[derive(Clone, Copy, Debug)]
pub struct GroupCaps {
    /// Members of one group, its creator included.
    pub members: usize,
    /// Groups one person is in.
    pub groups_per_user: usize,
}

impl GroupCaps {
    /// The refusal of a group that would have `size` members, if that is too many.
    pub fn check_size(&self, size: usize) -> Result<(), StoreError> {
        if size <= self.members {
            return Ok(());
        }
        Err(StoreError::refused(
            ErrorCode::TooMany,
            format!(
                "a group has at most {} members, its creator included; this one would have {size}",
                self.members
            ),
        ))
    }
}

/// Creates `group` with `creator` and `members`; returns every member. Refused, with
/// nothing stored, past either of `caps`.
pub fn group_create(
    conn: &Connection,
    creator: &UserName,
    group: &GroupName,
    members: &[UserName],
    now: i64,
    caps: GroupCaps,
) -> Result<Vec<UserName>, StoreError> {
    let mut everyone: Vec<&UserName> = std::iter::once(creator).chain(members).collect();
    everyone.sort_unstable();
    everyone.dedup();
    caps.check_size(everyone.len())?;
    let inserted = conn.execute(
        "INSERT INTO conversations (kind, name, created_by, created_at) VALUES ('group', ?1, ?2, ?3) \
         ON CONFLICT (kind, name) DO NOTHING",
        params![group.as_str(), creator.as_str(), now],
    )?;
    if inserted == 0 {
        return Err(StoreError::refused(
            ErrorCode::GroupExists,
            format!("a group named {group:?} already exists: pick another name"),
        ));
    }
    check_groups_per_user(conn, &everyone, caps)?;
    let id = conn.last_insert_rowid();
    add_members(conn, id, everyone.into_iter())?;
    members_of(conn, id)
}

/// Adds `members` to `group`, which `user` must belong to; returns every member. Refused,
/// with nothing stored, past either of `caps`.
pub fn group_add(
    conn: &Connection,
    user: &UserName,
    group: &GroupName,
    members: &[UserName],
    caps: GroupCaps,
) -> Result<Vec<UserName>, StoreError> {
    let key = ConvKey::Group(group.clone());
    let id = conversation_id(conn, user, &key, false, 0)?.ok_or_else(|| not_member(&key))?;
    let mut already = conn.prepare(
        "SELECT EXISTS (SELECT 1 FROM members WHERE conversation_id = ?1 AND user = ?2)",
    )?;
    let mut new: Vec<&UserName> = Vec::new();
    for member in members {
        if !already.query_row(params![id, member.as_str()], |r| r.get::<_, bool>(0))? {
            new.push(member);
        }
    }
    new.sort_unstable();
    new.dedup();
    let size: i64 = conn.query_row(
        "SELECT COUNT(*) FROM members WHERE conversation_id = ?1",
        [id],
        |r| r.get(0),
    )?;
    caps.check_size(size as usize + new.len())?;
    check_groups_per_user(conn, &new, caps)?;
    add_members(conn, id, new.into_iter())?;
    members_of(conn, id)
}

/// Refuses if any of `people` is already in as many groups as one person may be.
fn check_groups_per_user(
    conn: &Connection,
    people: &[&UserName],
    caps: GroupCaps,
) -> Result<(), StoreError> {
    let mut groups = conn.prepare(
        "SELECT COUNT(*) FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         WHERE mb.user = ?1 AND c.kind = 'group'",
    )?;
    let mut full = Vec::new();
    for person in people {
        let n: i64 = groups.query_row([person.as_str()], |r| r.get(0))?;
        if n as usize >= caps.groups_per_user {
            full.push(person.as_str());
        }
    }
    let Some(first) = full.first() else {
        return Ok(());
    };
    let who = match full.len() {
        1 => format!("{first} is"),
        n => format!("{first} and {} others are", n - 1),
    };
    Err(StoreError::refused(
        ErrorCode::TooMany,
        format!(
            "{who} already in {} groups, the most one person can be in",
            caps.groups_per_user
        ),
    ))
}

fn add_members<'a>(
    conn: &Connection,
    id: i64,
    members: impl Iterator<Item = &'a UserName>,
) -> Result<(), StoreError> {
    // A new member starts with everything before read: they see the history, not a count.
    let mut q = conn.prepare(
        "INSERT INTO members (conversation_id, user, last_read) \
         VALUES (?1, ?2, (SELECT COALESCE(MAX(id), 0) FROM messages WHERE conversation_id = ?1)) \
         ON CONFLICT DO NOTHING",
    )?;
    for member in members {
        q.execute(params![id, member.as_str()])?;
    }
    Ok(())
}
