//! The one-shot timer's software queue: pending deadlines (in generic-timer counter ticks) and
//! what to do when each one passes.
//!
//! LiteOS-A keeps its software timers (`swtmr`) and task delays sorted by expiry and programs the
//! tick from the earliest one; we do the same with a tickless one-shot timer: the kernel arms
//! `CNTP_CVAL_EL0` with [`TimerQueue::next_deadline`] and, on the interrupt, drains
//! [`TimerQueue::pop_expired`] (RR slice ends, `nanosleep` and futex/wait-queue timeouts).
//!
//! Entries are keyed by `(deadline, seq)` in a `BTreeMap`: `seq` increases with every insert,
//! so equal deadlines fire in insertion order and a [`TimerId`] names exactly one entry, even
//! after that entry fired (cancelling it then finds nothing).

use alloc::collections::BTreeMap;

/// Handle to one pending timer, returned by [`TimerQueue::insert`] and used to cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId {
    /// Absolute deadline in counter ticks.
    deadline: u64,
    /// Insertion number, unique within one queue.
    seq: u64,
}

impl TimerId {
    /// The deadline this timer was inserted with, in counter ticks.
    pub fn deadline(self) -> u64 {
        self.deadline
    }

    /// The map key of this timer.
    fn key(self) -> (u64, u64) {
        (self.deadline, self.seq)
    }
}

/// Pending timers ordered by deadline, ties by insertion order.
#[derive(Debug)]
pub struct TimerQueue<T> {
    /// `(deadline, seq)` to payload.
    entries: BTreeMap<(u64, u64), T>,
    /// The `seq` of the next insert.
    next_seq: u64,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> TimerQueue<T> {
    /// An empty queue (allocates nothing until the first insert).
    pub const fn new() -> Self {
        Self {
            entries: BTreeMap::new(),
            next_seq: 0,
        }
    }

    /// Adds `item` to fire once the counter reaches `deadline` (any `u64`, including `u64::MAX`
    /// for "practically never"). Equal deadlines fire in insertion order.
    pub fn insert(&mut self, deadline: u64, item: T) -> TimerId {
        let id = TimerId {
            deadline,
            seq: self.next_seq,
        };
        // 2^64 inserts cannot happen (one per nanosecond would take 584 years); wrapping keeps
        // this total rather than panicking.
        self.next_seq = self.next_seq.wrapping_add(1);
        self.entries.insert(id.key(), item);
        id
    }

    /// Removes a pending timer and returns its item; `None` if it already fired or was
    /// cancelled.
    pub fn cancel(&mut self, id: TimerId) -> Option<T> {
        self.entries.remove(&id.key())
    }

    /// The earliest pending deadline, to program the hardware timer with; `None` when empty.
    pub fn next_deadline(&self) -> Option<u64> {
        self.entries
            .first_key_value()
            .map(|(&(deadline, _), _)| deadline)
    }

    /// Takes the earliest item whose deadline is `<= now`, with its deadline. Call until `None`
    /// to drain everything due.
    pub fn pop_expired(&mut self, now: u64) -> Option<(u64, T)> {
        let entry = self.entries.first_entry()?;
        let (deadline, _) = *entry.key();
        if deadline > now {
            return None;
        }
        Some((deadline, entry.remove()))
    }

    /// Number of pending timers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests;
