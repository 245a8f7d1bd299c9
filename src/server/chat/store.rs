//! The chat database: one SQLite file under the data directory, migrated at start, used by
//! one thread of its own so no async task ever blocks on the disk.
//!
//! Work arrives as jobs. The thread takes every job that is waiting (up to
//! [`MAX_BATCH`]), runs each in a savepoint of one transaction, commits once, and only then
//! answers them: an answer always means committed (`synchronous = FULL`), and a hundred
//! sockets sending at once cost one disk flush, not a hundred.

use crate::protocol::ErrorCode;
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};
use std::path::Path;
use std::sync::mpsc as std_mpsc;
use tokio::sync::oneshot;

/// Versioned schema changes, in order. Never edit a shipped one: add the next.
const MIGRATIONS: &[M<'static>] = &[M::up(include_str!("../../../migrations/0001_chat.sql"))];

/// The most jobs committed together.
const MAX_BATCH: usize = 256;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule of chat said no (not a member, a group that exists, ...): nothing was stored.
    #[error("{msg}")]
    Refused { code: ErrorCode, msg: String },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("migrating the database: {0}")]
    Migrate(#[from] rusqlite_migration::Error),
    #[error("creating the data directory {path}: {err}")]
    DataDir { path: String, err: std::io::Error },
    /// The batch this job was in could not be committed; nothing of it was stored.
    #[error("committing: {0}")]
    Commit(String),
    #[error("the database thread has stopped")]
    Closed,
}

impl StoreError {
    pub fn refused(code: ErrorCode, msg: impl Into<String>) -> Self {
        StoreError::Refused {
            code,
            msg: msg.into(),
        }
    }
}

/// Called once the job's batch is committed (`Ok`) or failed.
type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// Runs against the connection; says whether to keep its changes, and how to answer.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Finish) + Send>;

/// A handle on the database thread. Cheap to clone; the thread ends with the last handle.
#[derive(Clone)]
pub struct Store {
    jobs: std_mpsc::Sender<Job>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, migrates it, and starts its thread.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|err| StoreError::DataDir {
                path: dir.display().to_string(),
                err,
            })?;
        }
        let conn = Connection::open(path)?;
        // WAL: readers never wait for the writer; FULL: a commit is on disk when it returns.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Self::start(conn)
    }

    /// A database in memory, gone with the store: for unit tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::start(Connection::open_in_memory()?)
    }

    fn start(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Migrations::from_slice(MIGRATIONS).to_latest(&mut conn)?;
        let (jobs, queue) = std_mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("duet-store".into())
            .spawn(move || serve(conn, queue))
            .map_err(|err| StoreError::Commit(format!("starting the database thread: {err}")))?;
        Ok(Self { jobs })
    }

    /// Runs `work` in the database thread, inside a transaction, and returns its result
    /// once that transaction is committed. An `Err` from `work` undoes only its own changes.
    pub async fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = work(conn);
            let keep = result.is_ok();
            let finish: Finish = Box::new(move |committed| {
                // The caller may have gone (its socket closed); the work is done either way.
                let _ = reply.send(committed.and(result));
            });
            (keep, finish)
        });
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        // A job dropped unanswered was in a batch that failed before it ran.
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Commit("the batch failed".into())))
    }
}

/// The database thread: batches of jobs, one transaction each, until every handle is gone.
fn serve(mut conn: Connection, queue: std_mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut finishes = Vec::with_capacity(batch.len());
        let committed = run_batch(&mut conn, batch, &mut finishes);
        if let Err(err) = &committed {
            tracing::error!("a chat batch of {} jobs failed: {err}", finishes.len());
        }
        for finish in finishes {
            let outcome = match &committed {
                Ok(()) => Ok(()),
                Err(err) => Err(StoreError::Commit(err.to_string())),
            };
            finish(outcome);
        }
    }
}

fn run_batch(
    conn: &mut Connection,
    batch: Vec<Job>,
    finishes: &mut Vec<Finish>,
) -> Result<(), rusqlite::Error> {
    let mut tx = conn.transaction()?;
    for job in batch {
        let savepoint = tx.savepoint()?;
        let (keep, finish) = job(&savepoint);
        finishes.push(finish);
        if keep {
            savepoint.commit()?;
        }
        // Dropped without commit: rolled back.
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_job_leaves_its_batch_mates_stored() {
        let store = Store::in_memory().unwrap();
        store
            .call(|c| Ok(c.execute_batch("CREATE TABLE t (x INTEGER)")?))
            .await
            .unwrap();
        let (a, b, c) = tokio::join!(
            store.call(|c| Ok(c.execute("INSERT INTO t VALUES (1)", [])?)),
            store.call(|c| {
                c.execute("INSERT INTO t VALUES (2)", [])?;
                Err::<(), _>(StoreError::refused(ErrorCode::NotMember, "no"))
            }),
            store.call(|c| Ok(c.execute("INSERT INTO t VALUES (3)", [])?)),
        );
        assert!(a.is_ok() && c.is_ok());
        assert!(matches!(b, Err(StoreError::Refused { .. })));
        let rows: Vec<i64> = store
            .call(|c| {
                let mut q = c.prepare("SELECT x FROM t ORDER BY x")?;
                let rows = q.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
            .unwrap();
        assert_eq!(rows, vec![1, 3]);
    }

    #[test]
    fn migrations_are_valid() {
        Migrations::from_slice(MIGRATIONS).validate().unwrap();
    }

    #[tokio::test]
    async fn a_file_database_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("duet.sqlite3");
        let store = Store::open(&path).unwrap();
        store
            .call(|c| Ok(c.execute("INSERT INTO conversations (kind, name, created_by, created_at) VALUES ('group', 'g', 'a', 0)", [])?))
            .await
            .unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        let n: i64 = store
            .call(|c| Ok(c.query_row("SELECT COUNT(*) FROM conversations", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
}
