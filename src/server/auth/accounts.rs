//! The operator's side of accounts, for the command line (`cli.rs`) and for tests: add,
//! list, change and remove people, make invite links. It opens the server's database
//! itself, so it works beside a running server (SQLite in WAL mode lets both write); the
//! server notices sessions ended here within `session_check_secs`.

use super::password::{self, PasswordError};
use super::{AuthError, db, token};
use crate::protocol::UserName;
use crate::server::chat::store::{Store, StoreError};
use crate::server::data_dir;
use crate::server::names;
use crate::server::settings::Settings;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("no account is named {0}")]
    NoSuchUser(String),
    #[error("the name {0} is taken (by an account, or a spelling of one)")]
    Taken(String),
    #[error("{0}")]
    BadName(String),
    #[error("{0}")]
    BadPassword(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("the operating system's random numbers: {0}")]
    Random(#[from] getrandom::Error),
}

impl From<AuthError> for AccountsError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Store(err) => Self::Store(err),
            AuthError::Password(err) => Self::Password(err),
            AuthError::Random(err) => Self::Random(err),
        }
    }
}

/// Stores an invite made by `maker` (`None`: the operator) as `spec` says, for the
/// command line and for *Invite* on `/account` alike; its token (only the hash is kept).
pub(super) async fn insert_invite(
    store: &Store,
    maker: Option<i64>,
    spec: InviteSpec,
) -> Result<String, AuthError> {
    let token = token::new_token()?;
    let hash = token::hash(&token);
    store
        .call(move |conn| {
            let now = db::now_ms();
            db::insert_invite(
                conn,
                &db::NewInvite {
                    token_hash: &hash,
                    maker,
                    name: spec.name.as_deref(),
                    uses: spec.uses,
                    expires_at: now.saturating_add(spec.life.as_millis() as i64),
                    admin: spec.admin,
                    now,
                },
            )?;
            Ok(())
        })
        .await?;
    Ok(token)
}

/// An account as `duet user list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub admin: bool,
    pub removed: bool,
    /// Milliseconds since 1970.
    pub created_at: i64,
    pub sessions: usize,
}

/// An invite link to make.
#[derive(Clone, Debug)]
pub struct InviteSpec {
    /// The only name it may create.
    pub name: Option<String>,
    pub uses: u32,
    pub life: Duration,
    /// It makes an administrator.
    pub admin: bool,
}

impl Default for InviteSpec {
    fn default() -> Self {
        Self {
            name: None,
            uses: 1,
            life: super::forms::INVITE_LIFE,
            admin: false,
        }
    }
}

/// The accounts in the database under `settings.data_dir`.
pub struct Accounts {
    store: Store,
}

impl Accounts {
    pub fn open(settings: &Settings) -> Result<Self, StoreError> {
        data_dir::create(&settings.data_dir).map_err(|err| StoreError::DataDir {
            path: settings.data_dir.display().to_string(),
            err,
        })?;
        Ok(Self {
            store: Store::open(&settings.database())?,
        })
    }

    /// Adds `name` with `password`. A name with chat history may be given to an account
    /// here (the operator knows whose it is); on the pages it may not.
    pub async fn add_user(
        &self,
        name: &str,
        password: &str,
        admin: bool,
    ) -> Result<(), AccountsError> {
        let name = UserName::parse(name)
            .and_then(names::check)
            .map_err(|why| {
                AccountsError::BadName((crate::text::Lang::En.words().bad_name)(&why))
            })?;
        check_password(password)?;
        let hash = password_hash(password).await?;
        let raw = name.as_str().to_owned();
        let added = self
            .store
            .call(move |conn| Ok(db::insert_user(conn, &raw, &hash, admin, db::now_ms())?))
            .await?;
        added
            .map(|_| ())
            .ok_or_else(|| AccountsError::Taken(name.to_string()))
    }

    /// Sets `name`'s password and signs out all its sessions; how many there were.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<usize, AccountsError> {
        check_password(password)?;
        let user = self.user(name).await?;
        let hash = password_hash(password).await?;
        let ended = self
            .store
            .call(move |conn| {
                db::set_password(conn, user.id, &hash)?;
                Ok(db::delete_sessions_of(conn, user.id, None)?)
            })
            .await?;
        Ok(ended.len())
    }

    pub async fn list(&self) -> Result<Vec<Listed>, AccountsError> {
        let listed = self
            .store
            .call(|conn| {
                let now = db::now_ms();
                let mut listed = Vec::new();
                for user in db::users(conn)? {
                    listed.push(Listed {
                        sessions: db::sessions_of(conn, user.id, now)?.len(),
                        name: user.name,
                        admin: user.admin,
                        removed: user.removed,
                        created_at: user.created_at,
                    });
                }
                Ok(listed)
            })
            .await?;
        Ok(listed)
    }

    /// Removes `name`: it signs in no more, and its name stays taken (its history stays).
    /// With `purge`, the account and its history are deleted and the name is free again.
    pub async fn remove(&self, name: &str, purge: bool) -> Result<(), AccountsError> {
        let user = self.user(name).await?;
        self.store
            .call(move |conn| {
                if purge {
                    db::purge_user(conn, user.id, &user.name)?;
                } else {
                    db::remove_user(conn, user.id)?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// Makes an invite link; its token (the link is `ORIGIN/i/TOKEN`).
    pub async fn create_invite(&self, spec: InviteSpec) -> Result<String, AccountsError> {
        if let Some(name) = &spec.name {
            UserName::parse(name)
                .and_then(names::check)
                .map_err(|why| {
                    AccountsError::BadName((crate::text::Lang::En.words().bad_name)(&why))
                })?;
        }
        Ok(insert_invite(&self.store, None, spec).await?)
    }

    /// While no account exists: a one-use link (a day) that makes the first account, an
    /// administrator. `None` once someone has one.
    pub async fn first_admin_invite(&self) -> Result<Option<String>, AccountsError> {
        let any = self.store.call(|conn| Ok(db::any_user(conn)?)).await?;
        if any {
            return Ok(None);
        }
        let spec = InviteSpec {
            life: Duration::from_secs(24 * 3600),
            admin: true,
            ..InviteSpec::default()
        };
        self.create_invite(spec).await.map(Some)
    }

    async fn user(&self, name: &str) -> Result<db::User, AccountsError> {
        let raw = name.to_owned();
        self.store
            .call(move |conn| Ok(db::user_by_name(conn, &raw)?))
            .await?
            .ok_or_else(|| AccountsError::NoSuchUser(name.to_owned()))
    }
}

fn check_password(password: &str) -> Result<(), AccountsError> {
    password::rule(password, crate::text::Lang::En.words()).map_err(AccountsError::BadPassword)
}

async fn password_hash(password: &str) -> Result<String, AccountsError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || password::hash_now(&password))
        .await
        .map_err(|e| PasswordError::Task(e.to_string()))?
        .map_err(AccountsError::from)
}
