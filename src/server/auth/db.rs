//! The account queries, as plain functions of a connection: the store's thread runs the
//! server's inside its transactions, and the command line its own (`accounts.rs`). Names
//! are found by their key (`names::folded`), so no spelling reaches another's account.

use crate::server::names;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Milliseconds since 1970, the unit of every time in the database.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// An account.
#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    /// As its owner typed it.
    pub name: String,
    pub password: String,
    pub admin: bool,
    pub created_at: i64,
    pub removed: bool,
}

const USER_COLUMNS: &str = "id, name, password, admin, created_at, removed";

fn user(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        password: row.get(2)?,
        admin: row.get(3)?,
        created_at: row.get(4)?,
        removed: row.get(5)?,
    })
}

/// The account whose name reads as `name` (removed ones too: their names stay taken).
pub fn user_by_name(conn: &Connection, name: &str) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE key = ?1"),
        [names::folded(name)],
        user,
    )
    .optional()
}

/// Every account, oldest first.
pub fn users(conn: &Connection) -> rusqlite::Result<Vec<User>> {
    let mut query = conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"))?;
    let rows = query.query_map([], user)?;
    rows.collect()
}

/// Whether anyone has chatted under a name that reads as `name`: such a name is never
/// given to a new account on the pages, which would hand it that history.
pub fn has_history(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    let key = names::folded(name);
    // Everyone who ever wrote or was written to is a member of that conversation. The
    // key is computed here, not in SQL, which has no NFKC.
    let mut query = conn.prepare("SELECT DISTINCT user FROM members")?;
    let mut rows = query.query([])?;
    while let Some(row) = rows.next()? {
        let user: String = row.get(0)?;
        if names::folded(&user) == key {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Makes an account; `None` if the name (any spelling of it) is taken.
pub fn insert_user(
    conn: &Connection,
    name: &str,
    password_hash: &str,
    admin: bool,
    now: i64,
) -> rusqlite::Result<Option<i64>> {
    let inserted = conn.execute(
        "INSERT INTO users (name, key, password, admin, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (key) DO NOTHING",
        params![name, names::folded(name), password_hash, admin, now],
    )?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

pub fn set_password(conn: &Connection, user_id: i64, password_hash: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET password = ?2 WHERE id = ?1",
        params![user_id, password_hash],
    )?;
    Ok(())
}

/// Removes an account: it signs in no more and its name stays taken. Returns its
/// sessions' public ids, which were deleted.
pub fn remove_user(conn: &Connection, user_id: i64) -> rusqlite::Result<Vec<String>> {
    conn.execute("UPDATE users SET removed = 1 WHERE id = ?1", [user_id])?;
    delete_sessions_of(conn, user_id, None)
}

/// Deletes an account and everything `name` wrote or was sent: its one-to-one
/// conversations (both sides: they were half its), its messages in groups, its group
/// memberships and what waited for it. The name is then free for anyone.
pub fn purge_user(conn: &Connection, user_id: i64, name: &str) -> rusqlite::Result<Vec<String>> {
    let ended = delete_sessions_of(conn, user_id, None)?;
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS purged_conversations (id INTEGER PRIMARY KEY);
         DELETE FROM purged_conversations;",
    )?;
    conn.execute(
        "INSERT INTO purged_conversations (id)
         SELECT c.id FROM conversations c JOIN members m ON m.conversation_id = c.id
         WHERE c.kind = 'direct' AND m.user = ?1",
        [name],
    )?;
    conn.execute(
        "DELETE FROM pending WHERE user = ?1 OR message_id IN
           (SELECT id FROM messages WHERE sender = ?1
              OR conversation_id IN (SELECT id FROM purged_conversations))",
        [name],
    )?;
    conn.execute(
        "DELETE FROM messages WHERE sender = ?1
           OR conversation_id IN (SELECT id FROM purged_conversations)",
        [name],
    )?;
    conn.execute(
        "DELETE FROM members WHERE user = ?1
           OR conversation_id IN (SELECT id FROM purged_conversations)",
        [name],
    )?;
    conn.execute(
        "DELETE FROM conversations WHERE id IN (SELECT id FROM purged_conversations)",
        [],
    )?;
    conn.execute("DELETE FROM purged_conversations", [])?;
    conn.execute("DELETE FROM users WHERE id = ?1", [user_id])?;
    Ok(ended)
}

/// A signed-in browser, with its account.
#[derive(Clone, Debug)]
pub struct Session {
    pub public_id: String,
    pub user_id: i64,
    pub user_name: String,
    pub admin: bool,
    pub keep: bool,
    pub device: String,
    pub created_at: i64,
    pub last_seen: i64,
}

/// A session to store.
pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub public_id: &'a str,
    pub user_id: i64,
    pub device: &'a str,
    pub keep: bool,
    pub now: i64,
    pub expires_at: i64,
}

pub fn insert_session(conn: &Connection, new: &NewSession<'_>) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO sessions (token_hash, public_id, user_id, device, created_at, last_seen,
                               expires_at, keep)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
        params![
            new.token_hash,
            new.public_id,
            new.user_id,
            new.device,
            new.now,
            new.expires_at,
            new.keep
        ],
    )?;
    Ok(())
}

const SESSION_COLUMNS: &str =
    "s.public_id, s.user_id, u.name, u.admin, s.keep, s.device, s.created_at, s.last_seen";

fn session(row: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        public_id: row.get(0)?,
        user_id: row.get(1)?,
        user_name: row.get(2)?,
        admin: row.get(3)?,
        keep: row.get(4)?,
        device: row.get(5)?,
        created_at: row.get(6)?,
        last_seen: row.get(7)?,
    })
}

/// The live session of the token whose hash is `token_hash`: not expired, of an account
/// not removed.
pub fn session_by_token(
    conn: &Connection,
    token_hash: &[u8],
    now: i64,
) -> rusqlite::Result<Option<Session>> {
    conn.query_row(
        &format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND NOT u.removed"
        ),
        params![token_hash, now],
        session,
    )
    .optional()
}

/// Every session of an account, the most recently seen first.
pub fn sessions_of(conn: &Connection, user_id: i64, now: i64) -> rusqlite::Result<Vec<Session>> {
    let mut query = conn.prepare(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.user_id = ?1 AND s.expires_at > ?2 ORDER BY s.last_seen DESC"
    ))?;
    let rows = query.query_map(params![user_id, now], session)?;
    rows.collect()
}

/// A page load or a live socket: the session was seen now and lasts `life_ms` more.
pub fn touch_session(
    conn: &Connection,
    public_id: &str,
    now: i64,
    life_ms: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sessions SET last_seen = ?2, expires_at = ?2 + ?3 WHERE public_id = ?1",
        params![public_id, now, life_ms],
    )?;
    Ok(())
}

/// Signs out the browser holding the token whose hash is `token_hash`; its public id.
pub fn delete_session_by_token(
    conn: &Connection,
    token_hash: &[u8],
) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "DELETE FROM sessions WHERE token_hash = ?1 RETURNING public_id",
        [token_hash],
        |row| row.get(0),
    )
    .optional()
}

/// Signs out session `public_id` if it is `user_id`'s; whether it was.
pub fn delete_session_of(
    conn: &Connection,
    user_id: i64,
    public_id: &str,
) -> rusqlite::Result<bool> {
    let deleted = conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND public_id = ?2",
        params![user_id, public_id],
    )?;
    Ok(deleted == 1)
}

/// Signs out every session of `user_id` but `except`; their public ids.
pub fn delete_sessions_of(
    conn: &Connection,
    user_id: i64,
    except: Option<&str>,
) -> rusqlite::Result<Vec<String>> {
    let mut query = conn.prepare(
        "DELETE FROM sessions WHERE user_id = ?1 AND public_id IS NOT ?2 RETURNING public_id",
    )?;
    let rows = query.query_map(params![user_id, except], |row| row.get(0))?;
    rows.collect()
}

/// Which of `public_ids` are still live sessions (not revoked, not expired, their account
/// not removed); those are marked seen now.
pub fn still_live(
    conn: &Connection,
    public_ids: &[String],
    now: i64,
) -> rusqlite::Result<Vec<String>> {
    let mut check = conn.prepare(
        "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.public_id = ?1 AND s.expires_at > ?2 AND NOT u.removed",
    )?;
    let mut seen = conn.prepare("UPDATE sessions SET last_seen = ?2 WHERE public_id = ?1")?;
    let mut live = Vec::new();
    for id in public_ids {
        if check.exists(params![id, now])? {
            seen.execute(params![id, now])?;
            live.push(id.clone());
        }
    }
    Ok(live)
}

/// Forgets sessions past their expiry, and invites that ended a week ago.
pub fn delete_expired(conn: &Connection, now: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
    conn.execute(
        "DELETE FROM invites WHERE expires_at <= ?1",
        [now - 7 * 24 * 3600 * 1000],
    )?;
    Ok(())
}

/// An invite link, as stored.
#[derive(Clone, Debug)]
pub struct Invite {
    pub id: i64,
    pub name: Option<String>,
    pub uses_left: i64,
    pub expires_at: i64,
    pub admin: bool,
}

/// An invite to store.
pub struct NewInvite<'a> {
    pub token_hash: &'a [u8],
    pub maker: Option<i64>,
    pub name: Option<&'a str>,
    pub uses: u32,
    pub expires_at: i64,
    pub admin: bool,
    pub now: i64,
}

pub fn insert_invite(conn: &Connection, new: &NewInvite<'_>) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO invites (token_hash, maker, name, uses_left, expires_at, admin, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            new.token_hash,
            new.maker,
            new.name,
            new.uses,
            new.expires_at,
            new.admin,
            new.now
        ],
    )?;
    Ok(())
}

pub fn invite_by_token(conn: &Connection, token_hash: &[u8]) -> rusqlite::Result<Option<Invite>> {
    conn.query_row(
        "SELECT id, name, uses_left, expires_at, admin FROM invites WHERE token_hash = ?1",
        [token_hash],
        |row| {
            Ok(Invite {
                id: row.get(0)?,
                name: row.get(1)?,
                uses_left: row.get(2)?,
                expires_at: row.get(3)?,
                admin: row.get(4)?,
            })
        },
    )
    .optional()
}

/// One use of invite `id` spent.
pub fn spend_invite(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE invites SET uses_left = uses_left - 1 WHERE id = ?1 AND uses_left > 0",
        [id],
    )?;
    Ok(())
}

/// Whether any account exists (removed ones too).
pub fn any_user(conn: &Connection) -> rusqlite::Result<bool> {
    conn.prepare("SELECT 1 FROM users LIMIT 1")?.exists([])
}
