//! The two servers under test, each in a process of its own so neither shares a runtime
//! (or an allocator) with the load generator: the real duet binary, and the baseline relay
//! (this bench binary started again with `--serve-baseline`); either may run under
//! valgrind, to have its instructions counted (`count.rs`).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The argument that makes this binary the baseline relay instead of the bench.
pub const SERVE_BASELINE: &str = "--serve-baseline";

/// A server process; killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// The duet binary `DUET_BENCH_BINARY` names (relative to the package: `make bench`
    /// names the release build's, which its browser half measures too), else the one cargo
    /// built for this bench, with its default settings and a data directory of its own, on
    /// a free loopback port.
    pub fn duet(data_dir: &Path) -> Result<Self, String> {
        Self::duet_under(data_dir, &[], &[])
    }

    /// duet as [`Server::duet`] starts it, but run by `under` (a program and its
    /// arguments, such as valgrind's; none for duet on its own), with `env` set besides.
    pub fn duet_under(
        data_dir: &Path,
        under: &[String],
        env: &[(&str, &str)],
    ) -> Result<Self, String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let binary = std::env::var_os("DUET_BENCH_BINARY")
            .map_or_else(|| env!("CARGO_BIN_EXE_duet").into(), |path| root.join(path));
        let mut command = launch(under, binary);
        command
            .current_dir(root)
            .env("DUET_SITE_ADDR", "127.0.0.1:0")
            .env("DUET_DATA_DIR", data_dir)
            // The load is many people from one address, each sending as fast as it is
            // answered, far past what a page sends: their allowances out of the way, so
            // what is measured is the relay, allowance checks included.
            .env("DUET_CALL_RATE_PER_SEC", "1000000000")
            .env("DUET_CALL_BURST", "1000000000")
            .env("DUET_RING_RATE_PER_MIN", "1000000000")
            .env("DUET_RING_BURST", "1000000000")
            .env("RUST_LOG", "warn")
            .env_remove("DUET_TLS")
            .envs(env.iter().copied());
        Self::start(command, "duet is listening on http://", under)
    }

    /// The baseline relay (see `baseline.rs`).
    pub fn baseline() -> Result<Self, String> {
        Self::baseline_under(&[], &[])
    }

    /// The baseline relay, run by `under` and with `env` as in [`Server::duet_under`].
    pub fn baseline_under(under: &[String], env: &[(&str, &str)]) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("this binary's path: {e}"))?;
        let mut command = launch(under, exe);
        command.arg(SERVE_BASELINE).envs(env.iter().copied());
        Self::start(command, crate::baseline::LISTENING, under)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `command` and waits for the line `prefix` + address on its stdout; longer
    /// when it runs `under` another program (valgrind starts a server ~10× slower).
    fn start(mut command: Command, prefix: &str, under: &[String]) -> Result<Self, String> {
        let within = Duration::from_secs(if under.is_empty() { 30 } else { 120 });
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start {command:?}: {e}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines, read) = mpsc::channel();
        // Reads (and drops) its output to the end, so the server never blocks on a pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut server = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        loop {
            let line = read.recv_timeout(within).map_err(|_| {
                format!("{command:?} did not say where it listens within {within:?}")
            })?;
            if let Some(rest) = line.strip_prefix(prefix) {
                server.addr = rest
                    .trim_end_matches('/')
                    .parse()
                    .map_err(|e| format!("address in {line:?}: {e}"))?;
                return Ok(server);
            }
        }
    }

    /// The process's resident memory in KiB (`VmRSS`), as the kernel counts it.
    pub fn rss_kib(&self) -> Result<u64, String> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no VmRSS in {path}"))
    }

    /// The CPU time (user + system) the process has used so far, in seconds.
    pub fn cpu_secs(&self) -> Result<f64, String> {
        let path = format!("/proc/{}/stat", self.child.id());
        let stat = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        // After the command name (in parentheses, which may hold spaces): fields 3 on;
        // utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<u64>().ok());
        match (ticks(14), ticks(15)) {
            (Some(user), Some(system)) => Ok((user + system) as f64 / 100.0),
            _ => Err(format!("no utime/stime in {path}")),
        }
    }

    /// The server's WebSocket URL for `name`.
    pub fn url(&self, name: &str) -> String {
        format!("ws://{}/webrtc/{name}", self.addr)
    }
}

/// A command for `program`, run by `under` if it names a program, on the servers' CPUs
/// when pinning (see `pin.rs`).
fn launch(under: &[String], program: PathBuf) -> Command {
    match under.split_first() {
        Some((first, rest)) => {
            let mut command = crate::pin::command(first);
            command.args(rest).arg(program);
            command
        }
        None => crate::pin::command(program),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
