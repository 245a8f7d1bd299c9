//! `DUET_BENCH_PIN=1`: the load generator on the first half of the CPUs, every server it
//! starts on the other half (by `taskset`, util-linux).
//!
//! Off by default, as the suite's budgets were set without it. With the load generator's
//! and the server's worker threads sharing every core, a relayed frame whose thread waits
//! for a core waits up to one scheduler tick (4 ms on a 250 Hz kernel), and a relay's p99
//! is that tick as soon as its cost per frame is a few percent over the bare relay's
//! (README, *Performance*). Pinned, the figures are the server's own cost: the tick goes
//! from the tail, and throughput follows CPU time per frame.

use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The load generator's CPUs and the servers', once [`init`] has pinned this process.
static CPUS: OnceLock<(String, String)> = OnceLock::new();

/// Whether `DUET_BENCH_PIN` asks for pinning.
pub fn wanted() -> Result<bool, String> {
    match std::env::var("DUET_BENCH_PIN").as_deref() {
        Err(_) | Ok("" | "0") => Ok(false),
        Ok("1") => Ok(true),
        Ok(other) => Err(format!("DUET_BENCH_PIN={other:?}: expected 0 or 1")),
    }
}

/// Pins this process to the first half of the CPUs it may use, and every server started
/// after it to the other half. Call before any thread starts: threads inherit the mask of
/// the thread that made them.
pub fn init() -> Result<(), String> {
    let pid = std::process::id();
    let mine = parse(&allowed(pid)?)?;
    if mine.len() < 2 {
        return Err("pinning needs at least two CPUs".into());
    }
    let (client, server) = mine.split_at(mine.len() / 2);
    let (client, server) = (list(client), list(server));
    taskset(&["-p", "-c", &client, &pid.to_string()])?;
    CPUS.set((client, server))
        .map_err(|_| "pinned twice".to_owned())
}

/// The load generator's CPUs in taskset's list form, or `None` when not pinning.
pub fn client_cpus() -> Option<&'static str> {
    CPUS.get().map(|(client, _)| client.as_str())
}

/// The servers' CPUs in taskset's list form, or `None` when not pinning.
pub fn server_cpus() -> Option<&'static str> {
    CPUS.get().map(|(_, server)| server.as_str())
}

/// The CPUs process `pid` may run on, as the kernel lists them.
pub fn allowed(pid: u32) -> Result<String, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .map(|list| list.trim().to_owned())
        .ok_or_else(|| format!("no Cpus_allowed_list for {pid}"))
}

/// A command for `program`, started on the servers' CPUs when pinning.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    match server_cpus() {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.args(["-c", cpus]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// The CPU numbers in a list like the kernel's (`0-3,8`).
pub fn parse(cpus: &str) -> Result<Vec<usize>, String> {
    let number = |n: &str| {
        n.parse::<usize>()
            .map_err(|e| format!("CPU list {cpus:?}: {e}"))
    };
    let mut all = Vec::new();
    for part in cpus.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((from, to)) => all.extend(number(from)?..=number(to)?),
            None => all.push(number(part)?),
        }
    }
    Ok(all)
}

/// Sorted CPU numbers in the kernel's list form, which taskset also reads.
pub fn list(cpus: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = cpus;
    while let Some(&first) = rest.first() {
        let run = rest.windows(2).take_while(|w| w[1] == w[0] + 1).count() + 1;
        let last = rest[run - 1];
        parts.push(if run == 1 {
            first.to_string()
        } else {
            format!("{first}-{last}")
        });
        rest = &rest[run..];
    }
    parts.join(",")
}

fn taskset(args: &[&str]) -> Result<(), String> {
    let status = Command::new("taskset")
        .args(args)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("pinning: taskset: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("pinning: taskset {args:?}: {status}"))
    }
}
