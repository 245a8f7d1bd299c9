//! The form posts: sign in, sign up, sign out, and on `/account` revoke a session, change
//! the password, make an invite. Plain `application/x-www-form-urlencoded` forms that work
//! without the page's script. Each checks `Origin` first, and answers with a redirect
//! (303, the browser then loads a page) or with the page the form was on, its error in
//! `Visit.outcome` and a status saying what went wrong. Rendering is the router's: these
//! only say what to render ([`Answer`]).

use super::accounts::{InviteSpec, insert_invite};
use super::attempts::retry_secs;
use super::{Auth, AuthError, Cookie, client_address, cookie, db, local_path, token};
use crate::account::{Form, FormOutcome, Visit, paths};
use crate::pages::page_path;
use crate::protocol::{NameError, UserName};
use crate::server::names;
use crate::server::signal::hub::Hub;
use crate::text::forms as words;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// How long an invite made on `/account` lasts.
pub const INVITE_LIFE: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a form post is answered with.
#[derive(Debug)]
pub enum Answer {
    /// 303 See Other to `to`.
    Redirect {
        to: String,
        cookie: Option<HeaderValue>,
    },
    /// The page at `path`, rendered with `visit`, with `status`.
    Page {
        path: String,
        visit: Box<Visit>,
        status: StatusCode,
        cookie: Option<HeaderValue>,
        /// Seconds, for `Retry-After` (with 429).
        retry_after: Option<u64>,
    },
    /// Refused before anything was read: the status and why, as text.
    Refused { status: StatusCode, reason: String },
}

impl Answer {
    fn redirect(to: impl Into<String>) -> Self {
        Answer::Redirect {
            to: to.into(),
            cookie: None,
        }
    }

    fn foreign() -> Self {
        Answer::Refused {
            status: StatusCode::FORBIDDEN,
            reason: words::FOREIGN_ORIGIN.to_owned(),
        }
    }

    fn failed(err: AuthError) -> Self {
        tracing::error!("a form failed: {err}");
        Answer::Refused {
            status: StatusCode::SERVICE_UNAVAILABLE,
            reason: words::SERVER_ERROR.to_owned(),
        }
    }
}

/// `POST /signin`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    pub name: String,
    pub password: String,
    /// "on" when "Keep me signed in" is checked; absent when not.
    pub keep: Option<String>,
    pub next: Option<String>,
}

/// `POST /signup`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignUpForm {
    pub name: String,
    pub password: String,
    pub keep: Option<String>,
    /// The token of the invite link the form is on.
    pub invite: Option<String>,
}

/// `POST /account/revoke`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RevokeForm {
    /// The public id of one of the account's sessions.
    pub session: String,
}

/// `POST /account/password`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub current: String,
    pub new: String,
}

/// A refused form: its status, why, and for 429 the seconds to wait.
type Refused = (StatusCode, String, Option<u64>);

fn checked(keep: &Option<String>) -> bool {
    keep.as_deref().is_some_and(|v| !v.is_empty())
}

impl Auth {
    /// Whether a form from `parts` that tries a password for `name` may go on: not from a
    /// foreign origin (403), and within the attempts allowed (429, with the seconds to wait).
    fn may_try(&self, parts: &Parts, name: &str) -> Result<(), Refused> {
        if !self.origin_allowed(parts) {
            let why = self.words(parts).foreign_origin;
            return Err((StatusCode::FORBIDDEN, why.into(), None));
        }
        self.attempt(parts, name)
    }

    /// Counts an attempt at `name`'s password from `parts`' address; past the allowance,
    /// 429 with the seconds to wait.
    fn attempt(&self, parts: &Parts, name: &str) -> Result<(), Refused> {
        self.attempts
            .count(&names::folded(name), client_address(parts))
            .map_err(|wait| {
                let secs = retry_secs(wait);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    (self.words(parts).too_many_attempts)(secs),
                    Some(secs),
                )
            })
    }

    /// `POST /signin`: to `next` (or the person's call page) with a session cookie, or the
    /// home page with one answer for a wrong name and a wrong password (401), too many
    /// attempts (429) or a foreign origin (403).
    pub async fn sign_in(&self, hub: &Arc<Hub>, parts: &Parts, form: SignInForm) -> Answer {
        let t = self.words(parts);
        let next = form.next.as_deref().and_then(local_path);
        let typed = form.name.trim().to_owned();
        let fail = |status: StatusCode, error: String, retry_after: Option<u64>| Answer::Page {
            path: "/".to_owned(),
            visit: Box::new(Visit {
                outcome: Some(FormOutcome {
                    form: Form::SignIn,
                    error,
                    name: typed.clone(),
                }),
                next: next.clone(),
                ..self.base_visit()
            }),
            status,
            cookie: None,
            retry_after,
        };
        if let Err((status, error, retry_after)) = self.may_try(parts, &typed) {
            return fail(status, error, retry_after);
        }
        let lookup = typed.clone();
        let user = match self
            .store
            .call(move |conn| Ok(db::user_by_name(conn, &lookup)?))
            .await
        {
            Ok(user) => user.filter(|user| !user.removed),
            Err(err) => return Answer::failed(err.into()),
        };
        // A name without an account costs a verification too (against a stand-in hash).
        let hash = user.as_ref().map(|user| user.password.clone());
        let right = self.hasher.verify(form.password, hash).await;
        let Some(user) = user.filter(|_| right) else {
            return fail(StatusCode::UNAUTHORIZED, t.wrong_sign_in.into(), None);
        };
        // A browser signed in as someone else signs that session out first.
        self.end_current(hub, parts).await;
        let keep = checked(&form.keep);
        match self.start_session(user.id, parts, keep).await {
            Ok((token, _)) => Answer::Redirect {
                to: next.unwrap_or_else(|| own_page(&user.name)),
                cookie: Some(self.set_cookie(&token, keep)),
            },
            Err(err) => Answer::failed(err),
        }
    }

    /// `POST /signup`: a new account, signed in on this browser, to its call page; or the
    /// form's page (home, or the invite's) with why: 400 bad name or password, 409 name
    /// taken, 403 sign-up closed, bad invite or foreign origin, 429 too many attempts.
    pub async fn sign_up(&self, hub: &Arc<Hub>, parts: &Parts, form: SignUpForm) -> Answer {
        let t = self.words(parts);
        let typed = form.name.trim().to_owned();
        let invite_token = form.invite.clone().filter(|t| !t.is_empty());
        let page = match &invite_token {
            Some(token) if token::well_formed(token) => format!("{}{token}", paths::INVITE_PREFIX),
            _ => "/".to_owned(),
        };
        let invite_view = match &invite_token {
            Some(token) => match self.invite_view(token, t).await {
                Ok(view) => Some(view),
                Err(err) => return Answer::failed(err),
            },
            None => None,
        };
        let fail = |status: StatusCode, error: String, retry_after: Option<u64>| Answer::Page {
            path: page.clone(),
            visit: Box::new(Visit {
                outcome: Some(FormOutcome {
                    form: Form::SignUp,
                    error,
                    name: typed.clone(),
                }),
                invite: invite_view.clone(),
                ..self.base_visit()
            }),
            status,
            cookie: None,
            retry_after,
        };
        if let Err((status, error, retry_after)) = self.may_try(parts, &typed) {
            return fail(status, error, retry_after);
        }
        let name = match UserName::parse(&typed).and_then(names::check) {
            Ok(name) => name,
            Err(NameError::Reserved) => {
                return fail(StatusCode::CONFLICT, t.name_taken.into(), None);
            }
            Err(why) => {
                return fail(StatusCode::BAD_REQUEST, (t.bad_name)(&why), None);
            }
        };
        if let Err(why) = super::password::rule(&form.password, t) {
            return fail(StatusCode::BAD_REQUEST, why.into(), None);
        }
        // Checked here for a quick answer, and again below, in the transaction that
        // spends it.
        let invite_hash = match &invite_token {
            Some(token) => {
                match self.invite(token, t).await {
                    Ok(Ok(invite)) => {
                        if let Some(pinned) = invite.name.as_deref()
                            && !names::same(pinned, name.as_str())
                        {
                            return fail(StatusCode::FORBIDDEN, (t.invite_for)(pinned), None);
                        }
                    }
                    Ok(Err(why)) => return fail(StatusCode::FORBIDDEN, why.into(), None),
                    Err(err) => return Answer::failed(err),
                }
                Some(token::hash(token))
            }
            None if self.settings.signup == crate::account::Signup::Open => None,
            None => return fail(StatusCode::FORBIDDEN, t.signup_closed.into(), None),
        };
        let hash = match self.hasher.hash(form.password).await {
            Ok(hash) => hash,
            Err(err) => return Answer::failed(err.into()),
        };
        let raw = name.as_str().to_owned();
        let created = self
            .store
            .call(move |conn| {
                let now = db::now_ms();
                let invite = match &invite_hash {
                    Some(hash) => {
                        match super::visit::usable(db::invite_by_token(conn, hash)?, now, t) {
                            Ok(invite) => Some(invite),
                            Err(why) => return Ok(Err((StatusCode::FORBIDDEN, why))),
                        }
                    }
                    None => None,
                };
                if db::user_by_name(conn, &raw)?.is_some() || db::has_history(conn, &raw)? {
                    return Ok(Err((StatusCode::CONFLICT, t.name_taken)));
                }
                let admin = invite.as_ref().is_some_and(|i| i.admin);
                let Some(id) = db::insert_user(conn, &raw, &hash, admin, now)? else {
                    return Ok(Err((StatusCode::CONFLICT, t.name_taken)));
                };
                if let Some(invite) = invite {
                    db::spend_invite(conn, invite.id)?;
                }
                Ok(Ok(id))
            })
            .await;
        let user_id = match created {
            Ok(Ok(id)) => id,
            Ok(Err((status, why))) => return fail(status, why.into(), None),
            Err(err) => return Answer::failed(err.into()),
        };
        tracing::info!(user = %name, "account created");
        // Whoever had the name open until now (an open name's page) has it no more.
        hub.end_user(&name);
        self.end_current(hub, parts).await;
        let keep = checked(&form.keep);
        match self.start_session(user_id, parts, keep).await {
            Ok((token, _)) => Answer::Redirect {
                to: page_path(&name),
                cookie: Some(self.set_cookie(&token, keep)),
            },
            Err(err) => Answer::failed(err),
        }
    }

    /// `POST /signout`: this browser's session ends (its sockets close) and its cookie
    /// goes; to the home page.
    pub async fn sign_out(&self, hub: &Arc<Hub>, parts: &Parts) -> Answer {
        if !self.origin_allowed(parts) {
            return Answer::foreign();
        }
        self.end_current(hub, parts).await;
        Answer::Redirect {
            to: "/".to_owned(),
            cookie: Some(self.clear_cookie()),
        }
    }

    /// Deletes the session of the request's cookie, if any, and closes its sockets.
    async fn end_current(&self, hub: &Arc<Hub>, parts: &Parts) {
        let Some(token) = cookie::token(&parts.headers).filter(|t| token::well_formed(t)) else {
            return;
        };
        let hash = token::hash(token);
        match self
            .store
            .call(move |conn| Ok(db::delete_session_by_token(conn, &hash)?))
            .await
        {
            Ok(Some(id)) => hub.end_sessions(&[id]),
            Ok(None) => {}
            Err(err) => tracing::error!("signing a session out: {err}"),
        }
    }

    /// The signed-in session of an `/account` form, or where to send a browser without one.
    async fn account_session(&self, parts: &Parts) -> Result<db::Session, Answer> {
        if !self.origin_allowed(parts) {
            return Err(Answer::foreign());
        }
        match self.cookie(parts).await {
            Ok(Cookie::Live(session)) => Ok(session),
            Ok(_) => Err(Answer::redirect(format!("/?next={}", paths::ACCOUNT))),
            Err(err) => Err(Answer::failed(err)),
        }
    }

    /// `POST /account/revoke`: one of the account's sessions ends, its sockets close.
    pub async fn revoke(&self, hub: &Arc<Hub>, parts: &Parts, form: RevokeForm) -> Answer {
        let session = match self.account_session(parts).await {
            Ok(session) => session,
            Err(answer) => return answer,
        };
        let (user_id, id) = (session.user_id, form.session.clone());
        match self
            .store
            .call(move |conn| Ok(db::delete_session_of(conn, user_id, &id)?))
            .await
        {
            Ok(true) => hub.end_sessions(std::slice::from_ref(&form.session)),
            Ok(false) => {}
            Err(err) => return Answer::failed(err.into()),
        }
        let this_browser = form.session == session.public_id;
        Answer::Redirect {
            to: paths::ACCOUNT.to_owned(),
            cookie: this_browser.then(|| self.clear_cookie()),
        }
    }

    /// `POST /account/password`: a new password; every other session ends. Wrong current
    /// password 401, a new one too short 400, too many tries 429.
    pub async fn change_password(
        &self,
        hub: &Arc<Hub>,
        parts: &Parts,
        form: PasswordForm,
    ) -> Answer {
        let session = match self.account_session(parts).await {
            Ok(session) => session,
            Err(answer) => return answer,
        };
        let shown = &session;
        let fail = |status: StatusCode, error: String, retry_after: Option<u64>| async move {
            let session = shown;
            let account = match self.account_view(session).await {
                Ok(account) => account,
                Err(err) => return Answer::failed(err),
            };
            Answer::Page {
                path: paths::ACCOUNT.to_owned(),
                visit: Box::new(Visit {
                    signed_in: Some(session.user_name.clone()),
                    outcome: Some(FormOutcome {
                        form: Form::Password,
                        error,
                        name: session.user_name.clone(),
                    }),
                    account: Some(account),
                    ..self.base_visit()
                }),
                status,
                cookie: None,
                retry_after,
            }
        };
        if let Err(why) = super::password::rule(&form.new, self.words(parts)) {
            return fail(StatusCode::BAD_REQUEST, why.into(), None).await;
        }
        if let Err((status, error, retry_after)) = self.attempt(parts, &session.user_name) {
            return fail(status, error, retry_after).await;
        }
        let lookup = session.user_name.clone();
        let user = match self
            .store
            .call(move |conn| Ok(db::user_by_name(conn, &lookup)?))
            .await
        {
            Ok(user) => user,
            Err(err) => return Answer::failed(err.into()),
        };
        let hash = user.as_ref().map(|user| user.password.clone());
        if !self.hasher.verify(form.current, hash).await {
            return fail(
                StatusCode::UNAUTHORIZED,
                self.words(parts).wrong_current_password.into(),
                None,
            )
            .await;
        }
        let new_hash = match self.hasher.hash(form.new).await {
            Ok(hash) => hash,
            Err(err) => return Answer::failed(err.into()),
        };
        let (user_id, current) = (session.user_id, session.public_id.clone());
        let ended = self
            .store
            .call(move |conn| {
                db::set_password(conn, user_id, &new_hash)?;
                Ok(db::delete_sessions_of(conn, user_id, Some(&current))?)
            })
            .await;
        match ended {
            Ok(ended) => {
                hub.end_sessions(&ended);
                Answer::redirect(format!("{}?changed=1", paths::ACCOUNT))
            }
            Err(err) => Answer::failed(err.into()),
        }
    }

    /// `POST /account/invite`: a one-use invite link valid for [`INVITE_LIFE`], shown
    /// once on the account page.
    pub async fn make_invite(&self, parts: &Parts) -> Answer {
        let session = match self.account_session(parts).await {
            Ok(session) => session,
            Err(answer) => return answer,
        };
        // One use, for `INVITE_LIFE`, any name: what `InviteSpec` means by default.
        let made = insert_invite(&self.store, Some(session.user_id), InviteSpec::default());
        let token = match made.await {
            Ok(token) => token,
            Err(err) => return Answer::failed(err),
        };
        let mut account = match self.account_view(&session).await {
            Ok(account) => account,
            Err(err) => return Answer::failed(err),
        };
        account.invite_url = Some(format!(
            "{}{}{token}",
            self.own_origin(parts),
            paths::INVITE_PREFIX
        ));
        Answer::Page {
            path: paths::ACCOUNT.to_owned(),
            visit: Box::new(Visit {
                signed_in: Some(session.user_name.clone()),
                account: Some(account),
                ..self.base_visit()
            }),
            status: StatusCode::OK,
            cookie: None,
            retry_after: None,
        }
    }

    /// `scheme://host` of the request: where links made for it should point.
    pub fn own_origin(&self, parts: &Parts) -> String {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .map(str::to_owned)
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_else(|| self.settings.site_addr.to_string());
        format!("{}://{host}", self.settings.scheme())
    }
}

/// The call page of the account `name` (always a valid name: accounts are made from one).
fn own_page(name: &str) -> String {
    UserName::parse(name).map_or_else(|_| "/".to_owned(), |name| page_path(&name))
}
