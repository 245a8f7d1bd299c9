//! HTTP: the router that ties pages, static assets and the signaling socket together, and
//! serving it over plain HTTP or HTTPS.

pub mod assets;
pub mod routes;
pub mod serve;
