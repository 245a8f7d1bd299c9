//! Chat on the signaling socket: the frames a chat page sends (`sync`, `chat_send`, ...),
//! answered from the database. A socket's chat frames are handled one at a time, in the
//! order sent, so one page's messages are stored in the order it wrote them.
//!
//! Nothing is acknowledged before it is committed. Every message is pending for each
//! recipient until that recipient's page says it has it (`chat_received`); a page that
//! (re)connects gets everything still pending, so a message survives a closed page, a
//! dropped socket and a server restart. Pages tell messages apart by their server id, so
//! the same message arriving twice (live and again in the backlog) shows once.
//!
//! The work one frame can cause is bounded: groups by `max_group_members` and
//! `max_groups_per_user`, what waits for a page by `pending.rs`, and every frame built
//! here by `frames.rs`.

pub mod db;
pub mod frames;
pub mod pending;
pub mod store;

use super::names;
use super::queue;
use super::settings::Settings;
use crate::protocol::{
    ChatMessage, Conversation, ErrorCode, GroupName, Message, Route, SYSTEM_USER, UserName,
    chat::valid_client_id,
};
use db::{GroupCaps, Stored};
use std::collections::BTreeSet;
use store::{Store, StoreError};

/// Messages read from the database at a time when a page catches up; each batch goes out
/// in as many `chat` frames as its bytes need.
const BACKLOG_CHUNK: u32 = 100;
/// Messages per catch-up; a page that confirms them gets the next ones at its next sync.
const BACKLOG_LIMIT: u32 = 5000;
/// How often pending messages are trimmed (`pending.rs`), in milliseconds: at the first
/// sync after the server starts, then at the first one an hour after the last.
const TRIM_EVERY: i64 = 60 * 60 * 1000;
/// A history page when the page does not say.
const DEFAULT_PAGE: u32 = 30;
/// The most message ids one `chat_received` may confirm. A page confirms each `chat`
/// frame as it arrives, and none holds more than [`BACKLOG_CHUNK`]; each id is database
/// work.
const MAX_RECEIVED_IDS: usize = 500;

/// Milliseconds since 1970, the time stamp of a stored message.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A `chat` frame with `lines` as `reader` sees them.
pub fn new_messages(reader: &UserName, lines: &[Stored]) -> Message {
    Message::Chat {
        route: Route::new(SYSTEM_USER, reader.as_str()),
        messages: lines.iter().map(|line| line.to_wire(reader)).collect(),
    }
}

/// What chat needs of the people online. The signaling hub provides it; chat itself
/// knows nothing of sockets and calls. A person may have several pages open (one per
/// device); `device` is which one, as the hub numbers them ([`Socket::device`]).
pub trait Online: Sync {
    /// `device` of `name` shows chat: from now on it hears of presence changes and new
    /// messages, starting with the whole presence list.
    fn sync(&self, name: &UserName, device: u64);
    /// Queues a chat frame for every page of `to` that shows chat.
    fn push(&self, to: &UserName, msg: &Message);
    /// Queues one chat frame, the same for all, for every page of each of `to` that shows
    /// chat: it is built once, however many get it.
    fn push_all(&self, to: &[UserName], msg: &Message);
    /// Queues a chat frame for `name`'s pages that show chat, all but `device`: what one
    /// of their pages did, the others show too.
    fn push_others(&self, name: &UserName, device: u64, msg: &Message);
    /// Disconnects the socket of `device` of `name`: its page stopped reading.
    fn kick(&self, name: &UserName, device: u64);
}

/// What a chat handler needs of its socket.
pub struct Socket<'a> {
    pub online: &'a dyn Online,
    pub store: &'a Store,
    pub settings: &'a Settings,
    pub me: &'a UserName,
    /// Which of `me`'s pages this is (see [`Online`]).
    pub device: u64,
    /// The socket's own queue: answers to this page wait here for room rather than
    /// overflow it (a long backlog is bigger than the queue).
    pub own: &'a queue::Sender,
}

impl Socket<'_> {
    /// Handles one chat frame from this socket's page, which the socket has counted
    /// against the sender's allowance.
    pub async fn handle(&self, msg: Message) {
        match msg {
            Message::Sync { .. } => self.sync().await,
            Message::ChatSend {
                id,
                conversation,
                text,
                ..
            } => self.send(id, conversation, text).await,
            Message::ChatReceived { ids, .. } if ids.len() > MAX_RECEIVED_IDS => {
                let why = format!(
                    "chat_received confirms at most {MAX_RECEIVED_IDS} messages; this one had {}",
                    ids.len()
                );
                self.reply_error(ErrorCode::BadMessage, why, None).await;
            }
            Message::ChatReceived { ids, .. } => self.received(ids).await,
            Message::ChatRead {
                conversation, upto, ..
            } => self.read(conversation, upto).await,
            Message::History {
                conversation,
                before,
                limit,
                ..
            } => self.history(conversation, before, limit).await,
            Message::GroupCreate { group, members, .. } => {
                let Some(members) = self.within_cap(members, true).await else {
                    return;
                };
                let (me, name, caps) = (self.me.clone(), group.clone(), self.group_caps());
                let now = now_millis();
                let made = self
                    .store
                    .call(move |c| db::group_create(c, &me, &name, &members, now, caps))
                    .await;
                self.announce_group(group, made).await;
            }
            Message::GroupAdd { group, members, .. } => {
                let Some(members) = self.within_cap(members, false).await else {
                    return;
                };
                let (me, name, caps) = (self.me.clone(), group.clone(), self.group_caps());
                let grown = self
                    .store
                    .call(move |c| db::group_add(c, &me, &name, &members, caps))
                    .await;
                self.announce_group(group, grown).await;
            }
            // The socket sends only chat requests here.
            _ => {}
        }
    }

    /// The page shows chat: presence, its conversations, then everything still pending.
    async fn sync(&self) {
        self.online.sync(self.me, self.device);
        self.trim_if_due().await;
        let me = self.me.clone();
        let listed = self.store.call(move |c| db::conversations(c, &me)).await;
        let conversations = match listed {
            Ok(listed) => listed,
            Err(err) => return self.store_failed(err, None).await,
        };
        let (conversations, apart) = frames::conversations(conversations);
        self.reply(Message::Conversations {
            route: Route::new(SYSTEM_USER, self.me.as_str()),
            conversations,
        })
        .await;
        for (group, members) in apart {
            self.reply(Message::Group {
                route: Route::new(SYSTEM_USER, self.me.as_str()),
                group,
                members,
            })
            .await;
        }
        self.catch_up().await;
    }

    /// Sends this page what is pending for it, oldest first, a batch at a time from the
    /// database, in frames of at most [`frames::FRAME_BUDGET`].
    async fn catch_up(&self) {
        let (mut after, mut read) = (0, 0);
        while read < BACKLOG_LIMIT {
            let me = self.me.clone();
            let limit = BACKLOG_CHUNK.min(BACKLOG_LIMIT - read);
            let batch = self
                .store
                .call(move |c| db::undelivered(c, &me, after, limit))
                .await;
            let (lines, next) = match batch {
                Ok(batch) => batch,
                Err(err) => return self.store_failed(err, None).await,
            };
            let mut messages: Vec<ChatMessage> =
                lines.iter().map(|line| line.to_wire(self.me)).collect();
            while !messages.is_empty() {
                let frame: Vec<ChatMessage> =
                    messages.drain(..frames::fitting(&messages)).collect();
                self.reply(Message::Chat {
                    route: Route::new(SYSTEM_USER, self.me.as_str()),
                    messages: frame,
                })
                .await;
            }
            match next {
                Some(id) => (after, read) = (id, read + limit),
                None => break,
            }
        }
    }

    /// Trims what waits for pages (`pending.rs`) if it is time to. Growth comes only from
    /// pages, so trimming as pages come keeps up with it.
    async fn trim_if_due(&self) {
        let now = now_millis();
        if !self.store.cleanup_due(now, TRIM_EVERY) {
            return;
        }
        let days = i64::try_from(self.settings.pending_days).unwrap_or(i64::MAX);
        let cutoff = now.saturating_sub(days.saturating_mul(24 * 60 * 60 * 1000));
        let cap = self.settings.max_pending_per_user;
        match self
            .store
            .call(move |c| pending::trim(c, cutoff, cap))
            .await
        {
            Ok(trimmed) if trimmed == Default::default() => {}
            Ok(trimmed) => tracing::info!(
                expired = trimmed.expired,
                over_cap = trimmed.over_cap,
                "stopped waiting for pages to confirm old chat messages"
            ),
            // The page's sync goes on; the next one tries again within the hour.
            Err(err) => tracing::error!("trimming pending chat messages failed: {err}"),
        }
    }

    async fn send(&self, id: String, conversation: Conversation, text: String) {
        let max = self.settings.max_chat_chars;
        let refusal = if !valid_client_id(&id) {
            Some((
                ErrorCode::BadMessage,
                "a message id is 1–64 letters, digits, _ or -".to_owned(),
            ))
        } else if text.trim().is_empty() {
            Some((ErrorCode::BadMessage, "the message is empty".to_owned()))
        } else if text.chars().count() > max {
            Some((
                ErrorCode::TooLong,
                format!(
                    "the message has {} characters; at most {max} are allowed",
                    text.chars().count()
                ),
            ))
        } else if conversation == Conversation::User(self.me.clone()) {
            Some((
                ErrorCode::BadMessage,
                "you cannot send a message to yourself".to_owned(),
            ))
        } else {
            None
        };
        if let Some((code, why)) = refusal {
            let id = valid_client_id(&id).then_some(id);
            return self.reply_error(code, why, id).await;
        }
        let me = self.me.clone();
        let client_id = id.clone();
        let now = now_millis();
        let max_pending = self.settings.max_pending_per_user;
        let sent = self
            .store
            .call(move |c| db::send(c, &me, &conversation, &client_id, &text, now, max_pending))
            .await;
        let sent = match sent {
            Ok(sent) => sent,
            Err(err) => return self.store_failed(err, Some(id)).await,
        };
        self.reply(Message::ChatAck {
            route: Route::new(SYSTEM_USER, self.me.as_str()),
            id,
            message: sent.message.to_wire(self.me),
        })
        .await;
        let line = std::slice::from_ref(&sent.message);
        for recipient in &sent.recipients {
            self.online.push(recipient, &new_messages(recipient, line));
        }
        // The sender's other pages show what was written on this one.
        let own = new_messages(self.me, line);
        self.online.push_others(self.me, self.device, &own);
    }

    /// The user read `conversation` up to `upto` on this page: stored, and passed to their
    /// other pages, which clear its unread count (`chat_read` server → page).
    async fn read(&self, conversation: Conversation, upto: i64) {
        let (me, asked) = (self.me.clone(), conversation.clone());
        let done = self
            .store
            .call(move |c| db::mark_read(c, &me, &asked, upto))
            .await;
        if let Err(err) = done {
            return self.store_failed(err, None).await;
        }
        let read = Message::ChatRead {
            route: Route::new(SYSTEM_USER, self.me.as_str()),
            conversation,
            upto,
        };
        self.online.push_others(self.me, self.device, &read);
    }

    async fn received(&self, ids: Vec<i64>) {
        let me = self.me.clone();
        let done = self.store.call(move |c| db::received(c, &me, &ids)).await;
        let done = match done {
            Ok(done) => done,
            Err(err) => return self.store_failed(err, None).await,
        };
        let mut by_sender: std::collections::BTreeMap<UserName, Vec<i64>> = Default::default();
        for (sender, id) in done {
            by_sender.entry(sender).or_default().push(id);
        }
        for (sender, ids) in by_sender {
            let msg = Message::ChatDelivered {
                route: Route::new(SYSTEM_USER, sender.as_str()),
                ids,
            };
            self.online.push(&sender, &msg);
        }
    }

    async fn history(&self, conversation: Conversation, before: Option<i64>, limit: Option<u32>) {
        let me = self.me.clone();
        let asked = conversation.clone();
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        let page = self
            .store
            .call(move |c| db::history(c, &me, &asked, before, limit))
            .await;
        match page {
            Ok((lines, more)) => {
                let mut messages: Vec<ChatMessage> =
                    lines.iter().map(|line| line.to_wire(self.me)).collect();
                // A page too big for one frame is cut short; the page asks for the rest.
                let fit = frames::fitting(&messages);
                let more = more || fit < messages.len();
                messages.truncate(fit);
                self.reply(Message::HistoryPage {
                    route: Route::new(SYSTEM_USER, self.me.as_str()),
                    conversation,
                    messages,
                    more,
                })
                .await;
            }
            Err(err) => self.store_failed(err, None).await,
        }
    }

    fn group_caps(&self) -> GroupCaps {
        GroupCaps {
            members: self.settings.max_group_members,
            groups_per_user: self.settings.max_groups_per_user,
        }
    }

    /// `members` without repeats; or `None`, the page told, if they alone are more than a
    /// group may hold, since after a create or an add every one of them is a member (and,
    /// `creating`, this page's user too). The database checks the rest; this refuses a
    /// crowd before any database work.
    async fn within_cap(&self, members: Vec<UserName>, creating: bool) -> Option<Vec<UserName>> {
        // A spelling of the server's own name can never sign in: not a member to add.
        if let Some(reserved) = members.iter().find(|m| names::check((*m).clone()).is_err()) {
            let why = format!("{reserved:?}: {}", crate::protocol::NameError::Reserved);
            self.reply_error(ErrorCode::BadName, why, None).await;
            return None;
        }
        let distinct: BTreeSet<UserName> = members
            .into_iter()
            .filter(|member| !creating || member != self.me)
            .collect();
        match self
            .group_caps()
            .check_size(distinct.len() + usize::from(creating))
        {
            Ok(()) => Some(distinct.into_iter().collect()),
            Err(err) => {
                self.store_failed(err, None).await;
                None
            }
        }
    }

    /// Tells every member of `group` who its members are now: one frame for all of them.
    async fn announce_group(&self, group: GroupName, members: Result<Vec<UserName>, StoreError>) {
        let members = match members {
            Ok(members) => members,
            Err(err) => return self.store_failed(err, None).await,
        };
        let msg = Message::Group {
            route: Route {
                from_user: Some(SYSTEM_USER.to_owned()),
                to_user: None,
            },
            group,
            members: members.clone(),
        };
        self.online.push_all(&members, &msg);
    }

    /// Answers a store failure: a refusal in its own words, anything else as `storage`
    /// (logged here, with the cause; the page gets no internals).
    async fn store_failed(&self, err: StoreError, id: Option<String>) {
        match err {
            StoreError::Refused { code, msg } => self.reply_error(code, msg, id).await,
            other => {
                tracing::error!(user = %self.me, "chat storage failed: {other}");
                let why = "the server could not store or read chat; try again".to_owned();
                self.reply_error(ErrorCode::Storage, why, id).await;
            }
        }
    }

    async fn reply_error(&self, code: ErrorCode, why: String, id: Option<String>) {
        self.reply(Message::chat_error(self.me, code, why, id))
            .await;
    }

    /// Queues `msg` for this page, waiting for room. A page that stopped reading fills its
    /// queue, and waiting for ever would also stop this socket's loop from noticing that:
    /// once the queue is stuck (see `server/queue.rs`), it is disconnected instead.
    async fn reply(&self, msg: Message) {
        let stall = queue::stall(self.settings);
        if let Err(stuck) = self.own.send_answer(msg.to_json().into(), stall).await {
            tracing::info!(user = %self.me, "disconnecting a page that stopped reading: {stuck}");
            self.online.kick(self.me, self.device);
        }
    }
}
