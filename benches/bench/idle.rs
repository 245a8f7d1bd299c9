//! Connections held: N signed-in sockets that say nothing, and what they cost the server
//! in resident memory. The clients keep reading (and so answer the server's heartbeat
//! pings), as an idle page does.

use crate::load::{self, Socket};
use crate::server::Server;
use futures::{StreamExt, stream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How many sockets are being opened at any moment.
const OPENING_AT_ONCE: usize = 64;

/// How long the server is left to settle before its memory is read.
const SETTLE: Duration = Duration::from_secs(1);

#[derive(Clone, Debug, serde::Serialize)]
pub struct Idle {
    pub connections: usize,
    pub connect_secs: f64,
    pub connects_per_sec: f64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub kib_per_connection: f64,
}

/// Opens `n` sockets to `server`, waits for each one's welcome, and measures.
pub async fn run(server: &Server, n: usize) -> Result<Idle, String> {
    // One socket first, so what the first connection sets up once is not counted per socket.
    let first = load::sign_in(&server.url("idle-warmup")).await?;
    drop(first);
    tokio::time::sleep(SETTLE).await;
    let rss_before_kib = server.rss_kib()?;

    let open = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let opened: Vec<Result<tokio::task::JoinHandle<()>, String>> = stream::iter(0..n)
        .map(|i| {
            let url = server.url(&format!("idle-{i}"));
            let open = open.clone();
            async move {
                let socket = load::sign_in(&url).await?;
                open.fetch_add(1, Ordering::SeqCst);
                Ok(tokio::spawn(hold(socket, open)))
            }
        })
        .buffer_unordered(OPENING_AT_ONCE)
        .collect()
        .await;
    let connect_secs = began.elapsed().as_secs_f64();
    let held: Vec<_> = opened.into_iter().collect::<Result<_, _>>()?;
    tokio::time::sleep(SETTLE).await;
    let rss_after_kib = server.rss_kib()?;
    let still_open = open.load(Ordering::SeqCst);
    for task in &held {
        task.abort();
    }
    if still_open != n {
        return Err(format!(
            "{} of {n} idle sockets were closed",
            n - still_open
        ));
    }
    Ok(Idle {
        connections: n,
        connect_secs,
        connects_per_sec: n as f64 / connect_secs,
        rss_before_kib,
        rss_after_kib,
        kib_per_connection: rss_after_kib.saturating_sub(rss_before_kib) as f64 / n as f64,
    })
}

/// Reads until the socket ends, then counts it out.
async fn hold(mut socket: Socket, open: Arc<AtomicUsize>) {
    while let Some(Ok(_)) = socket.next().await {}
    open.fetch_sub(1, Ordering::SeqCst);
}
