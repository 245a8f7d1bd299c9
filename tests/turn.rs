//! The built-in TURN server, driven by webrtc-rs's TURN client over real UDP sockets: it
//! takes exactly the TURN REST credentials pages are given, refuses to relay into local
//! networks unless told to, relays to a loopback peer when told to, and caps allocations per
//! user.

use duet::protocol::UserName;
use duet::server::reach::ice::turn_credentials;
use duet::server::reach::turn::{TurnConfig, TurnServer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::UdpSocket;
use tokio::time::timeout;
use turn::client::{Client, ClientConfig};
use webrtc_util::Conn;

const SECRET: &str = "north-pole-secret";

async fn start(allow_private: bool, max_allocations_per_user: usize) -> TurnServer {
    TurnServer::start(TurnConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        relay_ip: "127.0.0.1".parse().unwrap(),
        realm: "duet".into(),
        secret: SECRET.into(),
        allow_private,
        max_allocations_per_user,
    })
    .await
    .expect("the TURN server starts")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Credentials for `name` as a page gets them, expiring at `expiry`.
fn credentials(name: &str, expiry: u64) -> (String, String) {
    turn_credentials(SECRET, &UserName::parse(name).unwrap(), expiry)
}

async fn client(turn: &TurnServer, username: String, password: String) -> Client {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = turn.local_addr().to_string();
    let client = Client::new(ClientConfig {
        stun_serv_addr: addr.clone(),
        turn_serv_addr: addr,
        username,
        password,
        realm: "duet".into(),
        software: String::new(),
        rto_in_ms: 0,
        conn: Arc::new(socket),
        vnet: None,
    })
    .await
    .unwrap();
    client.listen().await.unwrap();
    client
}

/// Allocates a relay, within a bound so a silent server fails the test instead of hanging it.
/// Takes a (cheap) clone: the relay must not borrow the client.
async fn allocate(client: Client) -> Result<impl Conn, String> {
    timeout(Duration::from_secs(10), client.allocate())
        .await
        .map_err(|_| "no answer in 10 s".to_string())?
        .map_err(|err| err.to_string())
}

#[tokio::test]
async fn page_credentials_allocate_and_wrong_or_expired_ones_do_not() {
    let turn = start(false, 10).await;
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

    let stranger = TurnServer::start(TurnConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        relay_ip: "127.0.0.1".parse().unwrap(),
        realm: "duet".into(),
        secret: "another-secret".into(),
        allow_private: false,
        max_allocations_per_user: 10,
    })
    .await
    .unwrap();
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
    let turn = start(false, 10).await;
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
    let turn = start(true, 10).await;
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
    let turn = start(false, 2).await;
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
