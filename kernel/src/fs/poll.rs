//! Readiness events for `poll` and blocking socket calls: every event source (sockets, the
//! console, /dev/initctl, LiteIPC) calls [`notify`]; sleepers re-check their own condition.
//! One queue for everything is simple and loses no wake-up (single CPU, IRQs masked from
//! check to sleep); with tens of processes the extra wake-ups cost nothing measurable.

use crate::sched::{WaitQueue, WakeReason};

static EVENTS: WaitQueue = WaitQueue::new();

/// Something became readable, writable or closed.
pub fn notify() {
    EVENTS.wake_all();
}

/// Sleeps while `condition()` holds, until `deadline` (counter ticks) if any.
pub fn wait_while(deadline: Option<u64>, condition: impl FnMut() -> bool) -> WakeReason {
    EVENTS.wait_while(deadline, condition)
}
