//! The hub: every online user's outgoing queue, the call state machine that decides what
//! goes into them, and who is online. Socket handlers call in; the hub carries out the
//! machine's [`Effect`]s and tells chat pages when someone's presence changes.

use super::call::{Calls, Effect, NameInUse, RingId, State};
use super::meter::Meter;
use super::relay::RelayFrame;
use crate::protocol::{
    ErrorCode, Message, Presence, PresenceEntry, Reason, Route, SYSTEM_USER, UserName, close,
};
use crate::server::chat::{self, Online, store::Store};
use crate::server::queue::{self, Outgoing, Refused};
use crate::server::reach::ice;
use crate::server::reach::turn::TurnAllocations;
use crate::server::settings::Settings;
use axum::extract::ws::Utf8Bytes;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A ring that could not ring (the callee offline or busy) is stored as a missed call
/// once per caller and callee in this time: the callee learns that someone tried, and a
/// caller pressing *Call* again and again writes no more.
const REFUSED_RING_EVERY: Duration = Duration::from_secs(5 * 60);

/// What the hub holds for one online user.
struct Peer {
    /// `None` while the user is away: their socket dropped in a call, and the grace period
    /// runs for their page to come back.
    queue: Option<queue::Sender>,
    /// Which socket is the user's now; a replaced socket's end signs nobody out.
    session: u64,
    /// The secret a page shows to take its name back on a new socket (from `welcome`).
    resume: String,
    /// Frames for an away user, delivered in order when their page comes back (see
    /// [`hold_or_queue`]).
    held: Vec<Utf8Bytes>,
    /// The page asked for chat and presence (`sync`); an original page never does.
    synced: bool,
    /// The presence last announced for this user.
    shown: Presence,
    /// The sign-in session the socket came with (see [`Device`]).
    device: Device,
}

/// Who a socket belongs to beyond its name: the browser's sign-in session, if the name is
/// claimed by an account (see `server/auth/`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Device {
    /// The session's public id; `None` for a name nobody has claimed (the original
    /// demo's rule: whoever opens it is it).
    pub session: Option<String>,
}

#[derive(Default)]
struct Inner {
    calls: Calls,
    peers: HashMap<UserName, Peer>,
    next_session: u64,
    /// When a refused ring from caller to callee was last stored (see
    /// [`REFUSED_RING_EVERY`]); older ones are forgotten now and then.
    refused_rings: HashMap<(UserName, UserName), Instant>,
    rings_pruned: Option<Instant>,
}

/// How a socket ended, which decides whether its user is kept for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The page closed it (a close frame with 1000 or 1001: left, reloaded, hung up on
    /// purpose) or the server had to (too big, stuck queue): sign out now.
    Closed,
    /// It broke, fell silent or was cut without a word: the network, most likely. A call
    /// is kept for the grace period, for the page to come back.
    Lost,
}

/// Shared by every socket handler.
pub struct Hub {
    settings: Arc<Settings>,
    store: Store,
    meter: Meter,
    /// The built-in TURN server's relays, closed when their user signs out.
    turn: Option<TurnAllocations>,
    inner: Mutex<Inner>,
}

/// What a signed-in user's socket task holds.
pub struct Session {
    /// Frames to write, in order.
    pub queue: queue::Receiver,
    /// The socket task's own way into its queue (pings, a close frame, chat's answers),
    /// and the signal that the hub has given up on the socket ([`queue::Sender::kicked`]).
    pub closer: queue::Sender,
    /// This socket's number, for [`Hub::leave`].
    pub id: u64,
}

impl Hub {
    pub fn new(settings: Arc<Settings>, store: Store, turn: Option<TurnAllocations>) -> Arc<Self> {
        Arc::new(Self {
            meter: Meter::new(&settings),
            settings,
            store,
            turn,
            inner: Mutex::default(),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// What each person and address may still send.
    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Signs `name` in and queues its welcome. A name already online keeps its socket,
    /// unless the page shows that name's `resume` secret: then this is the same page back
    /// on a new socket, which takes over (the old one, if still open, is closed) and gets
    /// what was held for it. Its call goes on as if nothing happened.
    pub fn join(
        &self,
        name: &UserName,
        device: Device,
        resume: Option<&str>,
    ) -> Result<Session, NameInUse> {
        let (tx, rx) = queue::channel(&self.settings);
        self.meter.sweep_if_due();
        let mut inner = self.lock();
        inner.next_session += 1;
        let id = inner.next_session;
        let (token, held, resumed) = match inner.peers.get_mut(name) {
            Some(peer) if resume.is_some_and(|r| !r.is_empty() && r == peer.resume) => {
                if let Some(old) = peer.queue.replace(tx.clone()) {
                    old.kick();
                }
                peer.session = id;
                peer.device = device;
                // The page asks again (`sync`) when it is ready for chat.
                peer.synced = false;
                (peer.resume.clone(), std::mem::take(&mut peer.held), true)
            }
            Some(_) => return Err(NameInUse),
            None => {
                inner.calls.join(name)?;
                let token = new_token();
                inner.peers.insert(
                    name.clone(),
                    Peer {
                        queue: Some(tx.clone()),
                        session: id,
                        resume: token.clone(),
                        held: Vec::new(),
                        synced: false,
                        shown: Presence::Available,
                        device,
                    },
                );
                announce(&inner, name, Presence::Available);
                (token, Vec::new(), false)
            }
        };
        let welcome = Message::Welcome {
            route: Route::new(SYSTEM_USER, name.as_str()),
            user: name.to_string(),
            ice_servers: ice::ice_servers_for(&self.settings, name),
            ice_transport_policy: self.settings.ice_transport_policy,
            ring_timeout_secs: self.settings.ring_timeout_secs,
            connect_timeout_secs: Some(self.settings.connect_timeout_secs),
            resume: Some(token),
            resumed,
            max_chat_chars: Some(self.settings.max_chat_chars as u64),
            max_message_bytes: Some(self.settings.max_message_bytes as u64),
        };
        // A fresh queue has room for the welcome and everything held (held is kept to
        // half a queue).
        for text in std::iter::once(welcome.to_json().into()).chain(held) {
            let _ = tx.try_send(Outgoing::Text(text));
        }
        Ok(Session {
            queue: rx,
            closer: tx,
            id,
        })
    }

    /// Socket `session` of `name` ended. A socket lost in a call keeps its user for the
    /// grace period; otherwise (or once that is over) the user is signed out: their
    /// ring or call ends and the other side is told.
    pub fn leave(self: &Arc<Self>, name: &UserName, session: u64, ending: Ending) {
        let mut inner = self.lock();
        let in_call = match inner.peers.get(name) {
            // Replaced by the same page on a new socket: nothing ends.
            Some(peer) if peer.session != session => return,
            // A ring has its own timeout and no media yet: it ends at once.
            Some(_) => matches!(inner.calls.state(name), Some(State::InCall { .. })),
            None => return,
        };
        let grace = self.settings.grace();
        if ending == Ending::Lost && in_call && !grace.is_zero() {
            if let Some(peer) = inner.peers.get_mut(name) {
                peer.queue = None;
                peer.synced = false;
            }
            tracing::info!(user = %name, ?grace, "socket lost mid-call: keeping the call for the page to come back");
            let hub = Arc::downgrade(self);
            let name = name.clone();
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                if let Some(hub) = hub.upgrade() {
                    hub.expire(&name, session);
                }
            });
            return;
        }
        self.sign_out(&mut inner, name);
    }

    /// The grace period of `name`'s socket `session` is over: if the page did not come
    /// back, sign them out.
    fn expire(self: &Arc<Self>, name: &UserName, session: u64) {
        let mut inner = self.lock();
        let away = inner
            .peers
            .get(name)
            .is_some_and(|peer| peer.session == session && peer.queue.is_none());
        if away {
            tracing::info!(user = %name, "grace period over: ending their call");
            self.sign_out(&mut inner, name);
        }
    }

    /// Signs out, now, every socket of the sign-in sessions `ids` (signed out, revoked,
    /// password changed): each page is told with [`close::SIGNED_OUT`] and its call ends.
    pub fn end_sessions(self: &Arc<Self>, ids: &[String]) {
        let mut inner = self.lock();
        let ended: Vec<UserName> = inner
            .peers
            .iter()
            .filter(|(_, peer)| {
                peer.device
                    .session
                    .as_ref()
                    .is_some_and(|id| ids.contains(id))
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in ended {
            self.close_signed_out(&mut inner, &name);
        }
    }

    /// Signs out every socket of `name` now (their account was removed).
    pub fn end_user(self: &Arc<Self>, name: &UserName) {
        let mut inner = self.lock();
        if inner.peers.contains_key(name) {
            self.close_signed_out(&mut inner, name);
        }
    }

    /// The sign-in sessions with a socket (or a page coming back to its call) now.
    pub fn online_sessions(&self) -> Vec<String> {
        let inner = self.lock();
        inner
            .peers
            .values()
            .filter_map(|peer| peer.device.session.clone())
            .collect()
    }

    fn close_signed_out(self: &Arc<Self>, inner: &mut MutexGuard<'_, Inner>, name: &UserName) {
        if let Some(queue) = inner.peers.get(name).and_then(|peer| peer.queue.as_ref()) {
            let _ = queue.try_send(Outgoing::Close(close::SIGNED_OUT, close::SIGNED_OUT_REASON));
        }
        tracing::info!(user = %name, "session ended: signing the page out");
        self.sign_out(inner, name);
    }

    /// An offer, answer or ICE candidate from `from`: to the other party of their call,
    /// as `frame` is, or refused. Nothing about the call changes, so no presence either.
    pub fn relay(self: &Arc<Self>, from: &UserName, frame: &RelayFrame) {
        let mut inner = self.lock();
        let Inner { calls, peers, .. } = &mut *inner;
        match calls.relay_to(from, frame.kind(), frame.to_user()) {
            Ok(to) => {
                let text = frame.relayed(from, to);
                if hold_or_queue(peers, to, text, true, &self.settings).is_err() {
                    deliver(peers, from, &overflowed(from, to, frame.kind()));
                }
            }
            Err(refused) => self.apply(&mut inner, None, vec![*refused]),
        }
    }

    fn sign_out(self: &Arc<Self>, inner: &mut MutexGuard<'_, Inner>, name: &UserName) {
        inner.peers.remove(name);
        if let Some(turn) = &self.turn {
            turn.release(name);
        }
        let effects = inner.calls.leave(name);
        announce(inner, name, Presence::Offline);
        self.apply(inner, None, effects);
    }

    /// A frame from `from`, already decoded.
    pub fn handle(self: &Arc<Self>, from: &UserName, msg: Message) {
        let mut inner = self.lock();
        let effects = inner.calls.handle(from, msg);
        self.apply(&mut inner, Some(from), effects);
    }

    /// Queues a server notice for `to` alone, outside the call machine (decode errors).
    pub fn notify(&self, to: &UserName, msg: &Message) {
        let inner = self.lock();
        deliver(&inner.peers, to, msg);
    }

    fn ring_timeout(self: &Arc<Self>, caller: &UserName, ring: RingId) {
        let mut inner = self.lock();
        let effects = inner.calls.ring_timeout(caller, ring);
        self.apply(&mut inner, Some(caller), effects);
    }

    /// Carries out effects while still holding the lock, so every user receives frames in
    /// the order the machine produced them. Nothing here waits: queues are `try_send`.
    /// Then announces the presence of everyone the effects touched (and `from`) if their
    /// call state changed it.
    fn apply(
        self: &Arc<Self>,
        inner: &mut MutexGuard<'_, Inner>,
        from: Option<&UserName>,
        effects: Vec<Effect>,
    ) {
        let mut touched: BTreeSet<UserName> = from.into_iter().cloned().collect();
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => {
                    // A frame one party of a call passes to the other is theirs to slow down.
                    let sender = from.filter(|from| **from != to && is_passed_on(&msg));
                    let text = msg.to_json().into();
                    let relayed = sender.is_some();
                    let queued =
                        hold_or_queue(&mut inner.peers, &to, text, relayed, &self.settings);
                    if let (Err(_), Some(sender)) = (queued, sender) {
                        deliver(&inner.peers, sender, &overflowed(sender, &to, msg.kind()));
                    }
                    touched.insert(to);
                }
                Effect::Missed {
                    caller,
                    callee,
                    reason,
                } => {
                    if first_in_a_while(inner, &caller, &callee, reason) {
                        self.record_missed(caller, callee, reason);
                    }
                }
                Effect::StartRingTimer { caller, ring } => {
                    // The timer holds only a weak handle: a server shutting down is not
                    // kept alive by rings.
                    let hub = Arc::downgrade(self);
                    let after = self.settings.ring_timeout();
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        if let Some(hub) = hub.upgrade() {
                            hub.ring_timeout(&caller, ring);
                        }
                    });
                }
            }
        }
        for name in touched {
            let now = match inner.calls.state(&name) {
                Some(State::InCall { .. }) => Presence::InCall,
                _ => Presence::Available,
            };
            let Some(peer) = inner.peers.get_mut(&name) else {
                continue;
            };
            if peer.shown != now {
                peer.shown = now;
                announce(inner, &name, now);
            }
        }
    }

    /// Stores a ring that did not become a call in the two people's conversation, then
    /// shows it on both pages. In a task: the hub never waits for the disk.
    fn record_missed(self: &Arc<Self>, caller: UserName, callee: UserName, reason: Reason) {
        let hub = Arc::downgrade(self);
        let store = self.store.clone();
        tokio::spawn(async move {
            let now = chat::now_millis();
            let (who, whom) = (caller.clone(), callee.clone());
            let stored = store
                .call(move |c| chat::db::missed_call(c, &who, &whom, reason, now))
                .await;
            match (stored, hub.upgrade()) {
                (Ok((line, members)), Some(hub)) => {
                    for member in members {
                        let msg = chat::new_messages(&member, std::slice::from_ref(&line));
                        hub.push(&member, &msg);
                    }
                }
                (Ok(_), None) => {}
                (Err(err), _) => {
                    tracing::error!(%caller, %callee, "could not store a missed call: {err}");
                }
            }
        });
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock would be a bug in the call machine; the state it
        // left is still the best there is, so carry on with it rather than wedge every user.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Chat reaches the people online through the hub.
impl Online for Hub {
    /// `name`'s page shows chat: from now on it hears of presence changes and new
    /// messages. Queues the whole presence list first, under the same lock, so no change
    /// slips between the list and the first update.
    fn sync(&self, name: &UserName) {
        let mut inner = self.lock();
        let users = inner
            .peers
            .iter()
            .map(|(user, peer)| PresenceEntry {
                user: user.clone(),
                state: peer.shown,
            })
            .collect();
        let Some(peer) = inner.peers.get_mut(name) else {
            return;
        };
        peer.synced = true;
        let list = Message::Presence {
            route: Route::new(SYSTEM_USER, name.as_str()),
            users,
            full: true,
        };
        deliver(&inner.peers, name, &list);
    }

    /// Disconnects `name`'s socket: its page stopped reading.
    fn kick(&self, name: &UserName) {
        if let Some(queue) = self.lock().peers.get(name).and_then(|p| p.queue.as_ref()) {
            queue.kick();
        }
    }

    /// Queues a chat frame for `to` if their page shows chat.
    fn push(&self, to: &UserName, msg: &Message) {
        let inner = self.lock();
        if inner.peers.get(to).is_some_and(|peer| peer.synced) {
            deliver(&inner.peers, to, msg);
        }
    }

    /// Queues one chat frame for each of `to` whose page shows chat, the same bytes for
    /// all, as [`announce`] does; built before the lock is taken.
    fn push_all(&self, to: &[UserName], msg: &Message) {
        let text: Utf8Bytes = msg.to_json().into();
        let inner = self.lock();
        for name in to {
            if let Some(peer) = inner.peers.get(name).filter(|peer| peer.synced) {
                queue(peer, name, text.clone());
            }
        }
    }
}

/// Tells every chat page that `name` is now `state`.
fn announce(inner: &Inner, name: &UserName, state: Presence) {
    let mut frame: Option<Utf8Bytes> = None;
    for (user, peer) in &inner.peers {
        if !peer.synced || user == name {
            continue;
        }
        let text = frame.get_or_insert_with(|| {
            Message::Presence {
                route: Route::default(),
                users: vec![PresenceEntry {
                    user: name.clone(),
                    state,
                }],
                full: false,
            }
            .to_json()
            .into()
        });
        queue(peer, user, text.clone());
    }
}

/// Queues `msg` for `to` if they are online (see [`queue`]).
fn deliver(peers: &HashMap<UserName, Peer>, to: &UserName, msg: &Message) {
    let Some(peer) = peers.get(to) else {
        return;
    };
    queue(peer, to, msg.to_json().into());
}

/// Frames one party of a call writes for the other, which the server passes on.
fn is_passed_on(msg: &Message) -> bool {
    matches!(
        msg,
        Message::RingOffer { .. }
            | Message::Offer { .. }
            | Message::Answer { .. }
            | Message::Ice { .. }
    )
}

/// server → `sender`: your `kind` to `to` was dropped, their queue has no room for it.
fn overflowed(sender: &UserName, to: &UserName, kind: &str) -> Message {
    let why =
        format!("slow down: {to}'s page has not read your last frames, so this {kind} was dropped");
    Message::error(sender, ErrorCode::RateLimited, why)
}

/// Whether a missed call from `caller` to `callee` for `reason` is to be stored: always,
/// unless it is a ring that could not ring and one was stored within
/// [`REFUSED_RING_EVERY`].
fn first_in_a_while(
    inner: &mut Inner,
    caller: &UserName,
    callee: &UserName,
    reason: Reason,
) -> bool {
    if !matches!(reason, Reason::Offline | Reason::Busy) {
        return true;
    }
    let now = Instant::now();
    let key = (caller.clone(), callee.clone());
    let rings = &mut inner.refused_rings;
    if rings
        .get(&key)
        .is_some_and(|at| now - *at < REFUSED_RING_EVERY)
    {
        return false;
    }
    // What no longer counts is forgotten once a period, so what is remembered is at most
    // two periods' refused rings (which the ring allowance bounds).
    if inner
        .rings_pruned
        .is_none_or(|at| now - at >= REFUSED_RING_EVERY)
    {
        rings.retain(|_, at| now - *at < REFUSED_RING_EVERY);
        inner.rings_pruned = Some(now);
    }
    rings.insert(key, now);
    true
}

/// 128 random bits as hex.
fn new_token() -> String {
    let mut bytes = [0u8; 16];
    // Without the OS's randomness the token is still unique (the clock), only guessable;
    // it only guards a name while its page reconnects.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Queues a call frame for `to` (a `relayed` one from the other party of their call, or
/// the server's notice), or holds it while they are away: their page needs the other
/// side's ICE candidates and hang-up when it comes back. `Err` if a relayed frame found
/// no room, and was dropped: its sender is to be told.
///
/// What is held stays within half a queue (frames and bytes), so it fits in the new
/// socket's queue beside the welcome. When more comes, the oldest frames go: a page that
/// comes back needs how things stand now, above all the hang-up that ended its call,
/// which comes last.
fn hold_or_queue(
    peers: &mut HashMap<UserName, Peer>,
    to: &UserName,
    text: Utf8Bytes,
    relayed: bool,
    settings: &Settings,
) -> Result<(), Refused> {
    let Some(peer) = peers.get_mut(to) else {
        return Ok(());
    };
    match &peer.queue {
        Some(queue) if relayed => match queue.try_relay(text) {
            Err(Refused::Full) => Err(Refused::Full),
            // Closed: the socket task already ended; `leave` is on its way.
            Ok(()) | Err(Refused::Closed) => Ok(()),
        },
        Some(_) => {
            self::queue(peer, to, text);
            Ok(())
        }
        None => {
            let max_frames = (settings.send_queue / 2).max(1);
            let max_bytes = settings.send_queue_bytes / 2;
            let mut bytes: usize = peer.held.iter().map(|t| t.len()).sum();
            let mut dropped = 0;
            while dropped < peer.held.len()
                && (peer.held.len() - dropped >= max_frames || bytes + text.len() > max_bytes)
            {
                bytes -= peer.held[dropped].len();
                dropped += 1;
            }
            peer.held.drain(..dropped);
            // A copy of its own: a relayed frame may share the sender's read buffer, which
            // would be kept whole for as long as the frame is held.
            peer.held.push(text.as_str().into());
            Ok(())
        }
    }
}

/// Queues one of the server's notices for `to`. One that finds no room would leave their
/// page wrong about how things stand: the socket is disconnected instead (see
/// `server/queue.rs`), and the page, reconnecting, is told afresh.
fn queue(peer: &Peer, to: &UserName, text: Utf8Bytes) {
    let Some(queue) = &peer.queue else {
        // Away: `hold_or_queue` holds call frames; chat the page asks for again on its return.
        return;
    };
    match queue.try_send(Outgoing::Text(text)) {
        Ok(()) => {}
        Err(Refused::Full) => {
            tracing::info!(user = %to, "send queue full: disconnecting a page that stopped reading");
            queue.kick();
        }
        // The socket task already ended; `leave` is on its way.
        Err(Refused::Closed) => {}
    }
}

#[cfg(test)]
mod tests;
