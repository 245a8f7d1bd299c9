//! What a rendered page is told about who looks at it ([`Visit`]), filled for every page
//! the server renders: the signed-in name, what the operator allows, and on `/account` and
//! `/i/TOKEN` what those pages list. A page load by a signed-in browser slides its session
//! (seen now, lasting `session_days` more); a cookie that signs nobody in is cleared.

use super::{Auth, AuthError, Cookie, cookie, db, token};
use crate::account::{AccountView, InviteView, SessionView, Visit};
use crate::text::Words;
use axum::http::HeaderValue;
use axum::http::request::Parts;

/// Who looks at a page.
pub struct Look {
    pub visit: Visit,
    pub cookie: Cookie,
    /// The cookie to send back: slid (kept sessions), or cleared (stale).
    pub set_cookie: Option<HeaderValue>,
}

impl Look {
    pub fn session(&self) -> Option<&db::Session> {
        self.cookie.session()
    }
}

impl Auth {
    /// A visit by nobody in particular.
    pub fn base_visit(&self) -> Visit {
        Visit {
            signup: self.settings.signup,
            open_names: self.settings.open_names,
            ..Visit::default()
        }
    }

    /// Who looks at the page `parts` asks for. A database that fails here shows the page
    /// as to someone signed out (and leaves the cookie alone): the page still renders.
    pub async fn look(&self, parts: &Parts) -> Look {
        let mut visit = self.base_visit();
        let cookie = match self.cookie(parts).await {
            Ok(cookie) => cookie,
            Err(err) => {
                tracing::error!("reading a session: {err}");
                return Look {
                    visit,
                    cookie: Cookie::None,
                    set_cookie: None,
                };
            }
        };
        let set_cookie = match &cookie {
            Cookie::None => None,
            Cookie::Stale => Some(self.clear_cookie()),
            Cookie::Live(session) => {
                visit.signed_in = Some(session.user_name.clone());
                let (id, now, life) = (session.public_id.clone(), db::now_ms(), self.life_ms());
                if let Err(err) = self
                    .store
                    .call(move |conn| Ok(db::touch_session(conn, &id, now, life)?))
                    .await
                {
                    tracing::warn!("sliding a session: {err}");
                }
                let token = cookie::token(&parts.headers).unwrap_or_default();
                session.keep.then(|| self.set_cookie(token, true))
            }
        };
        Look {
            visit,
            cookie,
            set_cookie,
        }
    }

    /// What `/account` lists for the browser of `session`.
    pub async fn account_view(&self, session: &db::Session) -> Result<AccountView, AuthError> {
        let (user_id, now) = (session.user_id, db::now_ms());
        let sessions = self
            .store
            .call(move |conn| Ok(db::sessions_of(conn, user_id, now)?))
            .await?;
        Ok(AccountView {
            sessions: sessions
                .into_iter()
                .map(|s| SessionView {
                    current: s.public_id == session.public_id,
                    id: s.public_id,
                    device: s.device,
                    created: s.created_at,
                    last_seen: s.last_seen,
                })
                .collect(),
            invite_url: None,
            password_changed: false,
            admin: session.admin,
        })
    }

    /// What `/i/TOKEN` shows: whom the invite is for, or why it cannot be used (in `t`'s
    /// words).
    pub async fn invite_view(
        &self,
        token: &str,
        t: &'static Words,
    ) -> Result<InviteView, AuthError> {
        let found = self.invite(token, t).await?;
        Ok(InviteView {
            token: token.to_owned(),
            name: found.as_ref().ok().and_then(|invite| invite.name.clone()),
            refused: found.err().map(str::to_owned),
        })
    }

    /// The invite of `token` if it can still be used, or why not.
    pub async fn invite(
        &self,
        token: &str,
        t: &'static Words,
    ) -> Result<Result<db::Invite, &'static str>, AuthError> {
        if !token::well_formed(token) {
            return Ok(Err(t.invite_unknown));
        }
        let hash = token::hash(token);
        let invite = self
            .store
            .call(move |conn| Ok(db::invite_by_token(conn, &hash)?))
            .await?;
        Ok(usable(invite, db::now_ms(), t))
    }
}

/// `invite` if it is there, has a use left and has not expired at `now`; else why not, in
/// `t`'s words.
pub fn usable(
    invite: Option<db::Invite>,
    now: i64,
    t: &'static Words,
) -> Result<db::Invite, &'static str> {
    match invite {
        None => Err(t.invite_unknown),
        Some(invite) if invite.uses_left <= 0 => Err(t.invite_used_up),
        Some(invite) if invite.expires_at <= now => Err(t.invite_expired),
        Some(invite) => Ok(invite),
    }
}
