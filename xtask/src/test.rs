//! `cargo xtask test`: every test tier, then one line `N passed, N failed`.
//!
//! Tiers: lint (clippy on host crates, kernel and user programs, each invocation one test),
//! host unit tests (the workspace's `default-members` but systest), kernel tests under QEMU on
//! three boards (virt with GICv2 and with GICv3, raspi3b), system tests against the release
//! `Image`. A step that cannot run or fails to build counts as one failed test; its output has
//! already been streamed to the terminal.

use crate::image::{self, Profile};
use crate::stream::{Captured, run_captured};
use crate::summary::{self, Counts};
use crate::workspace::{self, Packages, USER_TARGET};
use crate::{Result, cargo, setup};
use std::process::{Command, ExitCode};
use systest::KERNEL_TARGET;

/// Runs all tiers and prints the summary; fails if any test failed.
pub fn run_all() -> Result<ExitCode> {
    let mut tiers: Vec<(&str, Counts)> = Vec::new();
    if let Err(e) = setup::ensure_tools() {
        eprintln!("xtask: setup failed: {e}");
        tiers.push(("setup", Counts::one(false)));
    }
    match workspace::packages() {
        Ok(packages) => {
            tiers.push(("lint (clippy)", lint(&packages)));
            tiers.push(("host unit tests", host_tests(&packages)));
        }
        Err(e) => {
            eprintln!("xtask: lint and host tests not run: {e}");
            tiers.push(("lint (clippy)", Counts::one(false)));
            tiers.push(("host unit tests", Counts::one(false)));
        }
    }
    tiers.push((
        "kernel tests, GICv2 cortex-a53",
        kernel_tests(&virt_board(2, "cortex-a53")),
    ));
    tiers.push((
        "kernel tests, GICv3 cortex-a72",
        kernel_tests(&virt_board(3, "cortex-a72")),
    ));
    tiers.push(("kernel tests, raspi3b", raspi3b_kernel_tests()));
    tiers.push(("system tests", system_tests()));

    let total = tiers
        .iter()
        .map(|(_, c)| *c)
        .fold(Counts::default(), Counts::add);
    println!();
    println!("xtask test summary:");
    for (name, counts) in &tiers {
        let mark = if counts.failed == 0 { "ok  " } else { "FAIL" };
        println!("  {mark} {name:<32} {counts}");
    }
    println!("{total}");
    Ok(if total.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs `cmd` and counts its result with `count`; a command that cannot start is one failure.
fn counted(cmd: &mut Command, count: impl Fn(&Captured) -> Counts) -> Counts {
    match run_captured(cmd) {
        Ok(done) => count(&done),
        Err(e) => {
            eprintln!("xtask: {e}");
            Counts::one(false)
        }
    }
}

/// Counts a whole command as one test, by its exit status.
fn by_status(done: &Captured) -> Counts {
    Counts::one(done.status.success())
}

/// Counts libtest's results; a failed run that reports no failure (a build error) is one.
fn by_libtest(done: &Captured) -> Counts {
    summary::cargo_test(&done.output)
        .unwrap_or_default()
        .with_status(done.status)
}

/// Clippy with `-D warnings` on the host crates (all targets), the kernel and the user
/// programs, one test per invocation.
fn lint(packages: &Packages) -> Counts {
    let mut host = cargo();
    host.arg("clippy")
        .args(package_args(&packages.host))
        .arg("--all-targets");
    let mut kernel = cargo();
    kernel.args(["clippy", "-p", "kernel", "--target", KERNEL_TARGET]);
    let mut steps = vec![host, kernel];
    if !packages.user.is_empty() {
        let mut user = cargo();
        user.arg("clippy")
            .args(package_args(&packages.user))
            .args(["--target", USER_TARGET]);
        steps.push(user);
    }
    steps
        .iter_mut()
        .map(|cmd| counted(cmd.args(["--", "-D", "warnings"]), by_status))
        .fold(Counts::default(), Counts::add)
}

/// Unit tests of the host crates; the system tests (which boot QEMU) are their own tier.
fn host_tests(packages: &Packages) -> Counts {
    let unit: Vec<String> = packages
        .host
        .iter()
        .filter(|p| *p != "systest")
        .cloned()
        .collect();
    let mut cmd = cargo();
    cmd.arg("test")
        .arg("--no-fail-fast")
        .args(package_args(&unit));
    let mut counts = counted(&mut cmd, by_libtest);
    // Programs with a host-testable library half (e.g. the shell's line editor).
    let program_libs = &packages.program_libs;
    if !program_libs.is_empty() {
        let mut cmd = cargo();
        cmd.arg("test")
            .arg("--no-fail-fast")
            .arg("--lib")
            .args(package_args(program_libs));
        counts = counts.add(counted(&mut cmd, by_libtest));
    }
    counts
}

/// `-p NAME` for each package.
fn package_args(names: &[String]) -> Vec<&str> {
    names
        .iter()
        .flat_map(|name| ["-p", name.as_str()])
        .collect()
}

/// qemu/ktest-runner.sh's settings for a virt board.
fn virt_board(gic: u8, cpu: &str) -> Vec<(&'static str, String)> {
    vec![("KTEST_GIC", gic.to_string()), ("KTEST_CPU", cpu.into())]
}

/// The kernel tests on raspi3b, with the Pi 3 B device tree from the Raspberry Pi boot files.
fn raspi3b_kernel_tests() -> Counts {
    match crate::rpi::ensure_boot_files() {
        Ok(_) => {
            let dtb = systest::rpi_boot_dir().join(systest::RASPI3B_DTB);
            kernel_tests(&[
                ("KTEST_MACHINE", "raspi3b".into()),
                ("KTEST_DTB", dtb.display().to_string()),
            ])
        }
        Err(e) => {
            eprintln!("xtask: kernel tests on raspi3b not run: {e}");
            Counts::one(false)
        }
    }
}

/// The kernel's own tests under QEMU (through qemu/ktest-runner.sh, configured by `board`).
/// A run that prints no `ktest: N passed, N failed` line counts as one failure even if it
/// exits with 0.
fn kernel_tests(board: &[(&str, String)]) -> Counts {
    let mut cmd = cargo();
    cmd.args(["test", "-p", "kernel", "--target", KERNEL_TARGET])
        .envs(board.iter().map(|(k, v)| (k, v)));
    counted(&mut cmd, |done| match summary::ktest(&done.output) {
        Some(counts) => counts.with_status(done.status),
        None => Counts::one(false),
    })
}

/// Builds the release `Image`, then boots it in the system tests (the SD card tests boot
/// through U-Boot, installed here when missing).
fn system_tests() -> Counts {
    if let Err(e) = crate::setup::ensure_uboot() {
        eprintln!("xtask: {e}; the SD card system tests will fail");
    }
    // The debug kernel (overflow checks on) runs the hostile-input suites too.
    let images =
        image::build(Profile::Release).and_then(|r| image::build(Profile::Debug).map(|d| (r, d)));
    let (image, debug_image) = match images {
        Ok(images) => images,
        Err(e) => {
            eprintln!("xtask: system tests not run: {e}");
            return Counts::one(false);
        }
    };
    counted(
        cargo()
            .args(["test", "-p", "systest"])
            .env("KERNEL_IMAGE", image)
            .env("KERNEL_IMAGE_DEBUG", debug_image),
        by_libtest,
    )
}
