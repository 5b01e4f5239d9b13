//! The scheduler: 32 priorities (0 highest), SCHED_RR with a time slice and SCHED_FIFO,
//! O(1) pick through kcore's bitmap run queue, and preemption as soon as a higher-priority
//! thread becomes ready (checked on every return from an interrupt or a system call).
//! Sleeps, timeouts and RR slices share one one-shot timer deadline.
//!
//! Single CPU. Kernel code runs with IRQs masked except in kernel threads' bodies and the
//! idle loop, so the scheduler lock is never contended by an interrupt on the same CPU.
//!
//! Files: `scheduler` (the state and the switch), `thread` (a thread's record), `lifecycle`
//! (spawn, exit, join), `blocking` (block, wake, sleep, preemption), `params` (who runs,
//! priorities, snapshots), `wait` (wait queues).

mod blocking;
mod lifecycle;
mod params;
mod scheduler;
mod thread;
mod wait;

pub use blocking::{
    block_current, interrupt, on_timer_interrupt, preempt_and_check_interrupted, preempt_if_needed,
    sleep_until, wake, wake_handoff, yield_now,
};
pub use kcore::sched::Pid;
pub use kcore::sched::{Policy, Priority, Tid};
#[cfg(test)]
pub use lifecycle::spawn_kernel_thread;
pub use lifecycle::{
    UserThreadStart, discard_exit_code, exit_current, init, join, replace_current_space,
    spawn_user_thread,
};
pub use params::{
    current, current_ids, current_pid, current_space, get_param, set_param, thread_pid, threads,
};
pub use scheduler::set_slice_ns;
pub use thread::{SpaceHandle, ThreadState, UserSpace, WakeReason, space_id};
pub use wait::WaitQueue;
