//! The hub: every online person's devices and their outgoing queues, the call state
//! machine that decides what goes into them, and who is online. Socket handlers call in;
//! the hub carries out the machine's [`Effect`]s and tells chat pages when someone's
//! presence changes.
//!
//! A person is online on one device (page) or, when their name is claimed by an account,
//! on several: each device has its own socket, queue, resume secret and held frames, and
//! is signed in and out on its own. Presence is the person's: available while any device
//! is online, in a call while one is.

use super::call::{Calls, DeviceId, Effect, NameInUse, Party, RingId, State};
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

/// What the hub holds for one online person.
struct Peer {
    /// One per device online (or away within its grace period), in the order they came.
    pages: Vec<Page>,
    /// The presence last announced for this person.
    shown: Presence,
}

/// One device's page of an online person.
struct Page {
    /// The device, as the call machine knows it; kept when the page comes back.
    id: DeviceId,
    /// `None` while the page is away: its socket dropped in a call, and the grace period
    /// runs for it to come back.
    queue: Option<queue::Sender>,
    /// Which socket is this page's now; a replaced socket's end signs nothing out.
    socket: u64,
    /// The secret this page shows to take its device back on a new socket (from `welcome`).
    resume: String,
    /// Frames for an away page, delivered in order when it comes back (see
    /// [`hold_or_queue`]).
    held: Vec<Utf8Bytes>,
    /// The page asked for chat and presence (`sync`); an original page never does.
    synced: bool,
    /// The sign-in session the socket came with (see [`Device`]).
    device: Device,
}

impl Peer {
    fn page(&self, id: DeviceId) -> Option<&Page> {
        self.pages.iter().find(|page| page.id == id)
    }

    fn page_mut(&mut self, id: DeviceId) -> Option<&mut Page> {
        self.pages.iter_mut().find(|page| page.id == id)
    }
}

/// Who a socket belongs to beyond its name: the browser's sign-in session, if the name is
/// claimed by an account (see `server/auth/`). A claimed name may have any number of
/// sockets (one per device or page); an unclaimed one has one.
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

/// What a signed-in device's socket task holds.
pub struct Session {
    /// Frames to write, in order.
    pub queue: queue::Receiver,
    /// The socket task's own way into its queue (pings, a close frame, chat's answers),
    /// and the signal that the hub has given up on the socket ([`queue::Sender::kicked`]).
    pub closer: queue::Sender,
    /// This socket's number, for [`Hub::leave`].
    pub id: u64,
    /// The device this socket is (a page that came back keeps its device).
    pub device: DeviceId,
}

impl Hub {
    pub fn new(settings: Arc<Settings>, store: Store, turn: Option<TurnAllocations>) -> Arc<Self> {
        let calls = Calls::speaking(settings.default_language);
        Arc::new(Self {
            meter: Meter::new(&settings),
            settings,
            store,
            turn,
            inner: Mutex::new(Inner {
                calls,
                ..Inner::default()
            }),
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

    /// Signs a device of `name` in and queues its welcome. A page that shows the `resume`
    /// secret of one of `name`'s devices is that page back on a new socket: it takes its
    /// device over (the old socket, if still open, is closed) and gets what was held for
    /// it; its call goes on as if nothing happened. Otherwise this is a new device: one
    /// more for a name claimed by an account (`device.session`), refused for an unclaimed
    /// name that is online (the original demo's one socket per name).
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
        let socket = inner.next_session;
        let back = resume
            .filter(|secret| !secret.is_empty())
            .and_then(|secret| {
                let peer = inner.peers.get(name)?;
                peer.pages.iter().position(|page| page.resume == secret)
            });
        let (id, token, held, resumed, effects) = match back {
            Some(at) => {
                let peer = inner.peers.get_mut(name).expect("found above");
                let page = &mut peer.pages[at];
                if let Some(old) = page.queue.replace(tx.clone()) {
                    old.kick();
                }
                page.socket = socket;
                page.device = device;
                // The page asks again (`sync`) when it is ready for chat.
                page.synced = false;
                let held = std::mem::take(&mut page.held);
                (page.id, page.resume.clone(), held, true, Vec::new())
            }
            None => {
                let id = DeviceId(socket);
                let effects = inner.calls.join(name, id, device.session.is_some())?;
                let token = new_token();
                let page = Page {
                    id,
                    queue: Some(tx.clone()),
                    socket,
                    resume: token.clone(),
                    held: Vec::new(),
                    synced: false,
                    device,
                };
                match inner.peers.get_mut(name) {
                    Some(peer) => peer.pages.push(page),
                    None => {
                        let peer = Peer {
                            pages: vec![page],
                            shown: Presence::Available,
                        };
                        inner.peers.insert(name.clone(), peer);
                        announce(&inner, name, Presence::Available);
                    }
                }
                (id, token, Vec::new(), false, effects)
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
        // A device that comes while its person's ring goes on rings too (the machine's
        // join sends nothing else).
        for effect in effects {
            if let Effect::Send { to, msg } = effect {
                let text = msg.to_json().into();
                let _ = hold_or_queue(&mut inner.peers, &to, text, false, &self.settings);
            }
        }
        Ok(Session {
            queue: rx,
            closer: tx,
            id: socket,
            device: id,
        })
    }

    /// Socket `socket` of `name` ended. A device lost in a call is kept for the grace
    /// period; otherwise (or once that is over) it is signed out: its ring or call ends
    /// and the other side is told. The person's other devices stay.
    pub fn leave(self: &Arc<Self>, name: &UserName, socket: u64, ending: Ending) {
        let mut inner = self.lock();
        let page = inner
            .peers
            .get(name)
            .and_then(|peer| peer.pages.iter().find(|page| page.socket == socket));
        // Not found: replaced by the same page on a new socket, or already signed out.
        let Some(id) = page.map(|page| page.id) else {
            return;
        };
        // A ring has its own timeout and no media yet: it ends at once.
        let in_call = inner.calls.in_call(name, id);
        let grace = self.settings.grace();
        if ending == Ending::Lost && in_call && !grace.is_zero() {
            if let Some(page) = inner.peers.get_mut(name).and_then(|p| p.page_mut(id)) {
                page.queue = None;
                page.synced = false;
            }
            tracing::info!(user = %name, ?grace, "socket lost mid-call: keeping the call for the page to come back");
            let hub = Arc::downgrade(self);
            let name = name.clone();
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                if let Some(hub) = hub.upgrade() {
                    hub.expire(&name, socket);
                }
            });
            return;
        }
        self.sign_out(&mut inner, name, id);
    }

    /// The grace period of `name`'s socket `socket` is over: if its page did not come
    /// back, sign that device out.
    fn expire(self: &Arc<Self>, name: &UserName, socket: u64) {
        let mut inner = self.lock();
        let away = inner.peers.get(name).and_then(|peer| {
            peer.pages
                .iter()
                .find(|page| page.socket == socket && page.queue.is_none())
        });
        if let Some(id) = away.map(|page| page.id) {
            tracing::info!(user = %name, "grace period over: ending their call");
            self.sign_out(&mut inner, name, id);
        }
    }

    /// Signs out, now, every socket of the sign-in sessions `ids` (signed out, revoked,
    /// password changed): each page is told with [`close::SIGNED_OUT`] and its call ends,
    /// with no grace period. The person's other devices stay.
    pub fn end_sessions(self: &Arc<Self>, ids: &[String]) {
        let mut inner = self.lock();
        let ended: Vec<(UserName, DeviceId)> = inner
            .peers
            .iter()
            .flat_map(|(name, peer)| {
                peer.pages
                    .iter()
                    .filter(|page| {
                        page.device
                            .session
                            .as_ref()
                            .is_some_and(|id| ids.contains(id))
                    })
                    .map(|page| (name.clone(), page.id))
            })
            .collect();
        for (name, id) in ended {
            self.close_signed_out(&mut inner, &name, id);
        }
    }

    /// Signs out every socket of `name` now (their account was removed).
    pub fn end_user(self: &Arc<Self>, name: &UserName) {
        let mut inner = self.lock();
        let ids: Vec<DeviceId> = match inner.peers.get(name) {
            Some(peer) => peer.pages.iter().map(|page| page.id).collect(),
            None => return,
        };
        for id in ids {
            self.close_signed_out(&mut inner, name, id);
        }
    }

    /// The sign-in sessions with a socket (or a page coming back to its call) now, each
    /// once.
    pub fn online_sessions(&self) -> Vec<String> {
        let inner = self.lock();
        let sessions: BTreeSet<&String> = inner
            .peers
            .values()
            .flat_map(|peer| &peer.pages)
            .filter_map(|page| page.device.session.as_ref())
            .collect();
        sessions.into_iter().cloned().collect()
    }

    fn close_signed_out(
        self: &Arc<Self>,
        inner: &mut MutexGuard<'_, Inner>,
        name: &UserName,
        id: DeviceId,
    ) {
        let page = inner.peers.get(name).and_then(|peer| peer.page(id));
        if let Some(queue) = page.and_then(|page| page.queue.as_ref()) {
            let _ = queue.try_send(Outgoing::Close(close::SIGNED_OUT, close::SIGNED_OUT_REASON));
        }
        tracing::info!(user = %name, "session ended: signing the page out");
        self.sign_out(inner, name, id);
    }

    /// An offer, answer or ICE candidate from `from`: to the other end of their call, as
    /// `frame` is, or refused. Nothing about the call changes, so no presence either.
    pub fn relay(self: &Arc<Self>, from: &Party, frame: &RelayFrame) {
        let mut inner = self.lock();
        let Inner { calls, peers, .. } = &mut *inner;
        match calls.relay_to(&from.name, from.device, frame.kind(), frame.to_user()) {
            Ok(to) => {
                let text = frame.relayed(&from.name, &to.name);
                if hold_or_queue(peers, to, text, true, &self.settings).is_err() {
                    deliver(peers, from, &overflowed(&from.name, &to.name, frame.kind()));
                }
            }
            Err(refused) => self.apply(&mut inner, None, vec![*refused]),
        }
    }

    /// Signs device `id` of `name` out: its ring or call ends, and when it was the
    /// person's last, they are offline.
    fn sign_out(
        self: &Arc<Self>,
        inner: &mut MutexGuard<'_, Inner>,
        name: &UserName,
        id: DeviceId,
    ) {
        let Some(peer) = inner.peers.get_mut(name) else {
            return;
        };
        peer.pages.retain(|page| page.id != id);
        let offline = peer.pages.is_empty();
        if offline {
            inner.peers.remove(name);
            if let Some(turn) = &self.turn {
                turn.release(name);
            }
        }
        let effects = inner.calls.leave(name, id);
        if offline {
            announce(inner, name, Presence::Offline);
        }
        // As `from`, so the person's presence is looked at again (their call may be over).
        self.apply(inner, Some(&Party::new(name, id)), effects);
    }

    /// A frame from `from`, already decoded.
    pub fn handle(self: &Arc<Self>, from: &Party, msg: Message) {
        let mut inner = self.lock();
        let effects = inner.calls.handle(from, msg);
        self.apply(&mut inner, Some(from), effects);
    }

    /// Queues a server notice for `to`'s page alone, outside the call machine (decode
    /// errors).
    pub fn notify(&self, to: &Party, msg: &Message) {
        let inner = self.lock();
        deliver(&inner.peers, to, msg);
    }

    fn ring_timeout(self: &Arc<Self>, caller: &UserName, ring: RingId) {
        let mut inner = self.lock();
        let effects = inner.calls.ring_timeout(caller, ring);
        self.apply(&mut inner, None, effects);
    }

    /// Carries out effects while still holding the lock, so every page receives frames in
    /// the order the machine produced them. Nothing here waits: queues are `try_send`.
    /// Then announces the presence of everyone the effects touched (and `from`) if their
    /// call state changed it.
    fn apply(
        self: &Arc<Self>,
        inner: &mut MutexGuard<'_, Inner>,
        from: Option<&Party>,
        effects: Vec<Effect>,
    ) {
        let mut touched: BTreeSet<UserName> =
            from.map(|from| from.name.clone()).into_iter().collect();
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => {
                    // A frame one end of a call passes to the other is theirs to slow down.
                    let sender = from.filter(|from| from.name != to.name && is_passed_on(&msg));
                    let text = msg.to_json().into();
                    let relayed = sender.is_some();
                    let queued =
                        hold_or_queue(&mut inner.peers, &to, text, relayed, &self.settings);
                    if let (Err(_), Some(sender)) = (queued, sender) {
                        let notice = overflowed(&sender.name, &to.name, msg.kind());
                        deliver(&inner.peers, sender, &notice);
                    }
                    touched.insert(to.name);
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
    /// shows it on both people's pages. In a task: the hub never waits for the disk.
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

/// Chat reaches the people online through the hub: every device of theirs that shows chat.
impl Online for Hub {
    /// `device` of `name` shows chat: from now on it hears of presence changes and new
    /// messages. Queues the whole presence list first, under the same lock, so no change
    /// slips between the list and the first update.
    fn sync(&self, name: &UserName, device: u64) {
        let mut inner = self.lock();
        let users = inner
            .peers
            .iter()
            .map(|(user, peer)| PresenceEntry {
                user: user.clone(),
                state: peer.shown,
            })
            .collect();
        let party = Party::new(name, DeviceId(device));
        let Some(page) = inner
            .peers
            .get_mut(name)
            .and_then(|peer| peer.page_mut(party.device))
        else {
            return;
        };
        page.synced = true;
        let list = Message::Presence {
            route: Route::new(SYSTEM_USER, name.as_str()),
            users,
            full: true,
        };
        deliver(&inner.peers, &party, &list);
    }

    /// Disconnects the socket of `device` of `name`: its page stopped reading.
    fn kick(&self, name: &UserName, device: u64) {
        let inner = self.lock();
        let page = inner
            .peers
            .get(name)
            .and_then(|peer| peer.page(DeviceId(device)));
        if let Some(queue) = page.and_then(|page| page.queue.as_ref()) {
            queue.kick();
        }
    }

    /// Queues a chat frame for every device of `to` that shows chat.
    fn push(&self, to: &UserName, msg: &Message) {
        self.push_all(std::slice::from_ref(to), msg);
    }

    /// Queues one chat frame for every device of each of `to` that shows chat, the same
    /// bytes for all, as [`announce`] does; built before the lock is taken.
    fn push_all(&self, to: &[UserName], msg: &Message) {
        let text: Utf8Bytes = msg.to_json().into();
        let inner = self.lock();
        for name in to {
            if let Some(peer) = inner.peers.get(name) {
                for page in peer.pages.iter().filter(|page| page.synced) {
                    queue(page, name, text.clone());
                }
            }
        }
    }

    /// Queues a chat frame for `name`'s devices that show chat, but `device`.
    fn push_others(&self, name: &UserName, device: u64, msg: &Message) {
        let inner = self.lock();
        let Some(peer) = inner.peers.get(name) else {
            return;
        };
        let mut others = peer
            .pages
            .iter()
            .filter(|page| page.synced && page.id != DeviceId(device))
            .peekable();
        if others.peek().is_none() {
            return;
        }
        let text: Utf8Bytes = msg.to_json().into();
        for page in others {
            queue(page, name, text.clone());
        }
    }
}

/// Tells every chat page that `name` is now `state`.
fn announce(inner: &Inner, name: &UserName, state: Presence) {
    let mut frame: Option<Utf8Bytes> = None;
    for (user, peer) in &inner.peers {
        if user == name {
            continue;
        }
        for page in peer.pages.iter().filter(|page| page.synced) {
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
            queue(page, user, text.clone());
        }
    }
}

/// Queues `msg` for `to`'s page if it is online (see [`queue`]).
fn deliver(peers: &HashMap<UserName, Peer>, to: &Party, msg: &Message) {
    let Some(page) = peers.get(&to.name).and_then(|peer| peer.page(to.device)) else {
        return;
    };
    queue(page, &to.name, msg.to_json().into());
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

/// Queues a call frame for `to`'s page (a `relayed` one from the other end of its call, or
/// the server's notice), or holds it while the page is away: it needs the other side's
/// ICE candidates and hang-up when it comes back. `Err` if a relayed frame found
/// no room, and was dropped: its sender is to be told.
///
/// What is held stays within half a queue (frames and bytes), so it fits in the new
/// socket's queue beside the welcome. When more comes, the oldest frames go: a page that
/// comes back needs how things stand now, above all the hang-up that ended its call,
/// which comes last.
fn hold_or_queue(
    peers: &mut HashMap<UserName, Peer>,
    to: &Party,
    text: Utf8Bytes,
    relayed: bool,
    settings: &Settings,
) -> Result<(), Refused> {
    let Some(page) = peers
        .get_mut(&to.name)
        .and_then(|peer| peer.page_mut(to.device))
    else {
        return Ok(());
    };
    match &page.queue {
        Some(queue) if relayed => match queue.try_relay(text) {
            Err(Refused::Full) => Err(Refused::Full),
            // Closed: the socket task already ended; `leave` is on its way.
            Ok(()) | Err(Refused::Closed) => Ok(()),
        },
        Some(_) => {
            self::queue(page, &to.name, text);
            Ok(())
        }
        None => {
            let max_frames = (settings.send_queue / 2).max(1);
            let max_bytes = settings.send_queue_bytes / 2;
            let held = &mut page.held;
            let mut bytes: usize = held.iter().map(|t| t.len()).sum();
            let mut dropped = 0;
            while dropped < held.len()
                && (held.len() - dropped >= max_frames || bytes + text.len() > max_bytes)
            {
                bytes -= held[dropped].len();
                dropped += 1;
            }
            held.drain(..dropped);
            // A copy of its own: a relayed frame may share the sender's read buffer, which
            // would be kept whole for as long as the frame is held.
            held.push(text.as_str().into());
            Ok(())
        }
    }
}

/// Queues one of the server's notices for `page` of `to`. One that finds no room would
/// leave the page wrong about how things stand: the socket is disconnected instead (see
/// `server/queue.rs`), and the page, reconnecting, is told afresh.
fn queue(page: &Page, to: &UserName, text: Utf8Bytes) {
    let Some(queue) = &page.queue else {
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
