//! Time from the generic timer's counter, and a one-shot timer event.
//!
//! The counter runs at CNTFRQ Hz from boot. [`arm_oneshot`] programs the compare deadline;
//! when it passes, the timer interrupt calls the registered handler once.

use crate::arch::{cpu, timer};
use crate::sync::IrqSafeMutex;
use core::sync::atomic::{AtomicU64, Ordering};

static BOOT_COUNTER: AtomicU64 = AtomicU64::new(0);
static FREQUENCY_HZ: AtomicU64 = AtomicU64::new(0);
static HANDLER: IrqSafeMutex<Option<fn(u64)>> = IrqSafeMutex::new(None);

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

/// Calls `handler(now)` from the timer interrupt once the counter reaches `deadline`,
/// replacing any earlier request.
pub fn arm_oneshot(deadline: u64, handler: fn(u64)) {
    *HANDLER.lock() = Some(handler);
    timer::set_deadline(deadline);
}

/// Cancels a pending one-shot request.
#[cfg_attr(not(test), expect(dead_code, reason = "sleep cancellation arrives with the scheduler"))]
pub fn cancel_oneshot() {
    timer::stop();
    *HANDLER.lock() = None;
}

/// The timer interrupt: stop the one-shot and run its handler.
pub fn on_timer_interrupt(_irq: u32) {
    timer::stop();
    let handler = HANDLER.lock().take();
    if let Some(handler) = handler {
        handler(now());
    }
}
