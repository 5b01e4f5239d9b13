//! On-target kernel tests without nightly features: `ktest!` places a [`KTest`] descriptor
//! in the `.ktests` linker section; the runner walks the section, runs each test, prints
//! `ktest <name> ... ok|FAILED <where>`, then `ktest: N passed, N failed`, and exits QEMU
//! through semihosting with status 0 (all passed) or 1.

use crate::arch::semihosting;
use crate::kprintln;
use alloc::string::String;
use core::sync::atomic::{AtomicUsize, Ordering};

/// What a test returns: `Err` carries where and why it failed.
pub type TestResult = Result<(), TestFailure>;

/// A failed check.
#[derive(Debug)]
pub struct TestFailure {
    /// Source file of the failed check.
    pub file: &'static str,
    /// Line of the failed check.
    pub line: u32,
    /// What was expected and what happened.
    pub message: String,
}

/// A registered test.
#[repr(C)]
pub struct KTest {
    /// `module::path::name`.
    pub name: &'static str,
    /// The test body.
    pub func: fn() -> TestResult,
}

/// Declares a kernel test: `ktest!(fn name() { ...; Ok(()) });`
#[macro_export]
macro_rules! ktest {
    (fn $name:ident() $body:block) => {
        fn $name() -> $crate::ktest::TestResult $body
        const _: () = {
            #[used]
            #[allow(unsafe_code, reason = "link_section places the descriptor for the runner")]
            #[unsafe(link_section = ".ktests")]
            static DESCRIPTOR: $crate::ktest::KTest =
                $crate::ktest::KTest { name: concat!(module_path!(), "::", stringify!($name)), func: $name };
        };
    };
}

/// Fails the test unless the condition holds; an optional format string explains why.
#[macro_export]
macro_rules! kassert {
    ($cond:expr $(,)?) => {
        $crate::kassert!($cond, "")
    };
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err($crate::ktest::TestFailure {
                file: file!(),
                line: line!(),
                message: alloc::format!("assertion failed: {} {}", stringify!($cond), alloc::format!($($arg)+)),
            });
        }
    };
}

/// Fails the test unless both sides are equal; an optional format string explains why.
#[macro_export]
macro_rules! kassert_eq {
    ($left:expr, $right:expr $(,)?) => {
        $crate::kassert_eq!($left, $right, "")
    };
    ($left:expr, $right:expr, $($arg:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if left != right {
                    return Err($crate::ktest::TestFailure {
                        file: file!(),
                        line: line!(),
                        message: alloc::format!(
                            "{} == {}: left {:?}, right {:?} {}",
                            stringify!($left),
                            stringify!($right),
                            left,
                            right,
                            alloc::format!($($arg)+)
                        ),
                    });
                }
            }
        }
    };
}

unsafe extern "C" {
    // Linker-script symbols: only their addresses matter.
    static __ktests_start: u8;
    static __ktests_end: u8;
}

fn tests() -> &'static [KTest] {
    // SAFETY: the linker script gathers only `KTest` statics (emitted by `ktest!`) between
    // these symbols, in read-only data, each properly aligned.
    unsafe {
        let start = (&raw const __ktests_start).cast::<KTest>();
        let end = (&raw const __ktests_end).cast::<KTest>();
        core::slice::from_raw_parts(
            start,
            (end as usize - start as usize) / core::mem::size_of::<KTest>(),
        )
    }
}

static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);

/// Runs every test and ends the QEMU run with the verdict.
pub fn run_and_exit() -> ! {
    let tests = tests();
    kprintln!("ktest: running {} tests", tests.len());
    for test in tests {
        let name = test
            .name
            .strip_prefix("kernel::tests::")
            .unwrap_or(test.name);
        crate::kprint!("ktest {name} ... ");
        match (test.func)() {
            Ok(()) => {
                PASSED.fetch_add(1, Ordering::SeqCst);
                kprintln!("ok");
            }
            Err(failure) => {
                FAILED.fetch_add(1, Ordering::SeqCst);
                kprintln!(
                    "FAILED {}:{} {}",
                    failure.file,
                    failure.line,
                    failure.message
                );
            }
        }
    }
    finish()
}

fn finish() -> ! {
    let (passed, failed) = (PASSED.load(Ordering::SeqCst), FAILED.load(Ordering::SeqCst));
    kprintln!("ktest: {passed} passed, {failed} failed");
    semihosting::exit(u32::from(failed != 0));
    crate::power::power_off()
}

/// Called by the panic handler: the running test failed and the run cannot go on.
pub fn panicked() {
    FAILED.fetch_add(1, Ordering::SeqCst);
    crate::console::print(format_args!("FAILED (panic)\n"));
    let (passed, failed) = (PASSED.load(Ordering::SeqCst), FAILED.load(Ordering::SeqCst));
    crate::console::print(format_args!("ktest: {passed} passed, {failed} failed\n"));
    semihosting::exit(1);
}

/// Unwraps an `Option` in a test, failing the test with the message on `None`.
#[macro_export]
macro_rules! ksome {
    ($option:expr, $($arg:tt)+) => {
        match $option {
            Some(value) => value,
            None => {
                return Err($crate::ktest::TestFailure { file: file!(), line: line!(), message: alloc::format!($($arg)+) })
            }
        }
    };
}
