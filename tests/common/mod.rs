//! The harness the integration tests share: a real duet router on `127.0.0.1:0`, WebSocket
//! clients that speak its protocol, and a bare HTTP GET. Every wait is bounded, so a frame
//! that never comes fails the test instead of hanging it.

// Each test crate (signaling, chat, soak) uses only part of this harness.
#![allow(dead_code)]

pub mod chat;
pub mod http;
pub mod turn;

use duet::protocol::{self, ACCEPT, ErrorCode, Message, Reason, Route, SYSTEM_USER};
use duet::server::Settings;
use futures::{FutureExt, SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a frame that should arrive may take.
pub const WAIT: Duration = Duration::from_secs(2);

/// How long a client listens to show that nothing arrives.
pub const QUIET_MS: u64 = 200;

/// An SDP short enough for the tests' 4 KiB frame limit, with the `\r\n`s a real one has.
pub const SDP: &str =
    "v=0\r\no=- 626753068503365352 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n";

/// The settings most tests use: a 1 s ring, a 1 s grace period, an 8-frame send queue,
/// 4 KiB frames, and a data directory of its own under cargo's scratch directory
/// (`target/tmp`).
pub fn test_settings() -> Settings {
    Settings {
        ring_timeout_secs: 1,
        grace_secs: 1,
        send_queue: 8,
        max_message_bytes: 4096,
        data_dir: scratch_dir(),
        ..Default::default()
    }
}

/// A fresh, empty directory under `target/tmp`, kept after the test (`cargo clean` removes it).
pub fn scratch_dir() -> std::path::PathBuf {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a scratch directory")
        .keep()
}

/// The real router with `settings`, and a listener on a free local port for it.
async fn listen(settings: Settings) -> (tokio::net::TcpListener, SocketAddr, axum::Router) {
    let options = leptos::config::LeptosOptions::builder()
        .output_name("duet")
        .build();
    let app = duet::server::router(settings, options).expect("open the chat database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free local port");
    let addr = listener.local_addr().expect("the bound address");
    (listener, addr, app)
}

/// The router as the server serves it: each request knows its client's address (every
/// test client's is 127.0.0.1, so they share one address's allowances).
fn with_addresses(
    app: axum::Router,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, SocketAddr> {
    app.into_make_service_with_connect_info::<SocketAddr>()
}

/// Serves the real router with `settings` on a free local port until the test's runtime ends.
pub async fn start(settings: Settings) -> SocketAddr {
    let (listener, addr, app) = listen(settings).await;
    tokio::spawn(async move {
        axum::serve(listener, with_addresses(app))
            .await
            .expect("serve")
    });
    addr
}

/// A server the test can stop, to start another one on the same data directory.
pub struct Running {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// [`start`], for a server that [`Running::stop`] ends.
pub async fn start_stoppable(settings: Settings) -> Running {
    let (listener, addr, app) = listen(settings).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, with_addresses(app))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .expect("serve")
    });
    Running { addr, stop, task }
}

impl Running {
    /// Stops listening and waits until the server has dropped its router (and with it the
    /// hub and its database handle). An upgraded socket lives in a task of its own and
    /// keeps the hub alive: close every client first.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        timeout(WAIT, self.task)
            .await
            .expect("the server stops within WAIT")
            .expect("the server task ends cleanly");
    }
}

/// Opens the chat database of a server started with `settings`, read-only, to check what
/// it stored.
pub fn open_database(settings: &Settings) -> rusqlite::Connection {
    let path = settings.database();
    rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// [`start`] with [`test_settings`].
pub async fn server() -> SocketAddr {
    start(test_settings()).await
}

/// The signaling socket URL of `name`, percent-encoded as a browser would write it
/// (`张三` becomes `%E5%BC%A0%E4%B8%89`; letters, digits, `_`, `-` and `.` stay as they are).
pub fn socket_url(addr: SocketAddr, name: &str) -> String {
    let path = percent_encoding::utf8_percent_encode(name, percent_encoding::CONTROLS);
    format!("ws://{addr}/webrtc/{path}")
}

/// One signed-in user's socket.
pub struct Client {
    pub name: String,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    /// Opens `name`'s socket and checks the `welcome` that must come first.
    pub async fn connect(addr: SocketAddr, name: &str) -> Client {
        let mut client = Client::open(addr, name).await;
        let welcome = client.recv().await;
        let Message::Welcome { route, user, .. } = welcome else {
            panic!("{name}: expected welcome first, got {welcome:?}");
        };
        assert_eq!(
            route,
            Route::new(SYSTEM_USER, name),
            "{name}: welcome route"
        );
        assert_eq!(user, name, "{name}: welcome names the user");
        client
    }

    /// Opens `name`'s socket with extra request `headers` (a `Cookie`, an `Origin`) and
    /// checks its welcome; or the status and body the server refused the upgrade with.
    pub async fn connect_with(
        addr: SocketAddr,
        name: &str,
        headers: &[(&str, &str)],
    ) -> Result<Client, (u16, String)> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
        let url = socket_url(addr, name);
        let mut request = url
            .as_str()
            .into_client_request()
            .expect("a socket request");
        for (key, value) in headers {
            request.headers_mut().insert(
                HeaderName::from_bytes(key.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        let connected = timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .unwrap_or_else(|_| panic!("{name}: connecting timed out"));
        let ws = match connected {
            Ok((ws, _)) => ws,
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let body = response
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                return Err((response.status().as_u16(), body));
            }
            Err(e) => panic!("{name}: connecting to {url} failed: {e}"),
        };
        let mut client = Client {
            name: name.to_owned(),
            ws,
        };
        match client.recv().await {
            Message::Welcome { user, .. } => assert_eq!(user, name, "welcome names the user"),
            other => panic!("{name}: expected welcome first, got {other:?}"),
        }
        Ok(client)
    }

    /// Opens `name`'s socket presenting `resume`, the secret of an earlier welcome, without
    /// reading anything from it.
    pub async fn open_resuming(addr: SocketAddr, name: &str, resume: &str) -> Client {
        let url = format!("{}?resume={resume}", socket_url(addr, name));
        Client::open_url(name, &url, WAIT).await
    }

    /// Opens `name`'s socket without reading anything from it.
    pub async fn open(addr: SocketAddr, name: &str) -> Client {
        Client::open_within(addr, name, WAIT).await
    }

    /// [`Client::open`] within `wait` (a loaded server may need longer than [`WAIT`]).
    pub async fn open_within(addr: SocketAddr, name: &str, wait: Duration) -> Client {
        Client::open_url(name, &socket_url(addr, name), wait).await
    }

    async fn open_url(name: &str, url: &str, wait: Duration) -> Client {
        let (ws, _) = timeout(wait, tokio_tungstenite::connect_async(url))
            .await
            .unwrap_or_else(|_| panic!("{name}: connecting timed out after {wait:?}"))
            .unwrap_or_else(|e| panic!("{name}: connecting to {url} failed: {e}"));
        Client {
            name: name.to_owned(),
            ws,
        }
    }

    /// Sends one raw frame.
    pub async fn send_frame(&mut self, frame: Frame) {
        timeout(WAIT, self.ws.send(frame))
            .await
            .unwrap_or_else(|_| panic!("{}: sending timed out", self.name))
            .unwrap_or_else(|e| panic!("{}: sending failed: {e}", self.name));
    }

    /// Sends one raw frame; false if the connection is gone (or sending takes over [`WAIT`]).
    pub async fn try_send_frame(&mut self, frame: Frame) -> bool {
        matches!(timeout(WAIT, self.ws.send(frame)).await, Ok(Ok(())))
    }

    /// Sends one text frame exactly as given.
    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.send_frame(Frame::text(text.into())).await;
    }

    /// Sends `value` as one JSON text frame.
    pub async fn send_json(&mut self, value: Value) {
        self.send_text(value.to_string()).await;
    }

    /// The next frame of any kind, or `None` once the socket has ended (closed, reset or
    /// broken). Panics if nothing comes within `wait`.
    /// The server's heartbeat pings are skipped (tungstenite answers them).
    pub async fn next_frame_within(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Frame::Ping(_)))) => continue,
                Ok(Some(Ok(frame))) => return Some(frame),
                Ok(Some(Err(_)) | None) => return None,
                Err(_) => panic!("{}: no frame within {wait:?}", self.name),
            }
        }
    }

    /// The next frame, which must be text, within `wait`.
    async fn recv_text_within(&mut self, wait: Duration) -> String {
        match self.next_frame_within(wait).await {
            Some(Frame::Text(text)) => text.to_string(),
            other => panic!("{}: expected a text frame, got {other:?}", self.name),
        }
    }

    /// A frame the server sent, as a protocol [`Message`].
    fn decode(&self, text: &str) -> Message {
        protocol::decode(text)
            .unwrap_or_else(|e| panic!("{}: server sent {text:?}: {e}", self.name))
    }

    /// The next text frame as plain JSON, within `wait`.
    pub async fn recv_json_within(&mut self, wait: Duration) -> Value {
        let text = self.recv_text_within(wait).await;
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: server sent non-JSON {text:?}: {e}", self.name))
    }

    /// The next text frame as plain JSON.
    pub async fn recv_json(&mut self) -> Value {
        self.recv_json_within(WAIT).await
    }

    /// The next frame as a protocol [`Message`], within `wait`.
    pub async fn recv_within(&mut self, wait: Duration) -> Message {
        let text = self.recv_text_within(wait).await;
        self.decode(&text)
    }

    /// The next frame as a protocol [`Message`].
    pub async fn recv(&mut self) -> Message {
        self.recv_within(WAIT).await
    }

    /// The next text frame as a protocol [`Message`], however long it takes, or `None` once
    /// the socket has ended. Cancel-safe, so a caller can bound it or `select!` on it.
    pub async fn next_message(&mut self) -> Option<Message> {
        loop {
            match self.ws.next().await {
                Some(Ok(Frame::Text(text))) => return Some(self.decode(&text)),
                Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => continue,
                Some(Ok(_)) | Some(Err(_)) | None => return None,
            }
        }
    }

    /// The next frame as a protocol [`Message`] if one has already arrived; never waits.
    pub fn try_recv(&mut self) -> Option<Message> {
        match self.ws.next().now_or_never()? {
            Some(Ok(Frame::Text(text))) => Some(self.decode(&text)),
            other => panic!("{}: expected a text frame, got {other:?}", self.name),
        }
    }

    /// Closes the socket as a page would, and waits until the server has dropped the
    /// connection, which it does only after signing the user out.
    pub async fn close(self) {
        self.close_within(WAIT).await;
    }

    /// [`Client::close`], waiting up to `wait` for the server.
    pub async fn close_within(mut self, wait: Duration) {
        self.send_frame(Frame::Close(None)).await;
        self.expect_end_within(wait).await;
    }

    /// Every message that arrives until none has for `quiet_ms` milliseconds.
    pub async fn drain(&mut self, quiet_ms: u64) -> Vec<Message> {
        let mut messages = Vec::new();
        while let Ok(frame) = timeout(Duration::from_millis(quiet_ms), self.ws.next()).await {
            match frame {
                Some(Ok(Frame::Ping(_))) => {}
                Some(Ok(Frame::Text(text))) => messages.push(self.decode(&text)),
                other => panic!("{}: expected a text frame, got {other:?}", self.name),
            }
        }
        messages
    }

    /// Asserts that nothing but heartbeats arrives for `ms` milliseconds. Reading on
    /// meanwhile, the client answers the server's pings, as a browser does.
    pub async fn expect_silence(&mut self, ms: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        while let Ok(frame) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            if !matches!(frame, Some(Ok(Frame::Ping(_)))) {
                panic!("{}: expected silence, got {frame:?}", self.name);
            }
        }
    }

    /// Reads the next frame, which must be a Close; returns its code and reason.
    pub async fn expect_close(&mut self) -> (u16, String) {
        match self.next_frame_within(WAIT).await {
            Some(Frame::Close(Some(close))) => (close.code.into(), close.reason.to_string()),
            other => panic!("{}: expected a Close frame, got {other:?}", self.name),
        }
    }

    /// Reads until the server has closed the connection (a Close frame alone is not enough:
    /// the server drops the TCP connection only after signing the user out). Panics if it is
    /// still open after `wait`. Returns how many frames were read on the way.
    pub async fn expect_end_within(&mut self, wait: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + wait;
        let mut frames = 0;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => panic!("{}: socket still open after {wait:?}", self.name),
                Ok(None | Some(Err(_))) => return frames,
                Ok(Some(Ok(_))) => frames += 1,
            }
        }
    }

    /// The next frame must be an `error` for this user with `code`; returns its text.
    pub async fn expect_error(&mut self, code: ErrorCode) -> String {
        match self.recv().await {
            Message::Error {
                route,
                code: got,
                msg,
                ..
            } => {
                assert_eq!(got, code, "{}: error code (msg {msg:?})", self.name);
                assert_eq!(route, Route::new(SYSTEM_USER, &self.name), "error route");
                assert!(!msg.is_empty(), "{}: an error says why", self.name);
                msg
            }
            other => panic!("{}: expected error {code:?}, got {other:?}", self.name),
        }
    }

    /// The next frame must be a `hangup` from `from` with `reason`; returns its text.
    pub async fn expect_hangup(&mut self, from: &str, reason: Reason) -> String {
        self.expect_hangup_within(from, reason, WAIT).await
    }

    /// [`Client::expect_hangup`] within `wait`.
    pub async fn expect_hangup_within(
        &mut self,
        from: &str,
        reason: Reason,
        wait: Duration,
    ) -> String {
        match self.recv_within(wait).await {
            Message::Hangup {
                route,
                msg,
                reason: got,
            } => {
                assert_eq!(route, Route::new(from, &self.name), "hangup route");
                assert_eq!(got, Some(reason), "{}: hangup reason", self.name);
                let msg = msg.unwrap_or_default();
                assert!(!msg.is_empty(), "{}: a hangup says why", self.name);
                msg
            }
            other => panic!("{}: expected hangup {reason:?}, got {other:?}", self.name),
        }
    }

    /// The next frame must be a `call_back` from `from` with `reason`; returns its `msg`.
    pub async fn expect_call_back(&mut self, from: &str, reason: Option<Reason>) -> String {
        self.expect_call_back_within(from, reason, WAIT).await
    }

    /// [`Client::expect_call_back`] within `wait`.
    pub async fn expect_call_back_within(
        &mut self,
        from: &str,
        reason: Option<Reason>,
        wait: Duration,
    ) -> String {
        match self.recv_within(wait).await {
            Message::CallBack {
                route,
                msg,
                reason: got,
            } => {
                assert_eq!(route, Route::new(from, &self.name), "call_back route");
                assert_eq!(got, reason, "{}: call_back reason (msg {msg:?})", self.name);
                assert!(!msg.is_empty(), "{}: call_back msg", self.name);
                msg
            }
            other => panic!(
                "{}: expected call_back {reason:?}, got {other:?}",
                self.name
            ),
        }
    }

    /// The next frame must be a `call_start` from `from`.
    pub async fn expect_call_start(&mut self, from: &str) {
        match self.recv().await {
            Message::CallStart { route, .. } => {
                assert_eq!(route, Route::new(from, &self.name), "call_start route");
            }
            other => panic!(
                "{}: expected call_start from {from}, got {other:?}",
                self.name
            ),
        }
    }

    /// The next frame must be the server's `ringing` notice.
    pub async fn expect_ringing(&mut self) {
        let msg = self.recv().await;
        let expected = Message::Ringing {
            route: Route::new(SYSTEM_USER, &self.name),
        };
        assert_eq!(msg, expected, "{}: ringing", self.name);
    }

    /// Sends `call_start` to `to`.
    pub async fn call(&mut self, to: &str) {
        self.send_json(json!({"type": "call_start", "toUser": to}))
            .await;
    }

    /// Sends `call_back` with `msg` to `to`.
    pub async fn call_back(&mut self, to: &str, msg: &str) {
        self.send_json(json!({"type": "call_back", "toUser": to, "msg": msg}))
            .await;
    }

    /// Sends `hangup` to `to`.
    pub async fn hangup(&mut self, to: &str) {
        self.send_json(json!({"type": "hangup", "toUser": to}))
            .await;
    }
}

/// `caller` rings `callee`: the callee gets `call_start`, the caller `ringing`.
pub async fn ring(caller: &mut Client, callee: &mut Client) {
    caller.call(&callee.name).await;
    callee.expect_call_start(&caller.name).await;
    caller.expect_ringing().await;
}

/// Brings `caller` and `callee` into a call through the real protocol.
pub async fn in_call(caller: &mut Client, callee: &mut Client) {
    ring(caller, callee).await;
    callee.call_back(&caller.name, ACCEPT).await;
    let msg = caller.expect_call_back(&callee.name, None).await;
    assert_eq!(msg, ACCEPT, "the callee accepted");
}

/// Checks that `a` and `b` are in a call with each other: an offer and an answer pass
/// between them, stamped and intact.
pub async fn relays(a: &mut Client, b: &mut Client) {
    a.send_json(json!({"type": "offer", "toUser": b.name, "sdp": SDP}))
        .await;
    let expected = Message::Offer {
        route: Route::new(&a.name, &b.name),
        sdp: SDP.into(),
    };
    assert_eq!(b.recv().await, expected, "{} → {} offer", a.name, b.name);
    b.send_json(json!({"type": "answer", "toUser": a.name, "sdp": SDP}))
        .await;
    let expected = Message::Answer {
        route: Route::new(&b.name, &a.name),
        sdp: SDP.into(),
    };
    assert_eq!(a.recv().await, expected, "{} → {} answer", b.name, a.name);
}

/// One HTTP/1.1 `GET path`; returns the status code and the raw rest of the response
/// (headers and body).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let exchange = async {
        let mut tcp = TcpStream::connect(addr).await.expect("connect for HTTP");
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        tcp.write_all(request.as_bytes())
            .await
            .expect("write the request");
        let mut response = Vec::new();
        tcp.read_to_end(&mut response)
            .await
            .expect("read the response");
        String::from_utf8_lossy(&response).into_owned()
    };
    let response = timeout(WAIT, exchange)
        .await
        .unwrap_or_else(|_| panic!("GET {path} timed out"));
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("GET {path}: no status line in {response:?}"));
    (status, response)
}
