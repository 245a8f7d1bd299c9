//! HTTP: the router that ties pages, static assets and the signaling socket together, and
//! serving it over plain HTTP or HTTPS within the limits that bound slow clients.

pub mod assets;
pub mod limits;
pub mod routes;
pub mod serve;
