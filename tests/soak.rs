//! Soak: 200 chat pages on one real server for a few seconds, each writing to random others
//! and confirming everything it receives, while a tenth of them drop or close their socket
//! at random moments and come back, re-sending what was not yet acknowledged under the same
//! client ids, as the page does. Then every page syncs once more to take its backlog, and
//! the SQLite file is read directly: every acknowledged message is stored exactly once, and
//! every one of them reached its recipient, live or in a backlog.
//!
//! The run is random; its seed is printed, and `SOAK_SEED=<seed>` replays the same choices
//! (the timing of the machine still differs).

mod common;

use common::{Client, open_database, start};
use duet::protocol::{Conversation, ErrorCode, Message};
use duet::server::Settings;
use duet::server::chat::now_millis;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::time::{Instant as TokioInstant, sleep_until, timeout, timeout_at};

const CLIENTS: usize = 200;
/// How long the clients write.
const RUN: Duration = Duration::from_secs(5);
/// The longest pause between one client's messages (the pause is uniform from 0).
const MAX_PAUSE_MS: u64 = 500;
/// Disconnects per reconnecting client, at most.
const MAX_DROPS: u64 = 3;
/// How long after the run a client may wait for its last acknowledgements.
const SETTLE: Duration = Duration::from_secs(10);
/// How long connecting or closing may take: 200 pages at once on a loaded machine are slower
/// than the other tests' `common::WAIT`.
const PATIENCE: Duration = Duration::from_secs(10);

/// Panics anywhere in the process. tokio catches a panic in a server task (a socket's
/// handler, say) and nothing else would notice it.
static PANICS: AtomicUsize = AtomicUsize::new(0);

/// xorshift64*: enough randomness for choosing, without a dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn client_name(i: usize) -> String {
    format!("s{i:03}")
}

/// What one client saw, in either phase.
#[derive(Default)]
struct Report {
    /// (sender, client id) → (recipient, server id), from this client's acknowledgements.
    acked: HashMap<(String, String), (String, i64)>,
    /// (recipient, server id) of every message this client received.
    received: HashSet<(String, i64)>,
    /// New messages written.
    written: usize,
    /// Messages sent again after a reconnect.
    resent: usize,
    /// Re-sent messages the server had already stored (the first ack was lost with its
    /// socket): the acknowledgement carries a time before the re-send.
    deduplicated: usize,
    /// Reconnects this client chose.
    reconnects: usize,
    /// Times the server ended the socket on its own.
    unplanned: usize,
    /// Anything the server should not have said.
    errors: Vec<String>,
}

/// A message written but not yet acknowledged.
struct Unacked {
    to: String,
    /// When it was last sent again, in the server's clock (milliseconds since 1970).
    resent_at: Option<i64>,
}

/// Opens `name`'s socket, retrying while the server still holds the previous one.
async fn connect(addr: SocketAddr, name: &str) -> Client {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut client = Client::open_within(addr, name, PATIENCE).await;
        match client.recv_within(PATIENCE).await {
            Message::Welcome { .. } => return client,
            Message::Error {
                code: ErrorCode::NameInUse,
                ..
            } if Instant::now() < deadline => {
                // The server has not yet noticed that the last socket is gone.
                drop(client);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => panic!("{name}: expected welcome, got {other:?}"),
        }
    }
}

/// Connects and turns chat on; then re-sends everything not yet acknowledged.
async fn connect_and_sync(
    addr: SocketAddr,
    name: &str,
    outbox: &mut BTreeMap<String, Unacked>,
    report: &mut Report,
) -> Client {
    let mut client = connect(addr, name).await;
    client.send_json(json!({"type": "sync"})).await;
    let now = now_millis();
    for (id, unacked) in outbox.iter_mut() {
        send_chat(&mut client, id, &unacked.to).await;
        unacked.resent_at = Some(now);
        report.resent += 1;
    }
    client
}

async fn send_chat(client: &mut Client, id: &str, to: &str) {
    let text = format!("{} to {to}: {id}", client.name);
    client
        .send_json(
            json!({"type": "chat_send", "id": id, "conversation": {"user": to}, "text": text}),
        )
        .await;
}

/// Takes one frame from the server: records acknowledgements and received messages, and
/// confirms the latter as a page does.
async fn take(
    client: &mut Client,
    msg: Message,
    outbox: &mut BTreeMap<String, Unacked>,
    report: &mut Report,
) {
    let me = client.name.clone();
    match msg {
        Message::ChatAck { id, message, .. } => {
            let to = match &message.conversation {
                Conversation::User(to) => to.to_string(),
                other => {
                    report.errors.push(format!("{me}: ack in {other:?}"));
                    return;
                }
            };
            let resent_at = outbox.remove(&id).and_then(|unacked| unacked.resent_at);
            if resent_at.is_some_and(|resent_at| message.at < resent_at) {
                report.deduplicated += 1;
            }
            let earlier = report
                .acked
                .insert((me.clone(), id.clone()), (to.clone(), message.id));
            if let Some((_, earlier)) = earlier.filter(|(_, earlier)| *earlier != message.id) {
                report.errors.push(format!(
                    "{me}: {id} acked as {earlier} and again as {}",
                    message.id
                ));
            }
        }
        Message::Chat { messages, .. } => {
            let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
            report
                .received
                .extend(ids.iter().map(|&id| (me.clone(), id)));
            client
                .send_json(json!({"type": "chat_received", "ids": ids}))
                .await;
        }
        Message::Error { code, msg, id, .. } => {
            report
                .errors
                .push(format!("{me}: error {code:?} for {id:?}: {msg}"));
        }
        // Presence, conversations, deliveries, history: nothing to check here.
        _ => {}
    }
}

/// One client's run: write to random others until `until`, drop the socket at `drops`,
/// then wait for the last acknowledgements and close.
async fn run_client(
    addr: SocketAddr,
    index: usize,
    mut rng: Rng,
    drops: Vec<TokioInstant>,
    until: TokioInstant,
) -> Report {
    let me = client_name(index);
    let mut report = Report::default();
    // Client id → recipient, for every message not yet acknowledged.
    let mut outbox: BTreeMap<String, Unacked> = BTreeMap::new();
    let mut drops = drops.into_iter().peekable();
    let mut client = connect_and_sync(addr, &me, &mut outbox, &mut report).await;
    let mut next_send = TokioInstant::now() + Duration::from_millis(rng.below(MAX_PAUSE_MS));
    let give_up = until + SETTLE;
    let far = until + SETTLE + SETTLE;
    loop {
        let now = TokioInstant::now();
        if now >= until && outbox.is_empty() {
            break;
        }
        if now >= give_up {
            report.errors.push(format!(
                "{me}: {} messages never acknowledged",
                outbox.len()
            ));
            break;
        }
        let next_drop = drops.peek().copied().unwrap_or(far);
        tokio::select! {
            msg = client.next_message() => match msg {
                Some(msg) => take(&mut client, msg, &mut outbox, &mut report).await,
                None => {
                    report.unplanned += 1;
                    client = connect_and_sync(addr, &me, &mut outbox, &mut report).await;
                }
            },
            _ = sleep_until(next_send), if next_send < until => {
                let to = loop {
                    let other = rng.below(CLIENTS as u64) as usize;
                    if other != index {
                        break client_name(other);
                    }
                };
                let id = format!("{me}-{}", report.written);
                report.written += 1;
                send_chat(&mut client, &id, &to).await;
                outbox.insert(id, Unacked { to, resent_at: None });
                next_send = TokioInstant::now() + Duration::from_millis(rng.below(MAX_PAUSE_MS));
            }
            _ = sleep_until(next_drop), if next_drop < until => {
                drops.next();
                // Half the time the page closes properly, half the time the socket just drops.
                if rng.below(2) == 0 {
                    client.close_within(PATIENCE).await;
                } else {
                    drop(client);
                }
                report.reconnects += 1;
                client = connect_and_sync(addr, &me, &mut outbox, &mut report).await;
            }
            _ = sleep_until(until), if now < until => {}
            _ = sleep_until(give_up) => {}
        }
    }
    client.close_within(PATIENCE).await;
    report
}

/// After the run: connect once more, take the whole backlog and confirm it. A `history`
/// request marks the end of each answer, as the server handles one socket's frames in order.
async fn drain_backlog(addr: SocketAddr, index: usize) -> Report {
    let me = client_name(index);
    let other = client_name((index + 1) % CLIENTS);
    let mut report = Report::default();
    let mut outbox = BTreeMap::new();
    let mut client = connect_and_sync(addr, &me, &mut outbox, &mut report).await;
    for _ in 0..2 {
        client
            .send_json(json!({"type": "history", "conversation": {"user": other}, "limit": 1}))
            .await;
        loop {
            match timeout(SETTLE, client.next_message()).await {
                Ok(Some(Message::HistoryPage { .. })) => break,
                Ok(Some(msg)) => take(&mut client, msg, &mut outbox, &mut report).await,
                Ok(None) => panic!("{me}: the server closed the socket while draining"),
                Err(_) => panic!("{me}: no history_page within {SETTLE:?}"),
            }
        }
    }
    client.close_within(PATIENCE).await;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_pages_write_drop_and_come_back_without_losing_a_message() {
    let seed = std::env::var("SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    println!("soak: seed {seed}");
    let report_panic = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        report_panic(info);
    }));
    let mut rng = Rng::new(seed);
    // Allowances out of the way (receipts count against the call frames' one): the
    // pages write as fast as they like, and all from one address.
    let settings = Settings {
        chat_rate_per_sec: 100_000,
        chat_burst: 100_000,
        call_rate_per_sec: 100_000,
        call_burst: 100_000,
        send_queue: 8192,
        ..common::test_settings()
    };
    let addr = start(settings.clone()).await;
    let began = Instant::now();

    // A random tenth reconnect, each one to three times.
    let mut reconnecting = HashSet::new();
    while reconnecting.len() < CLIENTS / 10 {
        reconnecting.insert(rng.below(CLIENTS as u64) as usize);
    }
    let start_at = TokioInstant::now();
    let until = start_at + RUN;
    let mut tasks = Vec::new();
    for index in 0..CLIENTS {
        let mut own = Rng::new(rng.next());
        let drops = if reconnecting.contains(&index) {
            let mut at: Vec<TokioInstant> = (0..1 + own.below(MAX_DROPS))
                .map(|_| start_at + Duration::from_millis(own.below(RUN.as_millis() as u64)))
                .collect();
            at.sort();
            at
        } else {
            Vec::new()
        };
        tasks.push(tokio::spawn(run_client(addr, index, own, drops, until)));
    }
    // Bounds for the whole test: a client gives up SETTLE after the run, then closes.
    let mut reports = Vec::new();
    let deadline = until + SETTLE + PATIENCE;
    for task in tasks {
        let report = timeout_at(deadline, task)
            .await
            .expect("every client finishes its run")
            .expect("a client task panicked");
        reports.push(report);
    }
    let ran = began.elapsed();

    let drains: Vec<_> = (0..CLIENTS)
        .map(|index| tokio::spawn(drain_backlog(addr, index)))
        .collect();
    let deadline = TokioInstant::now() + SETTLE + PATIENCE;
    for task in drains {
        let report = timeout_at(deadline, task)
            .await
            .expect("every client drains its backlog")
            .expect("a drain task panicked");
        reports.push(report);
    }

    let mut acked: HashMap<(String, String), (String, i64)> = HashMap::new();
    let mut received: HashSet<(String, i64)> = HashSet::new();
    let (mut written, mut resent, mut deduplicated, mut reconnects, mut unplanned) =
        (0, 0, 0, 0, 0);
    let mut errors = Vec::new();
    for report in reports {
        acked.extend(report.acked);
        received.extend(report.received);
        written += report.written;
        resent += report.resent;
        deduplicated += report.deduplicated;
        reconnects += report.reconnects;
        unplanned += report.unplanned;
        errors.extend(report.errors);
    }
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        0,
        "a task panicked during the run (its message is above)"
    );
    assert!(
        errors.is_empty(),
        "the server refused or lost track: {errors:#?}"
    );
    assert_eq!(
        acked.len(),
        written,
        "every message written is acknowledged"
    );

    // The database, read directly.
    let db = open_database(&settings);
    let mut stored: HashMap<(String, String), Vec<(i64, String)>> = HashMap::new();
    let mut rows = db
        .prepare(
            "SELECT m.id, m.sender, m.client_id, c.name FROM messages m \
             JOIN conversations c ON c.id = m.conversation_id WHERE m.kind = 'text'",
        )
        .expect("query messages");
    let rows = rows
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .expect("read messages");
    let mut total = 0;
    for row in rows {
        let (id, sender, client_id, conversation) = row.expect("a message row");
        stored
            .entry((sender, client_id))
            .or_default()
            .push((id, conversation));
        total += 1;
    }
    let duplicated: Vec<_> = stored.iter().filter(|(_, rows)| rows.len() > 1).collect();
    assert!(
        duplicated.is_empty(),
        "stored more than once: {duplicated:?}"
    );
    assert_eq!(
        total,
        acked.len(),
        "stored rows against acknowledged messages"
    );
    for ((sender, client_id), (recipient, id)) in &acked {
        let rows = stored
            .get(&(sender.clone(), client_id.clone()))
            .unwrap_or_else(|| panic!("{sender}/{client_id} acked as {id} but not stored"));
        let mut pair = [sender.as_str(), recipient.as_str()];
        pair.sort();
        assert_eq!(
            rows[0],
            (*id, pair.join("\n")),
            "{sender}/{client_id}: stored id and conversation"
        );
    }
    let lost: Vec<_> = acked
        .values()
        .filter(|(recipient, id)| !received.contains(&(recipient.clone(), *id)))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged messages never reached their recipient: {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );
    let pending: i64 = db
        .query_row("SELECT COUNT(*) FROM pending", [], |r| r.get(0))
        .expect("count pending");
    assert_eq!(pending, 0, "every message confirmed by its recipient");

    println!(
        "soak: {CLIENTS} clients, {written} messages written ({resent} re-sent, {deduplicated} of them already stored), \
         {} acked and stored once, {reconnects} reconnects ({unplanned} unplanned), run {:.1} s, total {:.1} s",
        acked.len(),
        ran.as_secs_f64(),
        began.elapsed().as_secs_f64()
    );
}
