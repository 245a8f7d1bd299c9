//! The server side (the `ssr` build): settings, the call state machine, the hub that
//! carries it out, chat and its database, the signaling socket, and the router that ties
//! them to the pages.

pub mod call;
pub mod chat;
pub mod hub;
pub mod ice;
pub mod routes;
pub mod settings;
pub mod socket;
pub mod store;
pub mod turn;

pub use routes::{AppState, router};
pub use settings::Settings;
