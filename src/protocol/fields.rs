//! Reading a frame into a [`Message`]: every field any type has, read in one pass into
//! [`Fields`], then the ones the `type` needs taken out.
//!
//! Why not serde's derive on the enum: an internally tagged enum whose variants flatten
//! [`Route`] makes serde buffer the whole object into its private `Content` tree before it
//! knows the variant, and instantiate that machinery per variant. In the page's WASM that
//! was the largest single function (85 KB of the 968 KB release build). A plain struct of
//! options is read straight from the text. As before, unknown fields are ignored (so newer
//! pages and servers can add fields), `null` counts as absent, and a missing field is named
//! the way serde names it. One thing is stricter: a known field of the wrong shape is
//! refused even in a type that does not use it (`"sdp": 5` in a `hangup`).

use super::{
    ChatMessage, Conversation, ConversationSummary, ErrorCode, GroupName, IceCandidate, IcePolicy,
    IceServer, Message, PresenceEntry, Reason, Route, UserName,
};
use serde::Deserialize;

/// Every field of every type, by its wire name.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fields {
    #[serde(rename = "type")]
    kind: Option<String>,
    from_user: Option<String>,
    to_user: Option<String>,
    msg: Option<String>,
    reason: Option<Reason>,
    sdp: Option<String>,
    ice_candidate: Option<IceCandidate>,
    user: Option<String>,
    ice_servers: Option<Vec<IceServer>>,
    ice_transport_policy: Option<IcePolicy>,
    ring_timeout_secs: Option<u64>,
    connect_timeout_secs: Option<u64>,
    resume: Option<String>,
    resumed: Option<bool>,
    max_chat_chars: Option<u64>,
    max_message_bytes: Option<u64>,
    code: Option<ErrorCode>,
    id: Option<String>,
    users: Option<Vec<PresenceEntry>>,
    full: Option<bool>,
    conversations: Option<Vec<ConversationSummary>>,
    conversation: Option<Conversation>,
    text: Option<String>,
    message: Option<ChatMessage>,
    messages: Option<Vec<ChatMessage>>,
    ids: Option<Vec<i64>>,
    upto: Option<i64>,
    before: Option<i64>,
    limit: Option<u32>,
    more: Option<bool>,
    group: Option<GroupName>,
    members: Option<Vec<UserName>>,
}

/// `field`'s value, or serde's words for its absence.
fn need<T>(value: Option<T>, field: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("missing field `{field}`"))
}

impl Fields {
    fn into_message(self) -> Result<Message, String> {
        let f = self;
        let route = Route {
            from_user: f.from_user,
            to_user: f.to_user,
        };
        let kind = need(f.kind, "type")?;
        Ok(match kind.as_str() {
            "call_start" => Message::CallStart { route, msg: f.msg },
            "call_back" => Message::CallBack {
                route,
                msg: need(f.msg, "msg")?,
                reason: f.reason,
            },
            "ring_offer" => Message::RingOffer {
                route,
                sdp: need(f.sdp, "sdp")?,
            },
            "offer" => Message::Offer {
                route,
                sdp: need(f.sdp, "sdp")?,
            },
            "answer" => Message::Answer {
                route,
                sdp: need(f.sdp, "sdp")?,
            },
            "_ice" => Message::Ice {
                route,
                ice_candidate: need(f.ice_candidate, "iceCandidate")?,
            },
            "hangup" => Message::Hangup {
                route,
                msg: f.msg,
                reason: f.reason,
            },
            "welcome" => Message::Welcome {
                route,
                user: need(f.user, "user")?,
                ice_servers: need(f.ice_servers, "iceServers")?,
                ice_transport_policy: f.ice_transport_policy.unwrap_or_default(),
                ring_timeout_secs: need(f.ring_timeout_secs, "ringTimeoutSecs")?,
                connect_timeout_secs: f.connect_timeout_secs,
                resume: f.resume,
                resumed: f.resumed.unwrap_or_default(),
                max_chat_chars: f.max_chat_chars,
                max_message_bytes: f.max_message_bytes,
            },
            "ice_servers" => Message::IceServers {
                route,
                ice_servers: need(f.ice_servers, "iceServers")?,
            },
            "ringing" => Message::Ringing { route },
            "error" => Message::Error {
                route,
                code: need(f.code, "code")?,
                msg: need(f.msg, "msg")?,
                id: f.id,
            },
            "sync" => Message::Sync { route },
            "presence" => Message::Presence {
                route,
                users: need(f.users, "users")?,
                full: need(f.full, "full")?,
            },
            "conversations" => Message::Conversations {
                route,
                conversations: need(f.conversations, "conversations")?,
            },
            "chat_send" => Message::ChatSend {
                route,
                id: need(f.id, "id")?,
                conversation: need(f.conversation, "conversation")?,
                text: need(f.text, "text")?,
            },
            "chat_ack" => Message::ChatAck {
                route,
                id: need(f.id, "id")?,
                message: need(f.message, "message")?,
            },
            "chat" => Message::Chat {
                route,
                messages: need(f.messages, "messages")?,
            },
            "chat_received" => Message::ChatReceived {
                route,
                ids: need(f.ids, "ids")?,
            },
            "chat_delivered" => Message::ChatDelivered {
                route,
                ids: need(f.ids, "ids")?,
            },
            "chat_read" => Message::ChatRead {
                route,
                conversation: need(f.conversation, "conversation")?,
                upto: need(f.upto, "upto")?,
            },
            "history" => Message::History {
                route,
                conversation: need(f.conversation, "conversation")?,
                before: f.before,
                limit: f.limit,
            },
            "history_page" => Message::HistoryPage {
                route,
                conversation: need(f.conversation, "conversation")?,
                messages: need(f.messages, "messages")?,
                more: need(f.more, "more")?,
            },
            "group_create" => Message::GroupCreate {
                route,
                group: need(f.group, "group")?,
                members: need(f.members, "members")?,
            },
            "group_add" => Message::GroupAdd {
                route,
                group: need(f.group, "group")?,
                members: need(f.members, "members")?,
            },
            "group" => Message::Group {
                route,
                group: need(f.group, "group")?,
                members: need(f.members, "members")?,
            },
            other => return Err(format!("unknown message type `{other}`")),
        })
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Fields::deserialize(d)?
            .into_message()
            .map_err(serde::de::Error::custom)
    }
}
