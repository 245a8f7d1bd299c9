//! The page's side of a ring or call: what it holds (peer connection, camera, the
//! caller's prepared offer) in each phase.

use crate::client::js::JsError;
use crate::client::media::LocalMedia;
use crate::client::notice::RingNotice;
use crate::client::peer::Peer;
use crate::phone::Phase;
use web_sys::MediaStream;

/// The page's side of a ring or call.
pub(super) enum Line {
    None,
    /// *Video call* was pressed: the browser is asked for camera and microphone (and may be
    /// asking the person) before `to` is rung. The page goes on meanwhile, and *Cancel*
    /// ends it; a camera that opens after that is closed at once.
    OpeningCamera {
        to: String,
    },
    /// The connection and its offer are made while it rings (see [`Ring`]).
    RingingOut {
        to: String,
        media: LocalMedia,
        ring: Ring,
    },
    /// `peer` is made as it starts ringing, without media: making the first connection of a
    /// page takes Chromium tens of ms, which after Accept would delay the answer. It takes
    /// the caller's `ring_offer` when that comes, so Accept can answer at once. Taking it
    /// announces the caller's media: `remote`, shown once the call is on.
    ///
    /// The camera opens as it starts ringing too, and shows in the preview: the person sees
    /// themselves before they pick up, as on a phone. Once both the offer and the camera
    /// are in, the answer is made with the camera in it and kept (see
    /// [`Controller::prepare_answer`]), so Accept only has to send it. `media` is `None`
    /// while the camera opens; one that could not be opened is asked for again on Accept,
    /// and dropping the ring (declined, cancelled, missed) closes it. Only a camera the
    /// browser already lets this page open is opened while it rings; otherwise the person
    /// would be asked for it before they chose to answer, so it is asked for on Accept
    /// (`media` is then an error that says so).
    ///
    /// `_notice`: the system notification shown while the tab is hidden, held only to be
    /// closed with the ring.
    ///
    /// [`Controller::prepare_answer`]: super::Controller::prepare_answer
    RingingIn {
        from: String,
        peer: Option<Peer>,
        remote: Option<MediaStream>,
        media: Option<Result<LocalMedia, JsError>>,
        _notice: Option<RingNotice>,
    },
    /// `peer` appears when the offer is made (caller) or arrives (callee). The caller
    /// makes every offer, also the ICE restarts that find a new path. `media` is `None`
    /// while the callee's camera opens: it answers meanwhile (see [`Controller::accept`]).
    /// `connected` once media has had a path: until then the call may end at its deadline
    /// (see [`Controller::on_deadline`]).
    ///
    /// [`Controller::accept`]: super::Controller::accept
    /// [`Controller::on_deadline`]: super::Controller::on_deadline
    InCall {
        with: String,
        media: Option<LocalMedia>,
        peer: Option<Peer>,
        caller: bool,
        connected: bool,
    },
}

impl Line {
    pub(super) fn phase(&self) -> Phase {
        match self {
            Line::None => Phase::Idle,
            Line::OpeningCamera { .. } => Phase::OpeningCamera,
            Line::RingingOut { .. } => Phase::RingingOut,
            Line::RingingIn { .. } => Phase::RingingIn,
            Line::InCall { .. } => Phase::InCall,
        }
    }

    pub(super) fn other(&self) -> Option<&str> {
        match self {
            Line::None => None,
            Line::OpeningCamera { to } | Line::RingingOut { to, .. } => Some(to),
            Line::RingingIn { from, .. } => Some(from),
            Line::InCall { with, .. } => Some(with),
        }
    }
}

/// What the caller prepares while the callee's page rings, so that Accept sends the offer
/// at once: making the connection and its offer took the caller's page about 100 ms after
/// the accept arrived (of a set-up of ~300 ms on loopback). The offer also goes out at
/// once as a `ring_offer`, without candidates (so with none of this machine's addresses):
/// a duet callee takes it while it rings and answers as soon as it accepts. On Accept the
/// offer goes again, with every candidate gathered meanwhile written into it: a callee
/// that took it adds those, others (the original page) take it as their offer. A declined
/// or cancelled ring closes the connection unused.
#[derive(Default)]
pub(super) struct Ring {
    pub(super) peer: Option<Peer>,
    pub(super) offer: Option<String>,
}
