//! HTTPS end to end: the real router served over TLS on `127.0.0.1:0`, reached by a rustls
//! client that trusts only the certificate the server should present. Together they show
//! that duet makes a certificate when none is configured and presents it (its fingerprint
//! as printed), serves the signaling socket as `wss` and the home page's LAN address and
//! QR code over HTTPS, presents configured certificate files instead when given, and that
//! the binary itself starts with `--tls`, keeps its certificate across restarts, refuses
//! an unreadable certificate by name, and stops on SIGTERM.

mod common;

use common::{WAIT, scratch_dir, test_settings};
use duet::protocol::Message;
use duet::server::http::limits::Limits;
use duet::server::http::serve::serve;
use duet::server::reach::lan::Lan;
use duet::server::reach::self_signed::{CERT_FILE, KEY_FILE};
use duet::server::reach::tls::{self, Origin, fingerprint, read_pair};
use duet::server::{Settings, app};
use futures::StreamExt;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message as Frame;

/// Serves the real router with `settings` over TLS on a free local port, as `main` does,
/// until the test's runtime ends; returns the address and the certificate presented.
async fn start_tls(settings: Settings) -> (SocketAddr, tls::Tls) {
    let tls = tls::load(&settings, &[]).expect("load or make the certificate");
    let options = leptos::config::LeptosOptions::builder()
        .output_name("duet")
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free local port");
    let addr = listener.local_addr().expect("the bound address");
    let lan = Lan::new("https", addr, &[], Some(tls.fingerprint.clone()));
    let limits = Limits::of(&settings);
    let app = app(settings, options, lan, None).expect("open the chat database");
    let config = tls.config.clone();
    tokio::spawn(async move {
        serve(listener, app, Some(config), limits, std::future::pending())
            .await
            .expect("serve")
    });
    (addr, tls)
}

/// [`test_settings`] with TLS on.
fn tls_settings() -> Settings {
    Settings {
        tls: true,
        ..test_settings()
    }
}

/// A TLS connection to `addr` that trusts `cert` and nothing else.
async fn connect(addr: SocketAddr, cert: &CertificateDer<'static>) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).expect("a certificate to trust");
    let config = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::from(addr.ip());
    timeout(
        WAIT,
        TlsConnector::from(Arc::new(config)).connect(name, tcp),
    )
    .await
    .expect("the TLS handshake within WAIT")
    .expect("a TLS handshake that trusts the certificate")
}

/// The certificate the server at `addr` presents, over a connection trusting `cert`.
async fn presented(addr: SocketAddr, cert: &CertificateDer<'static>) -> CertificateDer<'static> {
    let stream = connect(addr, cert).await;
    let (_, session) = stream.get_ref();
    session
        .peer_certificates()
        .expect("the server's certificate")[0]
        .clone()
}

/// Opens `name`'s socket as `wss` and returns the first frame, which must be `welcome`.
async fn wss_welcome(addr: SocketAddr, cert: &CertificateDer<'static>, name: &str) {
    let stream = connect(addr, cert).await;
    let url = format!("wss://{addr}/webrtc/{name}");
    let (mut ws, _) = timeout(WAIT, tokio_tungstenite::client_async(url, stream))
        .await
        .expect("the WebSocket handshake within WAIT")
        .expect("a WebSocket over TLS");
    let frame = timeout(WAIT, ws.next())
        .await
        .expect("a frame within WAIT")
        .expect("an open socket")
        .expect("a frame");
    let Frame::Text(text) = frame else {
        panic!("{name}: expected text, got {frame:?}");
    };
    let message: Message = serde_json::from_str(&text).expect("a protocol frame");
    assert!(
        matches!(&message, Message::Welcome { user, .. } if user == name),
        "{name}: expected welcome, got {message:?}"
    );
}

/// `GET path` over HTTPS (HTTP/1.0, so the body is not chunked): status line and headers,
/// and the body.
async fn https_get(
    addr: SocketAddr,
    cert: &CertificateDer<'static>,
    path: &str,
) -> (String, Vec<u8>) {
    let mut stream = connect(addr, cert).await;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .expect("the response within WAIT")
        .expect("read the response");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    (head, response[split + 4..].to_vec())
}

/// The certificate kept in `dir`.
fn kept(dir: &Path) -> CertificateDer<'static> {
    read_pair(&dir.join(CERT_FILE), &dir.join(KEY_FILE))
        .expect("the kept certificate")
        .0
        .remove(0)
}

#[tokio::test]
async fn a_made_certificate_serves_pages_and_the_socket() {
    let settings = tls_settings();
    let dir = settings.data_dir.clone();
    let (addr, tls) = start_tls(settings).await;
    assert_eq!(tls.origin, Origin::Created);
    let cert = kept(&dir);
    assert_eq!(tls.fingerprint, fingerprint(&cert));
    assert_eq!(presented(addr, &cert).await, cert);

    wss_welcome(addr, &cert, "alice").await;
    wss_welcome(addr, &cert, "bob").await;

    // No LAN address here (127.0.0.1): the page offers the address it listens on.
    let origin = format!("https://{addr}/");
    let (head, body) = https_get(addr, &cert, "/").await;
    let page = String::from_utf8_lossy(&body);
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    assert!(page.contains(r#"id="lanQr""#), "{page}");
    assert!(
        page.contains(&format!(r#"id="lanUrl" href="{origin}""#)),
        "{page}"
    );
    assert!(page.contains(&tls.fingerprint), "{page}");

    let (head, svg) = https_get(addr, &cert, "/lan.svg").await;
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    assert!(head.contains("content-type: image/svg+xml"), "{head}");
    assert!(String::from_utf8_lossy(&svg).contains("<svg"));
}

#[tokio::test]
async fn configured_files_are_presented_instead() {
    let dir = scratch_dir();
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let (cert_path, key_path) = (dir.join("fullchain.pem"), dir.join("privkey.pem"));
    std::fs::write(&cert_path, made.cert.pem()).unwrap();
    std::fs::write(&key_path, made.signing_key.serialize_pem()).unwrap();
    let settings = Settings {
        tls_cert: Some(cert_path.clone()),
        tls_key: Some(key_path),
        ..tls_settings()
    };
    let data_dir = settings.data_dir.clone();
    let (addr, tls) = start_tls(settings).await;
    assert_eq!(tls.origin, Origin::Configured);
    assert_eq!(tls.cert_path, cert_path);

    let cert = made.cert.der().clone();
    assert_eq!(presented(addr, &cert).await, cert);
    assert_eq!(tls.fingerprint, fingerprint(&cert));
    wss_welcome(addr, &cert, "alice").await;
    assert!(!data_dir.join(CERT_FILE).exists(), "no certificate made");
}

/// The duet binary, started from the repository root (where `Leptos.toml` is) on a free
/// port with its own data directory.
fn duet(data_dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_duet"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env("DUET_SITE_ADDR", "127.0.0.1:0")
        .env("DUET_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("DUET_TLS")
        .env_remove("DUET_TLS_CERT")
        .env_remove("DUET_TLS_KEY")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A running binary and what it printed at start.
struct Started {
    child: Child,
    addr: SocketAddr,
    fingerprint: String,
}

impl Drop for Started {
    fn drop(&mut self) {
        // Only if the test failed before stopping it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with `--tls` and reads its start-up lines.
fn start_binary(data_dir: &Path) -> Started {
    let mut child = duet(data_dir, &["--tls"], &[])
        .spawn()
        .expect("start the duet binary");
    let stdout = child.stdout.take().expect("its stdout");
    let (lines, read) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let (mut addr, mut fingerprint) = (None, None);
    while fingerprint.is_none() {
        let line = read
            .recv_timeout(Duration::from_secs(30))
            .expect("the start-up lines within 30 s");
        if let Some(rest) = line.strip_prefix("duet is listening on https://") {
            addr = Some(rest.trim_end_matches('/').parse().expect("an address"));
        }
        if let Some(rest) = line.trim().strip_prefix("SHA-256 fingerprint: ") {
            fingerprint = Some(rest.to_owned());
        }
    }
    Started {
        child,
        addr: addr.expect("the https:// address line"),
        fingerprint: fingerprint.expect("the fingerprint line"),
    }
}

/// Sends SIGTERM and waits (up to 10 s) for the exit status.
fn terminate(started: &mut Started) -> std::process::ExitStatus {
    let pid = started.child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(sent.expect("run kill").success(), "kill -TERM {pid}");
    for _ in 0..100 {
        if let Some(status) = started.child.try_wait().expect("the child's status") {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("duet did not stop within 10 s of SIGTERM");
}

#[tokio::test]
async fn the_binary_serves_https_keeps_its_certificate_and_stops_on_sigterm() {
    let dir = scratch_dir();
    let mut first = start_binary(&dir);
    let cert = kept(&dir);
    assert_eq!(
        first.fingerprint,
        fingerprint(&cert),
        "the printed fingerprint"
    );
    assert_eq!(presented(first.addr, &cert).await, cert);
    wss_welcome(first.addr, &cert, "alice").await;
    let status = terminate(&mut first);
    assert!(status.success(), "stopped by SIGTERM: {status}");

    let mut second = start_binary(&dir);
    assert_eq!(
        second.fingerprint, first.fingerprint,
        "the same certificate"
    );
    assert_eq!(presented(second.addr, &cert).await, cert);
    assert!(terminate(&mut second).success());
}

#[test]
fn the_binary_names_a_certificate_it_cannot_read() {
    let dir = scratch_dir();
    let missing = dir.join("missing-fullchain.pem");
    let output = duet(
        &dir,
        &[],
        &[
            ("DUET_TLS", "1"),
            ("DUET_TLS_CERT", missing.to_str().unwrap()),
            ("DUET_TLS_KEY", "privkey.pem"),
        ],
    )
    .output()
    .expect("run duet");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("missing-fullchain.pem"), "{stderr}");

    let output = duet(&dir, &["--tsl"], &[]).output().expect("run duet");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--tsl"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_the_key_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let _inside = runtime.enter();
    // Made by the chat database's start, without TLS...
    let settings = Settings {
        data_dir: scratch_dir().join("plain"),
        ..common::test_settings()
    };
    let options = leptos::config::LeptosOptions::builder()
        .output_name("duet")
        .build();
    let _router = duet::server::router(settings.clone(), options).expect("open the database");
    assert_eq!(mode(&settings.data_dir), 0o700, "data directory");

    // ... or by the certificate's, with it.
    let settings = Settings {
        data_dir: scratch_dir().join("tls"),
        ..tls_settings()
    };
    tls::load(&settings, &[]).expect("make a certificate");
    assert_eq!(mode(&settings.data_dir), 0o700, "data directory");
    assert_eq!(mode(&settings.data_dir.join(KEY_FILE)), 0o600, "key");
}
