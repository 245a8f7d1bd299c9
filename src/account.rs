//! Who is looking at a page, as the server saw it when it rendered the page: the name this
//! browser is signed in as, what the operator allows (sign-up, open names), and the outcome
//! of a form just sent. The server fills a [`Visit`] for every page it renders (see
//! `server/auth/`); the page reads it while rendering and the browser hydrates from the
//! same value, so nothing flips. Shared by both builds: no server types here.

use serde::{Deserialize, Serialize};

/// The cookie that carries a browser's session token (HttpOnly: no script ever sees it).
pub const SESSION_COOKIE: &str = "duet_session";

/// Where the forms post to. Plain HTML forms: they work before (and without) the page's
/// script, and the server answers each with a redirect or with the page and its error.
pub mod paths {
    pub const SIGN_IN: &str = "/signin";
    pub const SIGN_UP: &str = "/signup";
    pub const SIGN_OUT: &str = "/signout";
    pub const ACCOUNT: &str = "/account";
    pub const REVOKE: &str = "/account/revoke";
    pub const PASSWORD: &str = "/account/password";
    pub const INVITE: &str = "/account/invite";
    /// `/i/TOKEN`, an invite link.
    pub const INVITE_PREFIX: &str = "/i/";
}

/// Who may create an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signup {
    /// Anyone, on the home page.
    #[default]
    Open,
    /// Only whoever opens an invite link.
    Invite,
    /// Nobody through the pages (the operator adds people from the command line; invite
    /// links still work).
    Closed,
}

/// Which form a [`FormOutcome`] belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// The home page's form for a name without an account.
    OpenName,
    SignIn,
    SignUp,
    Password,
    Invite,
}

/// A form the server refused, shown again with why (and what was typed, but never a
/// password).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormOutcome {
    pub form: Form,
    pub error: String,
    /// The name that was typed, to fill the field again.
    pub name: String,
}

/// One signed-in browser, as `/account` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// The session's public id (never its token), what `/account/revoke` takes.
    pub id: String,
    /// From the browser's User-Agent, e.g. "Chrome on Android".
    pub device: String,
    /// Milliseconds since 1970.
    pub created: i64,
    pub last_seen: i64,
    /// The browser looking at the page.
    pub current: bool,
}

/// What `/account` shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub sessions: Vec<SessionView>,
    /// A link just made by *Invite* (shown once: only its hash is stored).
    pub invite_url: Option<String>,
    /// The password was just changed (and every other session signed out).
    pub password_changed: bool,
    pub admin: bool,
}

/// What `/i/TOKEN` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    pub token: String,
    /// The name the invite is for, if its maker pinned one.
    pub name: Option<String>,
    /// Why it cannot be used (used up, expired, unknown), if it cannot.
    pub refused: Option<String>,
}

/// Everything a page knows about who looks at it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    /// The name this browser is signed in as.
    pub signed_in: Option<String>,
    pub signup: Signup,
    /// Unclaimed names work without an account, as in the original demo.
    pub open_names: bool,
    /// On a call page: its name needs a sign-in this browser does not have (the name is
    /// claimed by an account, or `open_names` is off). The page shows the sign-in form
    /// instead of the call.
    pub gate: bool,
    /// A form the server just refused.
    pub outcome: Option<FormOutcome>,
    /// Where a sign-in goes afterwards (a path on this server), e.g. the call page that
    /// asked for it.
    pub next: Option<String>,
    /// On `/account`.
    pub account: Option<AccountView>,
    /// On `/i/TOKEN`.
    pub invite: Option<InviteView>,
}
