//! The browser side (the `hydrate` build only): the signaling socket, camera and
//! microphone, the peer connection, and the controller that drives them from the page's
//! buttons and the server's frames. Every JS handle here has one owner that closes it.

mod chat;
mod chat_scroll;
mod controller;
mod js;
mod media;
mod notice;
mod peer;
mod relay_check;
pub mod signaling;

pub use chat_scroll::ListPlace;

use crate::chat_view::{ChatAction, ChatView};
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

/// The page's state the controller keeps up to date.
#[derive(Clone, Copy)]
pub struct Views {
    pub phone: PhoneView,
    pub chat: ChatView,
}

/// Signs `name` in and runs the call page until it is left (reconnecting as needed).
pub fn start(
    name: UserName,
    views: Views,
    screens: Screens,
    actions: UnboundedReceiver<Action>,
    chat_actions: UnboundedReceiver<ChatAction>,
) {
    leptos::task::spawn_local(controller::run(name, views, screens, actions, chat_actions));
}
