//! The signaling wire format, shared by the server and the page.
//!
//! Every frame is one JSON text object with a `type`. The first six types are the original
//! demo's (`../shared/SEED-PROTOCOL.md`) with its camelCase fields, so a page written for it
//! still works; the others are duet's additions, which such a page ignores. New information
//! for old types travels in new optional fields (`reason`). No I/O and no `cfg` here: both
//! builds compile this file.

use serde::{Deserialize, Serialize};
use std::fmt;

pub mod chat;
mod fields;
pub use chat::{
    ChatKind, ChatMessage, Conversation, ConversationSummary, Delivery, GroupName, Presence,
    PresenceEntry,
};

/// The sender name of the server's own notices. No user can take it.
pub const SYSTEM_USER: &str = "duet";

/// The longest user name, in characters (not bytes: `张三` is two).
pub const MAX_NAME_CHARS: usize = 32;

/// How long an accepted call may try to connect, unless the welcome says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 20;

/// `call_back` `msg` that accepts a ring (the original's value).
pub const ACCEPT: &str = "1";
/// `call_back` `msg` that declines a ring (the original's value).
pub const DECLINE: &str = "0";

/// WebSocket close codes the server uses. 1009 is RFC 6455's; 4000–4999 are for
/// applications.
pub mod close {
    /// A frame larger than the server's `max_message_bytes`.
    pub const TOO_BIG: u16 = 1009;
    /// The name is online in another socket.
    pub const NAME_IN_USE: u16 = 4409;
    pub const NAME_IN_USE_REASON: &str = "name in use";
    /// The page's session ended: signed out here or from another browser (`/account`),
    /// its password changed, or its account removed. The page shows the sign-in form.
    pub const SIGNED_OUT: u16 = 4401;
    pub const SIGNED_OUT_REASON: &str = "signed out";
}

/// A user name that has passed [`UserName::parse`]: 1–32 letters of any script, digits,
/// `_`, `-` or `.`, and not [`SYSTEM_USER`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UserName(String);

/// Why a string is not a [`UserName`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a name needs at least one character")]
    Empty,
    #[error("a name has at most {MAX_NAME_CHARS} characters")]
    TooLong,
    #[error("{0:?} is not allowed in a name: use letters, digits, _ - or .")]
    BadChar(char),
    #[error("the name {SYSTEM_USER:?} is reserved")]
    Reserved,
}

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if raw.is_empty() {
            return Err(NameError::Empty);
        }
        if raw.chars().count() > MAX_NAME_CHARS {
            return Err(NameError::TooLong);
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
        {
            return Err(NameError::BadChar(bad));
        }
        if raw == SYSTEM_USER {
            return Err(NameError::Reserved);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UserName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        UserName::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Who a frame is from and for. A page may write both; the server overwrites `fromUser` with
/// the socket's own name and `toUser` with the recipient, whatever the page claimed.
/// Both are optional on the wire because the original server printed frames without them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_user: Option<String>,
}

impl Route {
    pub fn new(from: &str, to: &str) -> Self {
        Self {
            from_user: Some(from.to_owned()),
            to_user: Some(to.to_owned()),
        }
    }

    pub fn to(to: &str) -> Self {
        Self {
            from_user: None,
            to_user: Some(to.to_owned()),
        }
    }
}

/// One trickled ICE candidate, as `RTCIceCandidate.toJSON()` writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_m_line_index: Option<u16>,
}

/// One STUN or TURN server, as `RTCIceServer` takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Which ICE candidates a page may use, as `RTCConfiguration.iceTransportPolicy` takes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IcePolicy {
    /// Direct paths where they work, a relay where they don't.
    #[default]
    All,
    /// Only through a TURN relay: neither side learns the other's addresses.
    Relay,
}

impl IcePolicy {
    pub fn is_all(&self) -> bool {
        *self == IcePolicy::All
    }
}

/// Why a ring or call ended, carried in `reason` beside the original's free-text `msg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The callee pressed *Decline*.
    Declined,
    /// The callee is ringing or talking with someone else.
    Busy,
    /// Nobody of that name is online.
    Offline,
    /// The caller gave up while it rang.
    Cancelled,
    /// Nobody answered within the ring timeout.
    Timeout,
    /// The other side pressed *Hang up*.
    HungUp,
    /// The other side's page closed or lost its connection.
    Gone,
    /// The other side has neither camera nor microphone (or refused both).
    NoMedia,
    /// The call was accepted but no media path was found before the page's deadline
    /// (`connectTimeoutSecs`): the networks block a direct connection and no relay carried it.
    NoConnection,
    /// The person has several pages open (signed in on several devices) and took the call
    /// on another one: this page stops ringing.
    AnsweredElsewhere,
    /// A reason from a newer server that this build does not know.
    #[serde(other)]
    Other,
}

/// What an `error` frame refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not JSON, or not an object with a string `type`.
    BadJson,
    /// The `type` is not one duet knows.
    UnknownType,
    /// A known `type` with a field missing or of the wrong kind.
    BadMessage,
    /// A binary frame: the protocol is JSON text only.
    Binary,
    /// A type only the server may send.
    NotAllowed,
    /// `toUser` is not a valid name.
    BadName,
    /// Calling yourself.
    SelfCall,
    /// A new call while this user already rings or talks.
    NotIdle,
    /// A call message from someone with no ring or call to send it in.
    NoCall,
    /// A call message addressed to someone other than this call's other party.
    WrongPeer,
    /// Another socket holds this name; this one is closed next (code 4409).
    NameInUse,
    /// A chat message longer than the server's `max_chat_chars`; it was not stored.
    TooLong,
    /// More chat frames than the per-socket rate limit allows; this one was dropped.
    RateLimited,
    /// A conversation this user is not a member of (or a group that does not exist).
    NotMember,
    /// A group of that name already exists.
    GroupExists,
    /// The server could not store or read chat; nothing was stored, try again.
    Storage,
    /// Past one of the server's chat limits: members in a group (`max_group_members`),
    /// groups one person is in (`max_groups_per_user`); nothing was stored.
    TooMany,
    /// An error from a newer server that this build does not know.
    #[serde(other)]
    Other,
}

/// One frame on the signaling socket. Each variant's `///` says which way it travels;
/// "page → page" frames go through the server, which checks and stamps them.
///
/// Written with serde's derive; read by the hand-written `Deserialize` in `fields.rs`, which
/// must list the same `type`s and field names (the round-trip tests hold them together).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum Message {
    /// page → page: ring `toUser`.
    #[serde(rename = "call_start")]
    CallStart {
        #[serde(flatten)]
        route: Route,
        /// Sent by the original page, meaning nothing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        msg: Option<String>,
    },
    /// page → page: the callee's answer, `msg` [`ACCEPT`] or [`DECLINE`];
    /// server → caller: why the ring failed (`msg` is text for people, `reason` for programs).
    #[serde(rename = "call_back")]
    CallBack {
        #[serde(flatten)]
        route: Route,
        msg: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
    },
    /// page → page, only while it rings: the caller's offer as made, before any of its
    /// candidates (so no address of the caller's) are in it. A callee may take it before it
    /// answers, and answer at once on Accept; the `offer` after `call_back` "1" still
    /// follows, with the candidates. Pages that do not know it (the original demo's)
    /// ignore it.
    #[serde(rename = "ring_offer")]
    RingOffer {
        #[serde(flatten)]
        route: Route,
        sdp: String,
    },
    /// page → page: the SDP offer; the caller sends it after `call_back` "1".
    #[serde(rename = "offer")]
    Offer {
        #[serde(flatten)]
        route: Route,
        sdp: String,
    },
    /// page → page: the SDP answer.
    #[serde(rename = "answer")]
    Answer {
        #[serde(flatten)]
        route: Route,
        sdp: String,
    },
    /// page → page: one trickled ICE candidate.
    #[serde(rename = "_ice")]
    Ice {
        #[serde(flatten)]
        route: Route,
        #[serde(rename = "iceCandidate")]
        ice_candidate: IceCandidate,
    },
    /// page → page: the call, or the ring, is over. From the caller while it rings this
    /// cancels; from the callee while it rings this declines. server → page: the server
    /// ended it (timeout, the other side gone).
    #[serde(rename = "hangup")]
    Hangup {
        #[serde(flatten)]
        route: Route,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        msg: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
    },
    /// server → page, first on every socket: who you are and how to call.
    #[serde(rename = "welcome", rename_all = "camelCase")]
    Welcome {
        #[serde(flatten)]
        route: Route,
        user: String,
        ice_servers: Vec<IceServer>,
        /// `relay`: the operator wants calls through TURN only.
        #[serde(default, skip_serializing_if = "IcePolicy::is_all")]
        ice_transport_policy: IcePolicy,
        ring_timeout_secs: u64,
        /// How long an accepted call may try to connect before the page gives up and hangs
        /// up with [`Reason::NoConnection`]; absent, [`DEFAULT_CONNECT_TIMEOUT_SECS`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        connect_timeout_secs: Option<u64>,
        /// A secret for this page alone: reconnecting with `?resume=` and it takes the name
        /// back, and its call with it, while the server still holds them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
        /// This socket took over from the page's earlier one: its call goes on.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        resumed: bool,
        /// The longest chat message the server stores, in characters (`max_chat_chars`),
        /// so the page can refuse a longer one before sending it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_chat_chars: Option<u64>,
        /// The largest frame the server reads (`max_message_bytes`); a larger one closes
        /// the socket with [`close::TOO_BIG`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_message_bytes: Option<u64>,
    },
    /// server → page: fresh ICE servers (new TURN credentials before the old expire).
    #[serde(rename = "ice_servers", rename_all = "camelCase")]
    IceServers {
        #[serde(flatten)]
        route: Route,
        ice_servers: Vec<IceServer>,
    },
    /// server → caller: the callee's page is ringing now.
    #[serde(rename = "ringing")]
    Ringing {
        #[serde(flatten)]
        route: Route,
    },
    /// server → page: the frame before was refused; nothing was relayed.
    #[serde(rename = "error")]
    Error {
        #[serde(flatten)]
        route: Route,
        code: ErrorCode,
        msg: String,
        /// The client id of the refused `chat_send`, so the page can mark that message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },

    // --- chat and presence -------------------------------------------------------------
    /// page → server: this page shows chat. The server answers with `presence` (everyone
    /// online), `conversations`, and every message not yet delivered here, then keeps the
    /// page up to date. A page that never sends it (the original) only makes calls.
    #[serde(rename = "sync")]
    Sync {
        #[serde(flatten)]
        route: Route,
    },
    /// server → page: who is online and how (`full`: the whole list, else changes).
    #[serde(rename = "presence")]
    Presence {
        #[serde(flatten)]
        route: Route,
        users: Vec<PresenceEntry>,
        full: bool,
    },
    /// server → page: this user's conversations, with unread counts.
    #[serde(rename = "conversations")]
    Conversations {
        #[serde(flatten)]
        route: Route,
        conversations: Vec<ConversationSummary>,
    },
    /// page → server: store `text` in `conversation`. `id` is the page's own id for it:
    /// sending the same id again stores nothing new.
    #[serde(rename = "chat_send")]
    ChatSend {
        #[serde(flatten)]
        route: Route,
        id: String,
        conversation: Conversation,
        text: String,
    },
    /// server → sender: the message with client id `id` is stored (committed).
    #[serde(rename = "chat_ack")]
    ChatAck {
        #[serde(flatten)]
        route: Route,
        id: String,
        message: ChatMessage,
    },
    /// server → page: new messages for this user, oldest first.
    #[serde(rename = "chat")]
    Chat {
        #[serde(flatten)]
        route: Route,
        messages: Vec<ChatMessage>,
    },
    /// page → server: these messages reached this page.
    #[serde(rename = "chat_received")]
    ChatReceived {
        #[serde(flatten)]
        route: Route,
        ids: Vec<i64>,
    },
    /// server → sender: these messages of yours reached every recipient's page.
    #[serde(rename = "chat_delivered")]
    ChatDelivered {
        #[serde(flatten)]
        route: Route,
        ids: Vec<i64>,
    },
    /// page → server: the user has read `conversation` up to message `upto`;
    /// server → the reader's other pages (a person signed in on several devices): read
    /// there, so clear its unread count here (see `protocol/chat.rs`).
    #[serde(rename = "chat_read")]
    ChatRead {
        #[serde(flatten)]
        route: Route,
        conversation: Conversation,
        upto: i64,
    },
    /// page → server: a page of `conversation`'s history, the newest messages older than
    /// `before` (the newest of all without it).
    #[serde(rename = "history")]
    History {
        #[serde(flatten)]
        route: Route,
        conversation: Conversation,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// server → page: the answer to `history`, newest first; `more` if older ones exist.
    #[serde(rename = "history_page")]
    HistoryPage {
        #[serde(flatten)]
        route: Route,
        conversation: Conversation,
        messages: Vec<ChatMessage>,
        more: bool,
    },
    /// page → server: create `group` with the sender and `members` in it.
    #[serde(rename = "group_create")]
    GroupCreate {
        #[serde(flatten)]
        route: Route,
        group: GroupName,
        members: Vec<UserName>,
    },
    /// page → server: add `members` to `group` (the sender must be a member).
    #[serde(rename = "group_add")]
    GroupAdd {
        #[serde(flatten)]
        route: Route,
        group: GroupName,
        members: Vec<UserName>,
    },
    /// server → every member: `group` exists with these members.
    #[serde(rename = "group")]
    Group {
        #[serde(flatten)]
        route: Route,
        group: GroupName,
        members: Vec<UserName>,
    },
}

/// The `type` of every [`Message`], to tell an unknown type from a malformed known one.
pub const KNOWN_TYPES: &[&str] = &[
    "call_start",
    "call_back",
    "ring_offer",
    "offer",
    "answer",
    "_ice",
    "hangup",
    "welcome",
    "ringing",
    "ice_servers",
    "error",
    "sync",
    "presence",
    "conversations",
    "chat_send",
    "chat_ack",
    "chat",
    "chat_received",
    "chat_delivered",
    "chat_read",
    "history",
    "history_page",
    "group_create",
    "group_add",
    "group",
];

/// `$msg`'s route, borrowed as `$msg` is (shared or mutable): one list of variants for both.
macro_rules! route_of {
    ($msg:expr) => {
        match $msg {
            Message::CallStart { route, .. }
            | Message::CallBack { route, .. }
            | Message::RingOffer { route, .. }
            | Message::Offer { route, .. }
            | Message::Answer { route, .. }
            | Message::Ice { route, .. }
            | Message::Hangup { route, .. }
            | Message::Welcome { route, .. }
            | Message::Ringing { route }
            | Message::IceServers { route, .. }
            | Message::Error { route, .. }
            | Message::Sync { route }
            | Message::Presence { route, .. }
            | Message::Conversations { route, .. }
            | Message::ChatSend { route, .. }
            | Message::ChatAck { route, .. }
            | Message::Chat { route, .. }
            | Message::ChatReceived { route, .. }
            | Message::ChatDelivered { route, .. }
            | Message::ChatRead { route, .. }
            | Message::History { route, .. }
            | Message::HistoryPage { route, .. }
            | Message::GroupCreate { route, .. }
            | Message::GroupAdd { route, .. }
            | Message::Group { route, .. } => route,
        }
    };
}

impl Message {
    pub fn route(&self) -> &Route {
        route_of!(self)
    }

    pub fn route_mut(&mut self) -> &mut Route {
        route_of!(self)
    }

    /// The wire name of this message's type.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::CallStart { .. } => "call_start",
            Message::CallBack { .. } => "call_back",
            Message::RingOffer { .. } => "ring_offer",
            Message::Offer { .. } => "offer",
            Message::Answer { .. } => "answer",
            Message::Ice { .. } => "_ice",
            Message::Hangup { .. } => "hangup",
            Message::Welcome { .. } => "welcome",
            Message::Ringing { .. } => "ringing",
            Message::IceServers { .. } => "ice_servers",
            Message::Error { .. } => "error",
            Message::Sync { .. } => "sync",
            Message::Presence { .. } => "presence",
            Message::Conversations { .. } => "conversations",
            Message::ChatSend { .. } => "chat_send",
            Message::ChatAck { .. } => "chat_ack",
            Message::Chat { .. } => "chat",
            Message::ChatReceived { .. } => "chat_received",
            Message::ChatDelivered { .. } => "chat_delivered",
            Message::ChatRead { .. } => "chat_read",
            Message::History { .. } => "history",
            Message::HistoryPage { .. } => "history_page",
            Message::GroupCreate { .. } => "group_create",
            Message::GroupAdd { .. } => "group_add",
            Message::Group { .. } => "group",
        }
    }

    /// server → `to`: the frame `to` sent was refused for `code`, explained in `msg`.
    pub fn error(to: &UserName, code: ErrorCode, msg: String) -> Self {
        Message::Error {
            route: Route::new(SYSTEM_USER, to.as_str()),
            code,
            msg,
            id: None,
        }
    }

    /// server → `to`: their `chat_send` with client id `id` was refused, not stored.
    pub fn chat_error(to: &UserName, code: ErrorCode, msg: String, id: Option<String>) -> Self {
        Message::Error {
            route: Route::new(SYSTEM_USER, to.as_str()),
            code,
            msg,
            id,
        }
    }

    /// Whether only the server may send this type.
    pub fn is_server_only(&self) -> bool {
        matches!(
            self,
            Message::Welcome { .. }
                | Message::Ringing { .. }
                | Message::IceServers { .. }
                | Message::Error { .. }
                | Message::Presence { .. }
                | Message::Conversations { .. }
                | Message::ChatAck { .. }
                | Message::Chat { .. }
                | Message::ChatDelivered { .. }
                | Message::HistoryPage { .. }
                | Message::Group { .. }
        )
    }

    /// Whether this is a chat or presence frame a page sends (handled apart from calls).
    pub fn is_chat_request(&self) -> bool {
        matches!(
            self,
            Message::Sync { .. }
                | Message::ChatSend { .. }
                | Message::ChatReceived { .. }
                | Message::ChatRead { .. }
                | Message::History { .. }
                | Message::GroupCreate { .. }
                | Message::GroupAdd { .. }
        )
    }

    pub fn to_json(&self) -> String {
        // A Message is plain strings, numbers and enums: serialising it cannot fail.
        serde_json::to_string(self).expect("a Message always serialises")
    }
}

/// Why a text frame is not a [`Message`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a JSON object with a string \"type\": {0}")]
    BadJson(String),
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("malformed {kind:?} message: {detail}")]
    BadMessage { kind: String, detail: String },
}

impl DecodeError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::BadJson(_) => ErrorCode::BadJson,
            DecodeError::UnknownType(_) => ErrorCode::UnknownType,
            DecodeError::BadMessage { .. } => ErrorCode::BadMessage,
        }
    }
}

/// Decodes one text frame, telling bad JSON, an unknown type and a malformed known type apart.
pub fn decode(text: &str) -> Result<Message, DecodeError> {
    // The type alone first, borrowed from the frame, so an unknown type is named as such;
    // then the frame straight into its variant. (Going through serde_json::Value copied
    // every frame, SDP and all, into a tree of maps first.)
    #[derive(Deserialize)]
    struct Kind<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<std::borrow::Cow<'a, str>>,
    }
    let bad_json = |e: serde_json::Error| DecodeError::BadJson(e.to_string());
    if !text.trim_start().starts_with('{') {
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(bad_json)?;
        return Err(DecodeError::BadJson("a message is a JSON object".into()));
    }
    let kind = match serde_json::from_str::<Kind>(text) {
        Ok(Kind { kind: Some(kind) }) => kind,
        Ok(Kind { kind: None }) => return Err(DecodeError::BadJson("missing \"type\"".into())),
        // Not JSON, or a "type" that is not a string.
        Err(e) => return Err(bad_json(e)),
    };
    if !KNOWN_TYPES.contains(&kind.as_ref()) {
        return Err(DecodeError::UnknownType(kind.into_owned()));
    }
    serde_json::from_str(text).map_err(|e| DecodeError::BadMessage {
        kind: kind.into_owned(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests;
