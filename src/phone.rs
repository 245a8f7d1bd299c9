//! The call page's state as plain data, on both sides: what the view shows (`PhoneView`)
//! and what its buttons ask for (`Action`). The browser-only controller in `client/` turns
//! actions and signaling into updates of this state.

use crate::protocol::Reason;
use leptos::prelude::*;

/// Where the page stands. Mirrors the server's per-user call state, plus the socket's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The socket is not signed in yet.
    Connecting,
    Idle,
    /// This page asks the browser for camera and microphone before it calls.
    OpeningCamera,
    RingingOut,
    RingingIn,
    InCall,
    /// The socket was refused or lost.
    Closed,
}

impl Phase {
    /// The `data-phase` value scripts and tests read from `#status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Connecting => "connecting",
            Phase::Idle => "idle",
            Phase::OpeningCamera => "opening-camera",
            Phase::RingingOut => "ringing-out",
            Phase::RingingIn => "ringing-in",
            Phase::InCall => "in-call",
            Phase::Closed => "closed",
        }
    }
}

/// Why the last ring or call ended, as `#status`'s `data-reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The other side or the server ended it.
    Remote(Reason),
    /// This user ended it (hang up, cancel, decline).
    Local,
    /// Another socket holds this name.
    NameInUse,
    /// The socket to the server closed.
    Disconnected,
    /// The server refused the call before it rang (the status line says why).
    Refused,
}

impl Ended {
    pub fn as_str(self) -> &'static str {
        match self {
            Ended::Remote(reason) => match reason {
                Reason::Declined => "declined",
                Reason::Busy => "busy",
                Reason::Offline => "offline",
                Reason::Cancelled => "cancelled",
                Reason::Timeout => "timeout",
                Reason::HungUp => "hung_up",
                Reason::Gone => "gone",
                Reason::NoMedia => "no_media",
                Reason::NoConnection => "no_connection",
                Reason::AnsweredElsewhere => "answered_elsewhere",
                Reason::Other => "other",
            },
            Ended::Local => "local",
            Ended::NameInUse => "name_in_use",
            Ended::Disconnected => "disconnected",
            Ended::Refused => "refused",
        }
    }
}

/// What a button asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Call(String),
    Accept,
    Decline,
    Cancel,
    HangUp,
    /// Run the relay self-test.
    CheckRelay,
}

/// Where the relay self-test stands, as `#relayResult`'s `data-result`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RelayCheck {
    #[default]
    NotRun,
    Running,
    Works(String),
    Fails(String),
}

impl RelayCheck {
    pub fn as_str(&self) -> &'static str {
        match self {
            RelayCheck::NotRun => "",
            RelayCheck::Running => "running",
            RelayCheck::Works(_) => "ok",
            RelayCheck::Fails(_) => "failed",
        }
    }

    pub fn message(&self) -> String {
        match self {
            RelayCheck::NotRun => String::new(),
            RelayCheck::Running => crate::text::words().relay_running.to_owned(),
            RelayCheck::Works(msg) | RelayCheck::Fails(msg) => msg.clone(),
        }
    }
}

/// The signals the call page renders. `Copy`, so every closure can hold it.
#[derive(Clone, Copy)]
pub struct PhoneView {
    pub phase: RwSignal<Phase>,
    /// The other party of the current ring or call.
    pub peer: RwSignal<Option<String>>,
    /// The status line.
    pub status: RwSignal<String>,
    pub ended: RwSignal<Option<Ended>>,
    /// The camera could not be opened, so this side of the call is audio only.
    pub audio_only: RwSignal<bool>,
    /// The socket to the server is down and the page is reconnecting.
    pub reconnecting: RwSignal<bool>,
    pub relay: RwSignal<RelayCheck>,
}

impl PhoneView {
    pub fn new() -> Self {
        Self {
            phase: RwSignal::new(Phase::Connecting),
            peer: RwSignal::new(None),
            status: RwSignal::new(crate::text::words().connecting.to_owned()),
            ended: RwSignal::new(None),
            audio_only: RwSignal::new(false),
            reconnecting: RwSignal::new(false),
            relay: RwSignal::new(RelayCheck::NotRun),
        }
    }
}

impl Default for PhoneView {
    fn default() -> Self {
        Self::new()
    }
}
