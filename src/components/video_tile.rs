//! One video with its caption; the controller sets its stream.

use leptos::html::Video;
use leptos::prelude::*;

#[component]
pub fn VideoTile(
    id: &'static str,
    node_ref: NodeRef<Video>,
    /// The local preview is muted, or you would hear yourself.
    muted: bool,
    label: Signal<String>,
) -> impl IntoView {
    view! {
        <figure class=format!("tile {id}")>
            <video id=id node_ref=node_ref autoplay=true playsinline=true muted=muted></video>
            <figcaption>{move || label.get()}</figcaption>
        </figure>
    }
}
