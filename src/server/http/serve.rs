//! Serving the router on a bound listener: plain HTTP with axum, or HTTPS (the socket then
//! being `wss`) with axum-server over rustls. Both stop gracefully when `shutdown` resolves.

use axum::Router;
use rustls::ServerConfig;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long HTTPS connections may take to finish their requests once shutdown begins.
/// Upgraded sockets are not waited for, as with plain HTTP: they end with the process.
const GRACE: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` resolves: HTTPS with `tls`, else HTTP.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let Some(config) = tls else {
        return axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
    };
    let handle = axum_server::Handle::new();
    tokio::spawn({
        let handle = handle.clone();
        async move {
            shutdown.await;
            handle.graceful_shutdown(Some(GRACE));
        }
    });
    let config = axum_server::tls_rustls::RustlsConfig::from_config(config);
    axum_server::from_tcp_rustls(listener.into_std()?, config)?
        .handle(handle)
        .serve(app.into_make_service())
        .await
}
