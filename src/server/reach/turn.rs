//! The built-in TURN server (webrtc-rs `turn`), for deployments without a coturn: it
//! accepts exactly the TURN REST credentials [`super::ice`] hands to pages, refuses to relay
//! to addresses inside the host's own networks, and caps allocations per user.
//!
//! `turn` 0.17 has no hook to veto a peer address, so [`Guard`] sits between the UDP socket
//! and the crate's server: it reads each datagram first and answers a CreatePermission or
//! ChannelBind for a forbidden peer with 403 (Forbidden, RFC 5766 §9.1 and §11.2), drops a
//! Send indication to one, and answers an Allocate over the user's cap with 486
//! (Allocation Quota Reached). Without a permission the crate relays nothing to or from a
//! peer, so refusing permissions and channels is enough to keep relays off those peers.

use super::ice::turn_password;
use crate::server::settings::Settings;
use async_trait::async_trait;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{SystemTime, UNIX_EPOCH};
use stun::attributes::{ATTR_MESSAGE_INTEGRITY, ATTR_USERNAME, ATTR_XOR_PEER_ADDRESS};
use stun::error_code::{CODE_ALLOC_QUOTA_REACHED, CODE_FORBIDDEN, ErrorCode};
use stun::message::{
    CLASS_ERROR_RESPONSE, CLASS_INDICATION, CLASS_REQUEST, Getter, METHOD_ALLOCATE,
    METHOD_CHANNEL_BIND, METHOD_CREATE_PERMISSION, METHOD_SEND, Message, MessageType, Method,
    Setter,
};
use stun::textattrs::TextAttribute;
use turn::auth::{AuthHandler, generate_auth_key};
use turn::proto::peeraddr::PeerAddress;
use turn::relay::relay_static::RelayAddressGeneratorStatic;
use turn::server::Server;
use turn::server::config::{ConnConfig, ServerConfig};
use webrtc_util::Conn;
use webrtc_util::vnet::net::Net;

/// What the built-in TURN server needs, taken from [`Settings`] or given by a test.
#[derive(Clone, Debug)]
pub struct TurnConfig {
    /// The UDP address to listen on (port 0: any free one).
    pub listen: SocketAddr,
    /// The address relays are advertised on: the one peers and pages can reach.
    pub relay_ip: IpAddr,
    pub realm: String,
    /// The TURN REST shared secret, the same one pages' credentials are made with.
    pub secret: String,
    /// Relay to loopback, private, link-local and other local addresses too (tests, LANs).
    pub allow_private: bool,
    /// Allocations one user (the NAME of `EXPIRY:NAME`) may hold at once.
    pub max_allocations_per_user: usize,
}

/// A TURN setting that cannot be used, or a socket that cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error(
        "turn_listen is {0}, which is no address peers can reach: set turn_relay_ip to this machine's public address"
    )]
    NoRelayIp(SocketAddr),
    #[error("cannot listen for TURN on {addr}: {err}")]
    Listen {
        addr: SocketAddr,
        err: std::io::Error,
    },
    #[error("starting the TURN server: {0}")]
    Start(#[from] turn::Error),
}

impl TurnConfig {
    /// The built-in server's settings, or `None` when `turn_listen` or `turn_secret` is unset.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, TurnError> {
        let (Some(listen), Some(secret)) = (settings.turn_listen, settings.turn_secret.clone())
        else {
            return Ok(None);
        };
        let relay_ip = match settings.turn_relay_ip {
            Some(ip) => ip,
            None if !listen.ip().is_unspecified() => listen.ip(),
            None => return Err(TurnError::NoRelayIp(listen)),
        };
        Ok(Some(Self {
            listen,
            relay_ip,
            realm: settings.turn_realm.clone(),
            secret,
            allow_private: settings.turn_allow_private,
            max_allocations_per_user: settings.turn_max_allocations_per_user,
        }))
    }
}

/// A running built-in TURN server.
pub struct TurnServer {
    server: Arc<Server>,
    addr: SocketAddr,
    relay_ip: IpAddr,
}

impl TurnServer {
    /// Binds the UDP socket and starts serving.
    pub async fn start(config: TurnConfig) -> Result<Self, TurnError> {
        let socket = tokio::net::UdpSocket::bind(config.listen)
            .await
            .map_err(|err| TurnError::Listen {
                addr: config.listen,
                err,
            })?;
        let addr = socket.local_addr().map_err(|err| TurnError::Listen {
            addr: config.listen,
            err,
        })?;
        let guard = Arc::new(Guard {
            inner: Arc::new(socket),
            allow_private: config.allow_private,
            max_allocations_per_user: config.max_allocations_per_user,
            server: OnceLock::new(),
        });
        let server = Arc::new(
            Server::new(ServerConfig {
                conn_configs: vec![ConnConfig {
                    conn: guard.clone(),
                    relay_addr_generator: Box::new(RelayAddressGeneratorStatic {
                        relay_address: config.relay_ip,
                        // Relays open on the listening interface (all of them for 0.0.0.0),
                        // on any free port.
                        address: bracketed(config.listen.ip()),
                        net: Arc::new(Net::new(None)),
                    }),
                }],
                realm: config.realm,
                auth_handler: Arc::new(RestAuth {
                    secret: config.secret,
                }),
                // Zero: the crate's default (ten minutes, RFC 5766's).
                channel_bind_timeout: std::time::Duration::ZERO,
                alloc_close_notify: None,
            })
            .await?,
        );
        let _ = guard.server.set(Arc::downgrade(&server));
        Ok(Self {
            server,
            addr,
            relay_ip: config.relay_ip,
        })
    }

    /// The address it listens on (with the real port if 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL pages should be given for it: the relay address with the listening port.
    pub fn url(&self) -> String {
        format!(
            "turn:{}:{}?transport=udp",
            bracketed(self.relay_ip),
            self.addr.port()
        )
    }

    /// Closes every allocation and the socket.
    pub async fn stop(self) {
        if let Err(err) = self.server.close().await {
            tracing::warn!("stopping the TURN server: {err}");
        }
    }
}

/// `ip` as the host part of `host:port` (IPv6 in brackets).
fn bracketed(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    }
}

/// Accepts a TURN REST username (`EXPIRY:NAME`) that has not expired, with the password
/// [`turn_password`] makes from it.
struct RestAuth {
    secret: String,
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

/// Whether a peer address is one the relay must not reach unless private peers are allowed:
/// this host and the networks around it, rather than the Internet.
pub fn is_forbidden_peer(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => forbidden_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(ip),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        // 0.0.0.0/8 ("this network"; Linux sends 0.0.0.0 to itself).
        || a == 0
        // 100.64.0.0/10, carrier-grade NAT: the provider's network, not the Internet.
        || (a == 100 && (64..128).contains(&b))
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fc00::/7, unique local.
        || (first & 0xfe00) == 0xfc00
        // fe80::/10, link-local.
        || (first & 0xffc0) == 0xfe80
}

/// The crate's UDP socket, with the checks the crate lacks in front of it (see the module
/// header).
struct Guard {
    inner: Arc<dyn Conn + Send + Sync>,
    allow_private: bool,
    max_allocations_per_user: usize,
    /// Set once the server exists, to count a user's allocations.
    server: OnceLock<Weak<Server>>,
}

/// What becomes of a datagram.
enum Verdict {
    Pass,
    Drop,
    Refuse(Method, ErrorCode),
}

impl Guard {
    async fn verdict(&self, packet: &[u8]) -> Verdict {
        if !stun::message::is_message(packet) {
            // ChannelData: the crate relays it only over a channel, which needs a permission.
            return Verdict::Pass;
        }
        let mut m = Message {
            raw: packet.to_vec(),
            ..Default::default()
        };
        if m.decode().is_err() {
            // The crate answers malformed requests itself.
            return Verdict::Pass;
        }
        let method = m.typ.method;
        let relays_to_peer = (m.typ.class == CLASS_REQUEST
            && (method == METHOD_CREATE_PERMISSION || method == METHOD_CHANNEL_BIND))
            || (m.typ.class == CLASS_INDICATION && method == METHOD_SEND);
        if relays_to_peer && !self.allow_private && self.names_forbidden_peer(&m) {
            return if m.typ.class == CLASS_INDICATION {
                Verdict::Drop
            } else {
                Verdict::Refuse(method, CODE_FORBIDDEN)
            };
        }
        // Only an Allocate with credentials can succeed; the first, bare one gets its 401.
        if m.typ.class == CLASS_REQUEST
            && method == METHOD_ALLOCATE
            && m.contains(ATTR_MESSAGE_INTEGRITY)
            && let Ok(username) = TextAttribute::get_from_as(&m, ATTR_USERNAME)
            && self.allocations_of(user_of(&username.text)).await >= self.max_allocations_per_user
        {
            return Verdict::Refuse(method, CODE_ALLOC_QUOTA_REACHED);
        }
        Verdict::Pass
    }

    /// Whether any XOR-PEER-ADDRESS in `m` is forbidden (or unreadable). Each is read on
    /// its own: the crate's getter only ever returns the first.
    fn names_forbidden_peer(&self, m: &Message) -> bool {
        m.attributes
            .0
            .iter()
            .filter(|attr| attr.typ == ATTR_XOR_PEER_ADDRESS)
            .any(|attr| {
                let mut one = Message::new();
                one.transaction_id = m.transaction_id;
                one.add(ATTR_XOR_PEER_ADDRESS, &attr.value);
                let mut peer = PeerAddress::default();
                peer.get_from(&one).is_err() || is_forbidden_peer(peer.ip)
            })
    }

    /// How many allocations `user` holds now.
    async fn allocations_of(&self, user: &str) -> usize {
        let Some(server) = self.server.get().and_then(Weak::upgrade) else {
            return 0;
        };
        match server.get_allocations_info(None).await {
            Ok(infos) => infos
                .values()
                .filter(|info| user_of(&info.username) == user)
                .count(),
            Err(err) => {
                tracing::warn!("counting TURN allocations: {err}");
                0
            }
        }
    }

    async fn refuse(&self, packet: &[u8], to: SocketAddr, method: Method, code: ErrorCode) {
        let answer = match error_answer(packet, method, code) {
            Ok(answer) => answer,
            Err(err) => {
                tracing::warn!("building a TURN error answer: {err}");
                return;
            }
        };
        if let Err(err) = self.inner.send_to(&answer, to).await {
            tracing::debug!("answering {to} over TURN: {err}");
        }
    }
}

/// The error response with `code` to the request in `packet`.
fn error_answer(packet: &[u8], method: Method, code: ErrorCode) -> Result<Vec<u8>, stun::Error> {
    let mut request = Message {
        raw: packet.to_vec(),
        ..Default::default()
    };
    request.decode()?;
    let setters: [Box<dyn Setter>; 3] = [
        Box::new(request.transaction_id),
        Box::new(MessageType::new(method, CLASS_ERROR_RESPONSE)),
        Box::new(code),
    ];
    let mut answer = Message::new();
    answer.build(&setters)?;
    Ok(answer.raw)
}

/// The NAME of a TURN REST username `EXPIRY:NAME` (all of it if it has no colon).
fn user_of(username: &str) -> &str {
    username.split_once(':').map_or(username, |(_, name)| name)
}

#[async_trait]
impl Conn for Guard {
    async fn connect(&self, addr: SocketAddr) -> webrtc_util::Result<()> {
        self.inner.connect(addr).await
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        self.inner.recv(buf).await
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        loop {
            let (n, from) = self.inner.recv_from(buf).await?;
            match self.verdict(&buf[..n]).await {
                Verdict::Pass => return Ok((n, from)),
                Verdict::Drop => {}
                Verdict::Refuse(method, code) => self.refuse(&buf[..n], from, method, code).await,
            }
        }
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        self.inner.send(buf).await
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        self.inner.send_to(buf, target).await
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.remote_addr()
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        self.inner.close().await
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_networks_are_forbidden_and_the_internet_is_not() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "ff02::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_forbidden_peer(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1"] {
            assert!(!is_forbidden_peer(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn it_runs_only_with_an_address_and_a_secret_and_needs_a_reachable_relay_ip() {
        let mut settings = Settings {
            turn_listen: Some("0.0.0.0:3478".parse().unwrap()),
            ..Settings::default()
        };
        assert!(TurnConfig::from_settings(&settings).unwrap().is_none());
        settings.turn_secret = Some("s".into());
        let err = TurnConfig::from_settings(&settings).unwrap_err();
        assert!(err.to_string().contains("turn_relay_ip"), "{err}");
        settings.turn_relay_ip = Some("203.0.113.5".parse().unwrap());
        let config = TurnConfig::from_settings(&settings).unwrap().unwrap();
        assert_eq!(config.relay_ip.to_string(), "203.0.113.5");
        assert_eq!(config.max_allocations_per_user, 10);
        settings.turn_listen = Some("192.0.2.7:3478".parse().unwrap());
        settings.turn_relay_ip = None;
        let config = TurnConfig::from_settings(&settings).unwrap().unwrap();
        assert_eq!(config.relay_ip.to_string(), "192.0.2.7");
    }

    #[test]
    fn the_user_is_the_name_after_the_expiry() {
        assert_eq!(user_of("1700000000:alice"), "alice");
        assert_eq!(user_of("alice"), "alice");
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
}
