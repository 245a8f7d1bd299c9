//! The hub: every online user's outgoing queue, the call state machine that decides what
//! goes into them, and who is online. Socket handlers call in; the hub carries out the
//! machine's [`Effect`]s and tells chat pages when someone's presence changes.

use super::call::{Calls, Effect, NameInUse, RingId, State};
use super::relay::RelayFrame;
use crate::protocol::{Message, Presence, PresenceEntry, Reason, Route, SYSTEM_USER, UserName};
use crate::server::chat::{self, Online, store::Store};
use crate::server::queue::Outgoing;
use crate::server::reach::ice;
use crate::server::settings::Settings;
use axum::extract::ws::Utf8Bytes;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Notify, mpsc};

/// What the hub holds for one online user.
struct Peer {
    /// `None` while the user is away: their socket dropped in a call, and the grace period
    /// runs for their page to come back.
    queue: Option<mpsc::Sender<Outgoing>>,
    /// Tells the user's socket task to give up: its reader is too slow, or the same page
    /// came back on a new socket.
    kick: Arc<Notify>,
    /// Which socket is the user's now; a replaced socket's end signs nobody out.
    session: u64,
    /// The secret a page shows to take its name back on a new socket (from `welcome`).
    resume: String,
    /// Frames for an away user, delivered in order when their page comes back.
    held: Vec<Utf8Bytes>,
    /// The page asked for chat and presence (`sync`); an original page never does.
    synced: bool,
    /// The presence last announced for this user.
    shown: Presence,
}

#[derive(Default)]
struct Inner {
    calls: Calls,
    peers: HashMap<UserName, Peer>,
    next_session: u64,
}

/// How a socket ended, which decides whether its user is kept for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The page closed it (a close frame with 1000 or 1001: left, reloaded, hung up on
    /// purpose) or the server had to (too big, stuck reader): sign out now.
    Closed,
    /// It broke, fell silent or was cut without a word: the network, most likely. A call
    /// is kept for the grace period, for the page to come back.
    Lost,
}

/// Shared by every socket handler.
pub struct Hub {
    settings: Arc<Settings>,
    store: Store,
    inner: Mutex<Inner>,
}

/// What a signed-in user's socket task holds.
pub struct Session {
    /// Frames to write, in order.
    pub queue: mpsc::Receiver<Outgoing>,
    /// The socket task's own way into its queue, to queue a close frame.
    pub closer: mpsc::Sender<Outgoing>,
    /// Fires when the hub gives up on this socket's reader.
    pub kick: Arc<Notify>,
    /// This socket's number, for [`Hub::leave`].
    pub id: u64,
}

impl Hub {
    pub fn new(settings: Arc<Settings>, store: Store) -> Arc<Self> {
        Arc::new(Self {
            settings,
            store,
            inner: Mutex::default(),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Signs `name` in and queues its welcome. A name already online keeps its socket,
    /// unless the page shows that name's `resume` secret: then this is the same page back
    /// on a new socket, which takes over (the old one, if still open, is closed) and gets
    /// what was held for it. Its call goes on as if nothing happened.
    pub fn join(&self, name: &UserName, resume: Option<&str>) -> Result<Session, NameInUse> {
        let (tx, rx) = mpsc::channel(self.settings.send_queue);
        let kick = Arc::new(Notify::new());
        let mut inner = self.lock();
        inner.next_session += 1;
        let id = inner.next_session;
        let (token, held, resumed) = match inner.peers.get_mut(name) {
            Some(peer) if resume.is_some_and(|r| !r.is_empty() && r == peer.resume) => {
                peer.kick.notify_one();
                peer.queue = Some(tx.clone());
                peer.kick = kick.clone();
                peer.session = id;
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
                        kick: kick.clone(),
                        session: id,
                        resume: token.clone(),
                        held: Vec::new(),
                        synced: false,
                        shown: Presence::Available,
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
            resume: Some(token),
            resumed,
        };
        // A fresh queue has room for the welcome and everything held (held is capped
        // below the queue's size).
        for text in std::iter::once(welcome.to_json().into()).chain(held) {
            let _ = tx.try_send(Outgoing::Text(text));
        }
        Ok(Session {
            queue: rx,
            closer: tx,
            kick,
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

    /// An offer, answer or ICE candidate from `from`: to the other party of their call,
    /// as `frame` is, or refused. Nothing about the call changes, so no presence either.
    pub fn relay(self: &Arc<Self>, from: &UserName, frame: &RelayFrame) {
        let mut inner = self.lock();
        let Inner { calls, peers, .. } = &mut *inner;
        match calls.relay_to(from, frame.kind(), frame.to_user()) {
            Ok(to) => hold_or_queue(peers, to, frame.relayed(from, to), self.settings.send_queue),
            Err(refused) => self.apply(&mut inner, None, vec![*refused]),
        }
    }

    fn sign_out(self: &Arc<Self>, inner: &mut MutexGuard<'_, Inner>, name: &UserName) {
        inner.peers.remove(name);
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
        deliver(&inner, to, msg);
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
                    hold_or_queue(
                        &mut inner.peers,
                        &to,
                        msg.to_json().into(),
                        self.settings.send_queue,
                    );
                    touched.insert(to);
                }
                Effect::Missed {
                    caller,
                    callee,
                    reason,
                } => self.record_missed(caller, callee, reason),
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
        deliver(&inner, name, &list);
    }

    /// Disconnects `name`'s socket: its page stopped reading.
    fn kick(&self, name: &UserName) {
        if let Some(peer) = self.lock().peers.get(name) {
            peer.kick.notify_one();
        }
    }

    /// Queues a chat frame for `to` if their page shows chat.
    fn push(&self, to: &UserName, msg: &Message) {
        let inner = self.lock();
        if inner.peers.get(to).is_some_and(|peer| peer.synced) {
            deliver(&inner, to, msg);
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

/// Queues `msg` for `to` if they are online. A full queue means their page stopped reading:
/// they are kicked rather than buffered for without limit.
fn deliver(inner: &Inner, to: &UserName, msg: &Message) {
    let Some(peer) = inner.peers.get(to) else {
        return;
    };
    queue(peer, to, msg.to_json().into());
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

/// Queues a call frame for `to`, or holds it while they are away: their page needs the
/// other side's ICE candidates and hang-up when it comes back. At most a queue's worth
/// is held; a call that says more than that while one side is away is beyond saving.
fn hold_or_queue(peers: &mut HashMap<UserName, Peer>, to: &UserName, text: Utf8Bytes, cap: usize) {
    let Some(peer) = peers.get_mut(to) else {
        return;
    };
    if peer.queue.is_some() {
        queue(peer, to, text);
    } else if peer.held.len() + 1 < cap {
        // A copy of its own: a relayed frame may share the sender's read buffer, which
        // would be kept whole for as long as the frame is held.
        peer.held.push(text.as_str().into());
    }
}

fn queue(peer: &Peer, to: &UserName, text: Utf8Bytes) {
    let Some(queue) = &peer.queue else {
        // Away: `hold_or_queue` holds call frames; chat the page asks for again on its return.
        return;
    };
    match queue.try_send(Outgoing::Text(text)) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(_)) => {
            tracing::info!(user = %to, "send queue full: disconnecting a page that stopped reading");
            peer.kick.notify_one();
        }
        // The socket task already ended; `leave` is on its way.
        Err(mpsc::error::TrySendError::Closed(_)) => {}
    }
}
