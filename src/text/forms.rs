//! Why the server refused a form (sign-in, sign-up, password, invite) or a socket, as the
//! page shows it. Both builds compile it; the server writes these into `Visit.outcome`.

/// The one answer for a wrong name and a wrong password: which of the two was wrong is
/// not told, so names cannot be guessed.
pub const WRONG_SIGN_IN: &str = "Wrong name or password.";
pub const WRONG_CURRENT_PASSWORD: &str = "The current password is wrong.";
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;
pub const PASSWORD_TOO_SHORT: &str = "The password needs at least 8 characters.";
pub const PASSWORD_TOO_LONG: &str = "The password may have at most 256 characters.";
pub const NAME_TAKEN: &str = "That name is taken: pick another.";
pub const SIGNUP_CLOSED: &str = "New accounts need an invite link on this server.";
pub const INVITE_UNKNOWN: &str = "This invite link is not valid.";
pub const INVITE_USED_UP: &str = "This invite link has been used already.";
pub const INVITE_EXPIRED: &str = "This invite link has expired.";
pub const FOREIGN_ORIGIN: &str =
    "Refused: the form was sent from a page of another site (its Origin is not this server).";
pub const SERVER_ERROR: &str = "The server could not do that just now. Try again.";

/// Sign-in attempts past the limit.
pub fn too_many_attempts(retry_secs: u64) -> String {
    format!("Too many attempts. Try again in {retry_secs} s.")
}

/// An invite pinned to another name.
pub fn invite_for(name: &str) -> String {
    format!("This invite link is for the name {name}.")
}

/// A socket (or page) of a claimed name, without that account's sign-in.
pub fn sign_in_as(name: &str) -> String {
    format!("{name} is a claimed name: sign in as {name} to open it.")
}

/// A socket of an unclaimed name while the server allows no open names.
pub const ACCOUNTS_ONLY: &str = "This server needs an account: sign in first.";

/// A socket opened from a page of another site.
pub const FOREIGN_SOCKET: &str =
    "Refused: the socket was opened from a page of another site (its Origin is not this server).";
