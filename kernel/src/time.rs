//! Time from the generic timer's counter (CNTFRQ Hz, counted from boot). The scheduler owns
//! the one-shot compare deadline.

use crate::arch::cpu;
use core::sync::atomic::{AtomicU64, Ordering};

static BOOT_COUNTER: AtomicU64 = AtomicU64::new(0);
static FREQUENCY_HZ: AtomicU64 = AtomicU64::new(0);

/// Records the boot instant and the counter frequency.
pub fn init() {
    BOOT_COUNTER.store(cpu::counter(), Ordering::Relaxed);
    FREQUENCY_HZ.store(cpu::counter_frequency(), Ordering::Relaxed);
}

/// The counter frequency in Hz (0 before [`init`]).
pub fn frequency_hz() -> u64 {
    FREQUENCY_HZ.load(Ordering::Relaxed)
}

/// The current counter value.
pub fn now() -> u64 {
    cpu::counter()
}

/// Converts counter ticks to nanoseconds without overflow for any realistic uptime.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    match frequency_hz() {
        0 => 0,
        hz => (u128::from(ticks) * 1_000_000_000 / u128::from(hz)) as u64,
    }
}

/// Converts nanoseconds to counter ticks, rounding up so a deadline is never early.
pub fn ns_to_ticks(ns: u64) -> u64 {
    (u128::from(ns) * u128::from(frequency_hz())).div_ceil(1_000_000_000) as u64
}

/// Microseconds since boot.
pub fn uptime_us() -> u64 {
    ticks_to_ns(now().saturating_sub(BOOT_COUNTER.load(Ordering::Relaxed))) / 1000
}
