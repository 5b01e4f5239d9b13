//! The kernel must not panic because of anything a user process does — including arithmetic
//! on hostile values, which only a build with overflow checks would catch. Boots the debug
//! kernel (debug assertions and overflow checks on) with each hostile/conformance suite as
//! pid 1: the user-level suite (bad pointers, bad lengths, every fault kind), the LiteIPC suite
//! (forged messages, hostile clients) and the samgr suite.

use std::time::Duration;
use systest::{Qemu, QemuConfig, debug_kernel_image};

const SUITE_TIMEOUT: Duration = Duration::from_secs(240);

/// Boots `program` as init on the debug kernel; its suite (summary line
/// `<prefix>: N passed, M failed`) must pass at least `min` cases and power off cleanly.
fn run_as_init(program: &str, prefix: &str, min: u32) {
    let image = debug_kernel_image().unwrap_or_else(|e| panic!("{e}"));
    let config = QemuConfig {
        extra: vec!["-append".into(), format!("init=/bin/{program}")],
        ..QemuConfig::default()
    };
    let mut qemu = Qemu::start_image(&config, &image).unwrap_or_else(|e| panic!("{e}"));
    qemu.expect_suite(prefix, SUITE_TIMEOUT, min);
    qemu.expect_clean_exit(Duration::from_secs(30));
}

#[test]
fn user_suite_on_the_debug_kernel() {
    run_as_init("utest", "utest", 52);
}

#[test]
fn liteipc_suite_on_the_debug_kernel() {
    run_as_init("liteipc_test", "ltest", 35);
}

#[test]
fn samgr_suite_on_the_debug_kernel() {
    run_as_init("samgr_test", "stest", 15);
}
