//! The wire types of chat and presence: who is online, conversations (one to one or a
//! group), and the messages in them. The frames that carry them are [`super::Message`]'s
//! chat variants; these are their fields.
//!
//! A person signed in on several devices has a page on each, and chat keeps them alike:
//! every page that shows chat gets each new message (the ones written on the person's
//! other pages too), and a `chat_read` one page sends is passed by the server, as the
//! same frame (`conversation`, `upto`), to the person's other pages, which clear that
//! conversation's unread count. That is the only frame that travels both ways; an
//! original page never asks for chat (`sync`), so it never sees one.

use super::{Reason, UserName};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest group name, in characters.
pub const MAX_GROUP_CHARS: usize = 64;

/// The longest client-made message id, in characters.
pub const MAX_CLIENT_ID_CHARS: usize = 64;

/// A group name that has passed [`GroupName::parse`]: 1–64 letters of any script, digits,
/// spaces, `_`, `-` or `.`, not starting or ending with a space.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct GroupName(String);

/// Why a string is not a [`GroupName`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GroupNameError {
    #[error("a group name needs at least one character")]
    Empty,
    #[error("a group name has at most {MAX_GROUP_CHARS} characters")]
    TooLong,
    #[error("{0:?} is not allowed in a group name: use letters, digits, spaces, _ - or .")]
    BadChar(char),
    #[error("a group name cannot start or end with a space")]
    Padded,
}

impl GroupName {
    pub fn parse(raw: &str) -> Result<Self, GroupNameError> {
        if raw.is_empty() {
            return Err(GroupNameError::Empty);
        }
        if raw.chars().count() > MAX_GROUP_CHARS {
            return Err(GroupNameError::TooLong);
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.')))
        {
            return Err(GroupNameError::BadChar(bad));
        }
        if raw.trim() != raw {
            return Err(GroupNameError::Padded);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for GroupName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        GroupName::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A conversation, seen from one member: `{"user": "bob"}` is this user's conversation
/// with bob (bob sees the same one as `{"user": "alice"}`), `{"group": "team"}` a group.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conversation {
    User(UserName),
    Group(GroupName),
}

/// What the presence list shows for one user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Available,
    InCall,
    Offline,
    #[serde(other)]
    Other,
}

/// One line of the presence list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceEntry {
    pub user: UserName,
    pub state: Presence,
}

/// What a stored line of a conversation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    /// Text a member wrote.
    Text,
    /// A ring from `from` that did not become a call; `reason` says why.
    MissedCall,
    #[serde(other)]
    Other,
}

/// How far a message got: stored by the server, or also received by every recipient's page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Sent,
    Delivered,
}

/// One stored message, as its reader sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// The server's id: unique, and increasing in the order messages were stored.
    pub id: i64,
    /// The sender page's own id for it; none for the server's lines (missed calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub conversation: Conversation,
    pub from: UserName,
    /// When the server stored it, in milliseconds since 1970 (UTC).
    pub at: i64,
    pub kind: ChatKind,
    /// The text, shown as text; empty for a missed call.
    pub text: String,
    /// Why a missed call was missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    pub state: Delivery,
}

/// One conversation in a user's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    pub conversation: Conversation,
    /// A group's members; empty for a one-to-one conversation.
    #[serde(default)]
    pub members: Vec<UserName>,
    /// Messages from others after the last one this user read.
    pub unread: u32,
    /// The newest message's id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_id: Option<i64>,
}

/// Whether `raw` can be a client-made message id: 1–64 ASCII letters, digits, `_` or `-`.
pub fn valid_client_id(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= MAX_CLIENT_ID_CHARS
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}
