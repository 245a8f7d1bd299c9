//! duet's benchmark suite, server half: the server's instructions per relayed frame against
//! a baseline relay's (counted by callgrind, `count.rs`: the relay budgets), signaling
//! relay throughput and latency against the baseline (and a control, the baseline again:
//! see `relay`; information, as wall-clock ratios swing by ±20 % on a shared machine),
//! idle connections held, and page weight; it then adds the browser half's figures
//! (`end2end/bench/`) and writes the report with its budgets.
//!
//! `make bench` runs it as `cargo bench` (cargo passes `--bench`): the full suite against
//! the release binary, report in `target/bench/`, exit status 1 if a budget is missed.
//! `cargo test` runs it with tiny parameters and no budgets (a smoke run, so it cannot rot).
//!
//! Full-run parameters: DUET_BENCH_PAIRS (50), DUET_BENCH_SECS (12 s measured per frame
//! kind and server, in four runs after 1 s of warm-up each), DUET_BENCH_IDLE (10 000
//! sockets), LEPTOS_SITE_ROOT (the site to weigh: target/site), DUET_BENCH_PIN (0; 1 puts
//! the load generator and the servers on separate CPUs, see `pin.rs`), DUET_BENCH_BINARY
//! (the duet to measure; the one cargo built for the bench if unset),
//! DUET_BENCH_COUNT_PAIRS (4) and DUET_BENCH_COUNT_FRAMES (500 per pair in each of three
//! counted windows per frame kind and server, see `count.rs`). The counts need valgrind.

mod baseline;
mod callgrind;
mod count;
mod idle;
mod load;
mod pin;
mod report;
mod server;
mod weight;

use load::Kind;
use report::{Budget, Report, median, numbers};
use serde_json::{Value, json};
use server::Server;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

struct Params {
    pairs: usize,
    warmup: Duration,
    measure: Duration,
    idle: usize,
    count: count::Load,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == server::SERVE_BASELINE) {
        return baseline::serve();
    }
    // 10 000 sockets need more than the usual 1 024 descriptors (the server raises its own).
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("bench: cannot raise the open-file limit: {e}");
    }
    let full_run = args.iter().any(|a| a == "--bench");
    // The smoke run pins whenever it can, so the pinned path is tried on every test run.
    let pin = if full_run {
        pin::wanted()
    } else {
        Ok(std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2))
    };
    if let Err(e) = pin.and_then(|pin| if pin { pin::init() } else { Ok(()) }) {
        eprintln!("bench: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    if full_run {
        runtime.block_on(full())
    } else {
        runtime.block_on(smoke());
        ExitCode::SUCCESS
    }
}

fn env_number(key: &str, default: u64) -> u64 {
    match std::env::var(key) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{key}={v:?} is not a whole number")),
        Err(_) => default,
    }
}

async fn full() -> ExitCode {
    let params = Params {
        pairs: env_number("DUET_BENCH_PAIRS", 50) as usize,
        warmup: Duration::from_secs(1),
        measure: Duration::from_secs(env_number("DUET_BENCH_SECS", 12)),
        idle: env_number("DUET_BENCH_IDLE", 10_000) as usize,
        count: count::Load {
            pairs: env_number("DUET_BENCH_COUNT_PAIRS", 4) as usize,
            warmup: 20,
            frames: env_number("DUET_BENCH_COUNT_FRAMES", 500),
            windows: 3,
        },
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("target/bench");
    let site = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    let pkg = root.join(site).join("pkg");
    let browser = std::fs::read_to_string(out.join("browser.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let report = match suite(&params, &pkg, browser).await {
        Ok(report) => report,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = write(&report, &out) {
        eprintln!("bench: {e}");
        return ExitCode::FAILURE;
    }
    println!("{}", report.markdown());
    println!("written to {}", out.join("report.md").display());
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs the server half with `params` and adds `browser` (the Playwright figures).
async fn suite(params: &Params, pkg: &Path, browser: Option<Value>) -> Result<Report, String> {
    let mut sections = serde_json::Map::new();
    let count = count::run(&params.count, Path::new(env!("CARGO_TARGET_TMPDIR"))).await?;
    eprintln!("bench: instruction counts done");
    let relay = relay(params).await?;
    eprintln!("bench: relay done");
    let idle = {
        let data = scratch()?;
        let duet = Server::duet(data.path())?;
        idle::run(&duet, params.idle).await?
    };
    eprintln!("bench: {} idle sockets done", params.idle);
    let weight = weight::measure(pkg)?;

    let counted = |kind: Kind| {
        count["cases"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["frame"] == kind.name())
    };
    let case = |kind: Kind| relay.iter().find(|c| c["frame"] == kind.name());
    let browser = browser.map(browser_figures);
    let from_browser = |path: &[&str]| {
        let mut v = browser.as_ref()?;
        for key in path {
            v = v.get(key)?;
        }
        v.as_f64()
    };
    let budgets = vec![
        Budget {
            what: "relay _ice instructions per frame, duet ÷ baseline",
            value: counted(Kind::Ice).and_then(|c| c["ratio"].as_f64()),
            unit: "×",
            at_most: 1.25,
        },
        Budget {
            what: "relay offer instructions per frame, duet ÷ baseline",
            value: counted(Kind::Offer).and_then(|c| c["ratio"].as_f64()),
            unit: "×",
            at_most: 1.25,
        },
        Budget {
            what: "server memory per idle connection",
            value: Some(idle.kib_per_connection),
            unit: "KiB",
            at_most: 10.0,
        },
        Budget {
            what: "page weight, WASM + JS + CSS, brotli",
            value: Some(weight.brotli as f64 / 1000.0),
            unit: "KB",
            at_most: 200.0,
        },
        Budget {
            what: "call set-up, Accept → first remote frame, ÷ in-page floor",
            value: from_browser(&["call_setup", "ratio"]),
            unit: "×",
            at_most: 1.3,
        },
        Budget {
            what: "page load, navigation → hydrated and signed in, median",
            value: from_browser(&["page_load", "median_ms"]),
            unit: "ms",
            at_most: 300.0,
        },
    ];
    let mut information = Vec::new();
    for kind in [Kind::Ice, Kind::Offer] {
        if let Some(c) = counted(kind) {
            let each = |server: &str| c[server]["instructions_per_frame"].as_f64();
            let spread = |server: &str| c[server]["spread"].as_f64().unwrap_or_default() * 100.0;
            information.push(format!(
                "relay {} instructions per frame (callgrind): duet {:.0}, baseline {:.0}; windows {:.2} % and {:.2} % apart",
                kind.name(),
                each("duet").unwrap_or_default(),
                each("baseline").unwrap_or_default(),
                spread("duet"),
                spread("baseline")
            ));
        }
    }
    for kind in [Kind::Ice, Kind::Offer] {
        if let Some(c) = case(kind) {
            let r = |key: &str| c[key].as_f64().unwrap_or_default();
            information.push(format!(
                "relay {} wall clock, duet ÷ baseline: throughput {:.2}×, p99 {:.2}× (control ÷ baseline: {:.2}×, {:.2}×)",
                kind.name(),
                r("throughput_ratio"),
                r("p99_ratio"),
                r("control_throughput_ratio"),
                r("control_p99_ratio")
            ));
        }
    }
    sections.insert("count".into(), count);
    sections.insert(
        "relay".into(),
        json!({"pairs": params.pairs, "warmup_secs": params.warmup.as_secs_f64(), "measure_secs": params.measure.as_secs_f64(), "client_cpus": pin::client_cpus(), "server_cpus": pin::server_cpus(), "cases": relay}),
    );
    sections.insert("idle".into(), json!(idle));
    sections.insert("weight".into(), json!(weight));
    if let Some(browser) = browser {
        sections.insert("browser".into(), browser);
    }
    Ok(Report {
        date: report::date(),
        machine: report::machine(),
        sections: Value::Object(sections),
        budgets,
        information,
    })
}

/// How many runs of each frame kind each server gets (see [`relay`]); even, as each
/// server runs twice in every round of [`ORDER`].
const ROUNDS_EACH: u32 = 4;

/// The servers a frame kind goes through, in the order of one round: the baseline first
/// and last, duet and the control (see [`relay`]) between, each twice.
const ORDER: [Slot; 6] = [
    Slot::Baseline,
    Slot::Duet,
    Slot::Control,
    Slot::Control,
    Slot::Duet,
    Slot::Baseline,
];

#[derive(Clone, Copy)]
enum Slot {
    Baseline,
    Duet,
    Control,
}

/// Both frame kinds through the baseline and through duet, one server process each. Each
/// gets its time in four runs, in two rounds of [`ORDER`]: what drifts on a busy machine
/// (a neighbour, a warming cache) weighs on all alike, and one run's bad seconds weigh
/// less (runs of the same server in one suite have differed by half).
///
/// The control is the baseline again, in a process of its own, measured as duet is. It
/// differs from the baseline in nothing, so its ratios to it are what the method alone
/// gives on this machine: how far from 1× a server can land without being any slower.
async fn relay(params: &Params) -> Result<Vec<Value>, String> {
    let data = scratch()?;
    let duet = Server::duet(data.path())?;
    let baseline = Server::baseline()?;
    let control = Server::baseline()?;
    let each = params.measure / ROUNDS_EACH;
    let mut cases = Vec::new();
    for kind in [Kind::Ice, Kind::Offer] {
        // Indexed by `Slot`, in the order it declares them.
        let mut samples: [load::Samples; 3] = Default::default();
        let order = ORDER.repeat(ROUNDS_EACH as usize / 2);
        for (round, slot) in order.into_iter().enumerate() {
            let server = match slot {
                Slot::Baseline => &baseline,
                Slot::Duet => &duet,
                Slot::Control => &control,
            };
            let prefix = format!("{}{round}", kind.name().trim_start_matches('_'));
            let run = load::run(server, &prefix, params.pairs, kind, params.warmup, each);
            samples[slot as usize].add(
                run.await
                    .map_err(|e| format!("{}, round {round}: {e}", kind.name()))?,
            );
        }
        let [base, ours, again] = samples.map(load::Samples::figures);
        let (base, ours, again) = (base?, ours?, again?);
        let throughput = |f: &load::Figures| f.msgs_per_sec / base.msgs_per_sec;
        let p99 = |f: &load::Figures| f64::from(f.p99_us) / f64::from(base.p99_us.max(1));
        cases.push(json!({
            "frame": kind.name(),
            "bytes": kind.frame("c0", "e0", 0).len(),
            "throughput_ratio": throughput(&ours),
            "p99_ratio": p99(&ours),
            "control_throughput_ratio": throughput(&again),
            "control_p99_ratio": p99(&again),
            "baseline": base,
            "duet": ours,
            "control": again,
        }));
    }
    Ok(cases)
}

/// Adds the medians and the ratio to the Playwright half's raw figures.
fn browser_figures(mut browser: Value) -> Value {
    let floor = median(&numbers(&browser["call_setup"]["floor_ms"]));
    let duet = median(&numbers(&browser["call_setup"]["duet_ms"]));
    if let Some(setup) = browser.get_mut("call_setup").and_then(Value::as_object_mut) {
        setup.insert("floor_median_ms".into(), json!(floor));
        setup.insert("duet_median_ms".into(), json!(duet));
        let ratio = floor.zip(duet).map(|(f, d)| d / f);
        setup.insert("ratio".into(), json!(ratio));
    }
    let load = median(&numbers(&browser["page_load"]["ms"]));
    let warm = median(&numbers(&browser["page_load"]["warm_ms"]));
    if let Some(page) = browser.get_mut("page_load").and_then(Value::as_object_mut) {
        page.insert("median_ms".into(), json!(load));
        page.insert("warm_median_ms".into(), json!(warm));
    }
    browser
}

fn write(report: &Report, out: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let files = [
        ("report.md", report.markdown()),
        (
            "report.json",
            serde_json::to_string_pretty(&report.json()).expect("JSON"),
        ),
    ];
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// A fresh directory under cargo's scratch directory for benchmarks (`target/tmp`).
fn scratch() -> Result<tempfile::TempDir, String> {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .map_err(|e| format!("a scratch directory: {e}"))
}

/// Every benchmark with tiny parameters, the report written to a scratch directory; each
/// figure must be there and make sense. Budgets are not checked: a debug build on a busy
/// machine says nothing about them.
async fn smoke() {
    let params = Params {
        pairs: 2,
        warmup: Duration::from_millis(100),
        measure: Duration::from_millis(400),
        idle: 20,
        // The debug build under callgrind: few frames, and yet each window's count is
        // still checked against the frames relayed.
        count: count::Load {
            pairs: 1,
            warmup: 2,
            frames: 6,
            windows: 2,
        },
    };
    let pkg = fake_pkg();
    let browser = json!({
        "call_setup": {"floor_ms": [100.0, 120.0, 110.0], "duet_ms": [130.0, 125.0, 140.0]},
        "page_load": {"ms": [90.0, 80.0, 100.0, 70.0], "warm_ms": [50.0, 40.0, 60.0]},
    });
    let report = suite(&params, &pkg, Some(browser))
        .await
        .expect("the suite runs");
    let figures = &report.sections;
    for case in figures["relay"]["cases"].as_array().expect("relay cases") {
        for server in ["baseline", "duet", "control"] {
            let f = &case[server];
            assert!(
                f["messages"].as_u64() > Some(0),
                "{server} relayed {}: {f}",
                case["frame"]
            );
            assert!(f["p50_us"].as_u64() <= f["max_us"].as_u64(), "{f}");
            // Every run with its own figures.
            let runs = f["runs"].as_array().expect("runs");
            assert_eq!(runs.len(), ROUNDS_EACH as usize, "{f}");
            // On a loaded machine one short run may relay nothing; all of them, never.
            assert!(
                runs.iter().any(|r| r["msgs_per_sec"].as_f64() > Some(0.0)),
                "{f}"
            );
        }
        for ratio in ["throughput_ratio", "control_throughput_ratio"] {
            assert!(case[ratio].as_f64().is_some_and(f64::is_finite), "{case}");
        }
    }
    assert_eq!(figures["relay"]["cases"].as_array().map(Vec::len), Some(2));
    // CPU lists as the kernel writes them, for a machine whose CPUs are not 0..n.
    let cpus = pin::parse("2-4,7,9-10").expect("a CPU list");
    assert_eq!(cpus, [2, 3, 4, 7, 9, 10]);
    assert_eq!(pin::list(&cpus[..3]), "2-4");
    assert_eq!(pin::list(&cpus[3..]), "7,9-10");
    if let Some(cpus) = pin::server_cpus() {
        assert_eq!(figures["relay"]["server_cpus"], cpus);
        let data = scratch().expect("a data directory");
        let duet = Server::duet(data.path()).expect("duet starts");
        assert_eq!(
            pin::allowed(duet.pid()).as_deref(),
            Ok(cpus),
            "the server's CPUs"
        );
        let me = pin::allowed(std::process::id());
        assert_eq!(me.as_deref(), Ok(pin::client_cpus().unwrap_or_default()));
    }
    let offer = Kind::Offer.frame("c0", "e0", 0);
    assert!(
        offer.len() > 5000 && load::sdp(0).len() == 5000,
        "a 5 KB SDP"
    );
    assert!(
        figures["idle"]["rss_after_kib"].as_u64() > Some(0),
        "{}",
        figures["idle"]
    );
    assert_eq!(figures["idle"]["connections"], 20);
    assert_eq!(figures["weight"]["raw"], 1000 + 100);
    assert_eq!(figures["weight"]["brotli"], 300 + 30);
    assert_eq!(figures["browser"]["call_setup"]["floor_median_ms"], 110.0);
    assert_eq!(figures["browser"]["page_load"]["median_ms"], 80.0);
    assert_eq!(figures["browser"]["page_load"]["warm_median_ms"], 50.0);
    let ratio = figures["browser"]["call_setup"]["ratio"]
        .as_f64()
        .expect("a ratio");
    assert!((ratio - 130.0 / 110.0).abs() < 1e-9, "{ratio}");
    let md = report.markdown();
    let lines = md
        .lines()
        .filter(|l| l.starts_with("PASS") || l.starts_with("FAIL"));
    assert_eq!(
        lines.count(),
        report.budgets.len(),
        "a pass/fail line per budget:\n{md}"
    );
    assert_eq!(report.budgets.len(), 6);
    for case in figures["count"]["cases"].as_array().expect("count cases") {
        for server in ["baseline", "duet"] {
            let c = &case[server];
            assert!(
                c["instructions_per_frame"].as_f64() > Some(1000.0),
                "{case}"
            );
            assert_eq!(c["windows"].as_array().map(Vec::len), Some(2), "{case}");
        }
        assert!(case["ratio"].as_f64().is_some_and(f64::is_finite), "{case}");
    }
    assert_eq!(figures["count"]["cases"].as_array().map(Vec::len), Some(2));
    assert!(
        md.contains("PASS  relay _ice instructions per frame")
            || md.contains("FAIL  relay _ice instructions per frame"),
        "the instruction budgets are shown:\n{md}"
    );
    assert!(
        md.contains("info  relay offer wall clock, duet ÷ baseline"),
        "the wall-clock ratios are shown beside them:\n{md}"
    );
    assert!(
        md.contains("| | control ÷ baseline |"),
        "the control's ratios are shown:\n{md}"
    );
    assert!(
        md.contains("ratio 1.18×"),
        "the browser figures are summed up:\n{md}"
    );
    let dir = scratch().expect("scratch");
    write(&report, dir.path()).expect("the report is written");
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report.json")).expect("report.json"),
    )
    .expect("valid JSON");
    assert_eq!(json["budgets"].as_array().map(Vec::len), Some(6));
    assert_eq!(json["information"].as_array().map(Vec::len), Some(4));
    println!("bench smoke run: ok\n{md}");
}

/// A site package directory with one WASM and one CSS file and their compressed copies.
fn fake_pkg() -> PathBuf {
    let dir = scratch().expect("scratch").keep();
    let files = [
        ("duet.abc.wasm", 1000, 500, 300),
        ("duet.abc.css", 100, 50, 30),
    ];
    for (name, raw, gzip, brotli) in files {
        for (ext, size) in [("", raw), (".gz", gzip), (".br", brotli)] {
            std::fs::write(dir.join(format!("{name}{ext}")), vec![b'x'; size]).expect("write");
        }
    }
    std::fs::write(dir.join("duet.d.ts"), "not weighed").expect("write");
    dir
}
