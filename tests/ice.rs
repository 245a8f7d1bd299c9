//! TURN credentials on the real server: each page gets its own, in the TURN REST format
//! coturn checks, expiring after `turn_ttl_secs` and renewed halfway through.

mod common;

use common::{Client, start, test_settings};
use duet::protocol::{IceServer, Message, UserName};
use duet::server::Settings;
use duet::server::reach::ice::turn_credentials;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECRET: &str = "north-pole-secret";
const URL: &str = "turn:127.0.0.1:3478";

/// The TURN entry's expiry, after checking it is `name`'s and signed with [`SECRET`].
fn expiry_of(servers: &[IceServer], name: &str) -> u64 {
    let turn = servers
        .iter()
        .find(|s| s.urls == [URL])
        .unwrap_or_else(|| panic!("no TURN server in {servers:?}"));
    let username = turn.username.as_deref().expect("a TURN username");
    let (expiry, who) = username.split_once(':').expect("EXPIRY:NAME");
    assert_eq!(who, name);
    let expiry: u64 = expiry.parse().expect("a number of seconds");
    let who = UserName::parse(who).expect("a valid name");
    let (_, password) = turn_credentials(SECRET, &who, expiry);
    assert_eq!(
        turn.credential.as_deref(),
        Some(password.as_str()),
        "HMAC-SHA1 of the username"
    );
    expiry
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn each_page_gets_its_own_turn_credentials_and_fresh_ones_before_they_expire() {
    let addr = start(Settings {
        turn_secret: Some(SECRET.into()),
        turn_urls: vec![URL.into()],
        turn_ttl_secs: 2,
        ..test_settings()
    })
    .await;
    let mut alice = Client::open(addr, "alice").await;
    let first = match alice.recv().await {
        Message::Welcome { ice_servers, .. } => expiry_of(&ice_servers, "alice"),
        other => panic!("expected a welcome, got {other:?}"),
    };
    assert!(
        (now() + 1..=now() + 3).contains(&first),
        "expires in about 2 s"
    );

    // Halfway through their life, new ones, valid for longer.
    let renewed = match alice.recv_within(Duration::from_millis(2_500)).await {
        Message::IceServers { ice_servers, .. } => expiry_of(&ice_servers, "alice"),
        other => panic!("expected ice_servers, got {other:?}"),
    };
    assert!(renewed >= first, "renewed {renewed}, first {first}");

    // bob's are his own.
    let mut bob = Client::open(addr, "bob").await;
    match bob.recv().await {
        Message::Welcome { ice_servers, .. } => {
            expiry_of(&ice_servers, "bob");
        }
        other => panic!("expected a welcome, got {other:?}"),
    }
}

#[tokio::test]
async fn without_a_secret_no_turn_credentials_are_made_or_renewed() {
    let addr = start(Settings {
        turn_urls: vec![URL.into()],
        turn_ttl_secs: 2,
        ..test_settings()
    })
    .await;
    let mut alice = Client::open(addr, "alice").await;
    match alice.recv().await {
        Message::Welcome { ice_servers, .. } => assert!(ice_servers.is_empty(), "{ice_servers:?}"),
        other => panic!("expected a welcome, got {other:?}"),
    }
    alice.expect_silence(1_500).await;
}
