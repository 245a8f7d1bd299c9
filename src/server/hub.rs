//! The hub: every online user's outgoing queue, the call state machine that decides what
//! goes into them, and who is online. Socket handlers call in; the hub carries out the
//! machine's [`Effect`]s and tells chat pages when someone's presence changes.

use super::call::{Calls, Effect, NameInUse, RingId, State};
use super::settings::Settings;
use super::store::Store;
use crate::protocol::{Message, Presence, PresenceEntry, Reason, Route, SYSTEM_USER, UserName};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Notify, mpsc};

/// One frame waiting for a socket's send task.
#[derive(Debug)]
pub enum Outgoing {
    Text(String),
    /// A heartbeat; the browser answers with a pong by itself.
    Ping,
    /// Close the socket with this code and reason, then stop.
    Close(u16, &'static str),
}

/// What the hub holds for one online user.
struct Peer {
    queue: mpsc::Sender<Outgoing>,
    /// Tells the user's socket task to give up: its reader is too slow.
    kick: Arc<Notify>,
    /// The page asked for chat and presence (`sync`); an original page never does.
    synced: bool,
    /// The presence last announced for this user.
    shown: Presence,
}

#[derive(Default)]
struct Inner {
    calls: Calls,
    peers: HashMap<UserName, Peer>,
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

    /// Signs `name` in and queues its welcome. A name already online keeps its first socket.
    pub fn join(&self, name: &UserName) -> Result<Session, NameInUse> {
        let (tx, rx) = mpsc::channel(self.settings.send_queue);
        let kick = Arc::new(Notify::new());
        let welcome = Message::Welcome {
            route: Route::new(SYSTEM_USER, name.as_str()),
            user: name.to_string(),
            ice_servers: self.settings.ice_servers.clone(),
            ring_timeout_secs: self.settings.ring_timeout_secs,
        };
        // A fresh queue has room for at least one frame.
        let _ = tx.try_send(Outgoing::Text(welcome.to_json()));
        let mut inner = self.lock();
        inner.calls.join(name)?;
        inner.peers.insert(
            name.clone(),
            Peer {
                queue: tx.clone(),
                kick: kick.clone(),
                synced: false,
                shown: Presence::Available,
            },
        );
        announce(&inner, name, Presence::Available);
        Ok(Session {
            queue: rx,
            closer: tx,
            kick,
        })
    }

    /// `name`'s socket is gone: end their ring or call and forget them.
    pub fn leave(self: &Arc<Self>, name: &UserName) {
        let mut inner = self.lock();
        inner.peers.remove(name);
        let effects = inner.calls.leave(name);
        announce(&inner, name, Presence::Offline);
        self.apply(&mut inner, None, effects);
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

    /// `name`'s page shows chat: from now on it hears of presence changes and new
    /// messages. Queues the whole presence list first, under the same lock, so no change
    /// slips between the list and the first update.
    pub fn sync(&self, name: &UserName) {
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
    pub fn kick(&self, name: &UserName) {
        if let Some(peer) = self.lock().peers.get(name) {
            peer.kick.notify_one();
        }
    }

    /// Queues a chat frame for `to` if their page shows chat.
    pub fn push(&self, to: &UserName, msg: &Message) {
        let inner = self.lock();
        if inner.peers.get(to).is_some_and(|peer| peer.synced) {
            deliver(&inner, to, msg);
        }
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
                    deliver(inner, &to, &msg);
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
            let now = super::chat::now_millis();
            let (who, whom) = (caller.clone(), callee.clone());
            let stored = store
                .call(move |c| super::chat::db::missed_call(c, &who, &whom, reason, now))
                .await;
            match (stored, hub.upgrade()) {
                (Ok((line, members)), Some(hub)) => {
                    for member in members {
                        let msg = super::chat::new_messages(&member, std::slice::from_ref(&line));
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

/// Tells every chat page that `name` is now `state`.
fn announce(inner: &Inner, name: &UserName, state: Presence) {
    let mut frame = None;
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
    queue(peer, to, msg.to_json());
}

fn queue(peer: &Peer, to: &UserName, text: String) {
    match peer.queue.try_send(Outgoing::Text(text)) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(_)) => {
            tracing::info!(user = %to, "send queue full: disconnecting a page that stopped reading");
            peer.kick.notify_one();
        }
        // The socket task already ended; `leave` is on its way.
        Err(mpsc::error::TrySendError::Closed(_)) => {}
    }
}
