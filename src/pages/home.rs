//! `/`: pick a name and go to its call page; beside it, the address (and its QR code) a
//! phone on the LAN opens.

use crate::protocol::UserName;
use crate::text;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use serde::{Deserialize, Serialize};

/// The QR code of [`LanLink::url`], served by the server (`server/lan.rs`).
pub const LAN_QR_PATH: &str = "/lan.svg";

/// The address the home page offers other devices, and what they need to know about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanLink {
    /// The URL shown and encoded in `/lan.svg`.
    pub url: String,
    /// Another device on the LAN can reach it (the server listens on a LAN address).
    pub on_lan: bool,
    /// It is HTTPS, which a phone's browser needs before it opens the camera.
    pub secure: bool,
    /// The SHA-256 fingerprint of the server's certificate, with TLS on.
    pub fingerprint: Option<String>,
}

/// The server's [`LanLink`] for this request. A server function so that the page gets it
/// the same way when rendered by the server (serialized into the page, so hydration
/// matches) and when the browser navigates here by itself.
#[server]
pub async fn fetch_lan_link() -> Result<LanLink, ServerFnError> {
    let state = use_context::<crate::server::AppState>()
        .ok_or_else(|| ServerFnError::new("the server state is missing"))?;
    let request = use_context::<axum::http::request::Parts>();
    Ok(state.lan.link(request.as_ref()))
}

#[component]
pub fn HomePage() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let open = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match UserName::parse(name.get_untracked().trim()) {
            Ok(name) => navigate(&crate::pages::call::page_path(&name), Default::default()),
            Err(why) => error.set(Some(text::bad_name(&why.to_string()))),
        }
    };
    let lan = Resource::new(|| (), |()| fetch_lan_link());
    view! {
        <section class="home">
            <h1>{text::APP_NAME}</h1>
            <p class="tagline">{text::TAGLINE}</p>
            <form on:submit=open>
                <label for="name">{text::PICK_NAME}</label>
                <input
                    id="name"
                    type="text"
                    required
                    maxlength="64"
                    autocomplete="nickname"
                    autocapitalize="none"
                    bind:value=name
                />
                <small>{text::NAME_RULE}</small>
                <button type="submit">{text::OPEN}</button>
                <p class="error" role="alert">{move || error.get()}</p>
            </form>
            <Suspense fallback=|| ()>
                {move || {
                    lan.get()
                        .map(|link| match link {
                            Ok(link) => view! { <LanPanel link /> }.into_any(),
                            Err(err) => {
                                view! {
                                    <p class="error" role="alert">
                                        {text::no_lan_link(&err.to_string())}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

/// The LAN URL as a QR code and as text, with what a phone needs to know to use it.
#[component]
fn LanPanel(link: LanLink) -> impl IntoView {
    let hint = text::lan_hint(link.on_lan, link.secure);
    view! {
        <aside class="lan">
            <h2>{text::ON_A_PHONE}</h2>
            <img id="lanQr" src=LAN_QR_PATH alt=text::LAN_QR_ALT width="200" height="200" />
            <a id="lanUrl" href=link.url.clone()>
                {link.url.clone()}
            </a>
            <p class="hint">{hint}</p>
            {link
                .fingerprint
                .map(|fingerprint| {
                    view! {
                        <p class="fingerprint">
                            {text::FINGERPRINT}
                            " "
                            <code id="lanFingerprint">{fingerprint}</code>
                        </p>
                    }
                })}
        </aside>
    }
}
