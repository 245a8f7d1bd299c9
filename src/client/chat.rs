//! The chat half of the page's controller: keeps [`ChatView`] in step with the server's
//! frames and turns the chat controls into frames.
//!
//! Nothing written is lost: every message gets a client id and waits in the outbox until
//! the server acknowledges it (after committing it). After each (re)connect the outbox is
//! sent again with the same ids, and the server stores each id once. Incoming messages are
//! confirmed (`chat_received`) as they arrive and told apart by server id, so one that
//! arrives twice (live and again in a catch-up) shows once.
//!
//! A person signed in on several devices sees the same chat on each: messages written on
//! another page arrive here as `chat`, and a conversation read on another page arrives as
//! `chat_read`, which clears its unread count here.
//!
//! A message the server would refuse (its welcome says how long one may be) is never sent:
//! a server that closes the socket on an oversized frame would close every new socket too,
//! as long as the outbox held it.

use super::js::log;
use super::signaling::Signaling;
use crate::chat_view::{
    ChatAction, ChatLimits, ChatView, Line, LineState, LocalTime, Thread, time_label,
};
use crate::protocol::{
    ChatMessage, Conversation, ConversationSummary, Delivery, ErrorCode, GroupName, Message,
    Presence, PresenceEntry, Route, UserName,
};
use crate::text::words;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

/// Messages per history page.
const PAGE: u32 = 30;

/// How long presence changes are gathered before the people list is redrawn with all of
/// them: a burst (many people signing in at once, a call starting, which tells everyone
/// online) costs one redraw, not one per change. It also keeps that redraw out of the
/// moment a call is set up, when the same page is handling the call's own frames.
const PRESENCE_BATCH_MS: u32 = 250;

/// A message written here that the server has not acknowledged yet.
#[derive(serde::Serialize, serde::Deserialize)]
struct Draft {
    id: String,
    conversation: Conversation,
    text: String,
}

pub struct Chat {
    me: UserName,
    view: ChatView,
    outbox: Vec<Draft>,
    /// Messages the server refused or would refuse, out of the outbox for good; shown as
    /// failed while this page lives, so their text can still be copied.
    failed: Vec<Draft>,
    /// From the last welcome.
    limits: ChatLimits,
    /// The socket is welcomed: its limits are known, so messages may go out. (Before that
    /// they wait in the outbox, which the welcome sends.)
    signed_in: bool,
    /// A history request is on its way (a scroll asks once).
    loading: bool,
    /// A group this page asked to create: opened when the server confirms it.
    creating: Option<GroupName>,
    /// Presence changes waiting to be shown; `Some` while a redraw is due (see
    /// [`PRESENCE_BATCH_MS`]).
    unshown: Rc<RefCell<Option<Vec<PresenceEntry>>>>,
}

impl Chat {
    /// The chat of `me`'s page, with the outbox a closed page of theirs left unsent.
    pub fn new(me: UserName, view: ChatView) -> Self {
        let outbox = saved_outbox(&me);
        Self {
            me,
            view,
            outbox,
            failed: Vec::new(),
            limits: ChatLimits::default(),
            signed_in: false,
            loading: false,
            creating: None,
            unshown: Rc::default(),
        }
    }

    /// Keeps the outbox in the browser's storage, so closing the page loses nothing either.
    fn save_outbox(&self) {
        let Some(storage) = local_storage() else {
            return;
        };
        let key = outbox_key(&self.me);
        let saved = if self.outbox.is_empty() {
            storage.remove_item(&key)
        } else {
            match serde_json::to_string(&self.outbox) {
                Ok(json) => storage.set_item(&key, &json),
                Err(_) => Ok(()),
            }
        };
        if saved.is_err() {
            log("could not save unsent messages in local storage");
        }
    }

    /// The socket is signed in (again) on a server with `limits`: ask for presence,
    /// conversations and everything pending; send again what was never acknowledged,
    /// unless the server would refuse it; refresh the open conversation.
    pub fn on_signed_in(&mut self, out: &Signaling, limits: ChatLimits) {
        self.limits = limits;
        self.signed_in = true;
        let refused: Vec<String> = self
            .outbox
            .iter()
            .filter(|draft| self.refusal(draft).is_some())
            .map(|draft| draft.id.clone())
            .collect();
        if !refused.is_empty() {
            for id in &refused {
                self.refuse(id);
            }
            self.view.error.set(words().unsent_too_long.into());
        }
        out.send(&Message::Sync {
            route: Route::default(),
        });
        for draft in &self.outbox {
            out.send(&chat_send(draft));
        }
        if let Some(open) = self.view.open.get_untracked() {
            self.request_history(out, &open, None);
        }
    }

    /// The socket is gone: nobody is known to be online until it is back.
    pub fn on_signed_out(&mut self) {
        self.view.online.set(Vec::new());
        self.loading = false;
        self.signed_in = false;
    }

    /// The server closed the socket on a frame larger than it reads. With the welcome's
    /// limits no message that large is sent, so it came from a server that did not say
    /// them: the largest message waiting is taken to be the one, and is not sent again.
    /// Each such close takes one, so closes cannot repeat forever. (A browser still
    /// sending the frame may see the connection reset, 1006, instead; the growing pause
    /// between reconnects keeps those few.)
    pub fn on_frame_refused(&mut self) {
        if self.limits.max_frame_bytes.is_some() {
            return;
        }
        let largest = self
            .outbox
            .iter()
            .max_by_key(|draft| chat_send(draft).to_json().len())
            .map(|draft| draft.id.clone());
        if let Some(id) = largest {
            self.refuse(&id);
            self.view.error.set(words().message_too_big.into());
        }
    }

    /// Why the server would refuse `draft`, if it would.
    fn refusal(&self, draft: &Draft) -> Option<String> {
        self.limits
            .refusal(&draft.text, chat_send(draft).to_json().len())
    }

    /// Takes message `id` out of the outbox for good (the server refused it, or would):
    /// its line shows it failed, here and whenever its conversation is opened again.
    fn refuse(&mut self, id: &str) {
        if let Some(at) = self.outbox.iter().position(|draft| draft.id == id) {
            let draft = self.outbox.remove(at);
            self.failed.push(draft);
            self.save_outbox();
        }
        self.view.lines.update(|lines| {
            for line in lines.iter_mut() {
                if line.client_id.as_deref() == Some(id) && line.id.is_none() {
                    line.state = LineState::Failed;
                }
            }
        });
    }

    pub fn on_action(&mut self, action: ChatAction, out: Option<&Signaling>) {
        match action {
            ChatAction::Open(conversation) => self.open(conversation, out),
            ChatAction::OpenNamed(typed) => match UserName::parse(typed.trim()) {
                Ok(name) if name == self.me => self.view.error.set(words().self_message.into()),
                Ok(name) => self.open(Conversation::User(name), out),
                Err(why) => self.view.error.set((words().bad_name)(&why)),
            },
            ChatAction::Send(text) => self.send(text, out),
            ChatAction::Older => {
                let oldest = self
                    .view
                    .lines
                    .with_untracked(|lines| lines.iter().find_map(|l| l.id));
                if let (Some(out), Some(open), false, true) = (
                    out,
                    self.view.open.get_untracked(),
                    self.loading,
                    self.view.more.get_untracked(),
                ) {
                    self.request_history(out, &open, oldest);
                }
            }
            ChatAction::CreateGroup { name, members } => self.create_group(&name, &members, out),
            ChatAction::AddMembers(members) => self.add_members(&members, out),
        }
    }

    /// Handles a chat frame; returns it back if it is not one.
    pub fn on_message(&mut self, msg: Message, out: Option<&Signaling>) -> Option<Message> {
        match msg {
            Message::Presence { users, full, .. } => self.on_presence(users, full),
            Message::Conversations { conversations, .. } => {
                self.on_conversations(conversations, out)
            }
            Message::Chat { messages, .. } => self.on_chat(messages, out),
            Message::ChatAck { id, message, .. } => self.on_ack(&id, message),
            Message::ChatRead {
                conversation, upto, ..
            } => self.on_read_elsewhere(&conversation, upto),
            Message::ChatDelivered { ids, .. } => self.view.lines.update(|lines| {
                for line in lines.iter_mut() {
                    if line.id.is_some_and(|id| ids.contains(&id)) {
                        line.state = LineState::Delivered;
                    }
                }
            }),
            Message::HistoryPage {
                conversation,
                messages,
                more,
                ..
            } => {
                if self.view.open.get_untracked().as_ref() == Some(&conversation) {
                    self.loading = false;
                    self.view.more.set(more);
                    let lines = messages.into_iter().map(line_of).collect();
                    self.view.lines.update(|shown| merge(shown, lines));
                }
            }
            Message::Group { group, members, .. } => {
                let conversation = Conversation::Group(group.clone());
                self.view.threads.update(|threads| {
                    thread_mut(threads, &conversation).members = members;
                });
                if self.creating.as_ref() == Some(&group) {
                    self.creating = None;
                    self.open(conversation, out);
                }
            }
            Message::Error { code, msg, id, .. } => return self.on_error(code, msg, id),
            other => return Some(other),
        }
        None
    }

    /// The whole list (after a sign-in) is shown at once, and replaces any changes still
    /// waiting, which it already holds. Changes are gathered and shown together.
    fn on_presence(&mut self, users: Vec<PresenceEntry>, full: bool) {
        if full {
            self.unshown.borrow_mut().take();
            show_presence(self.view.online, &self.me, users, true);
            return;
        }
        let mut unshown = self.unshown.borrow_mut();
        if let Some(waiting) = unshown.as_mut() {
            waiting.extend(users);
            return;
        }
        *unshown = Some(users);
        let (unshown, online, me) = (self.unshown.clone(), self.view.online, self.me.clone());
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(PRESENCE_BATCH_MS).await;
            let waiting = unshown.borrow_mut().take();
            if let Some(users) = waiting {
                show_presence(online, &me, users, false);
            }
        });
    }

    fn on_conversations(&mut self, list: Vec<ConversationSummary>, out: Option<&Signaling>) {
        let open = self.view.open.get_untracked();
        self.view.threads.set(
            list.into_iter()
                .map(|summary| Thread {
                    conversation: summary.conversation,
                    members: summary.members,
                    unread: summary.unread,
                    last_id: summary.last_id,
                })
                .collect(),
        );
        if let Some(open) = open {
            self.mark_read(&open, out);
        }
    }

    fn on_chat(&mut self, messages: Vec<ChatMessage>, out: Option<&Signaling>) {
        if let Some(out) = out {
            out.send(&Message::ChatReceived {
                route: Route::default(),
                ids: messages.iter().map(|m| m.id).collect(),
            });
        }
        let open = self.view.open.get_untracked();
        let mut shown = Vec::new();
        self.view.threads.update(|threads| {
            for message in messages {
                let thread = thread_mut(threads, &message.conversation);
                let new = thread.last_id.is_none_or(|last| message.id > last);
                if new {
                    thread.last_id = Some(message.id);
                }
                if open.as_ref() == Some(&message.conversation) {
                    shown.push(line_of(message));
                } else if new && message.from != self.me {
                    thread.unread += 1;
                }
            }
            threads.sort_by_key(|t| std::cmp::Reverse(t.last_id));
        });
        if !shown.is_empty() {
            self.view.lines.update(|lines| merge(lines, shown));
            if let Some(open) = open {
                self.mark_read(&open, out);
            }
        }
    }

    /// The user read `conversation` up to message `upto` on another page of theirs (signed
    /// in on another device): nothing is unread here either, unless a newer message came
    /// since, which the count keeps until the next sync or until it is read.
    fn on_read_elsewhere(&mut self, conversation: &Conversation, upto: i64) {
        self.view.threads.update(|threads| {
            if let Some(thread) = threads.iter_mut().find(|t| &t.conversation == conversation)
                && thread.last_id.is_none_or(|last| last <= upto)
            {
                thread.unread = 0;
            }
        });
    }

    fn on_ack(&mut self, id: &str, message: ChatMessage) {
        self.outbox.retain(|draft| draft.id != id);
        self.save_outbox();
        self.view.threads.update(|threads| {
            let thread = thread_mut(threads, &message.conversation);
            thread.last_id = thread.last_id.max(Some(message.id));
            threads.sort_by_key(|t| std::cmp::Reverse(t.last_id));
        });
        if self.view.open.get_untracked().as_ref() == Some(&message.conversation) {
            let line = line_of(message);
            self.view.lines.update(|lines| merge(lines, vec![line]));
        }
    }

    /// A refusal of one of this page's chat frames; anything else goes back to the caller.
    fn on_error(&mut self, code: ErrorCode, msg: String, id: Option<String>) -> Option<Message> {
        let chat_code = matches!(
            code,
            ErrorCode::TooLong
                | ErrorCode::TooMany
                | ErrorCode::RateLimited
                | ErrorCode::NotMember
                | ErrorCode::GroupExists
                | ErrorCode::Storage
        );
        if id.is_none() && !chat_code {
            return Some(Message::chat_error(&self.me, code, msg, id));
        }
        log(&format!("chat refused ({code:?}): {msg}"));
        if matches!(code, ErrorCode::GroupExists | ErrorCode::TooMany) {
            self.creating = None;
        }
        if let Some(id) = id {
            self.refuse(&id);
        }
        self.view.error.set(msg);
        None
    }

    fn open(&mut self, conversation: Conversation, out: Option<&Signaling>) {
        self.view.error.set(String::new());
        if self.view.open.get_untracked().as_ref() == Some(&conversation) {
            return;
        }
        let mut pending: Vec<Line> = self
            .outbox
            .iter()
            .filter(|draft| draft.conversation == conversation)
            .map(|draft| self.pending_line(draft))
            .collect();
        pending.extend(
            self.failed
                .iter()
                .filter(|draft| draft.conversation == conversation)
                .map(|draft| Line {
                    state: LineState::Failed,
                    ..self.pending_line(draft)
                }),
        );
        self.view.lines.set(pending);
        self.view.more.set(false);
        self.view.open.set(Some(conversation.clone()));
        self.view.threads.update(|threads| {
            thread_mut(threads, &conversation);
        });
        if let Some(out) = out {
            self.request_history(out, &conversation, None);
        }
        self.mark_read(&conversation, out);
    }

    /// Sends `text` to the open conversation, unless the server would refuse it: then the
    /// reason is shown and the text stays in the compose box to be shortened.
    fn send(&mut self, text: String, out: Option<&Signaling>) {
        let Some(conversation) = self.view.open.get_untracked() else {
            return;
        };
        let draft = Draft {
            id: new_client_id(),
            conversation,
            text,
        };
        if let Some(why) = self.refusal(&draft) {
            return self.view.error.set(why);
        }
        self.view.error.set(String::new());
        // Only if unchanged: what was typed since the message was taken stays.
        self.view.draft.update(|typed| {
            if *typed == draft.text {
                typed.clear();
            }
        });
        if let (Some(out), true) = (out, self.signed_in) {
            out.send(&chat_send(&draft));
        }
        let line = self.pending_line(&draft);
        self.view.lines.update(|lines| lines.push(line));
        self.outbox.push(draft);
        self.save_outbox();
    }

    fn create_group(&mut self, name: &str, members: &str, out: Option<&Signaling>) {
        let group = match GroupName::parse(name.trim()) {
            Ok(group) => group,
            Err(why) => return self.view.error.set(why.to_string()),
        };
        let Some(names) = self.names(members) else {
            return;
        };
        let Some(out) = out else {
            return self.view.error.set(words().reconnecting.into());
        };
        self.view.error.set(String::new());
        self.creating = Some(group.clone());
        out.send(&Message::GroupCreate {
            route: Route::default(),
            group,
            members: names,
        });
    }

    fn add_members(&mut self, members: &str, out: Option<&Signaling>) {
        let Some(Conversation::Group(group)) = self.view.open.get_untracked() else {
            return;
        };
        let Some(names) = self.names(members) else {
            return;
        };
        let Some(out) = out else {
            return self.view.error.set(words().reconnecting.into());
        };
        self.view.error.set(String::new());
        out.send(&Message::GroupAdd {
            route: Route::default(),
            group,
            members: names,
        });
    }

    /// The user names in `typed` (commas, semicolons or spaces between), this user left out;
    /// `None`, with the reason shown, if one is not a valid name.
    fn names(&self, typed: &str) -> Option<Vec<UserName>> {
        let mut names = Vec::new();
        for raw in typed.split([',', ' ', ';']).filter(|s| !s.is_empty()) {
            match UserName::parse(raw) {
                Ok(name) if name != self.me => names.push(name),
                Ok(_) => {}
                Err(why) => {
                    self.view.error.set((words().bad_name)(&why));
                    return None;
                }
            }
        }
        Some(names)
    }

    fn request_history(
        &mut self,
        out: &Signaling,
        conversation: &Conversation,
        before: Option<i64>,
    ) {
        self.loading = true;
        out.send(&Message::History {
            route: Route::default(),
            conversation: conversation.clone(),
            before,
            limit: Some(PAGE),
        });
    }

    /// Everything in `conversation` counts as read: it is open in front of the user.
    fn mark_read(&mut self, conversation: &Conversation, out: Option<&Signaling>) {
        let mut upto = None;
        self.view.threads.update(|threads| {
            if let Some(thread) = threads.iter_mut().find(|t| &t.conversation == conversation) {
                if thread.unread > 0 {
                    upto = thread.last_id;
                }
                thread.unread = 0;
            }
        });
        if let (Some(out), Some(upto)) = (out, upto) {
            out.send(&Message::ChatRead {
                route: Route::default(),
                conversation: conversation.clone(),
                upto,
            });
        }
    }

    fn pending_line(&self, draft: &Draft) -> Line {
        Line {
            id: None,
            client_id: Some(draft.id.clone()),
            from: self.me.to_string(),
            time: clock(js_sys::Date::now()),
            kind: crate::protocol::ChatKind::Text,
            text: draft.text.clone(),
            reason: None,
            state: LineState::Pending,
        }
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn outbox_key(me: &UserName) -> String {
    format!("duet.outbox.{me}")
}

fn saved_outbox(me: &UserName) -> Vec<Draft> {
    local_storage()
        .and_then(|storage| storage.get_item(&outbox_key(me)).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// Applies presence `users` (in order) to the people list, which they replace if `full`.
/// Our own entry is left out. A page already gone has nothing to update.
fn show_presence(
    online: RwSignal<Vec<(UserName, Presence)>>,
    me: &UserName,
    users: Vec<PresenceEntry>,
    full: bool,
) {
    online.try_update(|online| {
        if full {
            online.clear();
        }
        for entry in users {
            if &entry.user == me {
                continue;
            }
            online.retain(|(name, _)| name != &entry.user);
            if entry.state != Presence::Offline {
                online.push((entry.user, entry.state));
            }
        }
        online.sort_by(|a, b| a.0.cmp(&b.0));
    });
}

fn chat_send(draft: &Draft) -> Message {
    Message::ChatSend {
        route: Route::default(),
        id: draft.id.clone(),
        conversation: draft.conversation.clone(),
        text: draft.text.clone(),
    }
}

/// The thread of `conversation`, added (empty) if the page did not know it yet.
fn thread_mut<'a>(threads: &'a mut Vec<Thread>, conversation: &Conversation) -> &'a mut Thread {
    let at = match threads.iter().position(|t| &t.conversation == conversation) {
        Some(at) => at,
        None => {
            threads.push(Thread {
                conversation: conversation.clone(),
                members: Vec::new(),
                unread: 0,
                last_id: None,
            });
            threads.len() - 1
        }
    };
    &mut threads[at]
}

fn line_of(message: ChatMessage) -> Line {
    Line {
        id: Some(message.id),
        client_id: message.client_id,
        from: message.from.to_string(),
        time: clock(message.at as f64),
        kind: message.kind,
        text: message.text,
        reason: message.reason,
        state: match message.state {
            Delivery::Sent => LineState::Sent,
            Delivery::Delivered => LineState::Delivered,
        },
    }
}

/// Puts `incoming` into `lines`: a line already there (same server id, or this page's own
/// pending one with the same client id) is replaced; stored lines stay in server order,
/// pending ones after them.
fn merge(lines: &mut Vec<Line>, incoming: Vec<Line>) {
    for line in incoming {
        let same = lines.iter().position(|l| {
            (l.id.is_some() && l.id == line.id)
                || (l.client_id.is_some() && l.client_id == line.client_id)
        });
        match same {
            // A stored line never goes back to pending, nor delivered back to sent.
            Some(at)
                if lines[at].state == LineState::Delivered && line.state == LineState::Sent =>
            {
                lines[at] = Line {
                    state: LineState::Delivered,
                    ..line
                };
            }
            Some(at) => lines[at] = line,
            None => lines.push(line),
        }
    }
    lines.sort_by_key(|l| l.id.unwrap_or(i64::MAX));
}

/// The time of `millis` (since 1970) in the browser's time zone; with its date if that is
/// not today.
fn clock(millis: f64) -> String {
    let local = |date: js_sys::Date| LocalTime {
        year: date.get_full_year() as i32,
        month: date.get_month() + 1,
        day: date.get_date(),
        hour: date.get_hours(),
        minute: date.get_minutes(),
    };
    let at = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis));
    time_label(local(at), local(js_sys::Date::new_0()))
}

/// 128 random bits as hex: unique enough that two messages never share one.
fn new_client_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        // No Web Crypto (very old browser): Math.random is still unique per page.
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
