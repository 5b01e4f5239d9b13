//! The user-level test suite `/bin/utest` (hostile syscalls, every user fault kind,
//! isolation, 200 spawn/exit cycles without leaked frames, thread priorities, RR/FIFO, futex
//! locks, mmap, files) run as init's `utest` service (`once`, `disabled` in /etc/init.cfg),
//! started from the shell with `start utest`; then `poweroff` asks init to stop the services
//! and power off, which must end QEMU cleanly.

use std::time::Duration;
use systest::{Qemu, QemuConfig};

const SUITE_TIMEOUT: Duration = Duration::from_secs(180);
/// The suite has this many tests; fewer means some were lost.
const MIN_USER_TESTS: u32 = 52;

fn expect<T>(qemu: &Qemu, result: Result<T, String>) -> T {
    result.unwrap_or_else(|e| panic!("{e}\n{}", qemu.failure("")))
}

/// Boots `config`, waits for `boot_line` if given, runs the suite through init, powers off.
fn run_suite(config: QemuConfig, boot_line: Option<&str>) {
    let mut qemu = Qemu::start(&config).unwrap_or_else(|e| panic!("{e}"));
    if let Some(line) = boot_line {
        let r = qemu.wait_for(line, SUITE_TIMEOUT);
        expect(&qemu, r);
    }
    let r = qemu.wait_for("init: started (pid 1)", SUITE_TIMEOUT);
    expect(&qemu, r);
    let r = qemu.wait_for("hello: ok", SUITE_TIMEOUT);
    expect(&qemu, r);
    let r = qemu.wait_for("init: jobs done", SUITE_TIMEOUT);
    expect(&qemu, r);
    let r = qemu.send_line("start utest");
    expect(&qemu, r);
    let r = qemu.wait_for("init: service utest started", SUITE_TIMEOUT);
    expect(&qemu, r);
    qemu.expect_suite("utest", SUITE_TIMEOUT, MIN_USER_TESTS);
    let r = qemu.wait_for(
        "init: service utest exited with status 0 (once: not restarted)",
        SUITE_TIMEOUT,
    );
    expect(&qemu, r);
    let r = qemu.send_line("poweroff");
    expect(&qemu, r);
    let r = qemu.wait_for("init: all services stopped", SUITE_TIMEOUT);
    expect(&qemu, r);
    let r = qemu.wait_for("power off requested by pid 1", SUITE_TIMEOUT);
    expect(&qemu, r);
    qemu.expect_clean_exit(Duration::from_secs(20));
}

#[test]
fn user_suite_passes_on_gicv3_cortex_a72_64m() {
    run_suite(QemuConfig::default(), None);
}

#[test]
fn user_suite_passes_on_gicv2_cortex_a53_64m() {
    let config = QemuConfig {
        gic: 2,
        cpu: "cortex-a53".into(),
        ..QemuConfig::default()
    };
    run_suite(config, None);
}

#[test]
fn user_suite_passes_with_pan_on_cpu_max() {
    // `max` has FEAT_PAN: user copies must still work, and the kernel must say PAN is on.
    let config = QemuConfig {
        cpu: "max".into(),
        ..QemuConfig::default()
    };
    run_suite(config, Some("PAN enabled"));
}
