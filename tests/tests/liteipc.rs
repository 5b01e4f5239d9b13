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
    qemu.expect_suite("ltest", SUITE_TIMEOUT, MIN_TESTS);
    qemu.expect_clean_exit(Duration::from_secs(20));
}

#[test]
fn liteipc_suite_passes_on_gicv3_cortex_a72() {
    run_suite(config_with_suite(3, "cortex-a72"));
}

#[test]
fn liteipc_suite_passes_on_gicv2_cortex_a53() {
    run_suite(config_with_suite(2, "cortex-a53"));
}
