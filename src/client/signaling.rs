//! The page's signaling socket at `/webrtc/NAME`: frames out through a queue, frames in as
//! a stream of [`SocketEvent`]s that ends with the socket's close.

use super::js::{JsError, JsResultExt, log};
use crate::app::Page;
use crate::protocol::{self, Message, UserName};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use futures::stream::{self, LocalBoxStream};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{Message as Frame, WebSocketError, futures::WebSocket};
use std::cell::RefCell;

/// What the socket reports.
pub enum SocketEvent {
    Message(Message),
    /// The socket closed; nothing follows. `code` 1006 when the browser gave none.
    Closed {
        code: u16,
        reason: String,
    },
}

/// Sends frames; dropping every copy (and the event stream) closes the socket.
#[derive(Clone)]
pub struct Signaling {
    out: UnboundedSender<String>,
}

impl Signaling {
    pub fn send(&self, msg: &Message) {
        // A closed socket is reported by the event stream; nothing to do here.
        let _ = self.out.unbounded_send(msg.to_json());
    }
}

/// Opens `name`'s socket on the server that served this page; with `resume`, the secret
/// of this page's last welcome, to take back its call.
/// An open socket: the way to send on it, and what it says.
pub type Connection = (Signaling, LocalBoxStream<'static, SocketEvent>);

thread_local! {
    /// The socket [`open_early`] opened, for the first [`connect`] of the same user.
    static EARLY: RefCell<Option<(UserName, Connection)>> = const { RefCell::new(None) };
}

/// On a call page, opens its user's socket before the page is hydrated: the handshake and
/// the welcome then travel while the WASM takes over the page, instead of after. (Frames
/// that arrive meanwhile wait in the socket's stream.) Anywhere else does nothing, and so
/// does a call page the server rendered without its phone (the sign-in form instead: the
/// server would refuse the socket).
pub fn open_early() {
    let Page::Call(segment) = Page::current() else {
        return;
    };
    let has_phone = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id("status"))
        .is_some();
    if !has_phone {
        return;
    }
    if let Ok(name) = crate::pages::page_user(&segment)
        && let Ok(connection) = open(&name, None)
    {
        EARLY.set(Some((name, connection)));
    }
}

/// Opens `name`'s signaling socket (the one [`open_early`] opened, if it is theirs and
/// this is not a page coming back with `resume`).
pub fn connect(name: &UserName, resume: Option<&str>) -> Result<Connection, JsError> {
    if resume.is_none()
        && let Some((early, connection)) = EARLY.take()
        && early == *name
    {
        return Ok(connection);
    }
    open(name, resume)
}

fn open(name: &UserName, resume: Option<&str>) -> Result<Connection, JsError> {
    let mut url = socket_url(name)?;
    if let Some(secret) = resume {
        url = format!("{url}?resume={}", js_sys::encode_uri_component(secret));
    }
    let socket = WebSocket::open(&url).map_err(|e| JsError {
        what: "WebSocket",
        name: None,
        detail: e.to_string(),
    })?;
    let (mut sink, frames) = socket.split();
    let (out, mut queue) = unbounded::<String>();
    // Not Leptos's spawner: this may run before Leptos has set it up (`open_early`).
    wasm_bindgen_futures::spawn_local(async move {
        while let Some(text) = queue.next().await {
            if sink.send(Frame::Text(text)).await.is_err() {
                break;
            }
        }
    });
    let events = frames
        .filter_map(|frame| async move {
            match frame {
                Ok(Frame::Text(text)) => match protocol::decode(&text) {
                    Ok(msg) => Some(SocketEvent::Message(msg)),
                    Err(err) => {
                        log(&format!("ignoring a frame from the server: {err}"));
                        None
                    }
                },
                Ok(Frame::Bytes(_)) => None,
                Err(WebSocketError::ConnectionClose(ev)) => Some(SocketEvent::Closed {
                    code: ev.code,
                    reason: ev.reason,
                }),
                // The browser reports the close itself right after an error event.
                Err(_) => None,
            }
        })
        // A stream that ends without a close event still counts as closed.
        .chain(stream::once(async {
            SocketEvent::Closed {
                code: 1006,
                reason: String::new(),
            }
        }))
        .boxed_local();
    Ok((Signaling { out }, events))
}

fn socket_url(name: &UserName) -> Result<String, JsError> {
    let location = web_sys::window()
        .ok_or(JsError {
            what: "window",
            name: None,
            detail: "not running in a browser window".into(),
        })?
        .location();
    let scheme = match location.protocol().or_js("location.protocol")?.as_str() {
        "https:" => "wss",
        _ => "ws",
    };
    let host = location.host().or_js("location.host")?;
    let path = js_sys::encode_uri_component(name.as_str());
    Ok(format!("{scheme}://{host}/webrtc/{path}"))
}
