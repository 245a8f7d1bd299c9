//! The built-in TURN server for the TURN tests (turn, turn_flood): one on loopback, page
//! credentials as pages get them, webrtc-rs's TURN client, and a bare Allocate.

use duet::protocol::UserName;
use duet::server::reach::ice::turn_credentials;
use duet::server::reach::turn::{TurnConfig, TurnServer};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use stun::agent::TransactionId;
use stun::message::{CLASS_REQUEST, METHOD_ALLOCATE, Message, MessageType};
use tokio::net::UdpSocket;
use tokio::time::timeout;
use turn::client::{Client, ClientConfig};
use turn::proto::PROTO_UDP;
use turn::proto::reqtrans::RequestedTransport;
use webrtc_util::Conn;

pub const SECRET: &str = "north-pole-secret";

/// A server on loopback with the default caps.
pub fn config(allow_private: bool) -> TurnConfig {
    TurnConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        relay_ip: "127.0.0.1".parse().unwrap(),
        realm: "duet".into(),
        secret: SECRET.into(),
        allow_private,
        max_allocations_per_user: 10,
        max_allocations_per_address: 20,
    }
}

pub async fn start(config: TurnConfig) -> TurnServer {
    TurnServer::start(config)
        .await
        .expect("the TURN server starts")
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Credentials for `name` as a page gets them, expiring at `expiry`.
pub fn credentials(name: &str, expiry: u64) -> (String, String) {
    turn_credentials(SECRET, &UserName::parse(name).unwrap(), expiry)
}

pub async fn client(turn: &TurnServer, username: String, password: String) -> Client {
    client_at("127.0.0.1", turn, username, password).await
}

/// A client on `ip` (any of 127.0.0.0/8 is this machine too).
pub async fn client_at(ip: &str, turn: &TurnServer, username: String, password: String) -> Client {
    let socket = UdpSocket::bind((ip, 0)).await.unwrap();
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
pub async fn allocate(client: Client) -> Result<impl Conn, String> {
    timeout(Duration::from_secs(10), client.allocate())
        .await
        .map_err(|_| "no answer in 10 s".to_string())?
        .map_err(|err| err.to_string())
}

/// An Allocate with no credentials, as every client's first is.
pub fn bare_allocate() -> Vec<u8> {
    let mut m = Message::new();
    m.build(&[
        Box::new(TransactionId::new()),
        Box::new(MessageType::new(METHOD_ALLOCATE, CLASS_REQUEST)),
        Box::new(RequestedTransport {
            protocol: PROTO_UDP,
        }),
    ])
    .unwrap();
    m.raw
}
