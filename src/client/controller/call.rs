//! The call line: the caller's ring and its prepared offer, the offers and answers
//! that set up the connection, the deadline for finding a path, and keeping the path
//! alive (ICE restarts).

use super::line::{Line, Ring};
use super::{Controller, hangup};
use crate::client::js::{JsError, log};
use crate::client::media::LocalMedia;
use crate::client::notice;
use crate::client::peer::{Generation, Peer, PeerEvent, without_candidates};
use crate::phone::{Ended, Phase};
use crate::protocol::{ACCEPT, ErrorCode, Message, Reason, Route, UserName};
use crate::text::words;
use leptos::prelude::*;
use web_sys::RtcPeerConnectionState;

/// The longest the caller's screen waits for the callee's answer before it says the call
/// is connecting (see [`Controller::show_connecting`]).
const SHOW_CONNECTING_MS: u32 = 150;

/// The least time between two ICE restarts of a path that is only `disconnected`.
const RESTART_EVERY_MS: f64 = 4_000.0;

impl Controller {
    /// *Video call*: asks for the camera, and rings `to` once it is open
    /// ([`Controller::ring_out`]).
    pub(super) fn start_call(&mut self, to: String) {
        let to = to.trim().to_owned();
        if to.is_empty() {
            self.view.status.set(words().enter_name.into());
            return;
        }
        if let Err(why) = UserName::parse(&to) {
            self.view.status.set((words().bad_name)(&why));
            return;
        }
        if to == self.name.as_str() {
            self.view.status.set(words().self_call.into());
            return;
        }
        // While this click still counts as the person's gesture, which browsers want
        // behind the prompt: later rings can then show a notification.
        notice::ask_permission();
        self.view.ended.set(None);
        self.view.status.set((words().opening_camera)(&to));
        self.call = Line::OpeningCamera { to };
        self.show_phase();
        self.open_camera();
    }

    /// The camera opened for a call to `to`: ring them.
    pub(super) async fn ring_out(&mut self, to: String, media: LocalMedia) {
        self.send(Message::CallStart {
            route: Route::to(&to),
            msg: None,
        });
        self.view.status.set((words().ringing_out)(&to));
        self.call = Line::RingingOut {
            to,
            media,
            ring: Ring::default(),
        };
        self.show_phase();
        self.prepare_offer().await;
    }

    /// Makes the ring's connection and offer (see [`Ring`]). A failure ends the ring.
    async fn prepare_offer(&mut self) {
        let created = self.new_peer();
        let Line::RingingOut { media, ring, .. } = &mut self.call else {
            return;
        };
        let peer = match created {
            Ok(peer) => ring.peer.insert(peer),
            Err(err) => return self.fail(err),
        };
        let made = match peer.send(&media.stream, media.tracks()).await {
            Ok(()) => peer.offer().await,
            Err(err) => Err(err),
        };
        match made {
            // The ring may have ended meanwhile (its events were waiting behind this).
            Ok(sdp) => {
                if let Line::RingingOut { ring, to, .. } = &mut self.call {
                    let early = Message::RingOffer {
                        route: Route::to(to),
                        sdp: without_candidates(&sdp),
                    };
                    ring.offer = Some(sdp);
                    self.send(early);
                }
            }
            Err(err) => self.fail(err),
        }
    }

    pub(super) async fn on_call_back(&mut self, answer: String, reason: Option<Reason>) {
        let Line::RingingOut { to, .. } = &self.call else {
            // Our crossed call was refused while someone else's ring stands, or it is stale.
            return;
        };
        let to = to.clone();
        if answer != ACCEPT {
            let reason = reason.unwrap_or(Reason::Declined);
            // A server or page that gives no reason code still gives words.
            let status = if reason == Reason::Other {
                answer
            } else {
                (words().ended)(reason, &to)
            };
            self.end(Some(Ended::Remote(reason)), status);
            return;
        }
        let Line::RingingOut { media, ring, .. } = std::mem::replace(&mut self.call, Line::None)
        else {
            return;
        };
        // The offer as its description stands now: with the candidates gathered since.
        let prepared = ring.offer.map(|offer| {
            ring.peer
                .as_ref()
                .and_then(Peer::local_sdp)
                .unwrap_or(offer)
        });
        self.call = Line::InCall {
            with: to.clone(),
            media: Some(media),
            peer: ring.peer,
            caller: true,
            connected: false,
        };
        self.start_deadline();
        // The screen changes once the answer is being taken, not now: redrawing it here
        // held that answer up in this page's queue (about 15 ms of a 170 ms set-up on two
        // cores). An answer that is slow to come (an original page answers once its camera
        // is open) does not leave it saying "ringing" for long.
        let due = self.connecting.clone();
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(SHOW_CONNECTING_MS).await;
            let _ = due.unbounded_send(());
        });
        if let Some(sdp) = prepared {
            self.send(Message::Offer {
                route: Route::to(&to),
                sdp,
            });
            return;
        }
        // A ring without its offer ready (none is left so by the time an accept can be
        // read, but the page does not rely on it): make them now.
        if let Err(err) = self.ensure_peer().await {
            return self.fail(err);
        }
        let offer = match &self.call {
            Line::InCall {
                peer: Some(peer), ..
            } => peer.offer().await,
            _ => return,
        };
        match offer {
            Ok(sdp) => self.send(Message::Offer {
                route: Route::to(&to),
                sdp,
            }),
            Err(err) => self.fail(err),
        }
    }

    pub(super) async fn on_offer(&mut self, sdp: String) {
        if let Line::InCall {
            peer: Some(peer), ..
        } = &self.call
            && peer.took(&sdp)
        {
            // The ring offer again, now with the caller's candidates: already answered.
            peer.add_candidates_in(&sdp).await;
            return;
        }
        if !matches!(self.call, Line::InCall { .. }) {
            return;
        }
        if let Err(err) = self.ensure_peer().await {
            return self.fail(err);
        }
        let answer = match &self.call {
            Line::InCall {
                peer: Some(peer),
                media,
                ..
            } => match peer.take_offer(&sdp).await {
                Ok(()) => peer.answer(media.is_none()).await,
                Err(err) => Err(err),
            },
            _ => return,
        };
        self.send_answer(answer);
    }

    pub(super) fn on_error(&mut self, code: ErrorCode, msg: String) {
        log(&format!("server refused a frame ({code:?}): {msg}"));
        match (&self.call, code) {
            // A reply to a frame that crossed the end of a call: the page already moved on.
            (Line::None, ErrorCode::NoCall) => {}
            // Our ring offer crossed the accept (the offer sent on Accept carries the call),
            // or a frame crossed the call's end on the server (its hang-up follows).
            (Line::InCall { .. }, ErrorCode::NoCall) => {}
            // Our call never started ringing.
            (
                Line::RingingOut { .. },
                ErrorCode::BadName
                | ErrorCode::SelfCall
                | ErrorCode::NotIdle
                | ErrorCode::BadMessage,
            ) => self.end(Some(Ended::Refused), msg),
            _ => self.view.status.set(msg),
        }
    }

    pub(super) async fn on_peer_event(&mut self, generation: Generation, event: PeerEvent) {
        if generation != self.generation {
            return;
        }
        // The ring offer taken while it rings announces the caller's media.
        if let (Line::RingingIn { remote, .. }, PeerEvent::RemoteStream(stream)) =
            (&mut self.call, &event)
        {
            *remote = Some(stream.clone());
            return;
        }
        // While it rings nothing goes out: the caller's candidates gathered meanwhile are in
        // its offer's description when it is sent (see `Ring`).
        let Line::InCall {
            with,
            caller,
            connected,
            ..
        } = &self.call
        else {
            return;
        };
        let (with, caller, connected) = (with.clone(), *caller, *connected);
        match event {
            PeerEvent::Candidate(candidate) => self.send(Message::Ice {
                route: Route::to(&with),
                ice_candidate: candidate,
            }),
            PeerEvent::RemoteStream(stream) => self.show(&self.screens.remote, Some(&stream)),
            PeerEvent::State(RtcPeerConnectionState::Connected) => {
                if let Line::InCall { connected, .. } = &mut self.call {
                    *connected = true;
                }
                self.view.status.set((words().in_call)(&with));
            }
            // The path broke (a network change, a relay restarting): the caller looks for a
            // new one; the callee answers the offer that brings.
            PeerEvent::State(
                state @ (RtcPeerConnectionState::Disconnected | RtcPeerConnectionState::Failed),
            ) => {
                // A call that never connected is still connecting, until its deadline.
                if connected {
                    self.view.status.set(words().reconnecting_call.into());
                }
                if caller {
                    self.restart_ice(state == RtcPeerConnectionState::Failed)
                        .await;
                }
            }
            PeerEvent::State(_) => {}
            // Something asked the connection for a new offer (`restartIce()`): the caller
            // makes it, once the first exchange is over.
            PeerEvent::NegotiationNeeded if caller => {
                let offer = match &self.call {
                    Line::InCall {
                        peer: Some(peer), ..
                    } if peer.negotiated() => peer.offer().await,
                    _ => return,
                };
                match offer {
                    Ok(sdp) => self.send(Message::Offer {
                        route: Route::to(&with),
                        sdp,
                    }),
                    Err(err) => log(&format!("renegotiation failed: {err}")),
                }
            }
            PeerEvent::NegotiationNeeded => {}
        }
    }

    /// Restarts ICE: a new offer with fresh credentials. A `disconnected` path often
    /// recovers by itself, so that waits a few seconds between attempts; `failed` does not.
    async fn restart_ice(&mut self, failed: bool) {
        let now = js_sys::Date::now();
        let wait = if failed { 1_000.0 } else { RESTART_EVERY_MS };
        if now - self.restarted_at < wait {
            return;
        }
        let (offer, with) = match &self.call {
            Line::InCall {
                peer: Some(peer),
                with,
                ..
            } if peer.negotiated() => (peer.restart_offer().await, with.clone()),
            _ => return,
        };
        self.restarted_at = now;
        match offer {
            Ok(sdp) => {
                log("restarting ICE");
                self.send(Message::Offer {
                    route: Route::to(&with),
                    sdp,
                });
            }
            Err(err) => log(&format!("ICE restart failed: {err}")),
        }
    }

    /// Gives the call its peer connection, sending our media if it is open, if it has
    /// none yet.
    async fn ensure_peer(&mut self) -> Result<(), JsError> {
        if let Line::InCall { peer: None, .. } = &self.call {
            let created = self.new_peer()?;
            if let Line::InCall { media, peer, .. } = &mut self.call {
                if let Some(media) = media {
                    created.send(&media.stream, media.tracks()).await?;
                }
                *peer = Some(created);
            }
        }
        Ok(())
    }

    /// Starts the accepted call's deadline: if it has not connected by then,
    /// [`Controller::on_deadline`] ends it.
    pub(super) fn start_deadline(&mut self) {
        self.attempt += 1;
        let (attempt, due) = (self.attempt, self.deadline.clone());
        let ms = self
            .connect_timeout_secs
            .saturating_mul(1000)
            .min(u32::MAX.into()) as u32;
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(ms).await;
            let _ = due.unbounded_send(attempt);
        });
    }

    /// The deadline of call `attempt` passed. If that call is still on and has never
    /// connected, no path was found (without TURN, two networks behind strict NATs never
    /// find one): end it on both sides, saying what would help. The server logs it in the
    /// conversation; a page that does not know the reason still ends the call.
    pub(super) fn on_deadline(&mut self, attempt: u32) {
        let Line::InCall {
            with,
            connected: false,
            ..
        } = &self.call
        else {
            return;
        };
        if attempt != self.attempt {
            return;
        }
        let with = with.clone();
        log(&format!(
            "no media path to {with} after {} s: giving up",
            self.connect_timeout_secs
        ));
        self.send(hangup(&with, Some(Reason::NoConnection)));
        let status = (words().no_connection)(&with, self.relayed());
        self.end(Some(Ended::Remote(Reason::NoConnection)), status);
    }

    /// Whether this page has a TURN relay to try.
    pub(super) fn relayed(&self) -> bool {
        self.ice_servers
            .iter()
            .flat_map(|server| &server.urls)
            .any(|url| url.starts_with("turn:") || url.starts_with("turns:"))
    }

    /// The screen says the call is connecting: the callee's at its Accept, the caller's
    /// once the answer is with its browser (see `on_call_back`). Once per call: later
    /// answers (ICE restarts) and a late timer change nothing.
    pub(super) fn show_connecting(&self) {
        if let Line::InCall { with, .. } = &self.call
            && self.view.phase.get_untracked() != Phase::InCall
        {
            self.view.status.set((words().connecting_to)(with));
            self.show_phase();
        }
    }
}
