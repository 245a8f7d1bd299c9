//! The report: every figure, the budgets as pass/fail lines (and beside them figures that
//! are not judged, as `info` lines), written as Markdown for people
//! (`target/bench/report.md`) and JSON for tools (`report.json`). The browser figures come
//! from the Playwright half of the suite (`end2end/bench/`), which writes `browser.json`.

use serde_json::{Value, json};
use std::fmt::Write;

/// One budget: a measured figure and the upper bound the issue set for it.
pub struct Budget {
    pub what: &'static str,
    pub value: Option<f64>,
    pub unit: &'static str,
    pub at_most: f64,
}

impl Budget {
    /// Not measured counts as failed.
    pub fn pass(&self) -> bool {
        self.value.is_some_and(|v| v <= self.at_most)
    }

    fn line(&self) -> String {
        let value = match self.value {
            Some(v) => format!("{v:.2} {}", self.unit),
            None => "not measured".to_owned(),
        };
        let verdict = if self.pass() { "PASS" } else { "FAIL" };
        format!(
            "{verdict}  {}: {value} (budget ≤ {} {})",
            self.what, self.at_most, self.unit
        )
    }

    fn json(&self) -> Value {
        json!({"what": self.what, "value": self.value, "unit": self.unit, "at_most": self.at_most, "pass": self.pass()})
    }
}

/// The figures of one run of the suite, as JSON sections.
pub struct Report {
    pub date: String,
    pub machine: String,
    pub sections: Value,
    pub budgets: Vec<Budget>,
    /// Figures shown beside the budgets, not judged.
    pub information: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.budgets.iter().all(Budget::pass)
    }

    pub fn json(&self) -> Value {
        json!({
            "date": self.date,
            "machine": self.machine,
            "figures": self.sections,
            "budgets": self.budgets.iter().map(Budget::json).collect::<Vec<_>>(),
            "information": self.information,
            "passed": self.passed(),
        })
    }

    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let s = &self.sections;
        let _ = writeln!(
            md,
            "# duet benchmark report\n\n{}, {}\n",
            self.date, self.machine
        );
        let _ = writeln!(md, "## Budgets\n\n```");
        for budget in &self.budgets {
            let _ = writeln!(md, "{}", budget.line());
        }
        for line in &self.information {
            let _ = writeln!(md, "info  {line}");
        }
        let _ = writeln!(md, "```\n");
        if let Some(count) = s.get("count") {
            count_section(&mut md, count);
        }
        if let Some(relay) = s.get("relay") {
            let _ = writeln!(
                md,
                "## Signaling relay, wall clock\n\nInformation, not budgets: on a shared machine these ratios move by ±20 % from run to run (see the control), so the relay budgets are the instruction counts above. {} caller/callee pairs in calls, each ping-ponging one frame, {} s measured per server (four runs each, baseline–duet–control–control–duet–baseline twice, each after {} s of warm-up). The control is the baseline again in a second process, measured as duet is: its ratios are what the method alone gives on this machine.\n",
                relay["pairs"], relay["measure_secs"], relay["warmup_secs"]
            );
            if let Some(servers) = relay["server_cpus"].as_str() {
                let _ = writeln!(
                    md,
                    "Pinned: the load generator on CPUs {}, the servers on CPUs {servers}.\n",
                    relay["client_cpus"].as_str().unwrap_or_default()
                );
            }
            let _ = writeln!(
                md,
                "| frame | server | msgs/s | p50 µs | p90 µs | p99 µs | max µs | server CPU µs/msg |"
            );
            let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|");
            for case in relay["cases"].as_array().into_iter().flatten() {
                for server in ["baseline", "duet", "control"] {
                    let f = &case[server];
                    let _ = writeln!(
                        md,
                        "| {} ({} B) | {server} | {:.0} | {} | {} | {} | {} | {:.1} |",
                        case["frame"].as_str().unwrap_or_default(),
                        case["bytes"],
                        f["msgs_per_sec"].as_f64().unwrap_or_default(),
                        f["p50_us"],
                        f["p90_us"],
                        f["p99_us"],
                        f["max_us"],
                        f["server_cpu_us_per_msg"].as_f64().unwrap_or_default()
                    );
                }
                for (server, key) in [("duet", ""), ("control", "control_")] {
                    let ratio = |what: &str| {
                        case[format!("{key}{what}_ratio")]
                            .as_f64()
                            .unwrap_or_default()
                    };
                    let _ = writeln!(
                        md,
                        "| | {server} ÷ baseline | {:.2}× | | | {:.2}× | | |",
                        ratio("throughput"),
                        ratio("p99")
                    );
                }
            }
            md.push('\n');
            // Each run on its own: how much of a ratio is the machine, not the server.
            for case in relay["cases"].as_array().into_iter().flatten() {
                for server in ["baseline", "duet", "control"] {
                    let runs = case[server]["runs"].as_array().cloned().unwrap_or_default();
                    let each = |key: &str| {
                        runs.iter()
                            .map(|r| format!("{:.0}", r[key].as_f64().unwrap_or_default()))
                            .collect::<Vec<_>>()
                            .join(" · ")
                    };
                    let _ = writeln!(
                        md,
                        "- {} through {server}, run by run: {} msgs/s; p99 {} µs",
                        case["frame"].as_str().unwrap_or_default(),
                        each("msgs_per_sec"),
                        each("p99_us")
                    );
                }
            }
            md.push('\n');
        }
        if let Some(idle) = s.get("idle") {
            let _ = writeln!(
                md,
                "## Connections held\n\n{} idle signed-in sockets opened in {:.2} s ({:.0}/s); server RSS {} KiB → {} KiB: **{:.2} KiB per connection**.\n",
                idle["connections"],
                idle["connect_secs"].as_f64().unwrap_or_default(),
                idle["connects_per_sec"].as_f64().unwrap_or_default(),
                idle["rss_before_kib"],
                idle["rss_after_kib"],
                idle["kib_per_connection"].as_f64().unwrap_or_default()
            );
        }
        if let Some(weight) = s.get("weight") {
            let _ = writeln!(
                md,
                "## Page weight\n\n| file | raw | gzip | brotli |\n|---|---:|---:|---:|"
            );
            for a in weight["assets"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} |",
                    a["file"].as_str().unwrap_or_default(),
                    a["raw"],
                    a["gzip"],
                    a["brotli"]
                );
            }
            let _ = writeln!(
                md,
                "| **total** (bytes) | {} | {} | {} |\n",
                weight["raw"], weight["gzip"], weight["brotli"]
            );
        }
        if let Some(browser) = s.get("browser") {
            browser_section(&mut md, browser);
        }
        md
    }
}

/// Instructions per relayed frame, counted by callgrind (`count.rs`).
fn count_section(md: &mut String, count: &Value) {
    let _ = writeln!(
        md,
        "## Instructions per relayed frame\n\nEach server under callgrind, {} caller/callee pairs in calls ping-ponging one frame, {} frames counted in each of {} windows per frame kind (after {} uncounted); start-up and sign-in are not counted. Instructions are the same on a busy machine, so these ratios are the relay budgets. {:.0} s in all.\n",
        count["pairs"],
        count["frames_per_window"],
        count["windows"],
        count["warmup_frames"],
        count["secs"].as_f64().unwrap_or_default()
    );
    let _ = writeln!(
        md,
        "| frame | server | instructions per frame | window by window | spread |\n|---|---|---:|---|---:|"
    );
    for case in count["cases"].as_array().into_iter().flatten() {
        for server in ["baseline", "duet"] {
            let c = &case[server];
            let windows: Vec<String> = numbers(&c["windows"])
                .iter()
                .map(|n| format!("{n:.0}"))
                .collect();
            let _ = writeln!(
                md,
                "| {} | {server} | {:.0} | {} | {:.2} % |",
                case["frame"].as_str().unwrap_or_default(),
                c["instructions_per_frame"].as_f64().unwrap_or_default(),
                windows.join(" · "),
                c["spread"].as_f64().unwrap_or_default() * 100.0
            );
        }
        let _ = writeln!(
            md,
            "| | duet ÷ baseline | {:.3}× | | |",
            case["ratio"].as_f64().unwrap_or_default()
        );
    }
    md.push('\n');
}

/// Call set-up and page load, from the Playwright half's figures.
fn browser_section(md: &mut String, browser: &Value) {
    let ms = |v: &Value| v.as_f64().map_or("-".to_owned(), |v| format!("{v:.0} ms"));
    let setup = &browser["call_setup"];
    let _ = writeln!(
        md,
        "## In the browser\n\nCall set-up, {} runs: in-page floor median {}, duet median {}, ratio {:.2}×.  \nMethod: {}\n",
        setup["runs"],
        ms(&setup["floor_median_ms"]),
        ms(&setup["duet_median_ms"]),
        setup["ratio"].as_f64().unwrap_or_default(),
        setup["method"].as_str().unwrap_or_default()
    );
    let load = &browser["page_load"];
    let _ = writeln!(
        md,
        "Page load, {} runs: median {} in a fresh browser context, {} with its files cached.  \nMethod: {}\n",
        load["runs"],
        ms(&load["median_ms"]),
        ms(&load["warm_median_ms"]),
        load["method"].as_str().unwrap_or_default()
    );
    let _ = writeln!(
        md,
        "| served | status | encoding | bytes | cache-control |\n|---|---:|---|---:|---|"
    );
    for a in load["assets"].as_array().into_iter().flatten() {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            a["url"].as_str().unwrap_or_default(),
            a["status"],
            a["content_encoding"].as_str().unwrap_or("none"),
            a["bytes"],
            a["cache_control"].as_str().unwrap_or("none")
        );
    }
}

/// The numbers in a JSON array (none if it is not one).
pub fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_f64)
        .collect()
}

/// The median of `values` (the lower middle one for an even count); `None` if empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    (!sorted.is_empty()).then(|| sorted[(sorted.len() - 1) / 2])
}

/// This machine, in a line: CPU model and count, memory, kernel.
pub fn machine() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split(':').nth(1))
        })
        .map(str::trim)
        .unwrap_or("unknown CPU");
    // The machine's CPUs, not this process's: a pinned run may use only some of them.
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let mem_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let kernel = read("/proc/sys/kernel/osrelease");
    format!(
        "{cores} × {model}, {:.0} GiB, Linux {}",
        mem_kib as f64 / 1024.0 / 1024.0,
        kernel.trim()
    )
}

/// Now, in UTC, to the minute.
pub fn date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown date".into())
}
