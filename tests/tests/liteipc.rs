//! LiteIPC on the target: boot with `init=/bin/liteipc_test` (pid 1 runs the conformance
//! and robustness suite, spawning its helper processes), require every `ltest` line to
//! pass, enough of them to have run, and a clean power-off when pid 1 exits.

use std::time::Duration;
use systest::{Qemu, QemuConfig};

/// The suite takes about 25 s of guest time (two deliberate 5 s reply timeouts, 50,000
/// round trips); TCG on a slow host may need several times that.
const SUITE_TIMEOUT: Duration = Duration::from_secs(300);
/// Top-level tests in the suite; fewer means some were lost.
const MIN_TESTS: u32 = 35;

fn config_with_suite(gic: u8, cpu: &str) -> QemuConfig {
    QemuConfig {
        gic,
        cpu: cpu.into(),
        extra: vec!["-append".into(), "init=/bin/liteipc_test".into()],
        ..QemuConfig::default()
    }
}

fn run_suite(config: QemuConfig) {
    let mut qemu = Qemu::start(&config).unwrap_or_else(|e| panic!("{e}"));
    let summary = qemu
        .wait_for_line("the ltest summary", SUITE_TIMEOUT, |l| {
            l.starts_with("ltest: ") && l.contains(" passed, ")
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let failed: Vec<String> = qemu
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("ltest ") && l.contains("FAILED"))
        .collect();
    let (passed, failures) = systest::summary_counts(&summary, "ltest")
        .unwrap_or_else(|| panic!("{}", qemu.failure("unreadable ltest summary")));
    assert!(
        failures == 0 && failed.is_empty(),
        "{}",
        qemu.failure(&format!("LiteIPC tests failed: {failed:#?}"))
    );
    assert!(
        passed >= MIN_TESTS,
        "{}",
        qemu.failure(&format!("only {passed} LiteIPC tests ran"))
    );
    let status = qemu
        .wait_exit(Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        status.success(),
        "{}",
        qemu.failure("QEMU did not power off cleanly")
    );
    assert!(
        !qemu.console().contains("KERNEL PANIC"),
        "{}",
        qemu.failure("kernel panic")
    );
}

#[test]
fn liteipc_suite_passes_on_gicv3_cortex_a72() {
    run_suite(config_with_suite(3, "cortex-a72"));
}

#[test]
fn liteipc_suite_passes_on_gicv2_cortex_a53() {
    run_suite(config_with_suite(2, "cortex-a53"));
}
