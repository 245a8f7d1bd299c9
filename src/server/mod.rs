//! The server side (the `ssr` build): settings, the call state machine, the hub that
//! carries it out, chat and its database, the signaling socket, the router that ties
//! them to the pages, serving it over HTTP or HTTPS, and the built-in TURN server.

pub mod assets;
pub mod call;
pub mod chat;
pub mod hub;
pub mod ice;
pub mod lan;
pub mod relay;
pub mod routes;
pub mod self_signed;
pub mod serve;
pub mod settings;
pub mod socket;
pub mod store;
pub mod tls;
pub mod turn;

pub use routes::{AppState, app, router};
pub use settings::Settings;
