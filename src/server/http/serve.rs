//! Serving the router on a bound listener: HTTP/1.1 in plain text, or over TLS (HTTP/2 or
//! HTTP/1.1 as the browser's ALPN asks; the socket then being `wss`). duet runs hyper's
//! connections from its own accept loop, rather than axum::serve (which has no header
//! timeout) or axum-server, so that each connection is held to the [`Limits`]. Both stop
//! gracefully when `shutdown` resolves.

use super::limits::{Admitted, Limits, PerAddress, Watched};
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{MissedTickBehavior, timeout};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// How long connections may take to finish their requests once shutdown begins. Upgraded
/// sockets are not waited for: they end with the process.
const GRACE: Duration = Duration::from_secs(5);

/// The idle timeout is checked this many times per period, so a silent connection is
/// closed between 1 and 1¼ idle timeouts after it last sent or read anything.
const IDLE_CHECKS: u32 = 4;

/// Serves `app` on `listener` until `shutdown` resolves: HTTPS with `tls`, else HTTP.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<ServerConfig>>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let server = Arc::new(Server::new(app, tls, limits));
    let addresses = PerAddress::new(limits.per_address);
    // Connections hold a receiver: told to finish by `send`, and counted by `closed`.
    let (finish, finishing) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    pause_after(err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Dropped here, the connection is closed before it is read.
        let Some(admitted) = addresses.admit(peer.ip()) else {
            tracing::debug!(%peer, "refused: too many connections from this address");
            continue;
        };
        let server = server.clone();
        let finishing = finishing.clone();
        tokio::spawn(async move { server.connection(tcp, peer, admitted, finishing).await });
    }
    drop(listener);
    drop(finishing);
    finish.send_replace(());
    if timeout(GRACE, finish.closed()).await.is_err() {
        tracing::info!("connections still open {GRACE:?} after shutdown began: closing them");
    }
    Ok(())
}

/// Whether an accept error concerns only the connection being accepted.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// After an accept error: nothing for one connection's own, else (out of descriptors, most
/// likely) a second's pause, as axum::serve does, rather than a busy loop.
async fn pause_after(err: io::Error) {
    if !is_connection_error(&err) {
        tracing::error!("accepting a connection: {err}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// What every connection is served with.
struct Server {
    app: Router,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
}

impl Server {
    fn new(app: Router, tls: Option<Arc<ServerConfig>>, limits: Limits) -> Self {
        let mut http1 = http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout);
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2.timer(TokioTimer::new());
        Self {
            app,
            tls: tls.map(TlsAcceptor::from),
            limits,
            http1,
            http2,
        }
    }

    /// Serves one connection until it ends, is upgraded to a WebSocket (which then lives in
    /// a task of its own, no longer counted against its address), or breaks a limit.
    async fn connection(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
        admitted: Admitted,
        finishing: watch::Receiver<()>,
    ) {
        let _admitted = admitted;
        let Some(acceptor) = &self.tls else {
            return self.http1(tcp, peer, finishing).await;
        };
        let handshake = match timeout(self.limits.header_timeout, acceptor.accept(tcp)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                tracing::debug!("TLS handshake failed: {err}");
                return;
            }
            Err(_) => {
                tracing::debug!("TLS handshake not finished within the header timeout");
                return;
            }
        };
        if handshake.get_ref().1.alpn_protocol() == Some(b"h2") {
            self.http2(handshake, peer, finishing).await;
        } else {
            self.http1(handshake, peer, finishing).await;
        }
    }

    async fn http1<T>(&self, stream: T, peer: SocketAddr, finishing: watch::Receiver<()>)
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (stream, heard) = Watched::new(stream);
        let service = TowerToHyperService::new(self.app_for(peer));
        let conn = self
            .http1
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let finish = |conn: Pin<&mut _>| http1::UpgradeableConnection::graceful_shutdown(conn);
        drive(conn, finish, &heard, self.limits.idle_timeout, finishing).await;
    }

    async fn http2<T>(&self, stream: T, peer: SocketAddr, finishing: watch::Receiver<()>)
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (stream, heard) = Watched::new(stream);
        let service = TowerToHyperService::new(self.app_for(peer));
        let conn = self.http2.serve_connection(TokioIo::new(stream), service);
        let finish = |conn: Pin<&mut _>| http2::Connection::graceful_shutdown(conn);
        drive(conn, finish, &heard, self.limits.idle_timeout, finishing).await;
    }
}

impl Server {
    /// The router for one connection from `peer`: its requests carry the peer's address
    /// (`ConnectInfo`), which the signaling socket meters by.
    fn app_for(
        &self,
        peer: SocketAddr,
    ) -> impl tower::Service<
        hyper::Request<hyper::body::Incoming>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone
    + Send
    + 'static {
        self.app
            .clone()
            .map_request(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            })
    }
}

/// Polls `conn` to its end; `finish`es it when shutdown begins, and drops it (closing the
/// connection) once nothing was `heard` on it for `idle`.
async fn drive<C>(
    conn: C,
    finish: impl Fn(Pin<&mut C>),
    heard: &AtomicBool,
    idle: Duration,
    mut finishing: watch::Receiver<()>,
) where
    C: Future<Output = hyper::Result<()>>,
{
    let mut conn = pin!(conn);
    let check = (idle / IDLE_CHECKS).max(Duration::from_millis(1));
    let mut checks = tokio::time::interval_at(tokio::time::Instant::now() + check, check);
    checks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let (mut quiet, mut finished) = (0, false);
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(err) = ended {
                    tracing::debug!("connection ended: {err}");
                }
                return;
            }
            _ = finishing.changed(), if !finished => {
                finish(conn.as_mut());
                finished = true;
            }
            _ = checks.tick() => {
                quiet = if heard.swap(false, Ordering::Relaxed) { 0 } else { quiet + 1 };
                if quiet == IDLE_CHECKS {
                    tracing::debug!(?idle, "closing a connection silent for the idle timeout");
                    return;
                }
            }
        }
    }
}
