//! Checks for on-target test programs: assertions that return a failure reason instead of
//! panicking, so a suite goes on after a failed test.

use alloc::string::String;

/// A test's outcome: the failure reason on error.
pub type TestResult = Result<(), String>;

/// Fails the test with a formatted reason unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($reason:tt)+) => {
        if !$cond {
            return Err(alloc::format!("{} (line {})", alloc::format!($($reason)+), line!()));
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
                    return Err(alloc::format!(
                        "{} = {:?}, expected {:?} (line {})",
                        stringify!($left),
                        left,
                        right,
                        line!()
                    ));
                }
            }
        }
    };
}

/// Converts any `Debug` error into a failure reason naming what failed.
pub trait Context<T> {
    /// `Err(e)` becomes `Err("what: e")`.
    fn context(self, what: &str) -> Result<T, String>;
}

impl<T, E: core::fmt::Debug> Context<T> for Result<T, E> {
    fn context(self, what: &str) -> Result<T, String> {
        self.map_err(|e| alloc::format!("{what}: {e:?}"))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: &str) -> Result<T, String> {
        self.ok_or_else(|| alloc::format!("{what}: none"))
    }
}
