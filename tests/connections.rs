//! Slow and greedy clients against the real serving loop (`serve`, as `main` runs it), over
//! plain HTTP and over TLS: connections that send half a request, or nothing, are closed
//! after the header timeout; one that stops reading its response, or an HTTP/2 one that
//! never asks for anything, after the idle timeout; one address gets only so many
//! connections at once, while signaling sockets, once upgraded, count against nothing and
//! outlive both timeouts.

mod common;

use common::{WAIT, scratch_dir, test_settings};
use duet::server::http::limits::Limits;
use duet::server::http::serve::serve;
use duet::server::reach::lan::Lan;
use duet::server::reach::tls;
use duet::server::{Settings, app};
use futures::{SinkExt, StreamExt};
use rustls::pki_types::{CertificateDer, ServerName};
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Frame;

/// Half-sent requests opened at once from one address.
const HALF_SENT: usize = 40;

/// How much later than its timeout the server may close a connection.
const LATE: Duration = Duration::from_millis(1500);

/// A server to try, and what a client needs to reach it.
struct Served {
    addr: SocketAddr,
    /// The certificate to trust, with TLS.
    cert: Option<CertificateDer<'static>>,
}

/// Serves the real router with `settings` through `serve`, over TLS if `settings.tls`.
async fn start(settings: Settings) -> Served {
    start_with_files(settings, &scratch_dir()).await
}

/// [`start`], serving the static files in `site_root`.
async fn start_with_files(settings: Settings, site_root: &Path) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free local port");
    let addr = listener.local_addr().expect("the bound address");
    let tls = settings
        .tls
        .then(|| tls::load(&settings, &[]).expect("make a certificate"));
    let fingerprint = tls.as_ref().map(|tls| tls.fingerprint.clone());
    let lan = Lan::new(settings.scheme(), addr, &[], fingerprint);
    let limits = Limits::of(&settings);
    let data_dir = settings.data_dir.clone();
    let options = leptos::config::LeptosOptions::builder()
        .output_name("duet")
        .site_root(site_root.to_string_lossy().into_owned())
        .build();
    let app = app(settings, options, lan, None).expect("open the chat database");
    let config = tls.map(|tls| tls.config);
    let cert = config.is_some().then(|| {
        let pem = std::fs::read(data_dir.join(duet::server::reach::self_signed::CERT_FILE));
        rustls::pki_types::pem::PemObject::from_pem_slice(&pem.expect("the made certificate"))
            .expect("a PEM certificate")
    });
    tokio::spawn(async move {
        serve(listener, app, config, limits, std::future::pending())
            .await
            .expect("serve")
    });
    Served { addr, cert }
}

/// [`test_settings`] with these limits, over TLS or not.
fn limited(tls: bool, header: u64, idle: u64, per_ip: usize) -> Settings {
    Settings {
        tls,
        header_timeout_secs: header,
        idle_timeout_secs: idle,
        max_connections_per_ip: per_ip,
        ..test_settings()
    }
}

/// Either kind of client stream.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl Served {
    /// A TCP connection, with the TLS handshake done if the server speaks TLS (offering
    /// `alpn`).
    async fn open(&self, alpn: &[u8]) -> Box<dyn Stream> {
        let tcp = TcpStream::connect(self.addr).await.expect("connect");
        self.over(tcp, alpn).await.expect("a TLS handshake")
    }

    /// `tcp`, after a TLS handshake if the server speaks TLS.
    async fn over(&self, tcp: TcpStream, alpn: &[u8]) -> io::Result<Box<dyn Stream>> {
        let Some(cert) = &self.cert else {
            return Ok(Box::new(tcp));
        };
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.clone()).expect("a certificate to trust");
        let mut config = rustls::ClientConfig::builder_with_provider(tls::provider())
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![alpn.to_vec()];
        let name = ServerName::from(self.addr.ip());
        let handshake = TlsConnector::from(Arc::new(config)).connect(name, tcp);
        let stream = timeout(WAIT, handshake)
            .await
            .expect("the TLS handshake within WAIT")?;
        Ok(Box::new(stream))
    }

    /// A connection that has sent the start of a request and no more.
    async fn half_sent(&self) -> Box<dyn Stream> {
        let mut stream = self.open(b"http/1.1").await;
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slo")
            .await
            .expect("write half a request");
        stream
    }

    /// A whole `GET /` on a new connection; whether it was answered with 200.
    async fn get_ok(&self) -> bool {
        let exchange = async {
            let tcp = TcpStream::connect(self.addr).await.ok()?;
            let mut stream = self.over(tcp, b"http/1.1").await.ok()?;
            let request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
            stream.write_all(request).await.ok()?;
            let mut response = Vec::new();
            stream.read_to_end(&mut response).await.ok()?;
            Some(response.starts_with(b"HTTP/1.1 200"))
        };
        matches!(timeout(WAIT, exchange).await, Ok(Some(true)))
    }

    /// `name`'s signaling socket, signed in (its first frame, the welcome, read).
    async fn socket(&self, name: &str) -> WebSocketStream<Box<dyn Stream>> {
        let stream = self.open(b"http/1.1").await;
        let scheme = if self.cert.is_some() { "wss" } else { "ws" };
        let url = format!("{scheme}://{}/webrtc/{name}", self.addr);
        let (mut ws, _) = timeout(WAIT, tokio_tungstenite::client_async(url, stream))
            .await
            .expect("the WebSocket handshake within WAIT")
            .expect("a WebSocket");
        let welcome = timeout(WAIT, ws.next())
            .await
            .expect("a welcome within WAIT");
        assert!(
            matches!(welcome, Some(Ok(Frame::Text(_)))),
            "{name}: {welcome:?}"
        );
        ws
    }
}

/// Reads (and drops) whatever `stream` gets until the server closes it; how long that
/// took, or `None` if it is still open after `wait`.
async fn closed_within(stream: &mut Box<dyn Stream>, wait: Duration) -> Option<Duration> {
    let began = Instant::now();
    let mut buf = [0u8; 4096];
    let closed = timeout(wait, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    closed.ok().map(|()| began.elapsed())
}

/// Every one of `streams` is closed by the server no sooner than `after` (less a little
/// for timer granularity) and no later than [`LATE`] after it, measured from `since`.
async fn all_closed_after(streams: &mut [Box<dyn Stream>], since: Instant, after: Duration) {
    for (i, stream) in streams.iter_mut().enumerate() {
        let deadline = (since + after + LATE).saturating_duration_since(Instant::now());
        closed_within(stream, deadline)
            .await
            .unwrap_or_else(|| panic!("connection {i} still open {:?} after its timeout", LATE));
        let took = since.elapsed();
        assert!(
            took + Duration::from_millis(100) >= after,
            "connection {i} closed after {took:?}, before its timeout of {after:?}"
        );
    }
}

async fn half_sent_requests_are_closed_after_the_header_timeout(tls: bool) {
    let served = start(limited(tls, 1, 60, 64)).await;
    let since = Instant::now();
    let mut streams = Vec::new();
    for _ in 0..HALF_SENT {
        streams.push(served.half_sent().await);
    }
    // And connections that say nothing at all (with TLS: not even a handshake).
    for _ in 0..4 {
        streams.push(Box::new(
            TcpStream::connect(served.addr).await.expect("connect"),
        ));
    }
    all_closed_after(&mut streams, since, Duration::from_secs(1)).await;
    assert!(served.get_ok().await, "whole requests are still served");
}

#[tokio::test]
async fn half_sent_http_requests_are_closed_after_the_header_timeout() {
    half_sent_requests_are_closed_after_the_header_timeout(false).await;
}

#[tokio::test]
async fn half_sent_https_requests_are_closed_after_the_header_timeout() {
    half_sent_requests_are_closed_after_the_header_timeout(true).await;
}

/// A client that asks for a large file and stops reading it: once the buffers between
/// them are full, nothing moves, and only the idle timeout ends the connection (its
/// headers were sent long ago).
async fn a_silent_connection_is_closed_after_the_idle_timeout(tls: bool) {
    const LARGE: usize = 32 << 20;
    let site = scratch_dir();
    std::fs::write(site.join("large.bin"), vec![7u8; LARGE]).expect("write a large file");
    let idle = Duration::from_secs(2);
    let served = start_with_files(limited(tls, 1, 2, 64), &site).await;
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("a small receive buffer");
    let tcp = socket.connect(served.addr).await.expect("connect");
    let mut stream = served
        .over(tcp, b"http/1.1")
        .await
        .expect("a TLS handshake");
    let request = b"GET /large.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    stream.write_all(request).await.expect("write the request");
    sleep(idle + LATE).await;
    // Reading now gets what the buffers held, then the end: the server gave up on it.
    let mut received = 0;
    let mut buf = vec![0u8; 64 << 10];
    let drained = timeout(WAIT, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received += n,
            }
        }
    })
    .await;
    assert!(
        drained.is_ok(),
        "the connection is still open after the idle timeout"
    );
    assert!(received > 0, "the response had begun");
    assert!(received < LARGE, "the whole file arrived: {received} bytes");

    if tls {
        // HTTP/2, which has no header timeout: the connection preface and empty settings,
        // then silence.
        let mut h2 = served.open(b"h2").await;
        h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
            .await
            .expect("write the preface");
        let since = Instant::now();
        all_closed_after(&mut [h2], since, idle).await;
    }
}

#[tokio::test]
async fn a_silent_http_connection_is_closed_after_the_idle_timeout() {
    a_silent_connection_is_closed_after_the_idle_timeout(false).await;
}

#[tokio::test]
async fn a_silent_https_connection_is_closed_after_the_idle_timeout() {
    a_silent_connection_is_closed_after_the_idle_timeout(true).await;
}

async fn one_address_gets_only_so_many_connections(tls: bool) {
    const CAP: usize = 4;
    let served = start(limited(tls, 30, 60, CAP)).await;
    let mut held = Vec::new();
    for _ in 0..CAP {
        held.push(served.half_sent().await);
    }
    // One more is closed at once, long before any timeout (with TLS, before the handshake).
    let tcp = TcpStream::connect(served.addr).await.expect("connect");
    if let Ok(mut extra) = served.over(tcp, b"http/1.1").await {
        let _ = extra.write_all(b"GET / HTTP/1.1\r\n").await;
        assert!(
            closed_within(&mut extra, WAIT).await.is_some(),
            "a connection over the cap is closed at once"
        );
    }
    assert!(!served.get_ok().await, "no request over the cap");

    // One leaves: there is room for one again.
    held.pop();
    let room = async {
        while !served.get_ok().await {
            sleep(Duration::from_millis(50)).await;
        }
    };
    timeout(WAIT, room)
        .await
        .expect("a request served once a held connection closed");

    // Signaling sockets count only until they are upgraded: more of them than the cap are
    // signed in, and ordinary requests still get through.
    drop(held);
    let mut sockets = Vec::new();
    for i in 0..CAP * 2 {
        sockets.push(served.socket(&format!("user{i}")).await);
    }
    let served_again = async {
        while !served.get_ok().await {
            sleep(Duration::from_millis(50)).await;
        }
    };
    timeout(WAIT, served_again)
        .await
        .expect("requests served beside more sockets than the cap");
}

#[tokio::test]
async fn one_address_gets_only_so_many_http_connections() {
    one_address_gets_only_so_many_connections(false).await;
}

#[tokio::test]
async fn one_address_gets_only_so_many_https_connections() {
    one_address_gets_only_so_many_connections(true).await;
}

/// An upgraded socket is not an idle HTTP connection: it outlives both timeouts, and
/// answers a ping after them.
async fn sockets_outlive_the_timeouts(tls: bool) {
    let served = start(limited(tls, 1, 1, 64)).await;
    let mut alice = served.socket("alice").await;
    sleep(Duration::from_millis(2500)).await;
    let ping = Frame::Ping(b"still there?".to_vec().into());
    timeout(WAIT, alice.send(ping))
        .await
        .expect("send within WAIT")
        .expect("the socket is open");
    let pong = async {
        loop {
            match alice.next().await {
                Some(Ok(Frame::Pong(payload))) => return payload,
                Some(Ok(_)) => {}
                other => panic!("the socket ended: {other:?}"),
            }
        }
    };
    let payload = timeout(WAIT, pong).await.expect("a pong within WAIT");
    assert_eq!(&payload[..], b"still there?");
}

#[tokio::test]
async fn http_sockets_outlive_the_timeouts() {
    sockets_outlive_the_timeouts(false).await;
}

#[tokio::test]
async fn https_sockets_outlive_the_timeouts() {
    sockets_outlive_the_timeouts(true).await;
}
