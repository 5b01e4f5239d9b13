//! Wait queues: threads sleep here until an event (or a deadline).

use super::blocking::{block_current, wake};
use super::params::current;
use super::thread::WakeReason;
use crate::arch::cpu;
use crate::sync::IrqSafeMutex;
use alloc::collections::VecDeque;
use kcore::sched::Tid;

/// A FIFO of blocked threads.
pub struct WaitQueue {
    waiters: IrqSafeMutex<VecDeque<Tid>>,
}

impl WaitQueue {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            waiters: IrqSafeMutex::new(VecDeque::new()),
        }
    }

    /// Sleeps until woken or until the counter reaches `deadline`.
    ///
    /// No wake-up is lost as long as the caller keeps IRQs masked from checking its
    /// condition to this call (single CPU: nothing else runs in between).
    pub fn wait(&self, deadline: Option<u64>) -> WakeReason {
        let irq = cpu::irq_save_disable();
        let me = current();
        self.waiters.lock().push_back(me);
        let reason = block_current(deadline);
        if reason != WakeReason::Woken {
            self.waiters.lock().retain(|t| *t != me);
        }
        cpu::irq_restore(irq);
        reason
    }

    /// Blocks while `condition()` holds, up to `deadline`; returns the last wake reason
    /// (`Woken` when the condition cleared).
    pub fn wait_while(
        &self,
        deadline: Option<u64>,
        mut condition: impl FnMut() -> bool,
    ) -> WakeReason {
        let irq = cpu::irq_save_disable();
        let mut reason = WakeReason::Woken;
        while condition() {
            reason = self.wait(deadline);
            if reason != WakeReason::Woken {
                break;
            }
        }
        cpu::irq_restore(irq);
        reason
    }

    /// Whether nobody waits here.
    pub fn is_empty(&self) -> bool {
        self.waiters.lock().is_empty()
    }

    /// Wakes the longest waiter; false if there was none.
    pub fn wake_one(&self) -> bool {
        loop {
            let Some(tid) = self.waiters.lock().pop_front() else {
                return false;
            };
            if wake(tid, WakeReason::Woken) {
                return true;
            }
        }
    }

    /// Wakes every waiter; returns how many.
    pub fn wake_all(&self) -> usize {
        let waiters = core::mem::take(&mut *self.waiters.lock());
        waiters
            .into_iter()
            .filter(|tid| wake(*tid, WakeReason::Woken))
            .count()
    }
}
