//! An incoming ring, from the server's ring to the callee's answer: the connection and
//! camera prepared while it rings, the notification of a ring in a background tab, and
//! Accept.

use super::Controller;
use super::line::Line;
use crate::client::js::{JsError, log};
use crate::client::media::LocalMedia;
use crate::client::notice::RingNotice;
use crate::client::peer::Peer;
use crate::protocol::{ACCEPT, Message, Route};
use crate::text::words;
use leptos::prelude::*;

impl Controller {
    /// The server rang this page. It only does so when this user was idle on the server,
    /// so an outgoing call this page just started crossed it and will be refused.
    pub(super) fn on_ring(&mut self, route: Route) {
        let Some(from) = route.from_user else {
            return;
        };
        if matches!(self.call, Line::InCall { .. } | Line::RingingIn { .. }) {
            return;
        }
        self.drop_call();
        self.view.ended.set(None);
        self.view.status.set((words().ringing_in)(&from));
        let peer = self
            .new_peer()
            .map_err(|err| log(&format!("cannot prepare a connection: {err}")))
            .ok();
        let notice = RingNotice::show(&(words().ringing_in)(&from), words().ring_notice);
        self.call = Line::RingingIn {
            from,
            peer,
            remote: None,
            media: None,
            _notice: notice,
        };
        self.show_phase();
        self.open_camera_if_allowed();
    }

    /// The caller's offer while it rings: taken now, answered on Accept.
    pub(super) async fn on_ring_offer(&mut self, route: Route, sdp: String) {
        let Line::RingingIn {
            from,
            peer: Some(peer),
            ..
        } = &self.call
        else {
            return;
        };
        if route.from_user.as_deref() != Some(from.as_str()) {
            return;
        }
        match peer.take_offer(&sdp).await {
            Ok(()) => self.prepare_answer().await,
            // The offer after Accept gets another chance.
            Err(err) => log(&format!("could not take the ring offer: {err}")),
        }
    }

    /// While it rings, once the caller's offer is taken and the camera is open: the
    /// camera's tracks go into the connection and the answer is made, and kept. Accept
    /// then only sends it, with the candidates gathered meanwhile written in, as the
    /// caller does with its offer. Nothing leaves the page before that: until the answer
    /// is sent the caller has none of our addresses, and without the caller's (its ring
    /// offer has none) our side sends no check.
    pub(super) async fn prepare_answer(&mut self) {
        let Line::RingingIn {
            peer: Some(peer),
            media: Some(Ok(media)),
            ..
        } = &self.call
        else {
            return;
        };
        if !peer.offered() {
            return;
        }
        if let Some(Err(err)) = answer_with(peer, Some(media)).await {
            log(&format!("could not prepare the answer: {err}"));
            // Accept answers the offer sent after it instead, on a fresh connection.
            if let Line::RingingIn { peer, .. } = &mut self.call {
                *peer = None;
            }
        }
    }

    /// Accepts the ring and answers at once: with the answer made while it rang, or else
    /// now, the camera opened while it rang in it (an offer crossing the accept is answered
    /// when it comes, [`Controller::on_offer`]). A camera still opening is not waited for:
    /// the answer promises its media and [`Controller::on_camera`] puts it in when it opens
    /// (on a phone that takes hundreds of ms), so the call connects meanwhile.
    pub(super) async fn accept(&mut self) {
        // The ring's notification, if any, closes with the rest of the ring.
        let Line::RingingIn {
            from,
            peer,
            remote,
            media,
            ..
        } = std::mem::replace(&mut self.call, Line::None)
        else {
            return;
        };
        if let Some(stream) = remote {
            self.show(&self.screens.remote, Some(&stream));
        }
        self.send(Message::CallBack {
            route: Route::to(&from),
            msg: ACCEPT.into(),
            reason: None,
        });
        let media = match media {
            Some(Ok(media)) => Some(media),
            // Still opening (or its permission being looked up): `on_camera` takes it
            // into the call.
            None => None,
            // Not asked for while it rang (the browser would have asked the person), or
            // failed then: asked for now that the person has taken the call; a failure
            // now hangs up.
            Some(Err(err)) => {
                log(&format!("no camera while it rang ({err}): asking now"));
                self.open_camera();
                None
            }
        };
        self.call = Line::InCall {
            with: from,
            media,
            peer,
            caller: false,
            connected: false,
        };
        self.start_deadline();
        self.show_connecting();
        let answer = match &self.call {
            Line::InCall {
                peer: Some(peer),
                media,
                ..
            } => match peer.local_answer() {
                // As it stands now: with the candidates gathered since it was made.
                Some(sdp) => Some(Ok(sdp)),
                None => answer_with(peer, media.as_ref()).await,
            },
            // No connection could be made while it rang: the offer after Accept makes one.
            _ => return,
        };
        if let Some(answer) = answer {
            self.send_answer(answer);
        }
    }

    pub(super) fn send_answer(&mut self, answer: Result<String, JsError>) {
        let Line::InCall { with, .. } = &self.call else {
            return;
        };
        match answer {
            Ok(sdp) => {
                let route = Route::to(with);
                self.send(Message::Answer { route, sdp });
            }
            Err(err) => self.fail(err),
        }
    }
}

/// The callee's answer on `peer`: `media` (if open) goes into it, and the offer taken is
/// answered. `None` when no offer has been taken yet (an original page's comes only after
/// Accept, [`Controller::on_offer`]).
async fn answer_with(peer: &Peer, media: Option<&LocalMedia>) -> Option<Result<String, JsError>> {
    if let Some(media) = media
        && let Err(err) = peer.send(&media.stream, media.tracks()).await
    {
        return Some(Err(err));
    }
    if !peer.offered() {
        return None;
    }
    Some(peer.answer(media.is_none()).await)
}
