//! Signaling: the socket each page keeps open, the hub that knows who is online and owns
//! their queues, the call state machine the hub carries out, and the relay fast path for
//! offers, answers and candidates.

pub mod call;
pub mod hub;
pub mod relay;
pub mod socket;
