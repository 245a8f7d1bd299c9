//! How long, and how many, messages wait for a recipient's page. A message is pending
//! for each recipient until their page confirms it; a name that never comes back would
//! keep its messages pending for ever, and a group of names that never connect would grow
//! the table with every line. So a pending row expires after `pending_days`, and at most
//! `max_pending_per_user` wait for one recipient, the oldest going first.
//!
//! Only the waiting ends: the message stays in the history, and since one of its
//! recipients never confirmed it, it is `abandoned`: never shown as delivered.

use super::store::StoreError;
use rusqlite::{Connection, params};

/// What a trim dropped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Trimmed {
    /// Pending rows older than the cut-off.
    pub expired: usize,
    /// Pending rows beyond a recipient's cap.
    pub over_cap: usize,
}

/// Drops every pending row of a message stored before `cutoff` (milliseconds since 1970),
/// then the oldest of each recipient beyond `cap`.
pub fn trim(conn: &Connection, cutoff: i64, cap: usize) -> Result<Trimmed, StoreError> {
    // Through `pending` (which these bounds keep small) to `messages` by id, not the
    // other way: `messages` holds every line ever written.
    const OLD: &str = "SELECT p.message_id FROM pending p JOIN messages m ON m.id = p.message_id \
                       WHERE m.created_at < ?1";
    conn.execute(
        &format!("UPDATE messages SET abandoned = 1 WHERE id IN ({OLD})"),
        [cutoff],
    )?;
    let expired = conn.execute(
        &format!("DELETE FROM pending WHERE message_id IN ({OLD})"),
        [cutoff],
    )?;
    let cap = sql_count(cap);
    let mut over = conn.prepare("SELECT user, n FROM pending_counts WHERE n > ?1")?;
    let full = over
        .query_map([cap], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut over_cap = 0;
    for (user, n) in full {
        over_cap += drop_oldest(conn, &user, n - cap)?;
    }
    Ok(Trimmed { expired, over_cap })
}

/// Holds each member of conversation `id` to `cap` pending messages, dropping their
/// oldest: run after a message is stored for them. Returns how many were dropped.
pub fn cap_members(conn: &Connection, id: i64, cap: usize) -> Result<usize, StoreError> {
    let mut over = conn.prepare(
        "SELECT pc.user, pc.n FROM members mb JOIN pending_counts pc ON pc.user = mb.user \
         WHERE mb.conversation_id = ?1 AND pc.n > ?2",
    )?;
    let full = over
        .query_map(params![id, sql_count(cap)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut dropped = 0;
    for (user, n) in full {
        dropped += drop_oldest(conn, &user, n - sql_count(cap))?;
    }
    Ok(dropped)
}

/// A count as SQLite takes it (a cap past `i64::MAX` is no cap).
fn sql_count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Stops waiting for `user`'s page to confirm their `count` oldest pending messages.
fn drop_oldest(conn: &Connection, user: &str, count: i64) -> Result<usize, StoreError> {
    let mut delete = conn.prepare(
        "DELETE FROM pending WHERE user = ?1 AND message_id IN \
           (SELECT message_id FROM pending WHERE user = ?1 ORDER BY message_id LIMIT ?2) \
         RETURNING message_id",
    )?;
    let ids = delete
        .query_map(params![user, count], |r| r.get::<_, i64>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut abandon = conn.prepare("UPDATE messages SET abandoned = 1 WHERE id = ?1")?;
    for id in &ids {
        abandon.execute([id])?;
    }
    Ok(ids.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::chat::store::Store;

    /// alice's conversation with bob, `n` messages from alice at times 1..=n, each
    /// pending for bob.
    fn seed(c: &Connection, n: i64) -> rusqlite::Result<()> {
        c.execute_batch(
            "INSERT INTO conversations (id, kind, name, created_by, created_at) \
               VALUES (1, 'direct', 'alice\nbob', 'alice', 0); \
             INSERT INTO members (conversation_id, user) VALUES (1, 'alice'), (1, 'bob');",
        )?;
        for at in 1..=n {
            c.execute(
                "INSERT INTO messages (conversation_id, sender, client_id, kind, body, created_at) \
                 VALUES (1, 'alice', ?1, 'text', 'hi', ?2)",
                params![format!("m{at}"), at],
            )?;
            let id = c.last_insert_rowid();
            c.execute(
                "INSERT INTO pending (user, message_id) VALUES ('bob', ?1)",
                [id],
            )?;
        }
        Ok(())
    }

    fn pending_and_count(c: &Connection) -> rusqlite::Result<(Vec<i64>, Option<i64>)> {
        let mut q = c.prepare("SELECT message_id FROM pending ORDER BY message_id")?;
        let ids = q.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        let n = c
            .query_row("SELECT n FROM pending_counts WHERE user = 'bob'", [], |r| {
                r.get(0)
            })
            .ok();
        Ok((ids, n))
    }

    #[tokio::test]
    async fn a_trim_drops_the_expired_then_the_oldest_beyond_the_cap() {
        let store = Store::in_memory().unwrap();
        let (trimmed, left, abandoned) = store
            .call(|c| {
                seed(c, 10)?;
                // Stored before 4: messages 1, 2 and 3 expire; of the 7 left, 5 stay.
                let trimmed = trim(c, 4, 5)?;
                let left = pending_and_count(c)?;
                let abandoned: i64 =
                    c.query_row("SELECT COUNT(*) FROM messages WHERE abandoned", [], |r| {
                        r.get(0)
                    })?;
                Ok((trimmed, left, abandoned))
            })
            .await
            .unwrap();
        assert_eq!(
            trimmed,
            Trimmed {
                expired: 3,
                over_cap: 2
            }
        );
        assert_eq!(
            left,
            (vec![6, 7, 8, 9, 10], Some(5)),
            "pending ids and count"
        );
        assert_eq!(
            abandoned, 5,
            "every dropped message is no longer waited for"
        );
    }

    #[tokio::test]
    async fn the_count_follows_deliveries_and_the_cap_holds_per_conversation() {
        let store = Store::in_memory().unwrap();
        let (after_cap, after_delivery) = store
            .call(|c| {
                seed(c, 4)?;
                assert_eq!(cap_members(c, 1, 3)?, 1);
                let after_cap = pending_and_count(c)?;
                c.execute("DELETE FROM pending WHERE user = 'bob'", [])?;
                Ok((after_cap, pending_and_count(c)?))
            })
            .await
            .unwrap();
        assert_eq!(after_cap, (vec![2, 3, 4], Some(3)));
        assert_eq!(
            after_delivery,
            (vec![], None),
            "no count left for nobody's pending"
        );
    }
}
