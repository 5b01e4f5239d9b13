//! The scheduler's pure data: thread ids, priorities, policies and the 32-level ready queue.
//!
//! Follows LiteOS-A (`reference/openharmony-facts.md` §2): 32 priorities, 0 highest and 31
//! lowest; kernel threads use 0..=9, user threads 10..=31 (default 10). `SCHED_RR` threads share
//! the CPU with equal-priority threads in time slices (default 20 ms); `SCHED_FIFO` threads run
//! until they block, yield or are preempted by a higher priority. Upstream schedules in two
//! levels (process, then thread); we keep one level of thread priorities.
//!
//! [`RunQueue`] holds only *ready* threads, never the running one. One FIFO queue per priority
//! plus a bitmap `ready` whose bit `p` is set exactly when queue `p` is non-empty, so the pick
//! is one `trailing_zeros` (0 is the highest priority, hence the lowest set bit) and the
//! preemption test is one mask. Every mutation re-checks the bitmap with `debug_assert!`.

use alloc::collections::VecDeque;

/// Number of priority levels.
pub const PRIORITY_LEVELS: usize = 32;

/// Default `SCHED_RR` time slice (LiteOS-A's upper bound; the kernel may configure another).
pub const DEFAULT_RR_SLICE_MS: u32 = 20;

/// `SCHED_FIFO` in the syscall ABI (Linux value, same as `abi::syscall::sched::SCHED_FIFO`).
const ABI_SCHED_FIFO: u32 = 1;
/// `SCHED_RR` in the syscall ABI (Linux value, same as `abi::syscall::sched::SCHED_RR`).
const ABI_SCHED_RR: u32 = 2;

/// A thread id, as the kernel's thread table numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tid(pub u32);

/// A process id, as threads carry it (0: the kernel's own threads).
pub type Pid = u32;

/// A scheduling priority in `0..=31`; 0 is the highest.
///
/// [`Priority::new`] is the only constructor, so a `Priority` always indexes a valid queue.
/// The derived ordering is numeric: a *smaller* value is a *higher* priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(u8);

/// Why a user thread may not take a requested priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriorityError {
    /// Above 31: no such priority (the syscall layer maps this to `EINVAL`).
    OutOfRange,
    /// In 0..=9, reserved for kernel threads (the syscall layer maps this to `EPERM`).
    KernelOnly,
}

impl Priority {
    /// Priority 0, the highest (kernel threads only).
    pub const HIGHEST: Priority = Priority(0);
    /// Priority 31, the lowest.
    pub const LOWEST: Priority = Priority(31);
    /// Priority 10, the highest a user thread may have (and LiteOS-A's default task priority).
    pub const USER_HIGHEST: Priority = Priority(10);

    /// The priority `value`, or `None` outside `0..=31`. The only constructor.
    pub const fn new(value: u8) -> Option<Priority> {
        if (value as usize) < PRIORITY_LEVELS {
            Some(Priority(value))
        } else {
            None
        }
    }

    /// The numeric value, `0..=31`.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// Whether this is a user-thread priority (10..=31).
    pub const fn is_user(self) -> bool {
        self.0 >= Self::USER_HIGHEST.0
    }

    /// Priority a user thread may set (from `sched_setparam` or thread creation):
    /// `Err(PriorityError::OutOfRange)` above 31, `Err(PriorityError::KernelOnly)` for 0..=9.
    pub fn for_user(value: u32) -> Result<Priority, PriorityError> {
        let prio = u8::try_from(value)
            .ok()
            .and_then(Priority::new)
            .ok_or(PriorityError::OutOfRange)?;
        if prio.is_user() {
            Ok(prio)
        } else {
            Err(PriorityError::KernelOnly)
        }
    }

    /// Queue index of this priority; always `< PRIORITY_LEVELS`.
    const fn index(self) -> usize {
        self.0 as usize
    }

    /// This priority's bit in a ready bitmap.
    const fn bit(self) -> u32 {
        1 << self.0
    }

    /// Bitmap mask of the priorities strictly higher than `self` (values `0..self`).
    const fn higher_mask(self) -> u32 {
        self.bit() - 1
    }

    /// Bitmap mask of the priorities at or above `self` (values `0..=self`).
    const fn at_or_above_mask(self) -> u32 {
        u32::MAX >> (PRIORITY_LEVELS as u32 - 1 - self.0 as u32)
    }
}

/// A thread's scheduling policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// `SCHED_FIFO`: no time slice; runs until it blocks, yields or is preempted.
    Fifo,
    /// `SCHED_RR`: round robin among equal priorities, one time slice at a time.
    RoundRobin,
}

impl Policy {
    /// Decodes the ABI value (Linux numbering): 1 = `SCHED_FIFO`, 2 = `SCHED_RR`; else `None`.
    pub fn from_abi(value: u32) -> Option<Policy> {
        match value {
            ABI_SCHED_FIFO => Some(Policy::Fifo),
            ABI_SCHED_RR => Some(Policy::RoundRobin),
            _ => None,
        }
    }

    /// The ABI value of this policy (Linux numbering).
    pub fn to_abi(self) -> u32 {
        match self {
            Policy::Fifo => ABI_SCHED_FIFO,
            Policy::RoundRobin => ABI_SCHED_RR,
        }
    }
}

/// The ready threads, one FIFO queue per priority plus a bitmap of the non-empty queues.
///
/// The running thread is not in the queue: the kernel pushes it back (front when preempted,
/// back when its slice ended or it yielded) and pops the next one.
#[derive(Debug)]
pub struct RunQueue {
    /// Bit `p` set exactly when `queues[p]` is non-empty.
    ready: u32,
    /// Ready threads per priority, in the order they run.
    queues: [VecDeque<Tid>; PRIORITY_LEVELS],
}

impl Default for RunQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl RunQueue {
    /// An empty run queue (allocates nothing until the first push).
    pub const fn new() -> Self {
        Self {
            ready: 0,
            queues: [const { VecDeque::new() }; PRIORITY_LEVELS],
        }
    }

    /// Makes `tid` ready behind the other threads of priority `prio` (wake-up, yield, end of
    /// an RR slice). `tid` must not be queued already.
    pub fn push_back(&mut self, tid: Tid, prio: Priority) {
        debug_assert!(!self.is_queued(tid), "{tid:?} queued twice");
        self.queues[prio.index()].push_back(tid);
        self.ready |= prio.bit();
        debug_assert!(self.bitmap_consistent());
    }

    /// Makes `tid` ready ahead of the other threads of priority `prio`: a preempted thread goes
    /// back to the front of its queue and keeps its turn. `tid` must not be queued already.
    pub fn push_front(&mut self, tid: Tid, prio: Priority) {
        debug_assert!(!self.is_queued(tid), "{tid:?} queued twice");
        self.queues[prio.index()].push_front(tid);
        self.ready |= prio.bit();
        debug_assert!(self.bitmap_consistent());
    }

    /// Takes the first thread of the highest non-empty priority, in O(1).
    pub fn pop_highest(&mut self) -> Option<(Tid, Priority)> {
        let prio = self.highest_priority()?;
        let queue = &mut self.queues[prio.index()];
        let tid = queue
            .pop_front()
            .expect("invariant: a ready bit is set only for a non-empty queue");
        if queue.is_empty() {
            self.ready &= !prio.bit();
        }
        debug_assert!(self.bitmap_consistent());
        Some((tid, prio))
    }

    /// The highest priority with a ready thread, or `None` when nothing is ready.
    pub fn highest_priority(&self) -> Option<Priority> {
        if self.ready == 0 {
            return None;
        }
        // `ready` is a u32, so trailing_zeros of a non-zero value is below 32.
        Priority::new(self.ready.trailing_zeros() as u8)
    }

    /// Removes `tid` from the queue of `prio` (it blocked, exited or changes priority).
    /// Returns whether it was there; the order of the others is kept.
    pub fn remove(&mut self, tid: Tid, prio: Priority) -> bool {
        let queue = &mut self.queues[prio.index()];
        if queue.back() == Some(&tid) {
            // The common case (a thread handed the CPU right after it was queued): the
            // last one, taken without a search.
            queue.pop_back();
        } else {
            let Some(pos) = queue.iter().position(|&t| t == tid) else {
                return false;
            };
            queue.remove(pos);
        }
        if queue.is_empty() {
            self.ready &= !prio.bit();
        }
        debug_assert!(self.bitmap_consistent());
        true
    }

    /// Whether `tid` is ready at priority `prio`.
    pub fn contains(&self, tid: Tid, prio: Priority) -> bool {
        self.queues[prio.index()].contains(&tid)
    }

    /// Number of ready threads, all priorities together.
    pub fn len(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }

    /// Whether no thread is ready.
    pub fn is_empty(&self) -> bool {
        self.ready == 0
    }

    /// A ready thread with strictly higher priority (smaller number) than `current` exists:
    /// `ready & ((1 << cur) - 1) != 0`. Checked after every wake-up, so the woken thread runs
    /// now rather than at the next tick.
    pub fn should_preempt(&self, current: Priority) -> bool {
        self.ready & current.higher_mask() != 0
    }

    /// When `current`'s RR time slice ends: true if it must yield (another ready thread at the
    /// same or higher priority). FIFO threads never yield on a slice (return false).
    pub fn slice_expired_should_switch(&self, current: Priority, policy: Policy) -> bool {
        match policy {
            Policy::Fifo => false,
            Policy::RoundRobin => self.ready & current.at_or_above_mask() != 0,
        }
    }

    /// Whether `tid` is in any queue (debug checks only: O(n)).
    fn is_queued(&self, tid: Tid) -> bool {
        self.queues.iter().any(|q| q.contains(&tid))
    }

    /// The bitmap invariant: bit `p` of `ready` set exactly when queue `p` is non-empty.
    fn bitmap_consistent(&self) -> bool {
        self.queues
            .iter()
            .enumerate()
            .all(|(p, q)| (self.ready >> p) & 1 == u32::from(!q.is_empty()))
    }
}

#[cfg(test)]
mod tests;
