//! The two servers under test, each in a process of its own so neither shares a runtime
//! (or an allocator) with the load generator: the real duet binary, and the baseline relay
//! (this bench binary started again with `--serve-baseline`).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
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
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let binary = std::env::var_os("DUET_BENCH_BINARY")
            .map_or_else(|| env!("CARGO_BIN_EXE_duet").into(), |path| root.join(path));
        let mut command = crate::pin::command(binary);
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
            .env_remove("DUET_TLS");
        Self::start(command, "duet is listening on http://")
    }

    /// The baseline relay (see `baseline.rs`).
    pub fn baseline() -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("this binary's path: {e}"))?;
        let mut command = crate::pin::command(exe);
        command.arg(SERVE_BASELINE);
        Self::start(command, crate::baseline::LISTENING)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `command` and waits for the line `prefix` + address on its stdout.
    fn start(mut command: Command, prefix: &str) -> Result<Self, String> {
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
            let line = read
                .recv_timeout(Duration::from_secs(30))
                .map_err(|_| format!("{command:?} did not say where it listens within 30 s"))?;
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

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
