//! The hub: every online user's outgoing queue, and the call state machine that decides what
//! goes into them. Socket handlers call in; the hub carries out the machine's [`Effect`]s.

use super::call::{Calls, Effect, NameInUse, RingId};
use super::settings::Settings;
use crate::protocol::{Message, Route, SYSTEM_USER, UserName};
use std::collections::HashMap;
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
}

#[derive(Default)]
struct Inner {
    calls: Calls,
    peers: HashMap<UserName, Peer>,
}

/// Shared by every socket handler.
pub struct Hub {
    settings: Arc<Settings>,
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
    pub fn new(settings: Arc<Settings>) -> Arc<Self> {
        Arc::new(Self {
            settings,
            inner: Mutex::default(),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
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
            },
        );
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
        self.apply(&mut inner, effects);
    }

    /// A frame from `from`, already decoded.
    pub fn handle(self: &Arc<Self>, from: &UserName, msg: Message) {
        let mut inner = self.lock();
        let effects = inner.calls.handle(from, msg);
        self.apply(&mut inner, effects);
    }

    /// Queues a server notice for `to` alone, outside the call machine (decode errors).
    pub fn notify(&self, to: &UserName, msg: &Message) {
        let inner = self.lock();
        deliver(&inner, to, msg);
    }

    fn ring_timeout(self: &Arc<Self>, caller: &UserName, ring: RingId) {
        let mut inner = self.lock();
        let effects = inner.calls.ring_timeout(caller, ring);
        self.apply(&mut inner, effects);
    }

    /// Carries out effects while still holding the lock, so every user receives frames in
    /// the order the machine produced them. Nothing here waits: queues are `try_send`.
    fn apply(self: &Arc<Self>, inner: &mut MutexGuard<'_, Inner>, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => deliver(inner, &to, &msg),
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
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock would be a bug in the call machine; the state it
        // left is still the best there is, so carry on with it rather than wedge every user.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Queues `msg` for `to` if they are online. A full queue means their page stopped reading:
/// they are kicked rather than buffered for without limit.
fn deliver(inner: &Inner, to: &UserName, msg: &Message) {
    let Some(peer) = inner.peers.get(to) else {
        return;
    };
    match peer.queue.try_send(Outgoing::Text(msg.to_json())) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(_)) => {
            tracing::info!(user = %to, "send queue full: disconnecting a page that stopped reading");
            peer.kick.notify_one();
        }
        // The socket task already ended; `leave` is on its way.
        Err(mpsc::error::TrySendError::Closed(_)) => {}
    }
}
