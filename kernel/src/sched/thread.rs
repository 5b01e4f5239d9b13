//! A thread: its saved context, kernel stack, scheduling parameters and wait state.

use crate::arch::context::{Context, FpState};
use crate::mm::kstack::KernelStack;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use kcore::sched::{Pid, Policy, Priority, Tid};
use kcore::timer_queue::TimerId;

/// What the scheduler needs of a user address space: installing it on the CPU when one of
/// its threads is about to run. The process layer implements it; the scheduler never looks
/// inside, and the process layer takes its own type back through `Any`.
pub trait UserSpace: Any + Send + Sync {
    /// Installs the space's translation table (TTBR0, with its ASID) on this CPU.
    fn activate(&self);
}

/// A user thread's address space, as the scheduler holds it: opaque, shared by the
/// process's threads, kept alive while any of them exists.
pub type SpaceHandle = Arc<dyn UserSpace>;

/// The identity of a space (equal for handles to the same space), without keeping it alive.
pub fn space_id(space: &SpaceHandle) -> usize {
    Arc::as_ptr(space).cast::<()>() as usize
}

/// Where a thread is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    /// In the run queue.
    Ready,
    /// On the CPU.
    Running,
    /// Waiting for a wake-up or a timeout.
    Blocked,
    /// Finished; its resources go once another thread runs.
    Dead,
}

/// Why a blocked thread woke up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WakeReason {
    /// Someone woke it.
    Woken,
    /// Its deadline passed.
    TimedOut,
    /// Its process is being killed.
    Interrupted,
}

/// A schedulable thread.
pub struct Thread {
    pub(super) tid: Tid,
    pub(super) pid: Pid,
    pub(super) name: String,
    pub(super) state: ThreadState,
    pub(super) priority: Priority,
    pub(super) policy: Policy,
    pub(super) context: Context,
    /// User FP/SIMD state; `None` for kernel threads.
    pub(super) fp: Option<Box<FpState>>,
    /// `None` only for the boot thread, which runs on the boot stack. Held for its Drop.
    pub(super) _kstack: Option<KernelStack>,
    pub(super) space: Option<SpaceHandle>,
    /// Its entry in the timer queue, if any. Cancelled lazily: a wake-up leaves it queued,
    /// a later block with a deadline no earlier reuses it, and when it fires it only wakes
    /// the thread if `deadline` (the current wait's) has passed, else re-arms for it.
    pub(super) timer: Option<TimerId>,
    /// The deadline of the thread's current or last wait (`None`: none).
    pub(super) deadline: Option<u64>,
    pub(super) wake_reason: WakeReason,
    pub(super) slice_end: u64,
    /// Set when the thread must leave (process killed or exiting).
    pub(super) interrupted: bool,
    /// Threads blocked in join on this one.
    pub(super) joiners: Vec<Tid>,
}

/// A read-only snapshot of a thread, for `ps` and tests.
#[derive(Clone, Debug)]
pub struct ThreadInfo {
    /// Thread id.
    pub tid: Tid,
    /// Owning process (0 = kernel).
    pub pid: Pid,
    /// Name.
    pub name: String,
    /// State.
    pub state: ThreadState,
    /// Priority.
    pub priority: Priority,
    /// Policy.
    pub policy: Policy,
}

impl Thread {
    pub(super) fn info(&self) -> ThreadInfo {
        ThreadInfo {
            tid: self.tid,
            pid: self.pid,
            name: self.name.clone(),
            state: self.state,
            priority: self.priority,
            policy: self.policy,
        }
    }
}

/// Longest thread name kept.
const MAX_NAME: usize = 15;

pub(super) fn new_thread(
    tid: Tid,
    pid: Pid,
    name: &str,
    priority: Priority,
    policy: Policy,
    context: Context,
    kstack: Option<KernelStack>,
) -> Box<Thread> {
    Box::new(Thread {
        tid,
        pid,
        name: String::from(name.get(..MAX_NAME.min(name.len())).unwrap_or("thread")),
        state: ThreadState::Ready,
        priority,
        policy,
        context,
        fp: None,
        _kstack: kstack,
        space: None,
        timer: None,
        deadline: None,
        wake_reason: WakeReason::Woken,
        slice_end: 0,
        interrupted: false,
        joiners: Vec::new(),
    })
}
