//! The built-in TURN server under a flood of unauthenticated Allocates from one address: it
//! answers few of them and its memory stays flat. A test binary of its own: it reads this
//! process's resident memory, which no other test may move meanwhile.

mod common;

use common::turn::{bare_allocate, config, start};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use stun::agent::TransactionId;
use stun::message::{CLASS_REQUEST, METHOD_BINDING, Message, MessageType};
use tokio::net::UdpSocket;
use tokio::time::timeout;

/// This process's resident memory, in KiB.
fn resident_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// Datagrams in the flood. The crate alone kept a nonce of about 120 bytes for each, and
/// answered each with 72 bytes for 28.
const FLOOD: usize = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_strangers_gets_few_answers_and_costs_no_memory() {
    let turn = start(config(false)).await;
    let server = turn.local_addr();
    let flooder = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let answers = Arc::new(AtomicUsize::new(0));
    let counting = tokio::spawn({
        let (flooder, answers) = (flooder.clone(), answers.clone());
        async move {
            let mut buf = [0u8; 1500];
            while flooder.recv_from(&mut buf).await.is_ok() {
                answers.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let request = bare_allocate();
    let before = resident_kib();
    let started = Instant::now();
    for i in 0..FLOOD {
        flooder.send_to(&request, server).await.unwrap();
        // Paced, so the server reads them rather than the kernel dropping them.
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    // The server reads its socket in order: once a later request is answered, it has read
    // the whole flood (or the kernel has dropped what it could not hold).
    let witness = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    let mut binding = Message::new();
    binding
        .build(&[
            Box::new(TransactionId::new()),
            Box::new(MessageType::new(METHOD_BINDING, CLASS_REQUEST)),
        ])
        .unwrap();
    let mut buf = [0u8; 1500];
    loop {
        witness.send_to(&binding.raw, server).await.unwrap();
        if timeout(Duration::from_millis(200), witness.recv_from(&mut buf))
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server is still busy with the flood"
        );
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let grown = resident_kib() - before;
    let answered = answers.load(Ordering::Relaxed);
    counting.abort();
    // 20 at once, then 10 a second (and a few to spare).
    let allowed = 20 + 10 * elapsed.as_secs_f64().ceil() as usize + 10;
    println!("{FLOOD} requests in {elapsed:?}: {answered} answered, resident memory {grown:+} KiB");
    assert!(
        answered <= allowed,
        "{answered} of {FLOOD} answered in {elapsed:?}"
    );
    assert!(
        grown < 4 * 1024,
        "resident memory grew by {grown} KiB over {FLOOD} requests"
    );
    turn.stop().await;
}
