//! `/webrtc/NAME.html`: NAME's call page, the original demo's URL.

use crate::components::{CallControls, StatusLine, VideoTile};
use crate::phone::{Action, PhoneView};
use crate::protocol::UserName;
use crate::text;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The page's path for `name`.
pub fn page_path(name: &UserName) -> String {
    let encoded =
        percent_encoding::utf8_percent_encode(name.as_str(), percent_encoding::NON_ALPHANUMERIC);
    format!("/webrtc/{encoded}.html")
}

#[component]
pub fn CallPage() -> impl IntoView {
    let segment = use_params_map().with_untracked(|p| p.get("segment").unwrap_or_default());
    let raw = segment.strip_suffix(".html").unwrap_or(&segment);
    let raw = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    match UserName::parse(&raw) {
        Ok(name) => view! { <Phone name /> }.into_any(),
        // The server answers 400 before this; a client-side navigation can still get here.
        Err(why) => view! { <p class="notice">{text::bad_name(&why.to_string())}</p> }.into_any(),
    }
}

/// The call page of a signed-in user.
#[component]
fn Phone(name: UserName) -> impl IntoView {
    let view = PhoneView::new();
    let local = NodeRef::new();
    let remote = NodeRef::new();
    let (actions, requests) = futures::channel::mpsc::unbounded::<Action>();
    #[cfg(feature = "hydrate")]
    crate::client::start(
        name.clone(),
        view,
        crate::client::Screens { local, remote },
        requests,
    );
    #[cfg(not(feature = "hydrate"))]
    drop(requests);
    // Leaving the page drops the last sender: the controller then hangs up and closes.
    let act = Callback::new(move |action: Action| {
        let _ = actions.unbounded_send(action);
    });
    let phase = move || view.phase.get().as_str();
    let remote_label = move || view.peer.get().unwrap_or_default();
    view! {
        <Title text=format!("{name} · {}", text::APP_NAME) />
        <section class="phone" data-phase=phase>
            <header>
                <strong class="brand">{text::APP_NAME}</strong>
                <span class="me">{name.to_string()}</span>
            </header>
            <StatusLine view />
            <div class="stage">
                <VideoTile id="remoteVideo" node_ref=remote muted=false label=Signal::derive(remote_label) />
                <VideoTile id="localVideo" node_ref=local muted=true label=Signal::derive(|| text::YOU.to_owned()) />
            </div>
            <CallControls view act />
        </section>
    }
}
