//! The relay self-test: can this browser get a relay candidate from the TURN servers the
//! server handed out? It tells a broken TURN set-up (wrong secret, blocked port) from a
//! broken call, without calling anyone.

use super::peer::configuration;
use crate::protocol::{IcePolicy, IceServer};
use crate::text::words;
use futures::channel::mpsc::unbounded;
use futures::{FutureExt, StreamExt, select};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{RtcPeerConnection, RtcPeerConnectionIceEvent};

/// How long gathering may take.
const WAIT_MS: u32 = 8_000;

/// What gathering reported.
enum Gathered {
    Candidate(String),
    /// The browser could not use a server (`icecandidateerror`): code, text, URL.
    Error(String),
    Done,
}

/// Gathers relay candidates only; `Ok` names the relay address found, `Err` says why none.
pub async fn check(ice_servers: Vec<IceServer>) -> Result<String, String> {
    let turn: Vec<IceServer> = ice_servers
        .into_iter()
        .filter(|s| {
            s.urls
                .iter()
                .any(|u| u.starts_with("turn:") || u.starts_with("turns:"))
        })
        .collect();
    if turn.is_empty() {
        return Err(words().relay_none.into());
    }
    let pc = RtcPeerConnection::new_with_configuration(&configuration(&turn, IcePolicy::Relay))
        .map_err(|e| format!("RTCPeerConnection: {e:?}"))?;
    let (tx, mut rx) = unbounded();
    let found = tx.clone();
    let on_candidate = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(
        move |ev: RtcPeerConnectionIceEvent| {
            let _ = found.unbounded_send(match ev.candidate() {
                Some(c) => Gathered::Candidate(c.candidate()),
                None => Gathered::Done,
            });
        },
    );
    pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
    let failed = tx;
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        // Read by name: the event's fields are not in every web-sys build.
        let field = |name: &str| {
            js_sys::Reflect::get(&ev, &name.into())
                .ok()
                .and_then(|v| v.as_string().or_else(|| v.as_f64().map(|n| n.to_string())))
                .unwrap_or_default()
        };
        let why = format!(
            "{} {} ({})",
            field("errorCode"),
            field("errorText"),
            field("url")
        );
        let _ = failed.unbounded_send(Gathered::Error(why));
    });
    // No `onicecandidateerror` setter in web-sys: listen by name.
    let listening = pc
        .add_event_listener_with_callback("icecandidateerror", on_error.as_ref().unchecked_ref())
        .is_ok();

    let outcome = gather(&pc, &mut rx).await;
    pc.set_onicecandidate(None);
    if listening {
        let _ = pc.remove_event_listener_with_callback(
            "icecandidateerror",
            on_error.as_ref().unchecked_ref(),
        );
    }
    pc.close();
    drop((on_candidate, on_error));
    outcome
}

async fn gather(
    pc: &RtcPeerConnection,
    rx: &mut futures::channel::mpsc::UnboundedReceiver<Gathered>,
) -> Result<String, String> {
    // A data channel gives the offer something to gather for.
    let _channel = pc.create_data_channel("relay-check");
    let offer = wasm_bindgen_futures::JsFuture::from(pc.create_offer())
        .await
        .map_err(|e| format!("createOffer: {e:?}"))?;
    let offer: web_sys::RtcSessionDescriptionInit = offer.unchecked_into();
    wasm_bindgen_futures::JsFuture::from(pc.set_local_description(&offer))
        .await
        .map_err(|e| format!("setLocalDescription: {e:?}"))?;
    let mut timeout = gloo_timers::future::TimeoutFuture::new(WAIT_MS).fuse();
    let mut last_error = None;
    loop {
        select! {
            got = rx.next() => match got {
                Some(Gathered::Candidate(line)) if line.contains(" typ relay") => {
                    return Ok((words().relay_ok)(&relay_address(&line)));
                }
                Some(Gathered::Candidate(_)) => {}
                Some(Gathered::Error(why)) => last_error = Some(why),
                Some(Gathered::Done) | None => break,
            },
            () = timeout => break,
        }
    }
    Err((words().relay_failed)(last_error.as_deref()))
}

/// `candidate:… 1 udp 123 ADDR PORT typ relay …` → `ADDR:PORT`.
fn relay_address(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    match (words.get(4), words.get(5)) {
        (Some(addr), Some(port)) => format!("{addr}:{port}"),
        _ => line.to_owned(),
    }
}
