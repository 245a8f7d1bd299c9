//! What the server answers, in plain text and in English, where no page shows it in its
//! language: refused sockets (a browser's `WebSocket` never shows the body) and bare
//! error responses. The reasons a page shows for a refused form are in [`super::Words`].

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;
pub const FOREIGN_ORIGIN: &str =
    "Refused: the form was sent from a page of another site (its Origin is not this server).";
pub const SERVER_ERROR: &str = "The server could not do that just now. Try again.";

/// A socket (or page) of a claimed name, without that account's sign-in.
pub fn sign_in_as(name: &str) -> String {
    format!("{name} is a claimed name: sign in as {name} to open it.")
}

/// A socket of an unclaimed name while the server allows no open names.
pub const ACCOUNTS_ONLY: &str = "This server needs an account: sign in first.";

/// A socket opened from a page of another site.
pub const FOREIGN_SOCKET: &str =
    "Refused: the socket was opened from a page of another site (its Origin is not this server).";
