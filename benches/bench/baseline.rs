//! The baseline: the smallest relay that can carry the same load, to measure duet against
//! on the same machine in the same run. A map of name → channel; each frame is parsed only
//! as far as its `toUser` and forwarded as it came. No call state, no checks, no limits.

use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// What the baseline prints, followed by its address, once it listens.
pub const LISTENING: &str = "baseline relay listening on ";

type Peers = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Message>>>>;

#[derive(Deserialize)]
struct To<'a> {
    #[serde(rename = "toUser", borrow)]
    to: &'a str,
}

/// Runs the baseline relay on a free loopback port until the process is killed.
pub fn serve() -> std::process::ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("{LISTENING}{}", listener.local_addr().expect("address"));
        let peers = Peers::default();
        loop {
            if let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(connection(stream, peers.clone()));
            }
        }
    })
}

// The handshake callback's error type is tungstenite's own (an HTTP response).
#[allow(clippy::result_large_err)]
async fn connection(stream: TcpStream, peers: Peers) {
    let mut name = String::new();
    let callback = |req: &Request, res: Response| {
        name = req
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Ok(res)
    };
    // The read buffer duet uses (4 KiB, see src/server/http/routes.rs), not tungstenite's
    // 128 KiB default, which zero-fills that much on every read: the comparison is then
    // of the relays, not of one setting.
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
    let accept = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config));
    let Ok(socket) = accept.await else {
        return;
    };
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _ = tx.send(Message::text(format!(
        r#"{{"type":"welcome","user":"{name}"}}"#
    )));
    peers.lock().unwrap().insert(name.clone(), tx);
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if sink.send(frame).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(frame)) = stream.next().await {
        let Message::Text(text) = &frame else {
            continue;
        };
        let Ok(To { to }) = serde_json::from_str(text) else {
            continue;
        };
        if let Some(peer) = peers.lock().unwrap().get(to) {
            let _ = peer.send(frame.clone());
        }
    }
    peers.lock().unwrap().remove(&name);
    writer.abort();
}
