//! Accounts (issue 19): who may be a claimed name. A person claims a name with a password
//! and then holds it in signed-in browsers (sessions); a claimed name's page, socket and
//! history are theirs alone. Unclaimed names work as in the original demo while
//! `open_names` is on.
//!
//! - [`db`]: the SQL (users, sessions, invites; `migrations/0003_accounts.sql`);
//! - [`password`]: argon2id, off the async threads; [`token`]: cookie and invite secrets,
//!   stored as SHA-256 only; [`cookie`]: the session cookie;
//! - [`origin`]: which pages may post forms and open sockets; [`attempts`]: sign-in rate
//!   limits;
//! - [`visit`]: what a rendered page is told about who looks at it (`account::Visit`);
//!   [`forms`]: the form posts; [`sweep`]: sessions that end elsewhere close their
//!   sockets; [`accounts`] and [`cli`]: the operator's `duet user` and `duet invite`.
//!
//! Passwords are the one credential today (`users.credential = 'password'`). Passkeys
//! would be a second kind: a table of public keys per user and a WebAuthn form beside the
//! password one; sessions, cookies and everything after sign-in stay as they are.

pub mod accounts;
pub mod attempts;
pub mod cli;
pub mod cookie;
pub mod db;
pub mod device;
pub mod forms;
pub mod origin;
pub mod password;
pub mod sweep;
pub mod token;
pub mod visit;

use crate::protocol::UserName;
use crate::server::chat::store::{Store, StoreError};
use crate::server::settings::Settings;
use crate::server::signal::hub::Device;
use crate::text::Words;
use crate::text::forms as words;
use attempts::Attempts;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use password::{Hasher, PasswordError};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Why an account operation failed (not a refusal: those are answers).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("the operating system's random numbers: {0}")]
    Random(#[from] getrandom::Error),
}

/// The server's accounts: settings, the database, and the limits on guessing.
pub struct Auth {
    settings: Arc<Settings>,
    store: Store,
    attempts: Attempts,
    hasher: Hasher,
}

/// What a request's session cookie is worth.
#[derive(Clone, Debug)]
pub enum Cookie {
    /// None sent.
    None,
    /// One sent that signs nobody in (revoked, expired, from another server): cleared.
    Stale,
    Live(db::Session),
}

impl Cookie {
    pub fn session(&self) -> Option<&db::Session> {
        match self {
            Cookie::Live(session) => Some(session),
            _ => None,
        }
    }
}

/// A socket or request refused, with the status and the reason the client is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

impl Auth {
    pub fn new(settings: Arc<Settings>, store: Store) -> Self {
        Self {
            attempts: Attempts::new(&settings),
            hasher: Hasher::default(),
            settings,
            store,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn attempts(&self) -> &Attempts {
        &self.attempts
    }

    /// The words of the page `parts` asks for (see [`crate::server::language`]), in which
    /// a refused form says why.
    pub fn words(&self, parts: &Parts) -> &'static Words {
        crate::server::language::of(parts, self.settings.default_language).words()
    }

    /// Whether the request in `parts` comes from a page that may act here (see [`origin`]).
    pub fn origin_allowed(&self, parts: &Parts) -> bool {
        origin::allowed(
            parts,
            self.settings.scheme(),
            &self.settings.allowed_origins,
        )
    }

    /// The cookie for a new or slid session.
    pub fn set_cookie(&self, token: &str, keep: bool) -> HeaderValue {
        let life = keep.then(|| self.settings.session_life());
        cookie::set(token, life, self.settings.tls)
    }

    pub fn clear_cookie(&self) -> HeaderValue {
        cookie::clear(self.settings.tls)
    }

    fn life_ms(&self) -> i64 {
        self.settings.session_life().as_millis() as i64
    }

    /// The session of the request's cookie, if it is live.
    pub async fn cookie(&self, parts: &Parts) -> Result<Cookie, AuthError> {
        let Some(token) = cookie::token(&parts.headers) else {
            return Ok(Cookie::None);
        };
        if !token::well_formed(token) {
            return Ok(Cookie::Stale);
        }
        let hash = token::hash(token);
        let now = db::now_ms();
        let session = self
            .store
            .call(move |conn| Ok(db::session_by_token(conn, &hash, now)?))
            .await?;
        Ok(session.map_or(Cookie::Stale, Cookie::Live))
    }

    /// Signs `user_id` in on the browser of `parts`: a new session; its token (for the
    /// cookie) and public id.
    pub async fn start_session(
        &self,
        user_id: i64,
        parts: &Parts,
        keep: bool,
    ) -> Result<(String, String), AuthError> {
        let (token, public_id) = (token::new_token()?, token::new_public_id()?);
        let hash = token::hash(&token);
        let device = device::describe(
            parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|ua| ua.to_str().ok()),
        );
        let now = db::now_ms();
        let expires_at = now + self.life_ms();
        let id = public_id.clone();
        self.store
            .call(move |conn| {
                db::insert_session(
                    conn,
                    &db::NewSession {
                        token_hash: &hash,
                        public_id: &id,
                        user_id,
                        device: &device,
                        keep,
                        now,
                        expires_at,
                    },
                )?;
                Ok(())
            })
            .await?;
        Ok((token, public_id))
    }

    /// Who may open `name`'s socket, checked before the upgrade: the page's origin, then
    /// for a claimed name the session of exactly that account.
    pub async fn socket_device(&self, name: &UserName, parts: &Parts) -> Result<Device, Refusal> {
        if !self.origin_allowed(parts) {
            return Err(Refusal {
                status: StatusCode::FORBIDDEN,
                reason: words::FOREIGN_SOCKET.to_owned(),
            });
        }
        let claim = match self.cookie(parts).await {
            Ok(cookie) => self.claim(name, &cookie).await,
            Err(err) => Err(err),
        };
        match claim {
            Ok(Claim::Open) => Ok(Device::default()),
            Ok(Claim::Own(session)) => Ok(Device {
                session: Some(session.public_id),
            }),
            Ok(Claim::Other { .. } | Claim::Closed) => Err(Refusal {
                status: StatusCode::UNAUTHORIZED,
                reason: if self.settings.open_names {
                    words::sign_in_as(name.as_str())
                } else {
                    words::ACCOUNTS_ONLY.to_owned()
                },
            }),
            Err(err) => {
                tracing::error!("checking the sign-in for a socket: {err}");
                Err(Refusal {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    reason: words::SERVER_ERROR.to_owned(),
                })
            }
        }
    }

    /// Whose `name` is, seen from the browser whose session cookie is `cookie`.
    pub async fn claim(&self, name: &UserName, cookie: &Cookie) -> Result<Claim, AuthError> {
        let raw = name.as_str().to_owned();
        let owner = self
            .store
            .call(move |conn| Ok(db::user_by_name(conn, &raw)?))
            .await?;
        Ok(match owner {
            None if self.settings.open_names => Claim::Open,
            None => Claim::Closed,
            Some(owner) => match cookie {
                Cookie::Live(session) if session.user_id == owner.id && !owner.removed => {
                    if owner.name == name.as_str() {
                        Claim::Own(session.clone())
                    } else {
                        Claim::Other {
                            spelled: Some(owner.name),
                        }
                    }
                }
                _ => Claim::Other { spelled: None },
            },
        })
    }
}

/// Whose a name is, seen from one browser.
#[derive(Clone, Debug)]
pub enum Claim {
    /// Nobody's, and open names are on: whoever opens it is it.
    Open,
    /// Nobody's, and open names are off: only accounts.
    Closed,
    /// This browser's account.
    Own(db::Session),
    /// Someone's account and not this browser's, or this browser's account under
    /// another spelling (`spelled`: the account's own; its page is there).
    Other { spelled: Option<String> },
}

/// The client's address, when the server was served with connect info (as `serve` is).
pub fn client_address(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip())
}

/// `next` if it is a path on this server (a sign-in never sends anyone elsewhere).
pub fn local_path(next: &str) -> Option<String> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    ok.then(|| next.to_owned())
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/account"), Some("/account".into()));
        assert_eq!(
            local_path("/webrtc/bob.html"),
            Some("/webrtc/bob.html".into())
        );
        for elsewhere in [
            "",
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "account",
            "/a\nb",
        ] {
            assert_eq!(local_path(elsewhere), None, "{elsewhere:?}");
        }
    }
}
