//! duet: private video calls in the browser. One crate, built twice: `ssr` is the server
//! binary (pages, static site, signaling socket), `hydrate` is the page's WASM (camera,
//! microphone, `RTCPeerConnection`). Files under `server/` run only on the server, files
//! under `client/` only in the browser; everything else runs on both.
#![deny(unsafe_code)]
// The call page's view type is deep: without erased component types (the release build)
// computing its layout needs more than the default 128.
#![recursion_limit = "256"]

pub mod account;
pub mod app;
pub mod chat_view;
pub mod components;
pub mod pages;
pub mod phone;
pub mod protocol;
pub mod text;

#[cfg(feature = "hydrate")]
pub mod client;
#[cfg(feature = "ssr")]
pub mod server;

/// The WASM entry point: take over the page the server rendered.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    client::signaling::open_early();
    leptos::mount::hydrate_body(app::App);
}
