//! The browser side (the `hydrate` build only): the signaling socket, camera and
//! microphone, the peer connection, and the controller that drives them from the page's
//! buttons and the server's frames. Every JS handle here has one owner that closes it.

mod controller;
mod js;
mod media;
mod peer;
mod signaling;

use crate::phone::{Action, PhoneView};
use crate::protocol::UserName;
use futures::channel::mpsc::UnboundedReceiver;
use leptos::html::Video;
use leptos::prelude::NodeRef;

/// The page's two video elements.
#[derive(Clone, Copy)]
pub struct Screens {
    pub local: NodeRef<Video>,
    pub remote: NodeRef<Video>,
}

/// Signs `name` in and runs the call page until it is left or its socket closes.
pub fn start(
    name: UserName,
    view: PhoneView,
    screens: Screens,
    actions: UnboundedReceiver<Action>,
) {
    leptos::task::spawn_local(controller::run(name, view, screens, actions));
}
