//! Monotonic time from `clock_gettime(MONOTONIC)` (the generic timer since boot).

use abi::syscall::clock::MONOTONIC;
use core::ops::{Add, Sub};
pub use core::time::Duration;

/// Time since boot. Zero if the clock cannot be read (it always can on the target).
pub fn now() -> Duration {
    crate::sys::clock_gettime(MONOTONIC)
        .map_or(Duration::ZERO, |ns| Duration::from_nanos(ns as u64))
}

/// A point on the monotonic clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// Now.
    pub fn now() -> Instant {
        Instant(now())
    }

    /// Time since `earlier` (zero if `earlier` is later).
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// Time since this instant.
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// Time since boot at this instant.
    pub fn since_boot(&self) -> Duration {
        self.0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_add(rhs))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    fn sub(self, rhs: Instant) -> Duration {
        self.duration_since(rhs)
    }
}
