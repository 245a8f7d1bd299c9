//! The call page's controller: one task that owns the socket, the camera and the peer
//! connection, and reacts to buttons, server frames and connection events one at a time,
//! so its state needs no locks. It mirrors the server's call machine: the server decides,
//! the page follows, and a frame that no longer fits the page's state (it crossed a newer
//! one on the wire) is dropped. Chat frames go to [`Chat`]. A lost socket is reopened
//! after a growing, jittered pause; the server has ended any call by then.

mod call;
mod camera;
mod line;
mod ring;
mod socket;

use self::line::Line;
use self::socket::{Backoff, no_socket};
use super::chat::Chat;
use super::js::{JsError, log};
use super::peer::{Generation, Peer, PeerEvent};
use super::signaling::{self, Signaling, SocketEvent};
use super::{Screens, Views};
use crate::chat_view::{ChatAction, ChatLimits};
use crate::phone::{Action, Ended, PhoneView, RelayCheck};
use crate::protocol::{
    DECLINE, DEFAULT_CONNECT_TIMEOUT_SECS, IcePolicy, IceServer, Message, Reason, Route, UserName,
};
use crate::text::words;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures::future::{Fuse, FutureExt, LocalBoxFuture};
use futures::{StreamExt, select};
use leptos::prelude::*;
use web_sys::MediaStream;

struct Controller {
    name: UserName,
    view: PhoneView,
    screens: Screens,
    /// The open socket; `None` while reconnecting.
    signaling: Option<Signaling>,
    /// The server welcomed this page at least once: a later "name in use" is most likely
    /// its own old socket, not yet noticed gone by the server, so it is worth retrying.
    welcomed: bool,
    /// The secret from the last welcome: reconnecting with it takes back the call.
    resume: Option<String>,
    /// Call frames written while the socket was down, sent once the call is resumed.
    unsent: Vec<Message>,
    /// When the last ICE restart began (ms since 1970), so a flapping path is not
    /// restarted over and over.
    restarted_at: f64,
    chat: Chat,
    ice_servers: Vec<IceServer>,
    /// From the welcome: `relay` when the operator wants calls through TURN only.
    policy: IcePolicy,
    call: Line,
    /// Bumped for every new peer connection, so a closed one's queued events are ignored.
    generation: Generation,
    peer_events: UnboundedSender<(Generation, PeerEvent)>,
    /// Bumped for every camera asked for and every ring or call that ends (or is
    /// cancelled while the camera opens), so a camera that opens after that is closed again.
    camera: u32,
    opened: UnboundedSender<(u32, camera::Opened)>,
    /// Wakes [`Controller::show_connecting`] when the answer is slow to come.
    connecting: UnboundedSender<()>,
    /// From the welcome: how long an accepted call may take to connect.
    connect_timeout_secs: u64,
    /// Bumped for every call accepted, so a deadline that fires after its call ended
    /// (or another began) is ignored.
    attempt: u32,
    /// Wakes [`Controller::on_deadline`] with the call it was set for.
    deadline: UnboundedSender<u32>,
}

/// Runs the page until it is left, or its name turns out to be taken.
pub async fn run(
    name: UserName,
    views: Views,
    screens: Screens,
    mut actions: UnboundedReceiver<Action>,
    mut chat_actions: UnboundedReceiver<ChatAction>,
) {
    let (peer_events, mut peer_rx) = unbounded();
    let (opened, mut opened_rx) = unbounded();
    let (connecting, mut connecting_rx) = unbounded();
    let (deadline, mut deadline_rx) = unbounded();
    let mut me = Controller {
        chat: Chat::new(name.clone(), views.chat),
        name,
        view: views.phone,
        screens,
        signaling: None,
        welcomed: false,
        resume: None,
        unsent: Vec::new(),
        restarted_at: 0.0,
        ice_servers: Vec::new(),
        policy: IcePolicy::All,
        call: Line::None,
        generation: 0,
        peer_events,
        camera: 0,
        opened,
        connecting,
        connect_timeout_secs: DEFAULT_CONNECT_TIMEOUT_SECS,
        attempt: 0,
        deadline,
    };
    let mut backoff = Backoff::new();
    let mut events = no_socket();
    // Connect at once; later this holds the pause before the next attempt.
    let mut retry: Fuse<LocalBoxFuture<'static, ()>> =
        futures::future::ready(()).boxed_local().fuse();
    loop {
        select! {
            () = retry => match signaling::connect(&me.name, me.resume.as_deref()) {
                Ok((signaling, stream)) => {
                    me.signaling = Some(signaling);
                    events = stream.fuse();
                }
                Err(err) => {
                    log(&format!("cannot open the signaling socket: {err}"));
                    retry = backoff.pause().fuse();
                }
            },
            event = events.next() => match event {
                Some(SocketEvent::Message(msg)) => {
                    if matches!(msg, Message::Welcome { .. }) {
                        backoff.welcomed();
                    }
                    me.on_message(msg).await;
                }
                Some(SocketEvent::Closed { code, reason }) => {
                    events = no_socket();
                    if !me.on_closed(code, &reason) {
                        break;
                    }
                    retry = backoff.pause().fuse();
                }
                // Every stream ends with `Closed`, handled above.
                None => events = no_socket(),
            },
            action = actions.next() => match action {
                Some(action) => me.on_action(action).await,
                // The page was left: dropping `me` stops the media and closes everything.
                None => break,
            },
            action = chat_actions.next() => match action {
                Some(action) => me.chat.on_action(action, me.signaling.as_ref()),
                None => break,
            },
            event = peer_rx.next() => {
                if let Some((generation, event)) = event {
                    me.on_peer_event(generation, event).await;
                }
            }
            opened = opened_rx.next() => {
                if let Some((camera, media)) = opened {
                    me.on_camera(camera, media).await;
                }
            }
            due = connecting_rx.next() => {
                if due.is_some() {
                    me.show_connecting();
                }
            }
            attempt = deadline_rx.next() => {
                if let Some(attempt) = attempt {
                    me.on_deadline(attempt);
                }
            }
        }
    }
}

impl Controller {
    async fn on_action(&mut self, action: Action) {
        match (action, &self.call) {
            (Action::Call(to), Line::None) => self.start_call(to),
            (Action::Accept, Line::RingingIn { .. }) => self.accept().await,
            (Action::Decline, Line::RingingIn { from, .. }) => {
                let status = (words().you_declined)(from);
                self.send(Message::CallBack {
                    route: Route::to(from),
                    msg: DECLINE.into(),
                    reason: Some(Reason::Declined),
                });
                self.end(Some(Ended::Local), status);
            }
            // Nobody was rung yet; the camera, if it opens now, is closed at once.
            (Action::Cancel | Action::HangUp, Line::OpeningCamera { to }) => {
                let status = (words().you_cancelled)(to);
                self.end(Some(Ended::Local), status);
            }
            (Action::Cancel | Action::HangUp, Line::RingingOut { to, .. }) => {
                let status = (words().you_cancelled)(to);
                self.send(hangup(to, None));
                self.end(Some(Ended::Local), status);
            }
            // Cancel: pressed in the moment the callee accepted, before the screen said so.
            (Action::HangUp | Action::Cancel, Line::InCall { with, .. }) => {
                self.send(hangup(with, None));
                self.end(Some(Ended::Local), words().call_ended.to_owned());
            }
            (Action::CheckRelay, _) => {
                let (servers, relay) = (self.ice_servers.clone(), self.view.relay);
                relay.set(RelayCheck::Running);
                // Apart from the call: gathering takes seconds and must not hold up a ring.
                leptos::task::spawn_local(async move {
                    relay.set(match super::relay_check::check(servers).await {
                        Ok(found) => RelayCheck::Works(found),
                        Err(why) => RelayCheck::Fails(why),
                    });
                });
            }
            // A button that no longer fits (a double click, a frame that just changed the
            // phase): nothing to do.
            _ => {}
        }
    }

    async fn on_message(&mut self, msg: Message) {
        let Some(msg) = self.chat.on_message(msg, self.signaling.as_ref()) else {
            return;
        };
        match msg {
            Message::Welcome {
                ice_servers,
                ice_transport_policy,
                connect_timeout_secs,
                resume,
                resumed,
                max_chat_chars,
                max_message_bytes,
                ..
            } => {
                self.connect_timeout_secs =
                    connect_timeout_secs.unwrap_or(DEFAULT_CONNECT_TIMEOUT_SECS);
                let limits = ChatLimits {
                    max_chars: max_chat_chars,
                    max_frame_bytes: max_message_bytes,
                };
                self.on_welcome(ice_servers, ice_transport_policy, resume, resumed, limits);
            }
            Message::Ringing { .. } => {}
            Message::IceServers { ice_servers, .. } => {
                // The next connection uses them, and a running one for its ICE restarts.
                if let Line::InCall {
                    peer: Some(peer), ..
                } = &self.call
                    && let Err(err) = peer.use_ice_servers(&ice_servers, self.policy)
                {
                    log(&format!("could not renew the call's ICE servers: {err}"));
                }
                self.ice_servers = ice_servers;
            }
            Message::CallStart { route, .. } => self.on_ring(route),
            Message::RingOffer { route, sdp } => self.on_ring_offer(route, sdp).await,
            Message::CallBack { msg, reason, .. } => self.on_call_back(msg, reason).await,
            Message::Offer { sdp, .. } => self.on_offer(sdp).await,
            Message::Answer { sdp, .. } => {
                let taking = match &self.call {
                    Line::InCall {
                        peer: Some(peer), ..
                    } => peer.accept(&sdp),
                    _ => return,
                };
                // The browser has the answer: the screen can change while it takes it.
                self.show_connecting();
                if let Err(err) = taking.await {
                    self.fail(err);
                }
            }
            Message::Ice { ice_candidate, .. } => {
                if let Line::InCall {
                    peer: Some(peer), ..
                } = &self.call
                    && let Err(err) = peer.add_candidate(&ice_candidate).await
                {
                    // One bad candidate does not sink a call; the others may work.
                    log(&format!("skipping an ICE candidate: {err}"));
                }
            }
            Message::Hangup { reason, .. } => {
                let reason = reason.unwrap_or(Reason::HungUp);
                let status = match &self.call {
                    // Not rung yet, so not this page's ring or call: a late frame.
                    Line::None | Line::OpeningCamera { .. } => return,
                    // The person declined on another of their pages.
                    Line::RingingIn { from, .. } if reason == Reason::Declined => {
                        (words().declined_elsewhere)(from)
                    }
                    Line::RingingIn { from, .. } => (words().missed)(reason, from),
                    Line::InCall { with, .. } if reason == Reason::NoConnection => {
                        (words().no_connection)(with, self.relayed())
                    }
                    other => (words().ended)(reason, other.other().unwrap_or_default()),
                };
                self.end(Some(Ended::Remote(reason)), status);
            }
            Message::Error { code, msg, .. } => self.on_error(code, msg),
            // Chat frames were taken above.
            _ => {}
        }
    }

    /// A new connection for the next ring or call; the previous one's events are ignored.
    fn new_peer(&mut self) -> Result<Peer, JsError> {
        self.generation += 1;
        Peer::new(
            &self.ice_servers,
            self.policy,
            self.generation,
            self.peer_events.clone(),
        )
    }

    /// The browser refused a step of the call: end it on both sides and say why.
    fn fail(&mut self, err: JsError) {
        log(&format!("call failed: {err}"));
        if let Some(other) = self.call.other().map(str::to_owned) {
            self.send(hangup(&other, None));
        }
        self.end(None, format!("{}: {err}", words().media_failed));
    }

    /// Ends the ring or call here: media stopped, connection closed, screens cleared.
    fn end(&mut self, ended: Option<Ended>, status: String) {
        self.drop_call();
        self.view.ended.set(ended);
        self.view.status.set(status);
        self.show_phase();
    }

    fn drop_call(&mut self) {
        // Dropping the call stops every local track and closes the peer connection.
        self.call = Line::None;
        self.generation += 1;
        self.camera += 1;
        self.view.audio_only.set(false);
        self.show(&self.screens.local, None);
        self.show(&self.screens.remote, None);
    }

    fn show_phase(&self) {
        self.view.phase.set(self.call.phase());
        self.view.peer.set(self.call.other().map(str::to_owned));
    }

    fn show(&self, screen: &NodeRef<leptos::html::Video>, stream: Option<&MediaStream>) {
        if let Some(video) = screen.get_untracked() {
            video.set_src_object(stream);
        }
    }

    fn send(&mut self, mut msg: Message) {
        // Signed with our name, as the server writes it for the other side: an offer,
        // answer or candidate that reads exactly so is passed on without a copy
        // (src/server/signal/relay.rs). The server does not take the name on trust: a frame that
        // names anyone but the socket's own user is written anew with the right one.
        msg.route_mut().from_user = Some(self.name.to_string());
        match &self.signaling {
            Some(signaling) => signaling.send(&msg),
            // A call kept while reconnecting still trickles candidates and may restart:
            // those wait for the socket. Nothing else outlives a lost socket.
            None if matches!(self.call, Line::InCall { .. }) => self.unsent.push(msg),
            None => {}
        }
    }
}

fn hangup(to: &str, reason: Option<Reason>) -> Message {
    Message::Hangup {
        route: Route::to(to),
        msg: None,
        reason,
    }
}
