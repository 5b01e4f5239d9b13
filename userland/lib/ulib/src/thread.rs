//! Threads of this process: spawn with a priority, join for the exit code, sleep, yield,
//! and the 32-level priority / FIFO-RR policy of the scheduler (user threads: 10..=31,
//! 10 the highest).

use crate::sys::{self, thread::RawThread};
use abi::Errno;
use abi::syscall::sched::{SCHED_FIFO, SCHED_RR};
use alloc::boxed::Box;
use core::time::Duration;

pub use crate::sys::thread::STACK_SIZE;
pub use abi::syscall::sched::{DEFAULT_USER_PRIORITY, PRIORITY_LOWEST, USER_PRIORITY_MIN};

/// A thread id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tid(u32);

impl Tid {
    /// The raw value.
    pub const fn as_raw(self) -> u32 {
        self.0
    }
}

/// Scheduling policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Runs until it blocks, yields or a higher priority preempts it.
    Fifo,
    /// Time-sliced among threads of equal priority.
    RoundRobin,
}

impl Policy {
    fn to_abi(self) -> u32 {
        match self {
            Policy::Fifo => SCHED_FIFO,
            Policy::RoundRobin => SCHED_RR,
        }
    }

    fn from_abi(raw: u32) -> Option<Policy> {
        match raw {
            SCHED_FIFO => Some(Policy::Fifo),
            SCHED_RR => Some(Policy::RoundRobin),
            _ => None,
        }
    }
}

/// A spawned thread; [`JoinHandle::join`] waits for it and frees its stack. Dropping the
/// handle detaches the thread (its stack then stays mapped).
#[derive(Debug)]
pub struct JoinHandle {
    raw: RawThread,
}

impl JoinHandle {
    /// The thread's id.
    pub fn tid(&self) -> Tid {
        Tid(self.raw.tid() as u32)
    }

    /// Waits for the thread to finish; returns the closure's return value.
    pub fn join(self) -> Result<i32, Errno> {
        self.raw.join()
    }
}

/// Runs `f` in a new thread at `priority` (10..=31) with a [`STACK_SIZE`] stack and a
/// guard page. A panic in any thread ends the whole process (status 101).
pub fn spawn<F>(f: F, priority: u32) -> Result<JoinHandle, Errno>
where
    F: FnOnce() -> i32 + Send + 'static,
{
    sys::thread::spawn(Box::new(f), priority).map(|raw| JoinHandle { raw })
}

/// The calling thread's id.
pub fn current() -> Tid {
    Tid(sys::gettid().unwrap_or(0) as u32)
}

/// Gives the CPU to another ready thread of the same priority.
pub fn yield_now() {
    let _ = sys::sched_yield();
}

/// Sleeps at least `duration`.
pub fn sleep(duration: Duration) {
    let ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    let _ = sys::nanosleep(ns);
}

/// Sleeps at least `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    sleep(Duration::from_millis(ms));
}

/// Priority and policy of thread `tid` of this process.
pub fn param(tid: Tid) -> Result<(u32, Policy), Errno> {
    let raw = sys::sched_getparam(tid.0 as usize)?;
    let policy = Policy::from_abi((raw >> 8) as u32 & 0xFF).ok_or(Errno::EINVAL)?;
    Ok((raw as u32 & 0xFF, policy))
}

/// Sets priority and policy of thread `tid` of this process.
pub fn set_param(tid: Tid, priority: u32, policy: Policy) -> Result<(), Errno> {
    sys::sched_setparam(tid.0 as usize, priority, policy.to_abi()).map(drop)
}

/// Priority and policy of the calling thread.
pub fn current_param() -> Result<(u32, Policy), Errno> {
    param(Tid(0))
}

/// The calling thread's priority.
pub fn current_priority() -> Result<u32, Errno> {
    current_param().map(|(priority, _)| priority)
}

/// Sets the calling thread's priority, keeping its policy.
pub fn set_priority(priority: u32) -> Result<(), Errno> {
    let (_, policy) = current_param()?;
    set_param(Tid(0), priority, policy)
}

/// Sets the calling thread's policy, keeping its priority.
pub fn set_policy(policy: Policy) -> Result<(), Errno> {
    let (priority, _) = current_param()?;
    set_param(Tid(0), priority, policy)
}
