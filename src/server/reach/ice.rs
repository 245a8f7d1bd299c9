//! The ICE servers a page is handed: the fixed ones from the settings, plus, when a TURN
//! secret is set, TURN credentials made for this user alone in the TURN REST format that
//! coturn's `use-auth-secret` checks (username `EXPIRY:NAME`, password
//! `base64(HMAC-SHA1(secret, username))`). They expire, so the socket hands out fresh ones
//! halfway through their life.

use crate::protocol::{IceServer, UserName};
use crate::server::settings::Settings;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use std::time::{SystemTime, UNIX_EPOCH};

/// TURN credentials for `name`, valid until `expiry` (seconds since 1970).
pub fn turn_credentials(secret: &str, name: &UserName, expiry: u64) -> (String, String) {
    let username = format!("{expiry}:{name}");
    let password = turn_password(secret, &username);
    (username, password)
}

/// The password that goes with a TURN REST `username`: what the built-in TURN server
/// recomputes to check one.
pub fn turn_password(secret: &str, username: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Everything `name`'s page should use now.
pub fn ice_servers_for(settings: &Settings, name: &UserName) -> Vec<IceServer> {
    let mut servers = settings.ice_servers.clone();
    if let Some(secret) = settings.turn_secret.as_deref()
        && !settings.turn_urls.is_empty()
    {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let (username, credential) = turn_credentials(secret, name, now + settings.turn_ttl_secs);
        servers.push(IceServer {
            urls: settings.turn_urls.clone(),
            username: Some(username),
            credential: Some(credential),
        });
    }
    servers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_follow_the_turn_rest_formula() {
        let name = UserName::parse("alice").unwrap();
        let (username, password) = turn_credentials("north-pole-secret", &name, 1_700_000_000);
        assert_eq!(username, "1700000000:alice");
        // Computed apart, with Python's hmac and base64 modules.
        assert_eq!(password, "BlMD9egkgN94t6m66y4XRc99g2I=");
    }

    #[test]
    fn a_turn_server_is_added_only_with_a_secret_and_urls() {
        let name = UserName::parse("bob").unwrap();
        let mut settings = Settings::default();
        assert!(ice_servers_for(&settings, &name).is_empty());
        settings.turn_urls = vec!["turn:127.0.0.1:3478".into()];
        assert!(ice_servers_for(&settings, &name).is_empty(), "no secret");
        settings.turn_secret = Some("s".into());
        settings.turn_ttl_secs = 600;
        let servers = ice_servers_for(&settings, &name);
        let turn = &servers[0];
        let username = turn.username.as_deref().unwrap();
        let (expiry, who) = username.split_once(':').unwrap();
        assert_eq!(who, "bob");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let expiry: u64 = expiry.parse().unwrap();
        assert!(
            (now + 595..=now + 605).contains(&expiry),
            "expiry {expiry}, now {now}"
        );
        let (_, expected) = turn_credentials("s", &name, expiry);
        assert_eq!(turn.credential.as_deref(), Some(expected.as_str()));
    }
}
