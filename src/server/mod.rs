//! The server side (the `ssr` build), one folder per concern:
//!
//! - [`settings`]: the settings and their environment overrides;
//! - [`auth`]: accounts, sign-in sessions, invite links, checked origins, the operator's
//!   `duet user` / `duet invite` commands;
//! - [`queue`]: what waits for a socket's send task;
//! - [`language`]: which language a request's page is in;
//! - [`names`]: user names compared as people read them (the reserved name's look-alikes);
//! - [`data_dir`]: the data directory, private to duet's user;
//! - [`http`]: the router, the pages and static assets, serving over HTTP or HTTPS;
//! - [`signal`]: the signaling socket, the hub of who is online, the call state machine
//!   and the relay of offers, answers and candidates;
//! - [`chat`]: chat frames, the database thread and its SQL;
//! - [`reach`]: what lets a browser reach duet and its peer: TLS and the self-signed
//!   certificate, LAN addresses and the QR code, ICE/TURN credentials, the built-in TURN
//!   server.
//!
//! Dependencies run one way: `http` → `auth` → `signal` → `chat`, and each of them → `reach`,
//! `settings`, `language`, `queue`, `names` and `data_dir`. Chat reaches the people online
//! only through [`chat::Online`], which the hub provides.

pub mod auth;
pub mod chat;
pub mod data_dir;
pub mod http;
pub mod language;
pub mod names;
pub mod queue;
pub mod reach;
pub mod settings;
pub mod signal;

pub use http::routes::{AppState, app, router};
pub use settings::Settings;
