//! Instructions per relayed frame, each server under callgrind (`callgrind.rs`): P pairs
//! in calls, as in `load.rs` and with its frames, ping-pong a fixed number of frames in
//! each of a few windows, and only the windows are counted. The instructions in a window
//! over the frames the clients received in it is the server's cost per frame; duet's over
//! the baseline's is the relay budget, as it does not move with what else the machine runs.

use crate::callgrind::Callgrind;
use crate::load::{self, Kind, Socket};
use crate::server::Server;
use futures::future::try_join_all;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

/// How long a frame may take to come back: valgrind is slow, and slowest right after
/// counting starts, as it translates the server's code again to count it.
const FRAME_WITHIN: Duration = Duration::from_secs(60);

/// Both servers' tokio runtimes get one worker thread. Valgrind runs one thread at a time,
/// so a second worker only adds hand-offs between threads, as many as the timing of the
/// moment makes, and the count would move with the machine's load (figures in
/// `docs/performance-method.md`).
const ONE_WORKER: (&str, &str) = ("TOKIO_WORKER_THREADS", "1");

/// The fixed load, the same for both servers.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub pairs: usize,
    /// Frames each pair relays before counting starts, so what a server sets up on the first
    /// frames (buffers grown to a 5 KB offer, say) is not counted.
    pub warmup: u64,
    /// Frames each pair relays in a window.
    pub frames: u64,
    pub windows: usize,
}

/// One server's instructions per frame of one kind.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Count {
    /// Over all windows.
    pub instructions_per_frame: f64,
    /// Each window's.
    pub windows: Vec<f64>,
    /// How far apart the windows are: (highest − lowest) ÷ the figure over all.
    pub spread: f64,
}

impl Count {
    fn new(instructions: &[u64], frames_per_window: u64) -> Self {
        let windows: Vec<f64> = instructions
            .iter()
            .map(|&n| n as f64 / frames_per_window as f64)
            .collect();
        let all = instructions.iter().sum::<u64>() as f64
            / (frames_per_window * instructions.len() as u64) as f64;
        let high = windows.iter().copied().fold(f64::MIN, f64::max);
        let low = windows.iter().copied().fold(f64::MAX, f64::min);
        Self {
            instructions_per_frame: all,
            spread: (high - low) / all,
            windows,
        }
    }
}

/// Both frame kinds through duet, then through the baseline: the load, how long it took,
/// and a case per kind.
pub async fn run(load: &Load, scratch: &Path) -> Result<Value, String> {
    let began = Instant::now();
    let data = tempfile::tempdir_in(scratch).map_err(|e| format!("a data dir: {e}"))?;
    let counted = Callgrind::new(scratch)?;
    // Pings go on a timer, so under valgrind, 50× slower, there would be 50× more of them
    // per frame than at full speed, where they are a rounding error: none in the windows.
    let env = [ONE_WORKER, ("DUET_HEARTBEAT_SECS", "3600")];
    let duet = Server::duet_under(data.path(), &counted.under(), &env)?;
    let ours = server(&duet, &counted, load).await?;
    drop(duet);
    let counted = Callgrind::new(scratch)?;
    let baseline = Server::baseline_under(&counted.under(), &[ONE_WORKER])?;
    let base = server(&baseline, &counted, load).await?;
    drop(baseline);
    let frames = load.frames * load.pairs as u64;
    let cases: Vec<Value> = [Kind::Ice, Kind::Offer]
        .into_iter()
        .zip(ours.into_iter().zip(base))
        .map(|(kind, (ours, base))| {
            let (ours, base) = (Count::new(&ours, frames), Count::new(&base, frames));
            json!({
                "frame": kind.name(),
                "ratio": ours.instructions_per_frame / base.instructions_per_frame,
                "duet": ours,
                "baseline": base,
            })
        })
        .collect();
    Ok(json!({
        "pairs": load.pairs,
        "warmup_frames": load.warmup * load.pairs as u64,
        "frames_per_window": frames,
        "windows": load.windows,
        "secs": began.elapsed().as_secs_f64(),
        "cases": cases,
    }))
}

/// The instructions counted in each window, per frame kind ([`Kind::Ice`], then offers).
async fn server(
    server: &Server,
    counted: &Callgrind,
    load: &Load,
) -> Result<[Vec<u64>; 2], String> {
    let mut counts = [Vec::new(), Vec::new()];
    for (kind, counts) in [Kind::Ice, Kind::Offer].into_iter().zip(&mut counts) {
        let prefix = kind.name().trim_start_matches('_');
        let mut pairs = Vec::with_capacity(load.pairs);
        for i in 0..load.pairs {
            let (caller, callee) = (format!("{prefix}c{i}"), format!("{prefix}e{i}"));
            let mut a = load::sign_in(&server.url(&caller)).await?;
            let mut b = load::sign_in(&server.url(&callee)).await?;
            load::call(&mut a, &caller, &mut b, &callee).await?;
            pairs.push(Pair {
                a,
                caller,
                b,
                callee,
            });
        }
        exchange(&mut pairs, kind, load.warmup).await?;
        for window in 0..load.windows {
            let at = |e: String| format!("{}, window {window}: {e}", kind.name());
            counted.start(server.pid()).await?;
            let relayed = exchange(&mut pairs, kind, load.frames).await;
            // Stopped even when the frames did not all come, but their error comes first.
            let instructions = counted.stop(server.pid()).await;
            let (received, others) = relayed.map_err(at)?;
            let instructions = instructions.map_err(at)?;
            if let Some(other) = others.first() {
                return Err(at(format!("the server sent more than the frames: {other}")));
            }
            let expected = load.frames * load.pairs as u64;
            if received != expected {
                return Err(at(format!("{received} frames relayed of {expected}")));
            }
            counts.push(instructions);
        }
        for pair in &mut pairs {
            let _ = pair.a.close(None).await;
            let _ = pair.b.close(None).await;
        }
    }
    Ok(counts)
}

struct Pair {
    a: Socket,
    caller: String,
    b: Socket,
    callee: String,
}

/// Each pair relays `frames` frames of `kind`, one at a time, the caller first; returns
/// how many the clients received, each checked to be the one expected next, and any
/// other text the server sent them.
async fn exchange(
    pairs: &mut [Pair],
    kind: Kind,
    frames: u64,
) -> Result<(u64, Vec<String>), String> {
    let sides = pairs.iter_mut().flat_map(|p| {
        [
            side(&mut p.a, &p.caller, &p.callee, kind, frames, true),
            side(&mut p.b, &p.callee, &p.caller, kind, frames, false),
        ]
    });
    let mut received = 0;
    let mut others = Vec::new();
    for (n, other) in try_join_all(sides).await? {
        received += n;
        others.extend(other);
    }
    Ok((received, others))
}

/// One side: frame N carries N as its stamp; the caller sends the even ones, the callee
/// answers each with the next. Returns how many frames this side received, and the other
/// text it received.
async fn side(
    socket: &mut Socket,
    me: &str,
    peer: &str,
    kind: Kind,
    frames: u64,
    serves: bool,
) -> Result<(u64, Vec<String>), String> {
    let send = |n: u64| Message::text(kind.frame(me, peer, n));
    let mut expected = if serves && frames > 0 {
        socket
            .send(send(0))
            .await
            .map_err(|e| format!("{me}: {e}"))?;
        1
    } else {
        0
    };
    let mut received = 0;
    let mut others = Vec::new();
    while expected < frames {
        let frame = match timeout(FRAME_WITHIN, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => return Err(format!("{me}: {e}")),
            Ok(None) => return Err(format!("{me}: closed")),
            Err(_) => return Err(format!("{me}: no frame {expected} within {FRAME_WITHIN:?}")),
        };
        match kind.stamp(&frame) {
            Some(n) if n == expected => received += 1,
            Some(n) => return Err(format!("{me}: frame {n} came, {expected} expected")),
            None => {
                others.push(frame.to_string());
                continue;
            }
        }
        if expected + 1 < frames {
            socket
                .send(send(expected + 1))
                .await
                .map_err(|e| format!("{me}: {e}"))?;
        }
        expected += 2;
    }
    Ok((received, others))
}
