//! The one runner of the on-target test suites (utest, liteipc_test, samgr_test) and the
//! checks their cases use: assertions that return a failure reason instead of panicking, so
//! a suite goes on after a failed case.
//!
//! A suite lists its cases with [`test_cases!`] (each case's name is its function's path, as
//! written there) and runs them with a [`Runner`], which prints one line a case,
//! `<suite> <name> ... ok` or `<suite> <name> ... FAILED <file>:<line>: <reason>`, and at the
//! end `<suite>: N passed, M failed` — the lines the system tests read. Every failure reason
//! made here starts with the file and line that failed: [`ensure!`], [`ensure_eq!`],
//! [`Context::context`] and [`fail`] all record where they were called.

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::panic::Location;

/// A test's outcome: the failure reason on error.
pub type TestResult = Result<(), String>;

/// One case of a suite whose cases share a state `S` (`()` for independent cases).
pub struct Case<S = ()> {
    /// Its name: the path of its function as written in [`test_cases!`].
    pub name: &'static str,
    /// The case.
    pub run: fn(&mut S) -> TestResult,
}

/// The cases of a suite, in run order, named by their functions' paths (`stringify!`):
/// `test_cases![hostile::write_null, procs::ids]` for `fn() -> TestResult` cases,
/// `test_cases![Suite => conf::set_cms, ...]` for `fn(&mut Suite) -> TestResult` cases that
/// share a `Suite`. Evaluates to a `&'static [Case<_>]`.
#[macro_export]
macro_rules! test_cases {
    ($state:ty => $($case:path),+ $(,)?) => {
        &[$($crate::check::Case::<$state> { name: stringify!($case), run: $case }),+]
    };
    ($($case:path),+ $(,)?) => {
        &[$($crate::check::Case::<()> { name: stringify!($case), run: |_| $case() }),+]
    };
}

/// Fails the test with a formatted reason unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($reason:tt)+) => {
        if !$cond {
            return Err($crate::check::failure_at(file!(), line!(), format_args!($($reason)+)));
        }
    };
}

/// Fails the test unless `left == right`, showing both.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr) => {
        match (&$left, &$right) {
            (left, right) => {
                if left != right {
                    return Err($crate::check::failure_at(
                        file!(),
                        line!(),
                        format_args!("{} = {:?}, expected {:?}", stringify!($left), left, right),
                    ));
                }
            }
        }
    };
}

/// The failure reason `file:line: reason`.
pub fn failure_at(file: &str, line: u32, reason: fmt::Arguments<'_>) -> String {
    format!("{file}:{line}: {reason}")
}

/// The failure reason `reason`, located at the caller.
#[track_caller]
pub fn failure(reason: impl fmt::Display) -> String {
    let at = Location::caller();
    failure_at(at.file(), at.line(), format_args!("{reason}"))
}

/// Fails with `reason`, located at the caller: `return fail(format_args!(...))`.
#[track_caller]
pub fn fail<T>(reason: impl fmt::Display) -> Result<T, String> {
    Err(failure(reason))
}

/// Converts any `Debug` error into a failure reason naming what failed and where.
pub trait Context<T> {
    /// `Err(e)` becomes `Err("file:line: what: e")`, at the caller's line.
    fn context(self, what: &str) -> Result<T, String>;
}

impl<T, E: fmt::Debug> Context<T> for Result<T, E> {
    #[track_caller]
    fn context(self, what: &str) -> Result<T, String> {
        match self {
            Ok(value) => Ok(value),
            Err(e) => fail(format_args!("{what}: {e:?}")),
        }
    }
}

impl<T> Context<T> for Option<T> {
    #[track_caller]
    fn context(self, what: &str) -> Result<T, String> {
        match self {
            Some(value) => Ok(value),
            None => fail(format_args!("{what}: none")),
        }
    }
}

/// Runs cases and reports each on one line, counting passes and failures.
pub struct Runner<Out: FnMut(&str) = fn(&str)> {
    suite: &'static str,
    /// What goes before a case's name.
    prefix: String,
    passed: u32,
    failed: u32,
    out: Out,
}

/// Prints `line` on the console.
fn print_line(line: &str) {
    crate::println!("{line}");
}

impl Runner {
    /// The runner of suite `suite` (its lines start with `suite`), printing on the console.
    pub fn new(suite: &'static str) -> Runner {
        Runner::with_output(suite, format!("{suite} "), print_line)
    }

    /// The runner of the checks a helper process runs for one case of `suite`: lines
    /// `<suite>   <group>::<name> ... ok`, indented so that they are not read as the suite's
    /// own cases or summary, though a FAILED among them still fails the suite.
    pub fn nested(suite: &'static str, group: &str) -> Runner {
        Runner::with_output(suite, format!("{suite}   {group}::"), print_line)
    }
}

impl<Out: FnMut(&str)> Runner<Out> {
    /// A runner that hands its lines to `out`; case lines start with `prefix`.
    pub fn with_output(suite: &'static str, prefix: String, out: Out) -> Runner<Out> {
        Runner {
            suite,
            prefix,
            passed: 0,
            failed: 0,
            out,
        }
    }

    /// Runs `cases` in order, each with `state`.
    pub fn run<S>(&mut self, state: &mut S, cases: &[Case<S>]) {
        for case in cases {
            let result = (case.run)(state);
            self.record(case.name, result);
        }
    }

    /// Reports the outcome of case `name`, run by other means (e.g. a set-up step).
    pub fn record(&mut self, name: &str, result: TestResult) {
        let line = match result {
            Ok(()) => {
                self.passed += 1;
                format!("{}{name} ... ok", self.prefix)
            }
            Err(reason) => {
                self.failed += 1;
                format!("{}{name} ... FAILED {reason}", self.prefix)
            }
        };
        (self.out)(&line);
    }

    /// Cases that failed so far.
    pub fn failed(&self) -> u32 {
        self.failed
    }

    /// Prints the summary `<suite>: N passed, M failed`; returns the exit status, 0 only if
    /// no case failed.
    pub fn finish(mut self) -> i32 {
        let line = format!(
            "{}: {} passed, {} failed",
            self.suite, self.passed, self.failed
        );
        (self.out)(&line);
        i32::from(self.failed != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use std::cell::RefCell;

    fn passes() -> TestResult {
        Ok(())
    }

    /// The line of the check in [`compares`].
    const COMPARES_LINE: u32 = line!() + 4;

    fn compares() -> TestResult {
        let sum = 2 + 2;
        ensure_eq!(sum, 5);
        Ok(())
    }

    /// The line of the `.context` in [`needs_value`].
    const NEEDS_VALUE_LINE: u32 = line!() + 4;

    fn needs_value() -> TestResult {
        let missing: Option<u32> = None;
        missing.context("the value")?;
        Ok(())
    }

    mod counting {
        use super::*;

        pub fn bump(n: &mut u32) -> TestResult {
            *n += 1;
            ensure!(*n < 2, "ran {} times", n);
            Ok(())
        }
    }

    /// Runs `f` with a runner that collects its lines; returns them and the exit status.
    fn collect(f: impl FnOnce(&mut Runner<&mut dyn FnMut(&str)>)) -> (Vec<String>, i32) {
        let lines = RefCell::new(Vec::new());
        let mut push = |line: &str| lines.borrow_mut().push(String::from(line));
        let mut runner = Runner::with_output("suite", String::from("suite "), &mut push as _);
        f(&mut runner);
        let status = runner.finish();
        (lines.into_inner(), status)
    }

    #[test]
    fn names_come_from_the_paths_and_failures_say_where() {
        let (lines, status) = collect(|r| r.run(&mut (), test_cases![passes, compares]));
        assert_eq!(lines[0], "suite passes ... ok");
        assert_eq!(
            lines[1],
            format!(
                "suite compares ... FAILED {}:{COMPARES_LINE}: sum = 4, expected 5",
                file!()
            )
        );
        assert_eq!(lines[2], "suite: 1 passed, 1 failed");
        assert_eq!(status, 1);
    }

    #[test]
    fn context_is_located_at_its_caller() {
        let (lines, _) = collect(|r| r.run(&mut (), test_cases![needs_value]));
        assert_eq!(
            lines[0],
            format!(
                "suite needs_value ... FAILED {}:{NEEDS_VALUE_LINE}: the value: none",
                file!()
            )
        );
    }

    #[test]
    fn cases_share_their_state_in_order() {
        let mut runs = 0u32;
        let cases = test_cases![u32 => counting::bump, counting::bump];
        let (lines, status) = collect(|r| r.run(&mut runs, cases));
        assert_eq!(runs, 2);
        assert_eq!(lines[0], "suite counting::bump ... ok");
        assert!(lines[1].starts_with("suite counting::bump ... FAILED "));
        assert!(lines[1].ends_with(": ran 2 times"), "{}", lines[1]);
        assert_eq!(status, 1);
    }

    #[test]
    fn recorded_results_count_and_a_clean_run_exits_zero() {
        let (lines, status) = collect(|r| {
            r.record("setup", Ok(()));
            r.run(&mut (), test_cases![passes]);
        });
        assert_eq!(
            lines,
            [
                "suite setup ... ok",
                "suite passes ... ok",
                "suite: 2 passed, 0 failed"
            ]
        );
        assert_eq!(status, 0);
    }

    #[test]
    fn nested_lines_are_indented_under_their_group() {
        let runner = Runner::nested("ltest", "conf-001");
        assert_eq!(runner.prefix, "ltest   conf-001::");
        let reason = fail::<()>("x").unwrap_err();
        assert_eq!(reason, format!("{}:{}: x", file!(), line!() - 1));
    }
}
