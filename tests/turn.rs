//! The built-in TURN server, driven by webrtc-rs's TURN client and by hand-built STUN
//! messages over real UDP sockets: it takes exactly the TURN REST credentials pages are
//! given, refuses to relay to this host and into local and special networks unless told
//! to, lets its own relays reach each other, relays to a loopback peer when told to, caps
//! allocations per user and per client address, and frees a name's relays on request and
//! when its page signs out. (The flood of strangers is turn_flood.rs.)

mod common;

use common::turn::{allocate, bare_allocate, client, client_at, config, credentials, now, start};
use duet::protocol::UserName;
use duet::server::reach::turn::TurnConfig;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use stun::agent::TransactionId;
use stun::attributes::{ATTR_NONCE, ATTR_REALM, ATTR_USERNAME};
use stun::error_code::ErrorCodeAttribute;
use stun::integrity::MessageIntegrity;
use stun::message::{
    CLASS_ERROR_RESPONSE, CLASS_REQUEST, CLASS_SUCCESS_RESPONSE, Getter, METHOD_ALLOCATE, Message,
    MessageType, Setter,
};
use stun::textattrs::TextAttribute;
use tokio::net::UdpSocket;
use tokio::time::timeout;
use turn::proto::PROTO_UDP;
use turn::proto::reqtrans::RequestedTransport;
use webrtc_util::Conn;

#[tokio::test]
async fn page_credentials_allocate_and_wrong_or_expired_ones_do_not() {
    let turn = start(config(false)).await;
    let (username, password) = credentials("alice", now() + 60);
    let alice = client(&turn, username.clone(), password).await;
    let relay = allocate(alice.clone())
        .await
        .expect("valid credentials allocate");
    assert_eq!(
        relay.local_addr().unwrap().ip().to_string(),
        "127.0.0.1",
        "the relay is advertised on turn_relay_ip"
    );
    alice.close().await.unwrap();

    let (_, other_password) = credentials("mallory", now() + 60);
    let mallory = client(&turn, username, other_password).await;
    assert!(
        allocate(mallory.clone()).await.is_err(),
        "a password that is not the username's HMAC is refused"
    );
    mallory.close().await.unwrap();

    let (username, password) = credentials("bob", now() - 1);
    let bob = client(&turn, username, password).await;
    assert!(
        allocate(bob.clone()).await.is_err(),
        "expired credentials are refused"
    );
    bob.close().await.unwrap();

    let stranger = start(TurnConfig {
        secret: "another-secret".into(),
        ..config(false)
    })
    .await;
    let (username, password) = credentials("carol", now() + 60);
    let carol = client(&stranger, username, password).await;
    assert!(
        allocate(carol.clone()).await.is_err(),
        "credentials made with another secret are refused"
    );
    carol.close().await.unwrap();
    stranger.stop().await;
    turn.stop().await;
}

#[tokio::test]
async fn local_networks_are_refused_as_peers() {
    let turn = start(config(false)).await;
    let (username, password) = credentials("alice", now() + 60);
    let alice = client(&turn, username, password).await;
    let relay = allocate(alice.clone())
        .await
        .expect("valid credentials allocate");
    for peer in [
        "127.0.0.1:9",
        "10.0.0.1:9",
        "192.168.1.1:9",
        "172.16.0.1:9",
        "169.254.1.1:9",
        "0.0.0.0:9",
        "[::]:9",
        "[::1]:9",
        "[fe80::1]:9",
        "[fc00::1]:9",
    ] {
        let peer: SocketAddr = peer.parse().unwrap();
        // Sending to a new peer first asks for a permission (CreatePermission).
        let sent = timeout(Duration::from_secs(10), relay.send_to(b"hello", peer))
            .await
            .unwrap_or_else(|_| panic!("no answer about {peer}"));
        let err = sent.expect_err(&format!("{peer} must be refused"));
        assert!(err.to_string().contains("403"), "{peer}: {err}");
    }
    alice.close().await.unwrap();
    turn.stop().await;
}

#[tokio::test]
async fn with_private_peers_allowed_a_loopback_peer_gets_datagrams_both_ways() {
    let turn = start(config(true)).await;
    let (username, password) = credentials("alice", now() + 60);
    let alice = client(&turn, username, password).await;
    let relay = allocate(alice.clone())
        .await
        .expect("valid credentials allocate");
    let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let peer_addr = peer.local_addr().unwrap();

    relay.send_to(b"ping", peer_addr).await.unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = timeout(Duration::from_secs(10), peer.recv_from(&mut buf))
        .await
        .expect("the datagram is relayed to the peer")
        .unwrap();
    assert_eq!(&buf[..n], b"ping");
    assert_eq!(from, relay.local_addr().unwrap(), "it comes from the relay");

    peer.send_to(b"pong", from).await.unwrap();
    let (n, from) = timeout(Duration::from_secs(10), relay.recv_from(&mut buf))
        .await
        .expect("the answer is relayed back")
        .unwrap();
    assert_eq!(&buf[..n], b"pong");
    assert_eq!(from, peer_addr);
    alice.close().await.unwrap();
    turn.stop().await;
}

#[tokio::test]
async fn each_user_holds_at_most_the_allowed_allocations() {
    let turn = start(TurnConfig {
        max_allocations_per_user: 2,
        ..config(false)
    })
    .await;
    let mut clients = Vec::new();
    let mut relays = Vec::new();
    for _ in 0..2 {
        // Credentials from two different pages of the same user differ only in expiry.
        let (username, password) = credentials("carol", now() + 60 + clients.len() as u64);
        let carol = client(&turn, username, password).await;
        relays.push(allocate(carol.clone()).await.expect("within the cap"));
        clients.push(carol);
    }
    let (username, password) = credentials("carol", now() + 90);
    let third = client(&turn, username, password).await;
    let err = allocate(third.clone())
        .await
        .err()
        .expect("a third allocation is refused");
    assert!(err.contains("486"), "Allocation Quota Reached: {err}");
    third.close().await.unwrap();

    let (username, password) = credentials("dave", now() + 60);
    let dave = client(&turn, username, password).await;
    allocate(dave.clone())
        .await
        .expect("another user is not affected");
    dave.close().await.unwrap();
    for c in clients {
        c.close().await.unwrap();
    }
    turn.stop().await;
}

/// The error `relay` meets asking for a permission to `peer` (by sending to it), if any.
async fn permission_error(relay: &impl Conn, peer: SocketAddr) -> Option<String> {
    timeout(Duration::from_secs(10), relay.send_to(b"hello", peer))
        .await
        .unwrap_or_else(|_| panic!("no answer about {peer}"))
        .err()
        .map(|err| err.to_string())
}

/// The next datagram `relay` receives that is `expected`, and where it came from; others
/// (an earlier one that raced a permission) are skipped.
async fn receive(relay: &impl Conn, expected: &[u8]) -> SocketAddr {
    let mut buf = [0u8; 64];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (n, from) = timeout(left, relay.recv_from(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("{:?} never came", String::from_utf8_lossy(expected)))
            .unwrap();
        if &buf[..n] == expected {
            return from;
        }
    }
}

#[tokio::test]
async fn this_host_and_special_networks_are_refused_as_peers() {
    // An address of the Internet, as a real turn_relay_ip is: refused only for being this
    // host's. (The relays open on 127.0.0.1 whatever they are advertised as.)
    let turn = start(TurnConfig {
        relay_ip: "1.2.3.4".parse().unwrap(),
        ..config(false)
    })
    .await;
    let (username, password) = credentials("alice", now() + 60);
    let alice = client(&turn, username, password).await;
    let relay = allocate(alice.clone())
        .await
        .expect("valid credentials allocate");
    assert_eq!(relay.local_addr().unwrap().ip().to_string(), "1.2.3.4");
    let mut peers: Vec<SocketAddr> = vec!["1.2.3.4:9".parse().unwrap(), turn.local_addr()];
    peers.extend(
        if_addrs::get_if_addrs()
            .unwrap()
            .iter()
            .map(|interface| SocketAddr::new(interface.ip(), 9)),
    );
    for peer in [
        // IETF protocol assignments, benchmarking, reserved, documentation, 6to4 relays,
        // multicast.
        "192.0.0.1:9",
        "198.18.0.1:9",
        "240.0.0.1:9",
        "192.0.2.1:9",
        "198.51.100.1:9",
        "203.0.113.1:9",
        "192.88.99.1:9",
        "224.0.0.1:9",
        // NAT64, of a private and of a public address.
        "[64:ff9b::a00:1]:9",
        "[64:ff9b::808:808]:9",
        // 6to4, IPv4-compatible and IPv4-mapped forms of 8.8.8.8.
        "[2002:808:808::1]:9",
        "[::808:808]:9",
        "[::ffff:8.8.8.8]:9",
        // Site-local, Teredo, discard-only, multicast.
        "[fec0::1]:9",
        "[2001::1]:9",
        "[100::1]:9",
        "[ff02::1]:9",
    ] {
        peers.push(peer.parse().unwrap());
    }
    for peer in peers {
        let err = permission_error(&relay, peer)
            .await
            .unwrap_or_else(|| panic!("{peer} must be refused"));
        assert!(err.contains("403"), "{peer}: {err}");
    }
    alice.close().await.unwrap();
    turn.stop().await;
}

#[tokio::test]
async fn relays_of_this_server_reach_each_other_though_loopback_is_refused() {
    let turn = start(config(false)).await;
    let (username, password) = credentials("alice", now() + 60);
    let alice = client(&turn, username, password).await;
    let alice_relay = allocate(alice.clone()).await.unwrap();
    let (username, password) = credentials("bob", now() + 60);
    let bob = client(&turn, username, password).await;
    let bob_relay = allocate(bob.clone()).await.unwrap();
    let (a, b) = (
        alice_relay.local_addr().unwrap(),
        bob_relay.local_addr().unwrap(),
    );
    assert!(
        permission_error(&alice_relay, "127.0.0.1:9".parse().unwrap())
            .await
            .is_some_and(|err| err.contains("403")),
        "loopback is still refused"
    );
    // Each side's first datagram asks for its permission; the other side's may come
    // before that and be dropped, so each says something again once both have one.
    alice_relay
        .send_to(b"hello", b)
        .await
        .expect("another relay of this server is a permitted peer");
    bob_relay.send_to(b"hello", a).await.unwrap();
    alice_relay.send_to(b"ping", b).await.unwrap();
    assert_eq!(receive(&bob_relay, b"ping").await, a);
    bob_relay.send_to(b"pong", a).await.unwrap();
    assert_eq!(receive(&alice_relay, b"pong").await, b);
    alice.close().await.unwrap();
    bob.close().await.unwrap();
    turn.stop().await;
}

#[tokio::test]
async fn each_client_address_holds_at_most_the_allowed_allocations() {
    let turn = start(TurnConfig {
        max_allocations_per_address: 2,
        ..config(false)
    })
    .await;
    let mut relays = Vec::new();
    for name in ["alice", "bob"] {
        let (username, password) = credentials(name, now() + 60);
        let c = client(&turn, username, password).await;
        relays.push(allocate(c.clone()).await.expect("within the cap"));
    }
    let (username, password) = credentials("carol", now() + 60);
    let carol = client(&turn, username.clone(), password.clone()).await;
    let err = allocate(carol.clone())
        .await
        .err()
        .expect("a third allocation from the address is refused, whoever asks");
    assert!(err.contains("486"), "Allocation Quota Reached: {err}");

    let (username_d, password_d) = credentials("dave", now() + 60);
    let dave = client_at("127.0.0.2", &turn, username_d, password_d).await;
    allocate(dave.clone())
        .await
        .expect("another address is not affected");

    // A relay closed (a Refresh to zero) is one fewer.
    relays.remove(0).close().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let carol = client(&turn, username.clone(), password.clone()).await;
        match allocate(carol.clone()).await {
            Ok(_) => break,
            Err(err) if Instant::now() < deadline => {
                assert!(err.contains("486"), "{err}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("a freed place is not taken back: {err}"),
        }
    }
    turn.stop().await;
}

#[tokio::test]
async fn releasing_a_name_closes_its_relays_and_frees_their_ports() {
    let turn = start(config(false)).await;
    let allocations = turn.allocations();
    let (alice, bob) = (
        UserName::parse("alice").unwrap(),
        UserName::parse("bob").unwrap(),
    );
    let mut ports = Vec::new();
    for (name, expiry) in [
        ("alice", now() + 60),
        ("alice", now() + 61),
        ("bob", now() + 60),
    ] {
        let (username, password) = credentials(name, expiry);
        let c = client(&turn, username, password).await;
        ports.push(allocate(c).await.unwrap().local_addr().unwrap().port());
    }
    assert_eq!(allocations.count(&alice), 2);
    assert_eq!(allocations.count(&bob), 1);

    allocations.release(&alice);
    assert_eq!(allocations.count(&alice), 0);
    for &port in &ports[..2] {
        let deadline = Instant::now() + Duration::from_secs(5);
        while UdpSocket::bind(("127.0.0.1", port)).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "alice's relay port {port} is still taken"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(allocations.count(&bob), 1, "bob's relay stays");
    assert!(
        UdpSocket::bind(("127.0.0.1", ports[2])).await.is_err(),
        "bob's relay port is still his"
    );
    turn.stop().await;
}

/// An Allocate with `name`'s page credentials and `nonce`.
fn signed_allocate(name: &str, nonce: &str) -> Vec<u8> {
    let (username, password) = credentials(name, now() + 60);
    let setters: Vec<Box<dyn Setter>> = vec![
        Box::new(TransactionId::new()),
        Box::new(MessageType::new(METHOD_ALLOCATE, CLASS_REQUEST)),
        Box::new(RequestedTransport {
            protocol: PROTO_UDP,
        }),
        Box::new(TextAttribute::new(ATTR_USERNAME, username.clone())),
        Box::new(TextAttribute::new(ATTR_REALM, "duet".into())),
        Box::new(TextAttribute::new(ATTR_NONCE, nonce.into())),
        Box::new(MessageIntegrity::new_long_term_integrity(
            username,
            "duet".into(),
            password,
        )),
    ];
    let mut m = Message::new();
    m.build(&setters).unwrap();
    m.raw
}

/// Sends `request` from `socket` to `to` and reads the answer.
async fn exchange(socket: &UdpSocket, to: SocketAddr, request: &[u8]) -> Message {
    socket.send_to(request, to).await.unwrap();
    let mut buf = vec![0u8; 1500];
    let (n, _) = timeout(Duration::from_secs(10), socket.recv_from(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    let mut m = Message {
        raw: buf[..n].to_vec(),
        ..Default::default()
    };
    m.decode().unwrap();
    m
}

fn error_code(m: &Message) -> u16 {
    assert_eq!(m.typ.class, CLASS_ERROR_RESPONSE, "{m}");
    let mut code = ErrorCodeAttribute::default();
    code.get_from(m).unwrap();
    code.code.0
}

#[tokio::test]
async fn a_nonce_holds_only_from_the_address_it_was_given_to() {
    let turn = start(config(false)).await;
    let server = turn.local_addr();
    let (asked, other) = (
        UdpSocket::bind("127.0.0.1:0").await.unwrap(),
        UdpSocket::bind("127.0.0.1:0").await.unwrap(),
    );
    let challenge = exchange(&asked, server, &bare_allocate()).await;
    assert_eq!(error_code(&challenge), 401);
    let nonce = TextAttribute::get_from_as(&challenge, ATTR_NONCE)
        .unwrap()
        .text;

    let replayed = exchange(&other, server, &signed_allocate("alice", &nonce)).await;
    assert_eq!(error_code(&replayed), 438, "Stale Nonce, with a fresh one");
    assert!(TextAttribute::get_from_as(&replayed, ATTR_NONCE).is_ok());
    let granted = exchange(&asked, server, &signed_allocate("alice", &nonce)).await;
    assert_eq!(granted.typ.class, CLASS_SUCCESS_RESPONSE, "{granted}");
    turn.stop().await;
}

#[tokio::test]
async fn a_page_signing_out_closes_its_relays() {
    use duet::server::reach::lan::Lan;
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};

    let turn = start(config(false)).await;
    let allocations = turn.allocations();
    let settings = duet::server::Settings {
        data_dir: tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep(),
        ..Default::default()
    };
    let options = leptos::config::LeptosOptions::builder()
        .output_name("duet")
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let lan = Lan::new("http", addr, &[], None);
    let app = duet::server::app(settings, options, lan, Some(allocations.clone())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (mut page, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/webrtc/alice"))
        .await
        .expect("alice's socket opens");
    let welcome = timeout(Duration::from_secs(2), page.next()).await;
    assert!(
        matches!(welcome, Ok(Some(Ok(_)))),
        "alice is welcomed: {welcome:?}"
    );
    let (username, password) = credentials("alice", now() + 60);
    let c = client(&turn, username, password).await;
    let relay = allocate(c).await.unwrap();
    let port = relay.local_addr().unwrap().port();
    let alice = UserName::parse("alice").unwrap();
    assert_eq!(allocations.count(&alice), 1);

    // Leaving the page on purpose (1000) signs alice out at once.
    page.send(tokio_tungstenite::tungstenite::Message::Close(Some(
        CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        },
    )))
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while allocations.count(&alice) > 0 || UdpSocket::bind(("127.0.0.1", port)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "alice's relay is still open after she signed out"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    turn.stop().await;
}
