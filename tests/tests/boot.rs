//! Boot tests: boot the release kernel under QEMU virt on several boards and check the boot
//! milestones it prints: CPU and entry exception level, RAM size from the device tree, free
//! frames, GIC version, the timer's frequency and first one-shot interrupt (no earlier than
//! its deadline), `boot complete`, and a clean PSCI power-off (QEMU exits by itself with
//! status 0).

use std::time::Duration;
use systest::milestones::{
    FIRST_TIMER_DEADLINE_MS, parse_first_timer_interrupt, parse_frames_free, parse_ram,
    parse_timer_frequency,
};
use systest::{Qemu, QemuConfig};

/// Bound on the whole boot, up to `boot complete`.
const BOOT_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound on the power-off after `boot complete`.
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);
const MIB: u64 = 1024 * 1024;

/// One board to boot.
struct Case {
    gic: u8,
    cpu: &'static str,
    mem_mib: u64,
    el2: bool,
}

#[test]
fn boot_gicv2_cortex_a53_64m() {
    check_boot(Case {
        gic: 2,
        cpu: "cortex-a53",
        mem_mib: 64,
        el2: false,
    });
}

#[test]
fn boot_gicv3_cortex_a72_128m() {
    check_boot(Case {
        gic: 3,
        cpu: "cortex-a72",
        mem_mib: 128,
        el2: false,
    });
}

#[test]
fn boot_gicv3_cortex_a72_el2() {
    check_boot(Case {
        gic: 3,
        cpu: "cortex-a72",
        mem_mib: 64,
        el2: true,
    });
}

/// Boots `case` and panics with the console if any milestone is wrong or missing.
fn check_boot(case: Case) {
    let config = QemuConfig {
        gic: case.gic,
        cpu: case.cpu.into(),
        mem: format!("{}M", case.mem_mib),
        el2: case.el2,
        // The boot milestones, then a clean power-off: a trivial init that exits at once.
        extra: vec!["-append".into(), "init=/bin/true".into()],
    };
    let mut qemu = Qemu::start(&config).unwrap_or_else(|e| panic!("{e}"));
    if let Err(e) = qemu.wait_for("kernel: boot complete", BOOT_TIMEOUT) {
        panic!("{e}");
    }
    match qemu.wait_exit(EXIT_TIMEOUT) {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("{}", qemu.failure(&format!("QEMU exited with {status}"))),
        Err(e) => panic!("{e}"),
    }
    if let Err(e) = check_log(&qemu.lines(), &case) {
        panic!("{}", qemu.failure(&format!("{config:?}: {e}")));
    }
}

/// Checks every milestone in the full console log.
fn check_log(lines: &[String], case: &Case) -> Result<(), String> {
    if let Some(line) = lines.iter().find(|l| l.contains("KERNEL PANIC")) {
        return Err(format!("kernel panicked: {line}"));
    }
    check_cpu(lines, case)?;
    check_ram(lines, case.mem_mib)?;
    check_gic(lines, case.gic)?;
    check_timer(lines)
}

/// The first line containing `tag`, or an error naming it.
fn line_with<'a>(lines: &'a [String], tag: &str) -> Result<&'a str, String> {
    lines
        .iter()
        .find(|l| l.contains(tag))
        .map(String::as_str)
        .ok_or_else(|| format!("no line containing {tag:?}"))
}

fn check_cpu(lines: &[String], case: &Case) -> Result<(), String> {
    let line = line_with(lines, "kernel: booting on ")?;
    let entered = if case.el2 { 2 } else { 1 };
    let want = format!("booting on {} at EL1 (entered at EL{entered})", case.cpu);
    if !line.contains(&want) {
        return Err(format!("expected {want:?} in {line:?}"));
    }
    Ok(())
}

fn check_ram(lines: &[String], mem_mib: u64) -> Result<(), String> {
    let ranges: Vec<_> = lines.iter().filter_map(|l| parse_ram(l)).collect();
    if ranges.is_empty() {
        return Err("no `mm: RAM <start>-<end> (<n> MiB)` line".into());
    }
    for r in &ranges {
        if r.end <= r.start || r.end - r.start != r.mib * MIB {
            return Err(format!(
                "RAM range {r:?}: stated size does not match the range"
            ));
        }
    }
    let total: u64 = ranges.iter().map(|r| r.mib).sum();
    if total != mem_mib {
        return Err(format!(
            "RAM lines add up to {total} MiB, QEMU has -m {mem_mib}M"
        ));
    }
    let line = line_with(lines, "frames free")?;
    let (frames, kib) = parse_frames_free(line).ok_or_else(|| format!("cannot parse {line:?}"))?;
    if frames == 0 || kib == 0 || kib >= mem_mib * 1024 {
        return Err(format!(
            "implausible free memory for {mem_mib} MiB: {line:?}"
        ));
    }
    Ok(())
}

fn check_gic(lines: &[String], gic: u8) -> Result<(), String> {
    let line = line_with(lines, "gic: GICv")?;
    if !line.contains(&format!("gic: GICv{gic} at")) {
        return Err(format!("asked for GICv{gic}, kernel says {line:?}"));
    }
    Ok(())
}

/// The timer runs at a frequency and its first interrupt came, once, not before its deadline.
fn check_timer(lines: &[String]) -> Result<(), String> {
    let line = line_with(lines, "timer: virtual timer on interrupt")?;
    match parse_timer_frequency(line) {
        Some((_, hz)) if hz > 0 => {}
        _ => return Err(format!("no timer frequency in {line:?}")),
    }
    let first: Vec<f64> = lines
        .iter()
        .filter_map(|l| parse_first_timer_interrupt(l))
        .collect();
    match first.as_slice() {
        [ms] if *ms >= FIRST_TIMER_DEADLINE_MS => Ok(()),
        [ms] => Err(format!(
            "first timer interrupt after {ms} ms, before its {FIRST_TIMER_DEADLINE_MS} ms deadline"
        )),
        _ => Err(format!(
            "expected one first-interrupt line, found {first:?}"
        )),
    }
}
