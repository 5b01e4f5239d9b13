//! Giving up the CPU: yield, block until woken or a deadline, sleep, wake, and the
//! preemption checks on the way out of interrupts and system calls.

use super::scheduler::{Requeue, SCHED, reschedule, run_switch};
use super::thread::{ThreadState, WakeReason};
use crate::arch::cpu;
use crate::time;
use kcore::sched::Tid;

/// Gives the CPU to another ready thread of the same or higher priority.
pub fn yield_now() {
    reschedule(Requeue::Back);
}

/// Blocks the running thread until [`wake`] or the counter reaches `deadline`.
/// The caller must have IRQs masked since it checked the condition it waits for.
pub fn block_current(deadline: Option<u64>) -> WakeReason {
    let irq = cpu::irq_save_disable();
    let prepared = {
        let mut s = SCHED.lock();
        let current = s.current;
        if s.current_thread().interrupted {
            drop(s);
            cpu::irq_restore(irq);
            return WakeReason::Interrupted;
        }
        let s = &mut *s;
        let thread = s
            .threads
            .get_mut(current.0)
            .expect("invariant: the running thread is registered");
        if let Some(deadline) = deadline {
            // A queued entry that fires no later than this deadline is kept (it re-arms
            // when it fires early); otherwise the entry is replaced.
            match thread.timer {
                Some(timer) if timer.deadline() <= deadline => {}
                old => {
                    if let Some(timer) = old {
                        s.timers.cancel(timer);
                    }
                    thread.timer = Some(s.timers.insert(deadline, current));
                }
            }
        }
        thread.deadline = deadline;
        thread.state = ThreadState::Blocked;
        thread.wake_reason = WakeReason::Woken;
        s.switch(Requeue::No)
    };
    run_switch(prepared);
    let reason = SCHED.lock().current_thread().wake_reason;
    cpu::irq_restore(irq);
    reason
}

/// Makes a blocked thread ready; false if it was not blocked.
pub fn wake(tid: Tid, reason: WakeReason) -> bool {
    SCHED.lock().wake(tid, reason)
}

/// Like [`wake`], for a synchronous call whose caller blocks next: the woken thread is
/// switched to directly when the caller blocks, if no more urgent thread is ready.
pub fn wake_handoff(tid: Tid) -> bool {
    let mut s = SCHED.lock();
    let woken = s.wake(tid, WakeReason::Woken);
    if woken {
        s.handoff = Some(tid);
    }
    woken
}

/// Sleeps until the counter reaches `deadline` (early only if interrupted).
pub fn sleep_until(deadline: u64) -> WakeReason {
    let irq = cpu::irq_save_disable();
    let mut reason = WakeReason::TimedOut;
    while time::now() < deadline {
        reason = block_current(Some(deadline));
        if reason == WakeReason::Interrupted {
            break;
        }
    }
    cpu::irq_restore(irq);
    reason
}

/// Marks a thread as having to leave (its process is dying) and wakes it if blocked.
pub fn interrupt(tid: Tid) {
    let mut s = SCHED.lock();
    if let Some(thread) = s.threads.get_mut(tid.0) {
        thread.interrupted = true;
        s.wake(tid, WakeReason::Interrupted);
    }
}

/// Whether the running thread has been told to leave.
pub fn current_interrupted() -> bool {
    let mut s = SCHED.lock();
    s.current_thread().interrupted
}

/// The timer interrupt: wake sleepers whose time came, end RR slices.
pub fn on_timer_interrupt(_irq: u32) {
    SCHED.lock().on_timer();
}

/// Called on the way out of every interrupt and system call: switch if a higher-priority
/// thread became ready or the running thread's slice ended.
pub fn preempt_if_needed() {
    let irq = cpu::irq_save_disable();
    let prepared = {
        let mut s = SCHED.lock();
        if !s.need_resched {
            None
        } else {
            let current = s.current;
            let priority = s.current_thread().priority;
            let preempted = s.run_queue.should_preempt(priority) && Some(current) != s.idle;
            s.switch(if preempted {
                Requeue::Front
            } else {
                Requeue::Back
            })
        }
    };
    run_switch(prepared);
    cpu::irq_restore(irq);
}

/// The way back to user mode: [`preempt_if_needed`], then whether the running thread has
/// been told to leave ([`current_interrupted`]); one lock when there is nothing to do.
pub fn preempt_and_check_interrupted() -> bool {
    {
        let mut s = SCHED.lock();
        if !s.need_resched {
            return s.current_thread().interrupted;
        }
    }
    preempt_if_needed();
    current_interrupted()
}
