//! Fault tests: each `/bin/crasher` kind ends only the crasher, with the right signal;
//! and isolation: another process cannot read or write our memory, nor the kernel's.

use crate::procs::run;
use alloc::boxed::Box;
use alloc::format;
use core::hint::black_box;
use ulib::check::{Context, TestResult};
use ulib::process::signal::{SIGBUS, SIGILL, SIGSEGV};
use ulib::{ensure, ensure_eq};

/// A kernel address (the kernel image base).
const KERNEL_ADDR: usize = 0xFFFF_FFFF_8000_0000;
/// The value planted for the isolation tests.
const SECRET: u64 = 0x5EC2_E70D_DBA1_1CAB;

fn crash(kind: &str, signal: u32) -> TestResult {
    let status = run("/bin/crasher", &[kind])?;
    ensure_eq!(status.signal(), Some(signal));
    Ok(())
}

/// A null read kills the crasher with SIGSEGV.
pub fn null() -> TestResult {
    crash("null", SIGSEGV)
}

/// Reading kernel memory kills the crasher with SIGSEGV.
pub fn kernel() -> TestResult {
    crash("kernel", SIGSEGV)
}

/// Writing its own code kills the crasher with SIGSEGV.
pub fn write_text() -> TestResult {
    crash("write-text", SIGSEGV)
}

/// Jumping into heap memory kills the crasher with SIGSEGV.
pub fn exec_data() -> TestResult {
    crash("exec-data", SIGSEGV)
}

/// An undefined instruction kills the crasher with SIGILL.
pub fn undef() -> TestResult {
    crash("undef", SIGILL)
}

/// A breakpoint kills the crasher with SIGILL.
pub fn brk() -> TestResult {
    crash("brk", SIGILL)
}

/// An alignment fault kills the crasher with SIGBUS.
pub fn align() -> TestResult {
    crash("align", SIGBUS)
}

/// Unbounded recursion hits the stack guard: SIGSEGV.
pub fn stack_overflow() -> TestResult {
    crash("stack", SIGSEGV)
}

/// A child reading our heap address faults instead of seeing our secret.
pub fn isolation_read() -> TestResult {
    let secret = black_box(Box::new(SECRET));
    let addr = format!("{:x}", &raw const *secret as usize);
    let expected = format!("{SECRET:x}");
    let status = run("/bin/crasher", &["read-addr", &addr, &expected])?;
    ensure!(
        status.code() != Some(3),
        "the child read our secret at {addr}"
    );
    ensure_eq!(status.signal(), Some(SIGSEGV));
    ensure_eq!(*black_box(&secret), Box::new(SECRET));
    Ok(())
}

/// A child writing our heap address faults and our secret is unchanged.
pub fn isolation_write() -> TestResult {
    let secret = black_box(Box::new(SECRET));
    let addr = format!("{:x}", &raw const *secret as usize);
    let status = run("/bin/crasher", &["write-addr", &addr])?;
    ensure_eq!(status.signal(), Some(SIGSEGV));
    ensure_eq!(*black_box(&secret), Box::new(SECRET));
    Ok(())
}

/// A child writing kernel memory is killed with SIGSEGV.
pub fn isolation_kernel_write() -> TestResult {
    let addr = format!("{KERNEL_ADDR:x}");
    let status =
        run("/bin/crasher", &["write-addr", &addr]).context("crasher write-addr kernel")?;
    ensure_eq!(status.signal(), Some(SIGSEGV));
    Ok(())
}
