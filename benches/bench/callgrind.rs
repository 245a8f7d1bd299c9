//! A server under valgrind's callgrind, which counts the instructions it executes: the
//! same on a busy machine as on an idle one, where wall-clock ratios between two servers
//! swing by ±20 % from run to run. Counting is off until [`Callgrind::start`]; each
//! [`Callgrind::stop`] returns what was counted since, so start-up and sign-in are never
//! in a count. Both talk to valgrind through its `vgdb`, as `callgrind_control` does.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long one command to callgrind may take.
const CONTROL_WITHIN: Duration = Duration::from_secs(30);

/// One server's callgrind: its options, and the directory its counts and vgdb's pipes
/// go in (removed when dropped).
pub struct Callgrind {
    dir: tempfile::TempDir,
}

impl Callgrind {
    /// Checks that valgrind is installed, with a directory of its own in `scratch`.
    pub fn new(scratch: &Path) -> Result<Self, String> {
        let found = Command::new("valgrind")
            .arg("--version")
            .stdout(Stdio::null())
            .status();
        if found.is_err() {
            return Err(
                "valgrind is not installed: the relay budgets are instruction counts, \
                 made by its callgrind (Debian: apt-get install valgrind)"
                    .into(),
            );
        }
        let dir = tempfile::tempdir_in(scratch).map_err(|e| format!("a callgrind dir: {e}"))?;
        Ok(Self { dir })
    }

    /// The program and arguments to run a server under (see `Server::duet_under`).
    pub fn under(&self) -> Vec<String> {
        let dir = self.dir.path().display();
        vec![
            "valgrind".into(),
            "--tool=callgrind".into(),
            "--quiet".into(),
            // Not even instrumented until `start`: valgrind then runs ~5× slower than the
            // server alone instead of ~50×, so start-up and sign-in take seconds.
            "--instr-atstart=no".into(),
            format!("--callgrind-out-file={dir}/callgrind.out"),
            format!("--vgdb-prefix={dir}/vgdb"),
        ]
    }

    /// Counts from now on, from zero.
    pub async fn start(&self, pid: u32) -> Result<(), String> {
        self.control(pid, &["instrumentation on", "zero"]).await
    }

    /// The instructions executed since [`Callgrind::start`]; counting stops.
    pub async fn stop(&self, pid: u32) -> Result<u64, String> {
        let before = self.last_dump()?;
        self.control(pid, &["dump", "instrumentation off"]).await?;
        let (number, path) = self.last_dump()?.ok_or("callgrind wrote no dump")?;
        if before.is_some_and(|(n, _)| n >= number) {
            return Err(format!(
                "callgrind wrote no new dump after {}",
                path.display()
            ));
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        instructions(&text).ok_or_else(|| format!("no Ir summary in {}", path.display()))
    }

    /// Sends `commands` to callgrind in `pid` through `vgdb` (which takes several, each
    /// after a `-c`), in that order, within [`CONTROL_WITHIN`]. `callgrind_control` sends
    /// one at a time, and says "OK." even when vgdb failed.
    async fn control(&self, pid: u32, commands: &[&str]) -> Result<(), String> {
        let what = format!("vgdb {commands:?} to {pid}");
        let args = commands.join(" -c ");
        let said = self.dir.path().join("vgdb.txt");
        let file = std::fs::File::create(&said).map_err(|e| format!("{}: {e}", said.display()))?;
        let mut child = Command::new("vgdb")
            .arg(format!("--vgdb-prefix={}/vgdb", self.dir.path().display()))
            .arg(format!("--pid={pid}"))
            .args(args.split(' '))
            .stdin(Stdio::null())
            .stdout(file.try_clone().map_err(|e| format!("{what}: {e}"))?)
            .stderr(file)
            .spawn()
            .map_err(|e| format!("{what}: {e}"))?;
        let deadline = tokio::time::Instant::now() + CONTROL_WITHIN;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("{what}: no answer within {CONTROL_WITHIN:?}"));
                }
                Err(e) => return Err(format!("{what}: {e}")),
            }
        };
        if status.success() {
            Ok(())
        } else {
            let said = std::fs::read_to_string(&said).unwrap_or_default();
            Err(format!("{what}: {status}: {}", said.trim()))
        }
    }

    /// The newest dump, `callgrind.out.N`, and its N.
    fn last_dump(&self) -> Result<Option<(u32, PathBuf)>, String> {
        let entries = std::fs::read_dir(self.dir.path())
            .map_err(|e| format!("{}: {e}", self.dir.path().display()))?;
        Ok(entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let number = name.strip_prefix("callgrind.out.")?.parse().ok()?;
                Some((number, entry.path()))
            })
            .max_by_key(|(number, _)| *number))
    }
}

/// The instructions in a callgrind dump: its `summary:` line, when `Ir` is the only event
/// (callgrind's default, without cache simulation).
fn instructions(dump: &str) -> Option<u64> {
    let field = |key: &str| dump.lines().find_map(|line| line.strip_prefix(key));
    if field("events:")?.trim() != "Ir" {
        return None;
    }
    field("summary:")?.trim().parse().ok()
}
