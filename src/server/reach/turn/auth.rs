//! Who may use the relay: TURN REST credentials (`EXPIRY:NAME`, with the password
//! [`turn_password`] makes), checked by the long-term credential mechanism (RFC 5389
//! §10.2). The nonces the server hands out are its own MAC of the time and the client's
//! address, so checking one needs no memory of having issued it: a stranger's requests
//! cost nothing to remember, and a nonce is no use from any other address.

use super::error_response;
use crate::server::reach::ice::turn_password;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use stun::attributes::{ATTR_MESSAGE_INTEGRITY, ATTR_NONCE, ATTR_REALM, ATTR_USERNAME};
use stun::error_code::{CODE_BAD_REQUEST, CODE_STALE_NONCE, CODE_UNAUTHORIZED};
use stun::integrity::MessageIntegrity;
use stun::message::{Message, Setter};
use stun::textattrs::TextAttribute;
use turn::auth::{AuthHandler, generate_auth_key};

/// How long a nonce is good for: the crate's own, as RFC 5766 §4 asks (at most an hour).
const NONCE_LIFETIME: Duration = Duration::from_secs(3600);

/// Accepts a TURN REST username (`EXPIRY:NAME`) that has not expired, with the password
/// [`turn_password`] makes from it.
pub(super) struct RestAuth {
    pub secret: String,
}

impl AuthHandler for RestAuth {
    fn auth_handle(
        &self,
        username: &str,
        realm: &str,
        _src: SocketAddr,
    ) -> Result<Vec<u8>, turn::Error> {
        let expiry: u64 = username
            .split_once(':')
            .and_then(|(expiry, _)| expiry.parse().ok())
            .ok_or_else(|| turn::Error::Other(format!("{username:?} is not EXPIRY:NAME")))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(u64::MAX);
        if expiry < now {
            return Err(turn::Error::Other(format!("{username:?} has expired")));
        }
        let password = turn_password(&self.secret, username);
        Ok(generate_auth_key(username, realm, &password))
    }
}

/// A request whose credentials hold: its TURN username and the nonce it showed.
pub(super) struct Verified {
    pub username: String,
    pub nonce: String,
}

/// Why a request is not [`Verified`], as RFC 5389 §10.2.2 orders the checks.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Challenge {
    /// No MESSAGE-INTEGRITY (the first request of every client), an unknown or expired
    /// user, or a wrong password: 401 with a nonce.
    Unauthorized,
    /// MESSAGE-INTEGRITY without USERNAME, REALM or NONCE: 400.
    BadRequest,
    /// A nonce this server did not give this address, or gave over an hour ago: 438
    /// with a fresh one.
    StaleNonce,
}

/// Checks credentials and makes the challenges.
pub(super) struct Authenticator {
    rest: Arc<RestAuth>,
    realm: String,
    /// The MAC key of this run's nonces.
    key: [u8; 32],
    /// What nonce times count from.
    started: Instant,
}

impl Authenticator {
    pub fn new(rest: Arc<RestAuth>, realm: String) -> Result<Self, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        Ok(Self {
            rest,
            realm,
            key,
            started: Instant::now(),
        })
    }

    /// Whether `m`, from `from`, carries credentials that hold.
    pub fn check(&self, m: &Message, from: SocketAddr) -> Result<Verified, Challenge> {
        if !m.contains(ATTR_MESSAGE_INTEGRITY) {
            return Err(Challenge::Unauthorized);
        }
        let (Ok(username), Ok(realm), Ok(nonce)) = (
            TextAttribute::get_from_as(m, ATTR_USERNAME),
            TextAttribute::get_from_as(m, ATTR_REALM),
            TextAttribute::get_from_as(m, ATTR_NONCE),
        ) else {
            return Err(Challenge::BadRequest);
        };
        if !self.nonce_holds(&nonce.text, from) {
            return Err(Challenge::StaleNonce);
        }
        let key = self
            .rest
            .auth_handle(&username.text, &realm.text, from)
            .map_err(|_| Challenge::Unauthorized)?;
        MessageIntegrity(key)
            .check(&mut m.clone())
            .map_err(|_| Challenge::Unauthorized)?;
        Ok(Verified {
            username: username.text,
            nonce: nonce.text,
        })
    }

    /// The answer to `request` from `to` for `challenge`.
    pub fn answer(
        &self,
        request: &Message,
        challenge: Challenge,
        to: SocketAddr,
    ) -> Result<Vec<u8>, stun::Error> {
        let code = match challenge {
            Challenge::Unauthorized => CODE_UNAUTHORIZED,
            Challenge::StaleNonce => CODE_STALE_NONCE,
            Challenge::BadRequest => return error_response(request, CODE_BAD_REQUEST, vec![]),
        };
        let extra: Vec<Box<dyn Setter>> = vec![
            Box::new(TextAttribute::new(ATTR_NONCE, self.nonce_for(to))),
            Box::new(TextAttribute::new(ATTR_REALM, self.realm.clone())),
        ];
        error_response(request, code, extra)
    }

    /// A nonce for `to`: the time it was made, in seconds since start (16 hex digits), then
    /// the MAC of that time and `to`.
    fn nonce_for(&self, to: SocketAddr) -> String {
        let made = self.started.elapsed().as_secs();
        let mac = self.mac(made, to).finalize().into_bytes();
        let mut nonce = format!("{made:016x}");
        for b in mac {
            nonce.push_str(&format!("{b:02x}"));
        }
        nonce
    }

    /// Whether `nonce` is one [`Self::nonce_for`] made for `from` less than
    /// [`NONCE_LIFETIME`] ago.
    fn nonce_holds(&self, nonce: &str, from: SocketAddr) -> bool {
        let Some((made, mac)) = nonce.split_at_checked(16) else {
            return false;
        };
        let Ok(made) = u64::from_str_radix(made, 16) else {
            return false;
        };
        let fresh = self
            .started
            .elapsed()
            .as_secs()
            .checked_sub(made)
            .is_some_and(|age| age < NONCE_LIFETIME.as_secs());
        let Some(mac) = from_hex(mac) else {
            return false;
        };
        // Checked even when stale, in constant time.
        self.mac(made, from).verify_slice(&mac).is_ok() && fresh
    }

    fn mac(&self, made: u64, to: SocketAddr) -> Hmac<Sha1> {
        let mut mac = Hmac::<Sha1>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(&made.to_be_bytes());
        match to.ip() {
            IpAddr::V4(ip) => mac.update(&ip.octets()),
            IpAddr::V6(ip) => mac.update(&ip.octets()),
        }
        mac.update(&to.port().to_be_bytes());
        mac
    }
}

/// The bytes of lower-case or upper-case hex `text`, or `None`.
fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authenticator() -> Authenticator {
        Authenticator::new(Arc::new(RestAuth { secret: "s".into() }), "duet".into()).unwrap()
    }

    #[test]
    fn rest_credentials_are_checked_and_expire() {
        let auth = RestAuth { secret: "s".into() };
        let src = SocketAddr::from(([127, 0, 0, 1], 1));
        let later = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 60;
        let username = format!("{later}:alice");
        let key = auth.auth_handle(&username, "duet", src).unwrap();
        let expected = generate_auth_key(&username, "duet", &turn_password("s", &username));
        assert_eq!(key, expected);
        assert!(auth.auth_handle("1000:alice", "duet", src).is_err());
        assert!(auth.auth_handle("alice", "duet", src).is_err());
    }

    #[test]
    fn a_nonce_holds_only_for_its_address_and_its_hour() {
        let auth = authenticator();
        let alice: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let nonce = auth.nonce_for(alice);
        assert!(auth.nonce_holds(&nonce, alice));
        assert!(!auth.nonce_holds(&nonce, "192.0.2.1:5001".parse().unwrap()));
        assert!(!auth.nonce_holds(&nonce, "192.0.2.2:5000".parse().unwrap()));
        assert!(
            !authenticator().nonce_holds(&nonce, alice),
            "another run's key"
        );
        let mut forged = nonce.clone();
        forged.replace_range(..16, &format!("{:016x}", 1));
        assert!(!auth.nonce_holds(&forged, alice), "another time");
        for junk in ["", "xyz", "00000000000000000", &nonce[..20]] {
            assert!(!auth.nonce_holds(junk, alice), "{junk:?}");
        }
    }

    #[test]
    fn an_old_nonce_is_stale() {
        let mut auth = authenticator();
        let alice: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        // A machine up for less than an hour has no such instant.
        let Some(long_ago) = Instant::now().checked_sub(NONCE_LIFETIME + Duration::from_secs(1))
        else {
            return;
        };
        auth.started = long_ago;
        let old = format!(
            "{:016x}{}",
            0,
            auth.mac(0, alice)
                .finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        assert!(!auth.nonce_holds(&old, alice));
        assert!(auth.nonce_holds(&auth.nonce_for(alice), alice));
    }
}
