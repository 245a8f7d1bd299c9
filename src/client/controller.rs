//! The call page's controller: one task that owns the socket, the camera and the peer
//! connection, and reacts to buttons, server frames and connection events one at a time,
//! so its state needs no locks. It mirrors the server's call machine: the server decides,
//! the page follows, and a frame that no longer fits the page's state (it crossed a newer
//! one on the wire) is dropped. Chat frames go to [`Chat`]. A lost socket is reopened
//! after a growing, jittered pause; the server has ended any call by then.

use super::chat::Chat;
use super::js::{JsError, log};
use super::media::LocalMedia;
use super::peer::{Generation, Peer, PeerEvent, without_candidates};
use super::signaling::{self, Signaling, SocketEvent};
use super::{Screens, Views};
use crate::chat_view::ChatAction;
use crate::phone::{Action, Ended, Phase, PhoneView, RelayCheck};
use crate::protocol::close;
use crate::protocol::{
    ACCEPT, DECLINE, ErrorCode, IcePolicy, IceServer, Message, Reason, Route, UserName,
};
use crate::text;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures::future::{Fuse, FutureExt, LocalBoxFuture};
use futures::stream::{self, LocalBoxStream};
use futures::{StreamExt, select};
use leptos::prelude::*;
use web_sys::{MediaStream, RtcPeerConnectionState};

/// The page's side of a ring or call.
enum Line {
    None,
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
    /// and dropping the ring (declined, cancelled, missed) closes it.
    RingingIn {
        from: String,
        peer: Option<Peer>,
        remote: Option<MediaStream>,
        media: Option<Result<LocalMedia, JsError>>,
    },
    /// `peer` appears when the offer is made (caller) or arrives (callee). The caller
    /// makes every offer, also the ICE restarts that find a new path. `media` is `None`
    /// while the callee's camera opens: it answers meanwhile (see [`Controller::accept`]).
    InCall {
        with: String,
        media: Option<LocalMedia>,
        peer: Option<Peer>,
        caller: bool,
    },
}

impl Line {
    fn phase(&self) -> Phase {
        match self {
            Line::None => Phase::Idle,
            Line::RingingOut { .. } => Phase::RingingOut,
            Line::RingingIn { .. } => Phase::RingingIn,
            Line::InCall { .. } => Phase::InCall,
        }
    }

    fn other(&self) -> Option<&str> {
        match self {
            Line::None => None,
            Line::RingingOut { to, .. } => Some(to),
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
struct Ring {
    peer: Option<Peer>,
    offer: Option<String>,
}

/// The longest the caller's screen waits for the callee's answer before it says the call
/// is connecting (see [`Controller::show_connecting`]).
const SHOW_CONNECTING_MS: u32 = 150;

/// The least time between two ICE restarts of a path that is only `disconnected`.
const RESTART_EVERY_MS: f64 = 4_000.0;

/// The first pause before reconnecting, and the longest.
const RETRY_FIRST_MS: f64 = 500.0;
const RETRY_MAX_MS: f64 = 10_000.0;

/// Pauses between reconnects: doubling up to a cap, each randomised by ±50% so pages that
/// lost the same server do not all come back in the same instant.
struct Backoff {
    next_ms: f64,
}

impl Backoff {
    fn new() -> Self {
        Self {
            next_ms: RETRY_FIRST_MS,
        }
    }

    fn pause(&mut self) -> LocalBoxFuture<'static, ()> {
        let ms = self.next_ms * (0.5 + js_sys::Math::random());
        self.next_ms = (self.next_ms * 2.0).min(RETRY_MAX_MS);
        gloo_timers::future::TimeoutFuture::new(ms as u32).boxed_local()
    }
}

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
    /// Bumped for every camera the callee opens and every ring or call that ends, so a
    /// camera that opens after its ring or call ended is closed again.
    camera: u32,
    opened: UnboundedSender<(u32, Result<LocalMedia, JsError>)>,
    /// Wakes [`Controller::show_connecting`] when the answer is slow to come.
    connecting: UnboundedSender<()>,
}

fn no_socket() -> stream::Fuse<LocalBoxStream<'static, SocketEvent>> {
    stream::pending().boxed_local().fuse()
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
                        backoff = Backoff::new();
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
        }
    }
}

impl Controller {
    async fn on_action(&mut self, action: Action) {
        match (action, &self.call) {
            (Action::Call(to), Line::None) => self.start_call(to).await,
            (Action::Accept, Line::RingingIn { .. }) => self.accept().await,
            (Action::Decline, Line::RingingIn { from, .. }) => {
                let status = text::you_declined(from);
                self.send(Message::CallBack {
                    route: Route::to(from),
                    msg: DECLINE.into(),
                    reason: Some(Reason::Declined),
                });
                self.end(Some(Ended::Local), status);
            }
            (Action::Cancel | Action::HangUp, Line::RingingOut { to, .. }) => {
                let status = text::you_cancelled(to);
                self.send(hangup(to, None));
                self.end(Some(Ended::Local), status);
            }
            // Cancel: pressed in the moment the callee accepted, before the screen said so.
            (Action::HangUp | Action::Cancel, Line::InCall { with, .. }) => {
                self.send(hangup(with, None));
                self.end(Some(Ended::Local), text::you_hung_up());
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

    async fn start_call(&mut self, to: String) {
        let to = to.trim().to_owned();
        if to.is_empty() {
            self.view.status.set(text::ENTER_NAME.into());
            return;
        }
        if let Err(why) = UserName::parse(&to) {
            self.view.status.set(text::bad_name(&why.to_string()));
            return;
        }
        if to == self.name.as_str() {
            self.view.status.set(text::SELF_CALL.into());
            return;
        }
        let Some(media) = self.open_media().await else {
            return;
        };
        self.send(Message::CallStart {
            route: Route::to(&to),
            msg: None,
        });
        self.view.status.set(text::ringing_out(&to));
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

    /// Accepts the ring and answers at once: with the answer made while it rang, or else
    /// now, the camera opened while it rang in it (an offer crossing the accept is answered
    /// when it comes, [`Controller::on_offer`]). A camera still opening is not waited for:
    /// the answer promises its media and [`Controller::on_camera`] puts it in when it opens
    /// (on a phone that takes hundreds of ms), so the call connects meanwhile.
    async fn accept(&mut self) {
        let Line::RingingIn {
            from,
            peer,
            remote,
            media,
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
            // Still opening: `on_camera` takes it into the call.
            None => None,
            // Refused or failed while it rang (a permission prompt dismissed, say): asked
            // again now that the person has taken the call; a second failure hangs up.
            Some(Err(err)) => {
                log(&format!(
                    "the camera failed while it rang, asking again: {err}"
                ));
                self.open_camera();
                None
            }
        };
        self.call = Line::InCall {
            with: from,
            media,
            peer,
            caller: false,
        };
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

    /// Opens the camera and microphone without waiting for them: [`Controller::on_camera`]
    /// gets them, or why they could not be opened.
    fn open_camera(&mut self) {
        self.camera += 1;
        let (camera, opened) = (self.camera, self.opened.clone());
        let opening = LocalMedia::open();
        leptos::task::spawn_local(async move {
            // If the page is gone by now, dropping the media closes it again.
            let _ = opened.unbounded_send((camera, opening.await));
        });
    }

    /// The caller's offer while it rings: taken now, answered on Accept.
    async fn on_ring_offer(&mut self, route: Route, sdp: String) {
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
    async fn prepare_answer(&mut self) {
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

    fn send_answer(&mut self, answer: Result<String, JsError>) {
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

    /// The callee's camera (and microphone) opened, or could not be opened.
    async fn on_camera(&mut self, camera: u32, opened: Result<LocalMedia, JsError>) {
        // A camera for a ring or call that has ended: dropping it closes it.
        if camera != self.camera {
            return;
        }
        if let Line::RingingIn { media: None, .. } = &self.call {
            // Kept for Accept; a failure is only noted, as the person has not answered yet.
            match &opened {
                Ok(media) => self.preview(media),
                Err(err) => log(&format!("no camera or microphone while it rings: {err}")),
            }
            if let Line::RingingIn { media, .. } = &mut self.call {
                *media = Some(opened);
            }
            self.prepare_answer().await;
            return;
        }
        let Line::InCall {
            media: None, with, ..
        } = &self.call
        else {
            return;
        };
        let with = with.clone();
        let Some(media) = self.show_media(opened) else {
            // Say why, so the caller is not left wondering.
            self.send(hangup(&with, Some(Reason::NoMedia)));
            self.drop_call();
            self.show_phase();
            return;
        };
        let Line::InCall {
            media: slot, peer, ..
        } = &mut self.call
        else {
            return;
        };
        let media = slot.insert(media);
        let sent = match peer {
            Some(peer) => peer.send(&media.stream, media.tracks()).await,
            None => Ok(()),
        };
        if let Err(err) = sent {
            self.fail(err);
        }
    }

    /// Opens camera and microphone and shows the preview; on failure says so and returns None.
    async fn open_media(&mut self) -> Option<LocalMedia> {
        let opened = LocalMedia::open().await;
        self.show_media(opened)
    }

    /// Shows the opened camera's preview, or says why it could not be opened.
    fn show_media(&mut self, opened: Result<LocalMedia, JsError>) -> Option<LocalMedia> {
        match opened {
            Ok(media) => {
                self.preview(&media);
                Some(media)
            }
            Err(err) => {
                log(&format!("no camera or microphone: {err}"));
                self.view.ended.set(Some(Ended::Remote(Reason::NoMedia)));
                self.view.status.set(text::NO_MEDIA_SELF.into());
                None
            }
        }
    }

    /// Shows our own camera in the small tile (or says it is audio only).
    fn preview(&self, media: &LocalMedia) {
        self.view.audio_only.set(!media.has_video);
        self.show(&self.screens.local, Some(&media.stream));
    }

    async fn on_message(&mut self, msg: Message) {
        let Some(msg) = self.chat.on_message(msg, self.signaling.as_ref()) else {
            return;
        };
        match msg {
            Message::Welcome {
                ice_servers,
                ice_transport_policy,
                resume,
                resumed,
                ..
            } => {
                self.ice_servers = ice_servers;
                self.policy = ice_transport_policy;
                self.welcomed = true;
                self.resume = resume;
                self.view.reconnecting.set(false);
                if let Some(signaling) = &self.signaling {
                    self.chat.on_signed_in(signaling);
                }
                self.on_resumed(resumed);
                if self.view.phase.get_untracked() == Phase::Connecting {
                    self.view.status.set(text::READY.into());
                    self.show_phase();
                }
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
                    Line::None => return,
                    Line::RingingIn { from, .. } => text::missed(reason, from),
                    other => text::ended(reason, other.other().unwrap_or_default()),
                };
                self.end(Some(Ended::Remote(reason)), status);
            }
            Message::Error { code, msg, .. } => self.on_error(code, msg),
            // Chat frames were taken above.
            _ => {}
        }
    }

    /// The server rang this page. It only does so when this user was idle on the server,
    /// so an outgoing call this page just started crossed it and will be refused.
    fn on_ring(&mut self, route: Route) {
        let Some(from) = route.from_user else {
            return;
        };
        if matches!(self.call, Line::InCall { .. } | Line::RingingIn { .. }) {
            return;
        }
        self.drop_call();
        self.view.ended.set(None);
        self.view.status.set(text::ringing_in(&from));
        let peer = self
            .new_peer()
            .map_err(|err| log(&format!("cannot prepare a connection: {err}")))
            .ok();
        self.call = Line::RingingIn {
            from,
            peer,
            remote: None,
            media: None,
        };
        self.show_phase();
        self.open_camera();
    }

    async fn on_call_back(&mut self, answer: String, reason: Option<Reason>) {
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
                text::ended(reason, &to)
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
        };
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

    async fn on_offer(&mut self, sdp: String) {
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

    fn on_error(&mut self, code: ErrorCode, msg: String) {
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

    async fn on_peer_event(&mut self, generation: Generation, event: PeerEvent) {
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
        let Line::InCall { with, caller, .. } = &self.call else {
            return;
        };
        let (with, caller) = (with.clone(), *caller);
        match event {
            PeerEvent::Candidate(candidate) => self.send(Message::Ice {
                route: Route::to(&with),
                ice_candidate: candidate,
            }),
            PeerEvent::RemoteStream(stream) => self.show(&self.screens.remote, Some(&stream)),
            PeerEvent::State(RtcPeerConnectionState::Connected) => {
                self.view.status.set(text::in_call(&with));
            }
            // The path broke (a network change, a relay restarting): the caller looks for a
            // new one; the callee answers the offer that brings.
            PeerEvent::State(
                state @ (RtcPeerConnectionState::Disconnected | RtcPeerConnectionState::Failed),
            ) => {
                self.view.status.set(text::RECONNECTING_CALL.into());
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
                self.view.status.set(text::in_call(with));
            }
        } else if matches!(self.call, Line::InCall { .. }) {
            self.end(Some(Ended::Disconnected), text::CALL_LOST.into());
        }
    }

    /// The socket closed. Returns whether to reconnect: always, unless another page holds
    /// this name from the start.
    fn on_closed(&mut self, code: u16, reason: &str) -> bool {
        log(&format!("signaling socket closed: {code} {reason}"));
        self.signaling = None;
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
            self.view.status.set(text::NAME_IN_USE.into());
            return false;
        }
        if keep {
            self.view.status.set(text::RECONNECTING_CALL.into());
        } else {
            self.view.phase.set(Phase::Connecting);
            self.view.ended.set(Some(Ended::Disconnected));
            self.view.status.set(text::RECONNECTING.into());
        }
        true
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
        self.end(None, format!("{}: {err}", text::MEDIA_FAILED));
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

    /// The screen says the call is connecting: the callee's at its Accept, the caller's
    /// once the answer is with its browser (see `on_call_back`). Once per call: later
    /// answers (ICE restarts) and a late timer change nothing.
    fn show_connecting(&self) {
        if let Line::InCall { with, .. } = &self.call
            && self.view.phase.get_untracked() != Phase::InCall
        {
            self.view.status.set(text::connecting_to(with));
            self.show_phase();
        }
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
        // (src/server/relay.rs). The server does not take the name on trust: a frame that
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

fn hangup(to: &str, reason: Option<Reason>) -> Message {
    Message::Hangup {
        route: Route::to(to),
        msg: None,
        reason,
    }
}
