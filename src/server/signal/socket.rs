//! One signaling socket: sign the user's device in, pump frames between the socket and the
//! hub, and sign that device out however the socket ends.

use super::call::{NameInUse, Party};
use super::hub::{Device, Ending, Hub, Session};
use super::meter::{Class, Who};
use super::relay::RelayFrame;
use crate::protocol::{self, ErrorCode, Message, Route, SYSTEM_USER, UserName, close};
use crate::server::chat;
use crate::server::queue::{self, Outgoing};
use crate::server::reach::ice;
use crate::server::settings::SILENT_BEATS;
use axum::extract::ws::{CloseFrame, Message as Frame, Utf8Bytes, WebSocket};
use futures::future::Either;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior};

/// How long a closing socket gets to flush its last frames.
const FLUSH: Duration = Duration::from_secs(2);

/// Runs one socket of a user until it closes, then signs its device out (or, if it was
/// lost mid-call, lets the hub keep it for the grace period). `resume` is the secret from
/// an earlier `welcome`, when the page is coming back; `who` is what its frames count
/// against (see [`Meter::who`](super::meter::Meter::who)).
///
/// Not an `async fn`: the socket is split and its user signed in before the future is
/// made, so that neither the `WebSocket` (a few hundred bytes) nor the resume secret is
/// kept in it, unused, for as long as the socket lives.
pub fn handle_socket(
    socket: WebSocket,
    hub: Arc<Hub>,
    name: UserName,
    device: Device,
    resume: Option<String>,
    who: Who,
) -> impl Future<Output = ()> + Send + 'static {
    let (sink, stream) = socket.split();
    match hub.join(&name, device, resume.as_deref()) {
        Ok(session) => Either::Left(serve(sink, stream, hub, name, session, who)),
        Err(in_use) => {
            let text = hub.settings().default_language.words().name_in_use;
            Either::Right(refuse(sink, name, in_use, text))
        }
    }
}

/// Tells a second socket for a name that is online why it is closed (`text`, in the
/// server's language: an original page shows it), and closes it.
async fn refuse(
    mut sink: SplitSink<WebSocket, Frame>,
    name: UserName,
    in_use: NameInUse,
    text: &'static str,
) {
    tracing::info!(user = %name, "refused a second socket: {in_use}");
    let notice = Message::error(&name, ErrorCode::NameInUse, text.into());
    let _ = sink.send(Frame::Text(notice.to_json().into())).await;
    let _ = sink
        .send(close_frame(close::NAME_IN_USE, close::NAME_IN_USE_REASON))
        .await;
}

/// The signed-in device's socket, from the welcome to signing out.
async fn serve(
    sink: SplitSink<WebSocket, Frame>,
    stream: SplitStream<WebSocket>,
    hub: Arc<Hub>,
    name: UserName,
    session: Session,
    who: Who,
) {
    tracing::debug!(user = %name, device = session.device.0, "signed in");
    let me = Party {
        name,
        device: session.device,
    };
    let mut send = tokio::spawn(send_task(sink, session.queue));
    let mut send_ended = false;
    let closer = &session.closer;
    let ending = tokio::select! {
        // Fixed order: no random draw each time a frame wakes this task.
        biased;
        ending = receive_loop(stream, &hub, &me, &who, closer) => ending,
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
    hub.leave(&me.name, session.id, ending);
    tracing::debug!(user = %me.name, device = me.device.0, "signed out");
    // `leave` dropped the hub's sender, and this is the last, so the send task ends once
    // it has flushed. A finished JoinHandle must not be awaited again: that panics.
    drop(session.closer);
    if !send_ended && tokio::time::timeout(FLUSH, &mut send).await.is_err() {
        send.abort();
    }
}

/// Writes queued frames to the socket until the queue ends or a `Close` is queued.
async fn send_task(mut sink: SplitSink<WebSocket, Frame>, mut queue: queue::Receiver) {
    while let Some(out) = queue.recv().await {
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
    me: &Party,
    who: &Who,
    closer: &queue::Sender,
) -> Ending {
    let name = &me.name;
    // What is made afresh where it is needed (the chat handler, the stall), rather than
    // kept in this loop's state, is not kept for every idle socket either.
    let settings = hub.settings();
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
                if closer.is_stuck(queue::stall(settings)) {
                    tracing::info!(user = %name, "send queue stuck: disconnecting a page that stopped reading");
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
                    if allowed(hub, me, who, Class::Call, None) {
                        hub.relay(me, &frame);
                    }
                }
                None => match protocol::decode(&text) {
                    Ok(msg) if !allowed(hub, me, who, Class::of(&msg), Some(&msg)) => {}
                    // Boxed: its state (database round trips) would otherwise sit inside
                    // every socket's task, idle or not, for the socket's whole life.
                    Ok(msg) if msg.is_chat_request() => {
                        let chat = chat::Socket {
                            online: hub.as_ref(),
                            store: hub.store(),
                            settings,
                            me: name,
                            device: me.device.0,
                            own: closer,
                        };
                        Box::pin(chat.handle(msg)).await
                    }
                    Ok(msg) => hub.handle(me, msg),
                    Err(err) => {
                        // Logged without the frame: it may hold someone's SDP.
                        tracing::debug!(user = %name, code = ?err.code(), bytes = text.len(), "refused a frame");
                        if allowed(hub, me, who, Class::Other, None) {
                            hub.notify(me, &Message::error(name, err.code(), err.to_string()));
                        }
                    }
                },
            },
            Ok(Frame::Binary(bytes)) => {
                tracing::debug!(user = %name, bytes = bytes.len(), "refused a binary frame");
                if allowed(hub, me, who, Class::Other, None) {
                    let why = "binary frames are not supported: send JSON text".to_owned();
                    hub.notify(me, &Message::error(name, ErrorCode::Binary, why));
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

/// Counts a frame of `class` from `me` against `who`'s allowances; if it is over, tells
/// the page (naming a refused chat message's id, so the page can mark it) and says no.
fn allowed(hub: &Hub, me: &Party, who: &Who, class: Class, msg: Option<&Message>) -> bool {
    let meter = hub.meter();
    if meter.allows(class, who) {
        return true;
    }
    let id = match msg {
        Some(Message::ChatSend { id, .. }) => Some(id.clone()),
        _ => None,
    };
    let why = meter.why(class).to_owned();
    tracing::debug!(user = %me.name, ?class, "refused a frame over its allowance");
    hub.notify(
        me,
        &Message::chat_error(&me.name, ErrorCode::RateLimited, why, id),
    );
    false
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
