//! The built-in TURN server (webrtc-rs `turn`), for deployments without a coturn: it
//! accepts exactly the TURN REST credentials [`super::ice`] hands to pages, refuses to relay
//! to this host and the networks around it, caps allocations per user and per client
//! address, and closes a user's allocations when their page signs out.
//!
//! `turn` 0.17's own `Server` cannot be told no: it keeps a nonce for every request it
//! challenges (and never forgets one), answers strangers as often as they ask, and has no
//! hook to veto a peer. So duet runs the crate's request handler from its own read loop,
//! with [`guard::Guard`] in front of it: the guard challenges requests itself with nonces
//! that cost no memory ([`auth`]), answers each source only so often before it has
//! authenticated ([`limit`]), refuses forbidden peers ([`peers`]) and allocations over the
//! caps ([`allocations`]), and hands the crate only what it would accept.

mod allocations;
mod auth;
mod guard;
mod limit;
mod peers;

pub use allocations::TurnAllocations;
pub use peers::is_forbidden_peer;

use crate::server::settings::Settings;
use allocations::Index;
use auth::{Authenticator, RestAuth};
use guard::{Guard, Verdict};
use peers::Peers;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use stun::error_code::ErrorCode;
use stun::message::{CLASS_ERROR_RESPONSE, Message, MessageType, Setter};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use turn::allocation::allocation_manager::{Manager, ManagerConfig};
use turn::allocation::five_tuple::FiveTuple;
use turn::proto::PROTO_UDP;
use turn::proto::lifetime::DEFAULT_LIFETIME;
use turn::relay::RelayAddressGenerator;
use turn::relay::relay_static::RelayAddressGeneratorStatic;
use turn::server::request::Request;
use webrtc_util::vnet::net::Net;

/// The largest datagram read, as the crate's own server reads: a TURN client keeps its
/// packets under the path MTU.
const INBOUND_MTU: usize = 1500;

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
    /// Relay anywhere: to loopback, private, link-local and special-purpose addresses and to
    /// this host itself (tests, trusted LANs). Off, only to the Internet and to this
    /// server's own relays.
    pub allow_private: bool,
    /// Allocations one user (the NAME of `EXPIRY:NAME`) may hold at once.
    pub max_allocations_per_user: usize,
    /// Allocations one client address (an IPv6 client's /64) may hold at once.
    pub max_allocations_per_address: usize,
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
    #[error("no random numbers for the TURN server's nonces: {0}")]
    Random(getrandom::Error),
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
            max_allocations_per_address: settings.turn_max_allocations_per_address,
        }))
    }
}

/// A running built-in TURN server. Dropping it stops it too.
pub struct TurnServer {
    addr: SocketAddr,
    relay_ip: IpAddr,
    allocations: TurnAllocations,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<()>,
}

impl TurnServer {
    /// Binds the UDP socket and starts serving.
    pub async fn start(config: TurnConfig) -> Result<Self, TurnError> {
        let socket = UdpSocket::bind(config.listen)
            .await
            .map_err(|err| TurnError::Listen {
                addr: config.listen,
                err,
            })?;
        let addr = socket.local_addr().map_err(|err| TurnError::Listen {
            addr: config.listen,
            err,
        })?;
        let relays = RelayAddressGeneratorStatic {
            relay_address: config.relay_ip,
            // Relays open on the listening interface (all of them for 0.0.0.0), on any
            // free port.
            address: bracketed(config.listen.ip()),
            net: Arc::new(Net::new(None)),
        };
        relays.validate()?;
        let (closed_tx, closed_rx) = mpsc::channel(256);
        let manager = Arc::new(Manager::new(ManagerConfig {
            relay_addr_generator: Box::new(relays),
            alloc_close_notify: Some(closed_tx),
        }));
        let index = Arc::new(Mutex::new(Index::default()));
        tokio::spawn(allocations::forget_closed(index.clone(), closed_rx));
        let auth = Arc::new(RestAuth {
            secret: config.secret,
        });
        let guard = Guard::new(
            Authenticator::new(auth.clone(), config.realm.clone()).map_err(TurnError::Random)?,
            Peers::new(config.allow_private, [config.relay_ip, addr.ip()]),
            index.clone(),
            addr,
            config.max_allocations_per_user,
            config.max_allocations_per_address,
        );
        let socket = Arc::new(socket);
        let request = Request {
            conn: socket.clone(),
            // Each datagram's, once one comes.
            src_addr: addr,
            buff: Vec::new(),
            allocation_manager: manager.clone(),
            nonces: Default::default(),
            auth_handler: auth,
            realm: config.realm,
            channel_bind_timeout: DEFAULT_LIFETIME,
        };
        let allocations = TurnAllocations::new(index.clone(), Arc::downgrade(&manager));
        let (stop, stopped) = oneshot::channel();
        let serving = tokio::spawn(serve(socket, guard, request, index, addr, stopped));
        Ok(Self {
            addr,
            relay_ip: config.relay_ip,
            allocations,
            stop,
            serving,
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

    /// A handle on its allocations, for whoever knows when a page has signed out.
    pub fn allocations(&self) -> TurnAllocations {
        self.allocations.clone()
    }

    /// Closes every allocation and the socket.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(err) = self.serving.await {
            tracing::warn!("stopping the TURN server: {err}");
        }
    }
}

/// Reads datagrams until told to stop, hands the guard's passes to the crate's request
/// handler one at a time (as the crate's own server does), then closes every allocation.
/// `local` is the listening address, the server's side of every five-tuple.
async fn serve(
    socket: Arc<UdpSocket>,
    mut guard: Guard,
    mut request: Request,
    index: Arc<Mutex<Index>>,
    local: SocketAddr,
    mut stop: oneshot::Receiver<()>,
) {
    let mut buf = vec![0u8; INBOUND_MTU];
    loop {
        let (n, from) = tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok(received) => received,
                Err(err) => {
                    tracing::error!("the TURN server cannot read its socket any more: {err}");
                    break;
                }
            },
            _ = &mut stop => break,
        };
        let packet = &buf[..n];
        let (nonce, allocating) = match guard.verdict(packet, from) {
            Verdict::Drop => continue,
            Verdict::Answer(answer) => {
                if let Err(err) = socket.send_to(&answer, from).await {
                    tracing::debug!("answering {from} over TURN: {err}");
                }
                continue;
            }
            Verdict::Pass { nonce, allocating } => (nonce, allocating),
        };
        // The crate accepts a nonce only from its map; the guard has checked this one, so
        // it is there exactly while its request is handled.
        if let Some(nonce) = &nonce {
            request
                .nonces
                .lock()
                .await
                .insert(nonce.clone(), tokio::time::Instant::now());
        }
        request.src_addr = from;
        request.buff = packet.to_vec();
        if let Err(err) = request.handle_request().await {
            tracing::debug!("TURN datagram from {from}: {err}");
        }
        if nonce.is_some() {
            request.nonces.lock().await.clear();
        }
        if let Some(user) = allocating {
            let five_tuple = FiveTuple {
                protocol: PROTO_UDP,
                src_addr: from,
                dst_addr: local,
            };
            // Only this allocation is looked up; the crate walks its map to find it.
            let created: HashMap<FiveTuple, _> = request
                .allocation_manager
                .get_allocations_info(Some(vec![five_tuple]))
                .await;
            if let Some(info) = created.get(&five_tuple) {
                lock(&index).add(five_tuple, user, info.relay_addr);
            }
        }
    }
    if let Err(err) = request.allocation_manager.close().await {
        tracing::warn!("closing the TURN allocations: {err}");
    }
}

/// The index, even if a thread panicked holding it: it holds no invariant a panic can break
/// halfway that matters more than serving on.
fn lock(index: &Mutex<Index>) -> std::sync::MutexGuard<'_, Index> {
    index
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `ip` as the host part of `host:port` (IPv6 in brackets).
fn bracketed(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    }
}

/// The error response with `code` to `request`, with `extra` attributes after the code.
fn error_response(
    request: &Message,
    code: ErrorCode,
    extra: Vec<Box<dyn Setter>>,
) -> Result<Vec<u8>, stun::Error> {
    let mut setters: Vec<Box<dyn Setter>> = vec![
        Box::new(request.transaction_id),
        Box::new(MessageType::new(request.typ.method, CLASS_ERROR_RESPONSE)),
        Box::new(code),
    ];
    setters.extend(extra);
    let mut answer = Message::new();
    answer.build(&setters)?;
    Ok(answer.raw)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(config.max_allocations_per_address, 20);
        settings.turn_listen = Some("192.0.2.7:3478".parse().unwrap());
        settings.turn_relay_ip = None;
        let config = TurnConfig::from_settings(&settings).unwrap().unwrap();
        assert_eq!(config.relay_ip.to_string(), "192.0.2.7");
    }
}
