//! The signaling socket's life as the controller sees it: the pause before each
//! reconnect, the welcome that signs the page in (and may give back its call), and a
//! close that ends what cannot outlive it.

use super::Controller;
use super::line::Line;
use crate::chat_view::ChatLimits;
use crate::client::js::log;
use crate::client::signaling::SocketEvent;
use crate::phone::{Ended, Phase};
use crate::protocol::{IcePolicy, IceServer, close};
use crate::text::words;
use futures::StreamExt;
use futures::future::{FutureExt, LocalBoxFuture};
use futures::stream::{self, LocalBoxStream};
use leptos::prelude::*;

/// The first pause before reconnecting, and the longest.
const RETRY_FIRST_MS: f64 = 500.0;
const RETRY_MAX_MS: f64 = 10_000.0;
/// How long a welcomed socket must stay open before the pauses start again from the first:
/// a server that welcomes a page and then closes its socket at once (because of something
/// the page sends) is not hammered twice a second.
const STABLE_MS: f64 = 10_000.0;

/// Pauses between reconnects: doubling up to a cap, each randomised by ±50% so pages that
/// lost the same server do not all come back in the same instant.
pub(super) struct Backoff {
    next_ms: f64,
    /// When the open socket was welcomed (ms since 1970); `None` if it was not.
    welcomed_at: Option<f64>,
}

impl Backoff {
    pub(super) fn new() -> Self {
        Self {
            next_ms: RETRY_FIRST_MS,
            welcomed_at: None,
        }
    }

    /// The server welcomed the socket just opened.
    pub(super) fn welcomed(&mut self) {
        self.welcomed_at = Some(js_sys::Date::now());
    }

    /// The pause before the next attempt; the first pause again if the socket that just
    /// ended had been welcomed and stayed up for [`STABLE_MS`].
    pub(super) fn pause(&mut self) -> LocalBoxFuture<'static, ()> {
        if self
            .welcomed_at
            .take()
            .is_some_and(|at| js_sys::Date::now() - at >= STABLE_MS)
        {
            self.next_ms = RETRY_FIRST_MS;
        }
        let ms = self.next_ms * (0.5 + js_sys::Math::random());
        self.next_ms = (self.next_ms * 2.0).min(RETRY_MAX_MS);
        gloo_timers::future::TimeoutFuture::new(ms as u32).boxed_local()
    }
}

pub(super) fn no_socket() -> stream::Fuse<LocalBoxStream<'static, SocketEvent>> {
    stream::pending().boxed_local().fuse()
}

impl Controller {
    /// The server signed this page in (again).
    pub(super) fn on_welcome(
        &mut self,
        ice_servers: Vec<IceServer>,
        ice_transport_policy: IcePolicy,
        resume: Option<String>,
        resumed: bool,
        limits: ChatLimits,
    ) {
        self.ice_servers = ice_servers;
        self.policy = ice_transport_policy;
        self.welcomed = true;
        self.resume = resume;
        self.view.reconnecting.set(false);
        if let Some(signaling) = &self.signaling {
            self.chat.on_signed_in(signaling, limits);
        }
        self.on_resumed(resumed);
        if self.view.phase.get_untracked() == Phase::Connecting {
            self.view.status.set(words().ready.into());
            self.show_phase();
        }
    }

    /// The socket is signed in again. `resumed`: the server kept this page's call, so the
    /// call frames written meanwhile go out now. Otherwise a call this page still holds
    /// ended while it was away (the other side has been told): end it here too.
    fn on_resumed(&mut self, resumed: bool) {
        let unsent = std::mem::take(&mut self.unsent);
        if resumed {
            for msg in unsent {
                self.send(msg);
            }
            if let Line::InCall { with, .. } = &self.call {
                self.view.status.set((words().in_call)(with));
            }
        } else if matches!(self.call, Line::InCall { .. }) {
            self.end(Some(Ended::Disconnected), words().call_lost.into());
        }
    }

    /// The socket closed. Returns whether to reconnect: always, unless another page holds
    /// this name from the start, or this browser was signed out.
    pub(super) fn on_closed(&mut self, code: u16, reason: &str) -> bool {
        log(&format!("signaling socket closed: {code} {reason}"));
        self.signaling = None;
        if code == close::SIGNED_OUT {
            self.signed_out();
            return false;
        }
        if code == close::TOO_BIG {
            self.chat.on_frame_refused();
        }
        self.chat.on_signed_out();
        self.view.reconnecting.set(true);
        // The server keeps a call for a while for this page to come back (media flows on,
        // peer to peer); rings and a page without a secret yet end here as they do there.
        let keep = matches!(self.call, Line::InCall { .. }) && self.resume.is_some();
        if !keep {
            self.drop_call();
        }
        if code == close::NAME_IN_USE && !self.welcomed {
            self.view.phase.set(Phase::Closed);
            self.view.ended.set(Some(Ended::NameInUse));
            self.view.status.set(words().name_in_use.into());
            return false;
        }
        if keep {
            self.view.status.set(words().reconnecting_call.into());
        } else {
            self.view.phase.set(Phase::Connecting);
            self.view.ended.set(Some(Ended::Disconnected));
            self.view.status.set(words().reconnecting.into());
        }
        true
    }

    /// The session this page was signed in with ended (signed out on `/account`, from
    /// another page, or by the operator). The server already ended any call; the page loads
    /// again, and the server then shows it the sign-in form instead of the phone.
    fn signed_out(&mut self) {
        self.drop_call();
        self.chat.on_signed_out();
        self.view.phase.set(Phase::Closed);
        self.view.ended.set(Some(Ended::Disconnected));
        self.view.status.set(words().signed_out.into());
        if let Some(window) = web_sys::window()
            && let Err(err) = window.location().reload()
        {
            log(&format!("cannot load the page again: {err:?}"));
        }
    }
}
