//! Signaling: the socket each page keeps open, the hub that knows who is online and owns
//! their queues, the call state machine the hub carries out, the relay fast path for
//! offers, answers and candidates, and the meter of what each person may send.

pub mod call;
pub mod hub;
pub mod meter;
pub mod relay;
pub mod socket;
