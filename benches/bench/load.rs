//! The signaling load: P caller/callee pairs, each put into a call through the protocol
//! (`call_start`, `call_back` "1"), then ping-ponging one frame at a time for a fixed
//! time. Every frame carries its send time (in the ICE candidate's foundation, or the
//! SDP's session id, where real frames have a number of the same size), so each arrival
//! is one one-way latency sample. Both servers get exactly the same client.

use crate::server::Server;
use futures::{SinkExt, StreamExt};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long any one step of setting up (connect, welcome, ring, answer) may take.
pub const STEP: Duration = Duration::from_secs(10);

/// How long a side waits past the end for the frame still in flight.
const LINGER: Duration = Duration::from_millis(500);

/// What the pairs send to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A trickled ICE candidate, as Chromium writes one (about 250 bytes).
    Ice,
    /// An SDP offer of 5 KB, the size of a browser's audio + video offer.
    Offer,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ice => "_ice",
            Kind::Offer => "offer",
        }
    }

    /// The frame `from` sends `to`, stamped with `stamp` (µs since the bench began).
    pub fn frame(self, from: &str, to: &str, stamp: u64) -> String {
        match self {
            Kind::Ice => format!(
                r#"{{"type":"_ice","fromUser":"{from}","toUser":"{to}","iceCandidate":{{"candidate":"candidate:{stamp:010} 1 udp 2122260223 192.168.1.23 60155 typ host generation 0 ufrag Ex36 network-id 1 network-cost 10","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"Ex36"}}}}"#
            ),
            Kind::Offer => {
                let sdp = serde_json::to_string(&sdp(stamp)).expect("a string");
                format!(r#"{{"type":"offer","fromUser":"{from}","toUser":"{to}","sdp":{sdp}}}"#)
            }
        }
    }

    /// The stamp in a frame of this kind, as either server delivers it.
    pub fn stamp(self, text: &str) -> Option<u64> {
        let marker = match self {
            Kind::Ice => "candidate:",
            Kind::Offer => "o=- ",
        };
        let start = text.find(marker)? + marker.len();
        let digits = &text[start..];
        let end = digits.find(|c: char| !c.is_ascii_digit())?;
        digits[..end].parse().ok()
    }
}

/// An audio + video offer as Chromium makes it, 5 KB of SDP, with `session` as its id.
pub fn sdp(session: u64) -> String {
    let mut sdp = format!(
        "v=0\r\no=- {session:019} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
         a=extmap-allow-mixed\r\na=msid-semantic: WMS 3f1c2a7e-5d1b-4c86-9f0e-2b7d9e4a1c55\r\n"
    );
    let media = [
        ("audio", "0", &[111, 63, 9, 0, 8, 13, 110, 126][..]),
        (
            "video",
            "1",
            &[
                96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 35, 36, 37, 38,
                39, 40, 41, 42, 127, 125,
            ][..],
        ),
    ];
    for (kind, mid, payloads) in media {
        let list: Vec<String> = payloads.iter().map(u8::to_string).collect();
        sdp.push_str(&format!(
            "m={kind} 9 UDP/TLS/RTP/SAVPF {}\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
             a=ice-ufrag:Ex36\r\na=ice-pwd:T0nDjf8PJ0cH3Yk3e7e4vXfS\r\na=ice-options:trickle\r\n\
             a=fingerprint:sha-256 6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:CF:CC:87:32:BE:DD:8C:60:7A:4F:7E:2C:7B:B9:2F:6B:56:7C:25:59\r\n\
             a=setup:actpass\r\na=mid:{mid}\r\na=sendrecv\r\n\
             a=msid:3f1c2a7e-5d1b-4c86-9f0e-2b7d9e4a1c55 8d3c6a0e-1b2f-4e5d-a7c9-0f1e2d3c4b5a\r\n\
             a=rtcp-mux\r\na=rtcp-rsize\r\n",
            list.join(" ")
        ));
        for pt in payloads {
            sdp.push_str(&format!(
                "a=rtpmap:{pt} {kind}-codec-{pt}/90000\r\na=rtcp-fb:{pt} transport-cc\r\n\
                 a=rtcp-fb:{pt} nack\r\na=fmtp:{pt} level-asymmetry-allowed=1;packetization-mode=1\r\n"
            ));
        }
        sdp.push_str(
            "a=ssrc-group:FID 1572310693 2049523127\r\n\
             a=ssrc:1572310693 cname:n2Xl8f0G2yq3tAq1\r\na=ssrc:1572310693 msid:3f1c2a7e 8d3c6a0e\r\n\
             a=ssrc:2049523127 cname:n2Xl8f0G2yq3tAq1\r\na=ssrc:2049523127 msid:3f1c2a7e 8d3c6a0e\r\n",
        );
    }
    sdp.truncate(5000);
    sdp
}

/// Microseconds since the bench began: the clock every stamp is on.
pub fn now_us() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// The client's WebSocket settings: small buffers, so 10 000 clients fit easily.
pub fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
}

/// Connects as `name` and waits for the server's `welcome`.
pub async fn sign_in(url: &str) -> Result<Socket, String> {
    let connect = tokio_tungstenite::connect_async_with_config(url, Some(client_config()), false);
    let (mut socket, _) = timeout(STEP, connect)
        .await
        .map_err(|_| format!("{url}: no connection within {STEP:?}"))?
        .map_err(|e| format!("{url}: {e}"))?;
    wait_for(&mut socket, "welcome").await?;
    Ok(socket)
}

/// Reads until a frame of `kind` arrives (skipping others), within [`STEP`].
pub async fn wait_for(socket: &mut Socket, kind: &str) -> Result<String, String> {
    let needle = format!(r#""type":"{kind}""#);
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .map_err(|_| format!("no {kind} within {STEP:?}"))?;
        match frame {
            Some(Ok(Message::Text(text))) if text.contains(&needle) => return Ok(text.to_string()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("waiting for {kind}: {e}")),
            None => return Err(format!("closed while waiting for {kind}")),
        }
    }
}

/// What runs against one server measured, put together.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Figures {
    pub messages: usize,
    pub msgs_per_sec: f64,
    pub p50_us: u32,
    pub p90_us: u32,
    pub p99_us: u32,
    pub max_us: u32,
    /// The server's own CPU time (user + system) per message relayed.
    pub server_cpu_us_per_msg: f64,
    /// Each run on its own, in the order they ran: how far one run is from the next on
    /// this machine, beside the figures of all of them together.
    pub runs: Vec<RunFigures>,
}

/// One run's throughput and tail, as `Figures` gives them for all runs together.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunFigures {
    pub msgs_per_sec: f64,
    pub p99_us: u32,
}

/// The raw measurements of one run, or of several put together.
#[derive(Default)]
pub struct Samples {
    latencies_us: Vec<u32>,
    secs: f64,
    server_cpu_secs: f64,
    runs: Vec<RunFigures>,
}

/// The `q` quantile of `sorted` (not empty), nearest-rank.
fn quantile(sorted: &[u32], q: f64) -> u32 {
    sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

impl Samples {
    fn one_run(latencies_us: Vec<u32>, secs: f64, server_cpu_secs: f64) -> Self {
        let mut sorted = latencies_us.clone();
        sorted.sort_unstable();
        // A run that relayed nothing (a stalled machine) is still a run: 0 a second.
        let runs = vec![RunFigures {
            msgs_per_sec: sorted.len() as f64 / secs,
            p99_us: if sorted.is_empty() {
                0
            } else {
                quantile(&sorted, 0.99)
            },
        }];
        Self {
            latencies_us,
            secs,
            server_cpu_secs,
            runs,
        }
    }

    pub fn add(&mut self, other: Samples) {
        self.latencies_us.extend(other.latencies_us);
        self.secs += other.secs;
        self.server_cpu_secs += other.server_cpu_secs;
        self.runs.extend(other.runs);
    }

    pub fn figures(mut self) -> Result<Figures, String> {
        let samples = &mut self.latencies_us;
        if samples.is_empty() {
            return Err("no message arrived in the measured time".into());
        }
        samples.sort_unstable();
        Ok(Figures {
            messages: samples.len(),
            msgs_per_sec: samples.len() as f64 / self.secs,
            p50_us: quantile(samples, 0.50),
            p90_us: quantile(samples, 0.90),
            p99_us: quantile(samples, 0.99),
            max_us: *samples.last().expect("not empty"),
            server_cpu_us_per_msg: self.server_cpu_secs * 1e6 / samples.len() as f64,
            runs: self.runs,
        })
    }
}

/// Runs `pairs` pairs against `server`: `warmup` unmeasured, then `measure` measured.
/// Names start with `prefix`, so runs on one server never collide.
pub async fn run(
    server: &Server,
    prefix: &str,
    pairs: usize,
    kind: Kind,
    warmup: Duration,
    measure: Duration,
) -> Result<Samples, String> {
    let mut sockets = Vec::with_capacity(pairs);
    for i in 0..pairs {
        let (caller, callee) = (format!("{prefix}c{i}"), format!("{prefix}e{i}"));
        let mut a = sign_in(&server.url(&caller)).await?;
        let mut b = sign_in(&server.url(&callee)).await?;
        call(&mut a, &caller, &mut b, &callee).await?;
        sockets.push(((a, caller), (b, callee)));
    }
    let start = now_us() + warmup.as_micros() as u64;
    let end = start + measure.as_micros() as u64;
    let mut tasks = Vec::with_capacity(pairs * 2);
    for ((a, caller), (b, callee)) in sockets {
        tasks.push(tokio::spawn(volley(
            a,
            caller.clone(),
            callee.clone(),
            kind,
            start,
            end,
            true,
        )));
        tasks.push(tokio::spawn(volley(
            b, callee, caller, kind, start, end, false,
        )));
    }
    let at = |us: u64| tokio::time::sleep(Duration::from_micros(us.saturating_sub(now_us())));
    at(start).await;
    let cpu_before = server.cpu_secs()?;
    at(end).await;
    let server_cpu_secs = server.cpu_secs()? - cpu_before;
    let mut latencies_us = Vec::new();
    for task in tasks {
        latencies_us.extend(
            task.await
                .map_err(|e| format!("a client task failed: {e}"))??,
        );
    }
    Ok(Samples::one_run(
        latencies_us,
        measure.as_secs_f64(),
        server_cpu_secs,
    ))
}

/// Rings `callee` from `caller` and accepts, as the original pages do.
pub async fn call(
    a: &mut Socket,
    caller: &str,
    b: &mut Socket,
    callee: &str,
) -> Result<(), String> {
    let ring = format!(r#"{{"type":"call_start","fromUser":"{caller}","toUser":"{callee}"}}"#);
    a.send(Message::text(ring))
        .await
        .map_err(|e| e.to_string())?;
    wait_for(b, "call_start").await?;
    let accept =
        format!(r#"{{"type":"call_back","fromUser":"{callee}","toUser":"{caller}","msg":"1"}}"#);
    b.send(Message::text(accept))
        .await
        .map_err(|e| e.to_string())?;
    let answer = wait_for(a, "call_back").await?;
    if !answer.contains(r#""msg":"1""#) {
        return Err(format!("{callee} did not accept: {answer}"));
    }
    Ok(())
}

/// One side of a pair: the caller serves first; each side answers every frame it gets
/// until `end`. Returns the latencies of frames that arrived in `start..end`.
async fn volley(
    mut socket: Socket,
    me: String,
    peer: String,
    kind: Kind,
    start: u64,
    end: u64,
    serves: bool,
) -> Result<Vec<u32>, String> {
    let next = || Message::text(kind.frame(&me, &peer, now_us()));
    if serves {
        socket
            .send(next())
            .await
            .map_err(|e| format!("{me}: {e}"))?;
    }
    let mut samples = Vec::new();
    loop {
        // Past `end` the other side stops answering: the frame in flight may never come.
        let left = Duration::from_micros(end.saturating_sub(now_us())) + LINGER;
        let frame = match timeout(left, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Err(_) => break,
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => return Err(format!("{me}: {e}")),
        };
        let arrived = now_us();
        let Some(sent) = kind.stamp(&frame) else {
            // The call ended (the other side is done) or the server said something else.
            if frame.contains(r#""type":"hangup""#) {
                break;
            }
            continue;
        };
        if sent >= start && arrived < end {
            samples.push((arrived - sent) as u32);
        }
        if arrived >= end {
            break;
        }
        socket
            .send(next())
            .await
            .map_err(|e| format!("{me}: {e}"))?;
    }
    let _ = socket.close(None).await;
    Ok(samples)
}
