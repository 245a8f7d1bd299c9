//! One signaling socket: sign the user in, pump frames between the socket and the hub,
//! and sign them out however the socket ends.

use super::hub::{Ending, Hub};
use super::meter::{self, Class};
use super::relay::RelayFrame;
use crate::protocol::{self, ErrorCode, Message, Route, SYSTEM_USER, UserName, close};
use crate::server::chat;
use crate::server::queue::{self, Outgoing};
use crate::server::reach::ice;
use crate::server::settings::SILENT_BEATS;
use crate::text::NAME_IN_USE;
use axum::extract::ws::{CloseFrame, Message as Frame, Utf8Bytes, WebSocket};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior};

/// How long a closing socket gets to flush its last frames.
const FLUSH: Duration = Duration::from_secs(2);

/// Runs one user's socket until it closes, then signs the user out (or, if it was lost
/// mid-call, lets the hub keep them for the grace period). `resume` is the secret from
/// an earlier `welcome`, when the page is coming back; `address` is the client's, if the
/// server knows it, whose allowance its frames count against too.
pub async fn handle_socket(
    socket: WebSocket,
    hub: Arc<Hub>,
    name: UserName,
    resume: Option<String>,
    address: Option<IpAddr>,
) {
    let (mut sink, stream) = socket.split();
    let session = match hub.join(&name, resume.as_deref()) {
        Ok(session) => session,
        Err(in_use) => {
            tracing::info!(user = %name, "refused a second socket: {in_use}");
            let notice = Message::error(&name, ErrorCode::NameInUse, NAME_IN_USE.into());
            let _ = sink.send(Frame::Text(notice.to_json().into())).await;
            let _ = sink
                .send(close_frame(close::NAME_IN_USE, close::NAME_IN_USE_REASON))
                .await;
            return;
        }
    };
    tracing::debug!(user = %name, "signed in");
    let mut send = tokio::spawn(send_task(sink, session.queue));
    let mut send_ended = false;
    let closer = session.closer;
    let address = address.map(meter::address_key);
    let ending = tokio::select! {
        // Fixed order: no random draw each time a frame wakes this task.
        biased;
        ending = receive_loop(stream, &hub, &name, address, &closer) => ending,
        _ = &mut send => {
            send_ended = true;
            Ending::Lost
        }
        _ = closer.kicked() => {
            // Its queue has no room (the send task may be blocked on a full TCP buffer),
            // or the same page is back on a new socket.
            send.abort();
            Ending::Closed
        }
    };
    hub.leave(&name, session.id, ending);
    tracing::debug!(user = %name, "signed out");
    // `leave` dropped the hub's sender, and this is the last, so the send task ends once
    // it has flushed. A finished JoinHandle must not be awaited again: that panics.
    drop(closer);
    if !send_ended && tokio::time::timeout(FLUSH, &mut send).await.is_err() {
        send.abort();
    }
}

/// Writes queued frames to the socket until the queue ends or a `Close` is queued.
async fn send_task(mut sink: SplitSink<WebSocket, Frame>, mut queue: queue::Receiver) {
    while let Some((out, len)) = queue.recv().await {
        let frame = match out {
            Outgoing::Text(text) => Frame::Text(text),
            Outgoing::Ping => Frame::Ping(Default::default()),
            Outgoing::Close(code, reason) => {
                let _ = sink.send(close_frame(code, reason)).await;
                return;
            }
        };
        if sink.send(frame).await.is_err() {
            return;
        }
        queue.written(len);
    }
    let _ = sink.close().await;
}

/// Reads frames until the socket closes, breaks or falls silent, or its queue is stuck,
/// and says which. A bad frame is answered and reading goes on, as is one over the
/// sender's allowance; only a broken or oversized one ends the socket. Pings go out every
/// heartbeat, so a live page always has something (a pong) to say.
async fn receive_loop(
    mut stream: SplitStream<WebSocket>,
    hub: &Arc<Hub>,
    name: &UserName,
    address: Option<IpAddr>,
    closer: &queue::Sender,
) -> Ending {
    let settings = hub.settings();
    let chat = chat::Socket {
        online: hub.as_ref(),
        store: hub.store(),
        settings,
        me: name,
        own: closer,
    };
    // Counts a frame of `class` against the sender's allowances; says so if it is over.
    let allowed = |class: Class, msg: Option<&Message>| {
        let meter = hub.meter();
        if meter.allows(class, name, address) {
            return true;
        }
        // A refused chat message names its id, so the page can mark that message.
        let id = match msg {
            Some(Message::ChatSend { id, .. }) => Some(id.clone()),
            _ => None,
        };
        let why = meter.why(class).to_owned();
        tracing::debug!(user = %name, ?class, "refused a frame over its allowance");
        hub.notify(
            name,
            &Message::chat_error(name, ErrorCode::RateLimited, why, id),
        );
        false
    };
    let stall = queue::stall(settings);
    let beat = settings.heartbeat();
    let mut heartbeat = tokio::time::interval_at(Instant::now() + beat, beat);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Fresh TURN credentials halfway through the life of the last ones (if there are any).
    let mut renew = settings
        .turn_refresh()
        .map(|every| tokio::time::interval_at(Instant::now() + every, every));
    let mut heard = Instant::now();
    loop {
        let frame = tokio::select! {
            // In this order: frames first, no random draw per frame.
            biased;
            frame = stream.next() => match frame {
                Some(frame) => frame,
                None => return Ending::Lost,
            },
            _ = heartbeat.tick() => {
                if heard.elapsed() >= beat * SILENT_BEATS {
                    // A phone that lost its network never closes its socket.
                    tracing::info!(user = %name, silent = ?heard.elapsed(), "closing a silent socket");
                    return Ending::Lost;
                }
                let _ = closer.try_send(Outgoing::Ping);
                if closer.is_stuck(stall) {
                    tracing::info!(user = %name, ?stall, "send queue stuck: disconnecting a page that stopped reading");
                    return Ending::Closed;
                }
                continue;
            }
            _ = tick(&mut renew), if renew.is_some() => {
                let fresh = Message::IceServers {
                    route: Route::new(SYSTEM_USER, name.as_str()),
                    ice_servers: ice::ice_servers_for(settings, name),
                };
                let _ = closer.try_send(Outgoing::Text(fresh.to_json().into()));
                continue;
            }
        };
        heard = Instant::now();
        match frame {
            // Most frames in a call are relayed without being rebuilt (see relay.rs).
            Ok(Frame::Text(text)) => match RelayFrame::parse(&text) {
                Some(frame) => {
                    if allowed(Class::Call, None) {
                        hub.relay(name, &frame);
                    }
                }
                None => match protocol::decode(&text) {
                    Ok(msg) if !allowed(Class::of(&msg), Some(&msg)) => {}
                    // Boxed: its state (database round trips) would otherwise sit inside
                    // every socket's task, idle or not, for the socket's whole life.
                    Ok(msg) if msg.is_chat_request() => Box::pin(chat.handle(msg)).await,
                    Ok(msg) => hub.handle(name, msg),
                    Err(err) => {
                        // Logged without the frame: it may hold someone's SDP.
                        tracing::debug!(user = %name, code = ?err.code(), bytes = text.len(), "refused a frame");
                        if allowed(Class::Other, None) {
                            hub.notify(name, &Message::error(name, err.code(), err.to_string()));
                        }
                    }
                },
            },
            Ok(Frame::Binary(bytes)) => {
                tracing::debug!(user = %name, bytes = bytes.len(), "refused a binary frame");
                if allowed(Class::Other, None) {
                    let why = "binary frames are not supported: send JSON text".to_owned();
                    hub.notify(name, &Message::error(name, ErrorCode::Binary, why));
                }
            }
            // A page that is left or reloaded says 1001; one closed by script says 1000 or
            // gives no code. An error code (a proxy cutting it, a server error) may come back.
            Ok(Frame::Close(frame)) => {
                return match frame.map(|f| f.code) {
                    None | Some(1000 | 1001) => Ending::Closed,
                    Some(_) => Ending::Lost,
                };
            }
            // axum answers pings itself.
            Ok(Frame::Ping(_) | Frame::Pong(_)) => {}
            Err(err) => {
                if is_too_big(&err) {
                    tracing::debug!(user = %name, "closing: frame over max_message_bytes");
                    let _ = closer.try_send(Outgoing::Close(close::TOO_BIG, "message too big"));
                    return Ending::Closed;
                }
                tracing::debug!(user = %name, "socket error: {err}");
                return Ending::Lost;
            }
        }
    }
}

/// The next tick of an interval that may not exist (then never).
async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

fn is_too_big(err: &axum::Error) -> bool {
    use std::error::Error;
    let mut source: Option<&dyn Error> = err.source();
    while let Some(e) = source {
        if let Some(tungstenite::Error::Capacity(_)) = e.downcast_ref::<tungstenite::Error>() {
            return true;
        }
        source = e.source();
    }
    false
}

fn close_frame(code: u16, reason: &'static str) -> Frame {
    Frame::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}
