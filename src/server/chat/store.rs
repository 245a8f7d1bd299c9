//! The chat database: one SQLite file under the data directory, migrated at start, used by
//! one thread of its own so no async task ever blocks on the disk.
//!
//! Work arrives as jobs. The thread takes every job that is waiting (up to
//! [`MAX_BATCH`]), runs each in a savepoint of one transaction, commits once, and only then
//! answers them: an answer always means committed (`synchronous = FULL`), and a hundred
//! sockets sending at once cost one disk flush, not a hundred.
//!
//! The file holds everyone's conversations: it is created readable by its owner only
//! (SQLite gives its `-wal` and `-shm` files the same mode), in a data directory likewise
//! private if this creates it.

use crate::protocol::ErrorCode;
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, mpsc as std_mpsc};
use tokio::sync::oneshot;

/// Versioned schema changes, in order. Never edit a shipped one: add the next.
const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../../../migrations/0001_chat.sql")),
    M::up(include_str!("../../../migrations/0002_pending_limits.sql")),
    M::up(include_str!("../../../migrations/0003_accounts.sql")),
];

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
    #[error("making the database {path} private: {err}")]
    Private { path: String, err: std::io::Error },
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
    /// When the last periodic clean-up was claimed (milliseconds since 1970; 0: never).
    cleaned_at: Arc<AtomicI64>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, migrates it, and starts its thread.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_dir(dir).map_err(|err| StoreError::DataDir {
                path: dir.display().to_string(),
                err,
            })?;
        }
        private_file(path).map_err(|err| StoreError::Private {
            path: path.display().to_string(),
            err,
        })?;
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
        Ok(Self {
            jobs,
            cleaned_at: Arc::default(),
        })
    }

    /// Whether a periodic clean-up is due at `now`, `every` milliseconds after the last
    /// (or the first since the store opened); if so, the caller has claimed it.
    pub fn cleanup_due(&self, now: i64, every: i64) -> bool {
        let last = self.cleaned_at.load(Ordering::Relaxed);
        now.saturating_sub(last) >= every
            && self
                .cleaned_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
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

/// Creates `dir` (and any parent missing) readable by its owner only. One that exists
/// is left as it is: its mode is the operator's.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the database file empty, readable and writable by its owner only, before
/// SQLite opens it (SQLite would make it readable by everyone); SQLite then gives its
/// `-wal` and `-shm` files the same mode. Existing files readable by others (made by an
/// older duet, or left by a crash) are narrowed to the owner too.
fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        match created {
            Ok(_) => return Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            narrow(Path::new(&file))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Makes `file`, if it exists, readable and writable by its owner only.
#[cfg(unix)]
fn narrow(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = match std::fs::metadata(file) {
        Ok(meta) => meta.permissions().mode(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    };
    if mode & 0o077 != 0 {
        tracing::info!(file = %file.display(), "making a chat database file readable by its owner only");
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
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
