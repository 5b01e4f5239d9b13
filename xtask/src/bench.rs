//! `cargo xtask bench`: boots the release kernel with `init=/bin/ipc_bench` under
//! `-icount shift=0,sleep=off` (one virtual nanosecond per guest instruction, so the
//! guest's clock differences are instruction counts, repeatable run to run), reads its
//! `bench <name> <iterations> <total_ns>` lines, times each benchmark on the host as well
//! (between its `bench-start` and `bench` lines), and prints a table with the issue's
//! reference figures; the same data goes to `target/bench.json`.
//!
//! Then it boots the full system (the default init and its services) the same way and
//! reports the virtual time to every samgr service's `BootStatus DYNAMIC`: user output has
//! no timestamp, so the figure is bracketed by the kernel log lines just before and just
//! after the last of those lines.
//!
//! Benchmarks, not tests: nothing here judges the numbers.

use crate::image::{self, Profile};
use crate::{Result, setup};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use systest::{Qemu, QemuConfig};

/// Bound on the whole run.
const TIMEOUT: Duration = Duration::from_secs(600);

/// Operations in table order: (benchmark name, description, reference).
const OPERATIONS: &[(&str, &str, &str)] = &[
    (
        "null_syscall",
        "null syscall (getpid)",
        "Linux 6.1: ~500 instr",
    ),
    ("yield_pingpong", "thread yield ping-pong (2 switches)", ""),
    (
        "ipc_rt_8",
        "LiteIPC round trip, 8 B",
        "Linux pipe RT ~15,000; binder ~32,000; seL4 ~840 cycles",
    ),
    ("ipc_rt_64", "LiteIPC round trip, 64 B", "goal < 1,500"),
    ("ipc_rt_1024", "LiteIPC round trip, 1 KiB", ""),
    ("ipc_rt_4096", "LiteIPC round trip, 4 KiB", ""),
    ("ipc_oneway_4096", "LiteIPC one-way, 4 KiB", ""),
    ("samgr_lookup", "samgr lookup (FEATURE/GET round trip)", ""),
    (
        "samgr_proxy_rt",
        "samgr proxy call round trip",
        "quick call: run in the idle task's place",
    ),
    (
        "samgr_proxy_queued",
        "samgr proxy call via the task queue",
        "hand-over to the service's thread",
    ),
];

/// Whether `name` is one of the benchmarks.
pub fn is_operation(name: &str) -> bool {
    OPERATIONS.iter().any(|(n, _, _)| *n == name)
}

/// The benchmarks' names, in table order.
pub fn operation_names() -> Vec<&'static str> {
    OPERATIONS.iter().map(|(n, _, _)| *n).collect()
}

/// Bytes per operation of the throughput benchmark.
const ONEWAY_BYTES: u64 = 4096;

/// The services of the default init.cfg that report `<name>: BootStatus DYNAMIC`.
const DYNAMIC_SERVICES: [&str; 3] = ["foundation", "wms_server", "sensor_service"];

/// Virtual time from power-on to the last service's `BootStatus DYNAMIC`, bracketed by the
/// timestamps of the kernel log lines around it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BootTime {
    /// The last kernel line before it (ms).
    pub after_ms: f64,
    /// The first kernel line after it (ms).
    pub before_ms: f64,
}

/// One measured operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Benchmark name.
    pub name: String,
    /// Iterations run.
    pub iterations: u64,
    /// Guest nanoseconds in all (= instructions under icount).
    pub total_ns: u64,
    /// Host wall-clock time of the whole benchmark.
    pub wall: Duration,
}

impl Sample {
    /// Instructions per operation.
    pub fn instructions_per_op(&self) -> f64 {
        self.total_ns as f64 / self.iterations.max(1) as f64
    }

    /// Host nanoseconds per operation.
    pub fn wall_ns_per_op(&self) -> f64 {
        self.wall.as_nanos() as f64 / self.iterations.max(1) as f64
    }
}

/// Parses `bench <name> <iterations> <total_ns>`.
pub fn parse_line(line: &str) -> Option<(String, u64, u64)> {
    let rest = line.trim().strip_prefix("bench ")?;
    let mut words = rest.split_whitespace();
    let name = words.next()?.to_owned();
    let iterations = words.next()?.parse().ok()?;
    let total = words.next()?.parse().ok()?;
    words.next().is_none().then_some((name, iterations, total))
}

/// Runs the benchmark and prints the table.
pub fn run() -> Result<ExitCode> {
    setup::ensure_tools()?;
    let image = image::build(Profile::Release)?;
    let config = QemuConfig {
        extra: [
            "-icount",
            "shift=0,sleep=off",
            "-append",
            "init=/bin/ipc_bench",
        ]
        .map(String::from)
        .to_vec(),
        ..QemuConfig::default()
    };
    let mut qemu = Qemu::start_image(&config, &image)?;
    let deadline = Instant::now() + TIMEOUT;
    let left = || deadline.saturating_duration_since(Instant::now());
    let mut samples = Vec::new();
    for (name, _, _) in OPERATIONS {
        qemu.wait_for(&format!("bench-start {name}"), left())?;
        let started = Instant::now();
        let line = qemu.wait_for_line(&format!("the result of {name}"), left(), |l| {
            parse_line(l).is_some_and(|(n, _, _)| n == *name)
        })?;
        let wall = started.elapsed();
        let (name, iterations, total_ns) =
            parse_line(&line).ok_or_else(|| format!("unreadable line {line:?}"))?;
        samples.push(Sample {
            name,
            iterations,
            total_ns,
            wall,
        });
    }
    qemu.wait_for("bench: done", left())?;
    drop(qemu);
    let boot = boot_time(&image, left())?;
    print!("{}", table(&samples));
    println!(
        "boot to every service BootStatus DYNAMIC: {:.3}..{:.3} ms of virtual time",
        boot.after_ms, boot.before_ms
    );
    let json = json(&samples, &boot);
    let path = systest::target_dir().join("bench.json");
    std::fs::write(&path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("xtask: wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// Boots the full system under `-icount` and brackets the last `BootStatus DYNAMIC`.
fn boot_time(image: &std::path::Path, timeout: Duration) -> Result<BootTime> {
    let config = QemuConfig {
        extra: ["-icount", "shift=0,sleep=off"].map(String::from).to_vec(),
        ..QemuConfig::default()
    };
    let mut qemu = Qemu::start_image(&config, image)?;
    let deadline = Instant::now() + timeout;
    let left = || deadline.saturating_duration_since(Instant::now());
    for service in DYNAMIC_SERVICES {
        qemu.wait_for(&format!("{service}: BootStatus DYNAMIC"), left())?;
    }
    qemu.wait_for_line("a kernel log line", left(), |l| {
        kernel_timestamp_ms(l).is_some()
    })?;
    bracket_last_dynamic(&qemu.lines())
        .ok_or_else(|| qemu.failure("no kernel log lines around the last BootStatus DYNAMIC"))
}

/// The timestamp of a kernel log line (`[    0.005241] INFO ...`), in milliseconds.
pub fn kernel_timestamp_ms(line: &str) -> Option<f64> {
    let rest = line.trim_start().strip_prefix('[')?;
    let (stamp, _) = rest.split_once(']')?;
    stamp.trim().parse::<f64>().ok().map(|s| s * 1000.0)
}

/// The kernel timestamps around the last `BootStatus DYNAMIC` line of `lines`.
pub fn bracket_last_dynamic(lines: &[String]) -> Option<BootTime> {
    let last = lines
        .iter()
        .rposition(|l| l.contains("BootStatus DYNAMIC"))?;
    let after_ms = lines[..last]
        .iter()
        .rev()
        .find_map(|l| kernel_timestamp_ms(l))?;
    let before_ms = lines[last..].iter().find_map(|l| kernel_timestamp_ms(l))?;
    Some(BootTime {
        after_ms,
        before_ms,
    })
}

fn describe(name: &str) -> (&'static str, &'static str) {
    OPERATIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or(("?", ""), |(_, d, r)| (*d, *r))
}

/// Throughput in MB/s for the one-way benchmark (10^6 bytes per second of guest time).
fn megabytes_per_s(sample: &Sample) -> Option<f64> {
    (sample.name == "ipc_oneway_4096" && sample.total_ns > 0)
        .then(|| (sample.iterations * ONEWAY_BYTES) as f64 * 1e3 / sample.total_ns as f64)
}

/// The table.
pub fn table(samples: &[Sample]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<38} {:>10} {:>14} {:>12}  reference",
        "operation", "iterations", "instr/op", "wall ns/op"
    );
    for s in samples {
        let (what, reference) = describe(&s.name);
        let mut reference = reference.to_owned();
        if let Some(mb) = megabytes_per_s(s) {
            reference = format!("{mb:.1} MB/s of guest time");
        }
        let _ = writeln!(
            out,
            "{what:<38} {:>10} {:>14.0} {:>12.0}  {reference}",
            s.iterations,
            s.instructions_per_op(),
            s.wall_ns_per_op()
        );
    }
    out
}

/// The samples and the boot time as JSON.
pub fn json(samples: &[Sample], boot: &BootTime) -> String {
    let entries: Vec<String> = samples
        .iter()
        .map(|s| {
            let (what, reference) = describe(&s.name);
            let mb = megabytes_per_s(s).map_or("null".to_owned(), |v| format!("{v:.3}"));
            format!(
                "    {{\"name\": \"{}\", \"description\": \"{what}\", \"iterations\": {}, \
                 \"total_instructions\": {}, \"instructions_per_op\": {:.1}, \
                 \"wall_ns_per_op\": {:.1}, \"mb_per_s\": {mb}, \"reference\": \"{reference}\"}}",
                s.name,
                s.iterations,
                s.total_ns,
                s.instructions_per_op(),
                s.wall_ns_per_op()
            )
        })
        .collect();
    format!(
        "{{\n  \"clock\": \"-icount shift=0,sleep=off: 1 guest ns = 1 instruction\",\n  \
         \"results\": [\n{}\n  ],\n  \"boot_to_dynamic_ms\": {{\"after\": {:.3}, \
         \"before\": {:.3}}}\n}}\n",
        entries.join(",\n"),
        boot.after_ms,
        boot.before_ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_result_lines_only() {
        assert_eq!(
            parse_line("bench ipc_rt_64 5000 6500000"),
            Some(("ipc_rt_64".into(), 5000, 6_500_000))
        );
        assert_eq!(parse_line("bench-start ipc_rt_64"), None);
        assert_eq!(parse_line("bench: done"), None);
        assert_eq!(parse_line("bench x 1 2 3"), None);
        assert_eq!(parse_line("bench x one 2"), None);
    }

    #[test]
    fn table_and_json_have_every_sample() {
        let samples = vec![
            Sample {
                name: "ipc_rt_64".into(),
                iterations: 10,
                total_ns: 15_000,
                wall: Duration::from_micros(50),
            },
            Sample {
                name: "ipc_oneway_4096".into(),
                iterations: 1000,
                total_ns: 4_096_000,
                wall: Duration::from_millis(1),
            },
        ];
        let table = table(&samples);
        assert!(table.contains("LiteIPC round trip, 64 B"));
        assert!(table.contains("1500"));
        assert!(table.contains("1000.0 MB/s"));
        let boot = BootTime {
            after_ms: 5.241,
            before_ms: 5.573,
        };
        let json = json(&samples, &boot);
        assert!(json.contains("\"instructions_per_op\": 1500.0"));
        assert!(json.contains("\"mb_per_s\": 1000.000"));
        assert!(json.contains("\"boot_to_dynamic_ms\": {\"after\": 5.241, \"before\": 5.573}"));
    }

    #[test]
    fn the_last_dynamic_line_is_bracketed_by_kernel_timestamps() {
        let lines: Vec<String> = [
            "[    0.003827] INFO  proc: spawned foundation as pid 2 (uid 7)",
            "foundation: foundation: BootStatus DYNAMIC",
            "[    0.005241] INFO  proc: spawned sensor_service as pid 5 (uid 0)",
            "sensor_service: registered",
            "sensor_service: sensor_service: BootStatus DYNAMIC",
            "shell: OHOS #",
            "[    0.005573] INFO  proc: spawned hello as pid 6 (uid 0)",
        ]
        .map(String::from)
        .to_vec();
        let boot = bracket_last_dynamic(&lines).expect("bracketed");
        assert!((boot.after_ms - 5.241).abs() < 1e-9, "{boot:?}");
        assert!((boot.before_ms - 5.573).abs() < 1e-9, "{boot:?}");
        assert_eq!(bracket_last_dynamic(&lines[..5]), None);
        assert_eq!(kernel_timestamp_ms("foundation: [x] y"), None);
    }
}
