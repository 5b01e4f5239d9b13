//! The kernel must not panic because of anything a user process does — including arithmetic
//! on hostile values, which only a build with overflow checks would catch. Boots the debug
//! kernel (debug assertions and overflow checks on) with each hostile/conformance suite as
//! pid 1: the user-level suite (bad pointers, bad lengths, every fault kind), the LiteIPC suite
//! (forged messages, hostile clients) and the samgr suite.

use std::time::Duration;
use systest::{Qemu, QemuConfig, debug_kernel_image};

const SUITE_TIMEOUT: Duration = Duration::from_secs(240);

/// Boots `program` as init on the debug kernel and returns (passed, failed) of its summary
/// line `<prefix>: N passed, M failed`.
fn run_as_init(program: &str, prefix: &str) -> (u32, u32) {
    let image = debug_kernel_image().unwrap_or_else(|e| panic!("{e}"));
    let config = QemuConfig {
        extra: vec!["-append".into(), format!("init=/bin/{program}")],
        ..QemuConfig::default()
    };
    let mut qemu = Qemu::start_image(&config, &image).unwrap_or_else(|e| panic!("{e}"));
    let summary = qemu
        .wait_for_line(&format!("the {prefix} summary"), SUITE_TIMEOUT, |l| {
            l.starts_with(&format!("{prefix}: ")) && l.contains(" passed, ")
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let status = qemu
        .wait_exit(Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !qemu.console().contains("KERNEL PANIC"),
        "{}",
        qemu.failure("kernel panic")
    );
    assert!(status.success(), "{}", qemu.failure("no clean power-off"));
    systest::summary_counts(&summary, prefix).unwrap_or_else(|| {
        panic!(
            "{}",
            qemu.failure(&format!("unreadable summary {summary:?}"))
        )
    })
}

#[test]
fn user_suite_on_the_debug_kernel() {
    let (passed, failed) = run_as_init("utest", "utest");
    assert_eq!(failed, 0);
    assert!(passed >= 52, "only {passed} user tests ran");
}

#[test]
fn liteipc_suite_on_the_debug_kernel() {
    let (passed, failed) = run_as_init("liteipc_test", "ltest");
    assert_eq!(failed, 0);
    assert!(passed >= 35, "only {passed} LiteIPC tests ran");
}

#[test]
fn samgr_suite_on_the_debug_kernel() {
    let (passed, failed) = run_as_init("samgr_test", "stest");
    assert_eq!(failed, 0);
    assert!(passed >= 15, "only {passed} samgr tests ran");
}
