//! The chat side of the call page as plain data, on both sides: what the view shows
//! (`ChatView`) and what its controls ask for (`ChatAction`). The browser-only controller in
//! `client/chat.rs` keeps it up to date from the server's frames.

mod clock;
mod limits;

pub use clock::{LocalTime, time_label};
pub use limits::ChatLimits;

use crate::protocol::{ChatKind, Conversation, Presence, Reason, UserName};
use leptos::prelude::*;

/// How far one of the user's own messages got, as `data-state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineState {
    /// Written here, not yet stored by the server.
    Pending,
    /// Stored by the server.
    Sent,
    /// On every recipient's page.
    Delivered,
    /// Refused by the server (the chat error line says why); never stored.
    Failed,
}

impl LineState {
    pub fn as_str(self) -> &'static str {
        match self {
            LineState::Pending => "pending",
            LineState::Sent => "sent",
            LineState::Delivered => "delivered",
            LineState::Failed => "failed",
        }
    }
}

/// One line of the open conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The server's id once stored.
    pub id: Option<i64>,
    /// The sending page's id (this page's own messages, until and after they are stored).
    pub client_id: Option<String>,
    pub from: String,
    /// Local time of day, for people; the date too if not today.
    pub time: String,
    pub kind: ChatKind,
    pub text: String,
    pub reason: Option<Reason>,
    pub state: LineState,
}

impl Line {
    /// What identifies this line's rendering: it changes when the line does.
    pub fn render_key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.id.map(|id| id.to_string()).unwrap_or_default(),
            self.client_id.as_deref().unwrap_or_default(),
            self.state.as_str()
        )
    }
}

/// One conversation in the lists, with what the page knows of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thread {
    pub conversation: Conversation,
    pub members: Vec<UserName>,
    pub unread: u32,
    /// The newest message id seen for it, to count each message once.
    pub last_id: Option<i64>,
}

/// `data-conversation`: `user:NAME` or `group:NAME`.
pub fn conversation_key(conversation: &Conversation) -> String {
    match conversation {
        Conversation::User(user) => format!("user:{user}"),
        Conversation::Group(group) => format!("group:{group}"),
    }
}

/// What the chat controls ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatAction {
    Open(Conversation),
    /// Open the conversation with this typed name.
    OpenNamed(String),
    Send(String),
    /// The list was scrolled to its top: fetch older messages.
    Older,
    /// Create a group named `name` with the names in `members` (commas or spaces between).
    CreateGroup {
        name: String,
        members: String,
    },
    /// Add the names in this text to the open group.
    AddMembers(String),
}

/// The signals the chat parts of the page render. `Copy`, so every closure can hold it.
#[derive(Clone, Copy)]
pub struct ChatView {
    /// Everyone else online, sorted by name.
    pub online: RwSignal<Vec<(UserName, Presence)>>,
    /// Every conversation this user has, most recent first.
    pub threads: RwSignal<Vec<Thread>>,
    pub open: RwSignal<Option<Conversation>>,
    /// The open conversation, oldest first; this page's unsent messages last.
    pub lines: RwSignal<Vec<Line>>,
    /// Older messages exist on the server.
    pub more: RwSignal<bool>,
    /// The last chat error, for people; empty when none.
    pub error: RwSignal<String>,
    /// What is being written in the compose box; emptied once the message is taken.
    pub draft: RwSignal<String>,
}

impl ChatView {
    pub fn new() -> Self {
        Self {
            online: RwSignal::new(Vec::new()),
            threads: RwSignal::new(Vec::new()),
            open: RwSignal::new(None),
            lines: RwSignal::new(Vec::new()),
            more: RwSignal::new(false),
            error: RwSignal::new(String::new()),
            draft: RwSignal::new(String::new()),
        }
    }

    /// Unread messages in `conversation`.
    pub fn unread(&self, conversation: &Conversation) -> u32 {
        self.threads.with(|threads| {
            threads
                .iter()
                .find(|t| &t.conversation == conversation)
                .map_or(0, |t| t.unread)
        })
    }
}

impl Default for ChatView {
    fn default() -> Self {
        Self::new()
    }
}
