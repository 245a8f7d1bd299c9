//! How the cost of announcing a group grows with its members, end to end: alone in its
//! own test binary, so that no other test's server competes for the CPU while it times.

mod common;

use common::chat::{chat_page, create_group, names, next_sized, next_sized_within, roomy};
use common::{Client, QUIET_MS, start};
use duet::protocol::Message;
use duet::server::Settings;
use serde_json::json;
use std::time::Duration;

/// The CPU time this process's threads (the server's and the test's) have used: unlike
/// the time on the clock, it does not grow while other programs have the CPU.
#[cfg(target_os = "linux")]
fn cpu_time() -> Duration {
    let mut nanos = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let stat = task.expect("a thread").path().join("schedstat");
        // A thread may end between listing and reading.
        if let Ok(stat) = std::fs::read_to_string(stat) {
            nanos += stat
                .split_whitespace()
                .next()
                .and_then(|on_cpu| on_cpu.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Duration::from_nanos(nanos)
}

/// Elsewhere, the time on the clock.
#[cfg(not(target_os = "linux"))]
fn cpu_time() -> Duration {
    use std::time::Instant;
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// The CPU time creating a group of `size` costs until the page's next answer (the socket
/// handles chat frames in order, so that is once every member has been told).
async fn time_group(alice: &mut Client, group: &str, size: usize) -> Duration {
    let mut members = names("m", size - 2);
    members.push("bob".into());
    let asked = cpu_time();
    create_group(alice, group, &members).await;
    let conversation = json!({"group": group});
    alice
        .send_json(json!({"type": "history", "conversation": conversation, "limit": 1}))
        .await;
    loop {
        match next_sized_within(alice, Duration::from_secs(30)).await.1 {
            Message::HistoryPage { .. } => return cpu_time() - asked,
            Message::Group { members, .. } => assert_eq!(members.len(), size),
            other => panic!("alice: expected group and history_page, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn announcing_a_group_takes_time_linear_in_its_members() {
    // Large enough that the work per member, not the round trip and the machine's
    // swings, is most of the time.
    const BIG: usize = 8000;
    const SMALL: usize = BIG / 4;
    const ROUNDS: usize = 5;
    let settings = Settings {
        max_group_members: BIG,
        ..roomy()
    };
    let addr = start(settings).await;
    let (mut alice, _) = chat_page(addr, "alice").await;
    let (mut bob, _) = chat_page(addr, "bob").await;
    // The least CPU time of a few at each size, interleaved. A linear cost makes the ratio
    // about 4; the quadratic one this replaced, about 16.
    let (mut small, mut big) = (Duration::MAX, Duration::MAX);
    for round in 0..ROUNDS {
        small = small.min(time_group(&mut alice, &format!("small {round}"), SMALL).await);
        big = big.min(time_group(&mut alice, &format!("big {round}"), BIG).await);
    }
    let ratio = big.as_secs_f64() / small.as_secs_f64();
    eprintln!("a group of {SMALL}: {small:?}; of {BIG}: {big:?}; ratio {ratio:.1}");
    assert!(
        ratio < 8.0,
        "4× the members took {ratio:.1}× the time ({small:?}, {big:?})"
    );

    // bob, online, was told of each group once, with every member.
    for _ in 0..2 * ROUNDS {
        let (_, msg) = next_sized(&mut bob).await;
        let Message::Group { members, .. } = msg else {
            panic!("bob: expected group, got {msg:?}");
        };
        assert!([SMALL, BIG].contains(&members.len()), "{}", members.len());
    }
    bob.expect_silence(QUIET_MS).await;
}
