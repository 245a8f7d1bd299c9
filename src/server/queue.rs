//! What waits for a socket's send task, and when a page that does not read is given up on.
//! The hub queues call, presence and chat frames for a page; chat queues its answers to
//! the page that asked; the socket's send task writes them in order.
//!
//! The rule, all of it:
//!
//! 1. A queue holds at most `send_queue` frames and `send_queue_bytes` bytes of text. An
//!    empty queue takes one frame of any size: the server builds frames (a history page, a
//!    chunk of catch-up) that may be larger, and each must still go out.
//! 2. What the page asked for itself (chat's answers, [`Sender::send_answer`]) and what the
//!    other party of its call sends it (offers, answers, candidates, [`Sender::try_relay`])
//!    may fill half of it. The other half stays free for the server's notices
//!    ([`Sender::try_send`]: a hang-up, a ring, presence, someone's chat message), so a
//!    page that is catching up on a long backlog still hears that its call ended.
//! 3. What finds no room: an answer waits for it; a relayed frame is dropped and its
//!    sender told to slow down (it sends faster than this page reads); a notice would leave
//!    the page showing something that is no longer so, so the socket is disconnected at
//!    once, and the page, reconnecting, is told afresh how things stand.
//! 4. A queue that has turned a frame away or kept an answer waiting, and whose send task
//!    has taken nothing from it since (it takes the next frame once it has written the
//!    last), is stuck. Stuck for [`stall`] (the time a silent socket gets), its socket is
//!    disconnected, whether or not its page still sends frames or pongs: the receive loop
//!    looks at every heartbeat, a waiting answer as it waits.
//!
//! So besides the frame being written, one socket holds at most `send_queue_bytes` (or
//! one larger frame), and a page that stops reading is gone within [`stall`] of its queue
//! filling up.

use crate::server::settings::{SILENT_BEATS, Settings};
use axum::extract::ws::Utf8Bytes;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::futures::Notified;
use tokio::sync::{Notify, mpsc};

/// One frame waiting for a socket's send task.
#[derive(Debug)]
pub enum Outgoing {
    /// A cheap handle: one presence frame goes to every chat page, a relayed frame may be
    /// the sender's own bytes (see signal/relay.rs).
    Text(Utf8Bytes),
    /// A heartbeat; the browser answers with a pong by itself.
    Ping,
    /// Close the socket with this code and reason, then stop.
    Close(u16, &'static str),
}

impl Outgoing {
    /// The bytes of text it counts for in its queue.
    fn bytes(&self) -> usize {
        match self {
            Outgoing::Text(text) => text.len(),
            Outgoing::Ping | Outgoing::Close(..) => 0,
        }
    }
}

/// How long a queue may stay stuck before its socket is disconnected: as long as a
/// silent socket is given.
pub fn stall(settings: &Settings) -> Duration {
    settings.heartbeat() * SILENT_BEATS
}

/// A new queue for one socket, with the bounds in `settings`.
pub fn channel(settings: &Settings) -> (Sender, Receiver) {
    let (tx, rx) = mpsc::channel(settings.send_queue);
    let state = Arc::new(State {
        bytes: AtomicUsize::new(0),
        max_bytes: settings.send_queue_bytes,
        stuck_since: AtomicU64::new(NOT_STUCK),
        kick: Notify::new(),
    });
    let receiver = Receiver {
        rx,
        state: state.clone(),
    };
    (Sender { tx, state }, receiver)
}

/// Why a frame was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// No room for it (rule 2).
    Full,
    /// The socket's send task has ended: nobody is there to read it.
    Closed,
}

/// A queue that stayed stuck for [`stall`]: its socket is to be disconnected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the page has read nothing for as long as a silent page is given")]
pub struct Stuck;

/// What the senders and the send task of one queue share. Every socket has one, idle or
/// not, so it is kept small: a waiting answer looks for room now and then (see
/// [`ROOM_CHECK`]) rather than being woken by a `Notify` of its own.
struct State {
    /// Bytes of text queued and not yet taken by the send task.
    bytes: AtomicUsize,
    max_bytes: usize,
    /// Since when (see [`now_ms`]) the queue is stuck (rule 4), or [`NOT_STUCK`].
    stuck_since: AtomicU64,
    /// Tells the socket's task to give up: its page stopped reading, or came back on a
    /// new socket.
    kick: Notify,
}

/// How often an answer that waits for room looks again. Answers wait only behind half a
/// queue of frames the page has not read yet, so this adds little to how long they take.
const ROOM_CHECK: Duration = Duration::from_millis(10);

const NOT_STUCK: u64 = u64::MAX;

/// Milliseconds since the first call in this process.
fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// How much of the queue a frame may fill.
#[derive(Clone, Copy)]
enum Share {
    Whole,
    Half,
}

/// The queuing side, held by the hub (for the page's user) and the socket's receive loop.
#[derive(Clone)]
pub struct Sender {
    tx: mpsc::Sender<Outgoing>,
    state: Arc<State>,
}

impl Sender {
    /// Queues one of the server's notices (or a ping, or a close), never waiting.
    pub fn try_send(&self, out: Outgoing) -> Result<(), Refused> {
        self.push(out, Share::Whole)
    }

    /// Queues a frame relayed from the other party of the page's call, never waiting.
    pub fn try_relay(&self, text: Utf8Bytes) -> Result<(), Refused> {
        self.push(Outgoing::Text(text), Share::Half)
    }

    /// Queues an answer to the page's own request, waiting for room. `Err` once the queue
    /// has been stuck for `stall`: the caller disconnects the socket. A socket that has
    /// ended takes nothing, and is not waited for.
    pub async fn send_answer(&self, text: Utf8Bytes, stall: Duration) -> Result<(), Stuck> {
        let mut out = Outgoing::Text(text);
        loop {
            out = match self.reserve(out, Share::Half) {
                Ok(()) | Err((Refused::Closed, _)) => return Ok(()),
                Err((Refused::Full, out)) => out,
            };
            let since = self.state.mark_stuck();
            if now_ms().saturating_sub(since) >= stall.as_millis() as u64 {
                return Err(Stuck);
            }
            tokio::time::sleep(ROOM_CHECK).await;
        }
    }

    /// Whether the queue has been stuck for `stall` (rule 4).
    pub fn is_stuck(&self, stall: Duration) -> bool {
        let since = self.state.stuck_since.load(Ordering::SeqCst);
        since != NOT_STUCK && now_ms().saturating_sub(since) >= stall.as_millis() as u64
    }

    /// Tells the socket's task to give up on this socket.
    pub fn kick(&self) {
        self.state.kick.notify_one();
    }

    /// Resolves once [`Sender::kick`] has been called (also if that was before).
    pub fn kicked(&self) -> Notified<'_> {
        self.state.kick.notified()
    }

    fn push(&self, out: Outgoing, share: Share) -> Result<(), Refused> {
        self.reserve(out, share).map_err(|(refused, _)| {
            if refused == Refused::Full {
                self.state.mark_stuck();
            }
            refused
        })
    }

    /// Queues `out` if it fits in `share` of the queue; else hands it back.
    fn reserve(&self, out: Outgoing, share: Share) -> Result<(), (Refused, Outgoing)> {
        let len = out.bytes();
        let (max_frames, max_bytes) = match share {
            Share::Whole => (self.tx.max_capacity(), self.state.max_bytes),
            Share::Half => (self.tx.max_capacity() / 2, self.state.max_bytes / 2),
        };
        if self.tx.max_capacity() - self.tx.capacity() >= max_frames.max(1) {
            return Err((Refused::Full, out));
        }
        let fits = self
            .state
            .bytes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |queued| {
                let total = queued.checked_add(len)?;
                (len == 0 || queued == 0 || total <= max_bytes).then_some(total)
            });
        if fits.is_err() {
            return Err((Refused::Full, out));
        }
        self.tx.try_send(out).map_err(|err| {
            self.state.bytes.fetch_sub(len, Ordering::SeqCst);
            match err {
                mpsc::error::TrySendError::Full(out) => (Refused::Full, out),
                mpsc::error::TrySendError::Closed(out) => (Refused::Closed, out),
            }
        })
    }
}

/// The send task's side.
pub struct Receiver {
    rx: mpsc::Receiver<Outgoing>,
    state: Arc<State>,
}

impl Receiver {
    /// The next frame to write. Taken, it no longer counts, and the queue is moving: the
    /// send task takes a frame once it has written the one before.
    pub async fn recv(&mut self) -> Option<Outgoing> {
        let out = self.rx.recv().await?;
        self.state.bytes.fetch_sub(out.bytes(), Ordering::SeqCst);
        if self.state.stuck_since.load(Ordering::Relaxed) != NOT_STUCK {
            self.state.stuck_since.store(NOT_STUCK, Ordering::SeqCst);
        }
        Some(out)
    }
}

impl State {
    /// Marks the queue stuck, if it is not already; returns since when it is.
    fn mark_stuck(&self) -> u64 {
        let now = now_ms();
        match self
            .stuck_since
            .compare_exchange(NOT_STUCK, now, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => now,
            Err(since) => since,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    fn settings(frames: usize, bytes: usize) -> Settings {
        Settings {
            send_queue: frames,
            send_queue_bytes: bytes,
            heartbeat_secs: 1,
            ..Settings::default()
        }
    }

    fn text(len: usize) -> Utf8Bytes {
        "x".repeat(len).into()
    }

    #[test]
    fn notices_may_fill_the_queue_relayed_frames_half() {
        let (tx, mut rx) = channel(&settings(8, 1000));
        assert_eq!(tx.try_relay(text(400)), Ok(()));
        assert_eq!(
            tx.try_relay(text(200)),
            Err(Refused::Full),
            "over half the bytes"
        );
        assert_eq!(tx.try_send(Outgoing::Text(text(500))), Ok(()));
        assert_eq!(tx.try_send(Outgoing::Text(text(200))), Err(Refused::Full));
        // Taken, a frame's bytes no longer count.
        rx.recv().now_or_never().flatten().unwrap();
        assert_eq!(tx.try_send(Outgoing::Text(text(400))), Ok(()));
    }

    #[test]
    fn an_empty_queue_takes_a_frame_of_any_size() {
        let (tx, mut rx) = channel(&settings(8, 1000));
        assert_eq!(tx.try_relay(text(5000)), Ok(()));
        assert_eq!(tx.try_send(Outgoing::Ping), Ok(()), "a ping has no text");
        assert_eq!(tx.try_send(Outgoing::Text(text(1))), Err(Refused::Full));
        rx.recv().now_or_never().flatten().unwrap();
        assert_eq!(tx.try_send(Outgoing::Text(text(1000))), Ok(()));
    }

    #[test]
    fn frames_are_counted_too() {
        let (tx, _rx) = channel(&settings(4, 1 << 20));
        assert_eq!(tx.try_relay(text(1)), Ok(()));
        assert_eq!(tx.try_relay(text(1)), Ok(()));
        assert_eq!(
            tx.try_relay(text(1)),
            Err(Refused::Full),
            "half of 4 frames"
        );
        assert_eq!(tx.try_send(Outgoing::Ping), Ok(()));
        assert_eq!(tx.try_send(Outgoing::Ping), Ok(()));
        assert_eq!(tx.try_send(Outgoing::Ping), Err(Refused::Full));
    }

    #[test]
    fn a_queue_is_stuck_from_its_first_refusal_until_a_frame_is_taken() {
        let (tx, mut rx) = channel(&settings(2, 1 << 20));
        assert!(!tx.is_stuck(Duration::ZERO), "nothing refused yet");
        tx.try_send(Outgoing::Ping).unwrap();
        tx.try_send(Outgoing::Ping).unwrap();
        assert_eq!(tx.try_send(Outgoing::Ping), Err(Refused::Full));
        assert!(tx.is_stuck(Duration::ZERO));
        assert!(!tx.is_stuck(Duration::from_secs(60)), "not for long");
        rx.recv().now_or_never().flatten().unwrap();
        assert!(!tx.is_stuck(Duration::ZERO), "moving again");
    }

    #[test]
    fn a_closed_queue_refuses_as_closed() {
        let (tx, rx) = channel(&settings(2, 1 << 20));
        drop(rx);
        assert_eq!(tx.try_send(Outgoing::Ping), Err(Refused::Closed));
        assert!(!tx.is_stuck(Duration::ZERO));
    }

    #[tokio::test]
    async fn an_answer_waits_for_room_and_gives_up_when_stuck() {
        let (tx, mut rx) = channel(&settings(8, 1000));
        tx.send_answer(text(500), Duration::from_secs(5))
            .await
            .unwrap();
        // Half full: the next answer waits until the first is taken.
        let waiting = {
            let tx = tx.clone();
            tokio::spawn(async move { tx.send_answer(text(10), Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "no room yet");
        rx.recv().await.unwrap();
        let sent = tokio::time::timeout(Duration::from_secs(2), waiting).await;
        assert_eq!(sent.unwrap().unwrap(), Ok(()));
        rx.recv().await.unwrap();

        // Nothing taken any more: after the stall, the answer gives up.
        tx.send_answer(text(600), Duration::from_secs(5))
            .await
            .unwrap();
        let started = Instant::now();
        let given_up = tx.send_answer(text(10), Duration::from_millis(300)).await;
        assert_eq!(given_up, Err(Stuck));
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(tx.is_stuck(Duration::from_millis(300)));
    }
}
