//! Counting passed and failed tests in test runners' output.

use std::fmt;
use std::process::ExitStatus;

/// Passed and failed counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed (a step that could not run counts as one).
    pub failed: u64,
}

impl Counts {
    /// One passed check, or one failed.
    pub fn one(ok: bool) -> Counts {
        if ok {
            Counts {
                passed: 1,
                failed: 0,
            }
        } else {
            Counts {
                passed: 0,
                failed: 1,
            }
        }
    }

    /// The sum of both.
    pub fn add(self, other: Counts) -> Counts {
        Counts {
            passed: self.passed + other.passed,
            failed: self.failed + other.failed,
        }
    }

    /// These counts, made to show at least one failure when the run itself failed (a build
    /// error, a crash, a timeout) but reported none.
    pub fn with_status(self, status: ExitStatus) -> Counts {
        if !status.success() && self.failed == 0 {
            Counts { failed: 1, ..self }
        } else {
            self
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)
    }
}

/// Parses the `N passed` / `N failed` numbers from `text` with separator `sep`, e.g.
/// `3 passed; 1 failed` (sep `;`) or `3 passed, 1 failed` (sep `,`).
fn passed_failed(text: &str, sep: char) -> Option<Counts> {
    let (passed, rest) = text.split_once(" passed")?;
    let passed = passed.split_whitespace().last()?.parse().ok()?;
    let rest = rest.trim_start().strip_prefix(sep)?;
    let failed = rest
        .trim_start()
        .split_once(" failed")?
        .0
        .trim()
        .parse()
        .ok()?;
    Some(Counts { passed, failed })
}

/// Sums libtest's `test result: ok. N passed; M failed; ...` lines, or `None` if there are none.
pub fn cargo_test(output: &str) -> Option<Counts> {
    sum_lines(output, "test result: ", ';')
}

/// Sums the kernel test runner's `ktest: N passed, M failed` lines, or `None` if there are none.
pub fn ktest(output: &str) -> Option<Counts> {
    sum_lines(output, "ktest: ", ',')
}

fn sum_lines(output: &str, tag: &str, sep: char) -> Option<Counts> {
    output
        .lines()
        .filter_map(|line| line.find(tag).map(|i| &line[i + tag.len()..]))
        .filter_map(|rest| passed_failed(rest, sep))
        .reduce(Counts::add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_lines_are_summed() {
        let out = "running 2 tests\ntest a ... ok\n\
                   test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n\
                   test result: FAILED. 5 passed; 1 failed; 0 ignored\n";
        assert_eq!(
            cargo_test(out),
            Some(Counts {
                passed: 7,
                failed: 1
            })
        );
        assert_eq!(cargo_test("error[E0425]: cannot find value\n"), None);
    }

    #[test]
    fn ktest_line_with_log_prefix() {
        let out = "ktest mm::frames ... ok\r\n[    0.5] INFO  ktest: 12 passed, 2 failed\r\n";
        assert_eq!(
            ktest(out),
            Some(Counts {
                passed: 12,
                failed: 2
            })
        );
        assert_eq!(ktest("ktest mm::frames ... ok\n"), None);
    }

    #[test]
    fn a_failed_run_counts_at_least_one_failure() {
        use std::os::unix::process::ExitStatusExt;
        let ok = ExitStatus::from_raw(0);
        let failed = ExitStatus::from_raw(1 << 8);
        let clean = Counts {
            passed: 3,
            failed: 0,
        };
        assert_eq!(clean.with_status(ok), clean);
        assert_eq!(
            clean.with_status(failed),
            Counts {
                passed: 3,
                failed: 1
            }
        );
        let two = Counts {
            passed: 3,
            failed: 2,
        };
        assert_eq!(two.with_status(failed), two);
    }

    #[test]
    fn display_is_the_summary_line() {
        assert_eq!(
            Counts {
                passed: 3,
                failed: 0
            }
            .to_string(),
            "3 passed, 0 failed"
        );
    }
}
