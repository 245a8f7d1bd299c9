//! What a request cannot make the server do, whatever it writes: show another address on
//! the home page or in its QR code by sending its own `Host` header, or take a name that
//! reads as the server's own (`duet`) by spelling it differently.

mod common;

use common::{WAIT, http_get, server, socket_url, test_settings};
use duet::protocol::NameError;
use duet::server::app;
use duet::server::http::limits::Limits;
use duet::server::http::serve::serve;
use duet::server::reach::lan::{Lan, qr_svg};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Serves the real router as `main` does: told the address it really listens on, with no
/// LAN address (as on a machine with none, or listening on loopback only).
async fn start_on_loopback() -> SocketAddr {
    let settings = test_settings();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free local port");
    let addr = listener.local_addr().expect("the bound address");
    let options = leptos::config::LeptosOptions::builder()
        .output_name("duet")
        .build();
    let limits = Limits::of(&settings);
    let app = app(settings, options, Lan::new("http", addr, &[], None), None).expect("the router");
    tokio::spawn(async move {
        serve(listener, app, None, limits, std::future::pending())
            .await
            .expect("serve")
    });
    addr
}

/// `GET path` (HTTP/1.1, or 1.0 for a body that is not chunked) with `Host: host` and any
/// `extra` header lines; the whole response, or what came of it within [`WAIT`] (an
/// upgraded socket stays open).
async fn get_with_host(addr: SocketAddr, path: &str, host: &str, extra: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let version = if extra.is_empty() { "1.0" } else { "1.1" };
    let request =
        format!("GET {path} HTTP/{version}\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = timeout(WAIT, async {
        while let Ok(n @ 1..) = tcp.read(&mut buf).await {
            response.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    String::from_utf8_lossy(&response).into_owned()
}

/// The body of a response that is not chunked.
fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

#[tokio::test]
async fn the_host_header_is_never_echoed_into_the_home_page_or_its_qr_code() {
    let addr = start_on_loopback().await;
    let own = format!("http://{addr}/");
    for host in ["evil.example", "evil.example:443", "127.0.0.1:1"] {
        let page = get_with_host(addr, "/", host, "").await;
        assert!(page.starts_with("HTTP/1.0 200"), "{page}");
        assert!(
            !page.contains(host),
            "the page shows the Host {host:?}: {page}"
        );
        assert!(
            page.contains(&format!(r#"id="lanUrl" href="{own}""#)),
            "{page}"
        );

        let svg = get_with_host(addr, "/lan.svg", host, "").await;
        assert!(svg.starts_with("HTTP/1.0 200"), "{svg}");
        // The QR code encodes the server's own address, not the one the client named.
        assert_eq!(
            body(&svg),
            qr_svg(&own).unwrap(),
            "/lan.svg for Host {host:?}"
        );
    }
    // An absolute request target (as a proxy would send) is not taken either.
    let absolute = get_with_host(addr, "http://evil.example/lan.svg", "evil.example", "").await;
    assert!(absolute.starts_with("HTTP/1.0 200"), "{absolute}");
    assert_eq!(body(&absolute), qr_svg(&own).unwrap());
}

#[tokio::test]
async fn names_that_read_as_the_servers_own_are_refused_like_duet() {
    let addr = server().await;
    let reserved = NameError::Reserved.to_string();
    // Full-width ｄｕｅｔ, and mathematical bold 𝐝𝐮𝐞𝐭.
    for name in ["duet", "Duet", "DUET", "ｄｕｅｔ", "𝐝𝐮𝐞𝐭"] {
        let path = socket_url(addr, name)
            .strip_prefix(&format!("ws://{addr}"))
            .expect("a socket URL of this server")
            .to_owned();
        let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n\
                       Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        let response = get_with_host(addr, &path, &addr.to_string(), upgrade).await;
        assert!(
            response.starts_with("HTTP/1.1 400"),
            "socket of {name:?}: {response}"
        );
        assert!(
            response.contains(&reserved),
            "socket of {name:?}: {response}"
        );

        let (status, response) = http_get(addr, &format!("{path}.html")).await;
        assert_eq!(status, 400, "page of {name:?}: {response}");
        assert!(response.contains(&reserved), "page of {name:?}: {response}");
    }
    // Near misses are names like any other.
    for name in ["duett", "Duet2", "du.et"] {
        let url = socket_url(addr, name);
        let opened = timeout(WAIT, tokio_tungstenite::connect_async(&url)).await;
        assert!(
            matches!(opened, Ok(Ok(_))),
            "socket of {name:?}: {opened:?}"
        );
    }
}
