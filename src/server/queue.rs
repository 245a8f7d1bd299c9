//! What waits for a socket's send task. The hub queues call, presence and chat frames for
//! a page; chat also queues its answers to the page that asked; the socket's send task
//! writes them in order.

use axum::extract::ws::Utf8Bytes;

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
