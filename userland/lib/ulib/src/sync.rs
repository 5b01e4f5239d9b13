//! Blocking locks on the kernel futex: [`Mutex`] (the three-state futex mutex of Drepper's
//! "Futexes Are Tricky") and [`Condvar`] (a sequence counter), like musl's pthread
//! mutex/cond on LiteOS-A. Waiters sleep in the kernel; nothing spins.
//!
//! The data sits in a `spin::Mutex` used only through `try_lock`, which always succeeds
//! while the futex word is held: the cell access needs no `unsafe`, and a broken lock
//! would panic instead of aliasing.

use crate::sys;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;

/// Futex word: free.
const UNLOCKED: u32 = 0;
/// Futex word: held, nobody sleeping.
const LOCKED: u32 = 1;
/// Futex word: held, and there may be sleepers to wake on unlock.
const CONTENDED: u32 = 2;

/// A mutual-exclusion lock whose waiters sleep on a futex.
pub struct Mutex<T> {
    state: AtomicU32,
    data: spin::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex.
    pub const fn new(value: T) -> Self {
        Mutex {
            state: AtomicU32::new(UNLOCKED),
            data: spin::Mutex::new(value),
        }
    }

    /// Locks, sleeping while another thread holds the lock.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        self.guard()
    }

    /// Locks if free, without sleeping.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| self.guard())
    }

    /// Consumes the mutex, returning the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }

    /// Slow path: mark the lock contended and sleep until it is released to us.
    fn lock_contended(&self) {
        while self.state.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
            // EAGAIN (the word changed) and EINTR just mean: try again.
            let _ = sys::futex_wait(&self.state, CONTENDED, 0);
        }
    }

    fn guard(&self) -> MutexGuard<'_, T> {
        let data = self
            .data
            .try_lock()
            .expect("invariant: the futex word guards the data");
        MutexGuard {
            mutex: self,
            data: Some(data),
        }
    }

    fn unlock(&self) {
        if self.state.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            let _ = sys::futex_wake(&self.state, 1);
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.try_lock() {
            Some(guard) => f.debug_struct("Mutex").field("data", &*guard).finish(),
            None => f.write_str("Mutex { <locked> }"),
        }
    }
}

/// Access to a [`Mutex`]'s data; unlocks when dropped.
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    /// Always `Some` until drop, which must release it before the futex word.
    data: Option<spin::MutexGuard<'a, T>>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.data
            .as_deref()
            .expect("invariant: a live guard holds the data")
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.data
            .as_deref_mut()
            .expect("invariant: a live guard holds the data")
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.data.take());
        self.mutex.unlock();
    }
}

/// A condition variable for [`Mutex`]: a wait sleeps until the sequence number changes.
#[derive(Debug, Default)]
pub struct Condvar {
    seq: AtomicU32,
}

impl Condvar {
    /// A new condition variable.
    pub const fn new() -> Self {
        Condvar {
            seq: AtomicU32::new(0),
        }
    }

    /// Unlocks, sleeps until notified (or spuriously), relocks.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.wait_ns(guard, 0).0
    }

    /// Waits until `condition` is false, returning the guard.
    pub fn wait_while<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, T> {
        while condition(&mut guard) {
            guard = self.wait(guard);
        }
        guard
    }

    /// Like [`Condvar::wait`] with a timeout; the flag is true when it timed out.
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> (MutexGuard<'a, T>, bool) {
        let ns = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.wait_ns(guard, ns)
    }

    fn wait_ns<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout_ns: u64,
    ) -> (MutexGuard<'a, T>, bool) {
        // Read the sequence while still holding the lock: a notify after the unlock
        // changes it, so the futex wait returns at once instead of missing the wake-up.
        let seq = self.seq.load(Ordering::Acquire);
        let mutex = guard.mutex;
        drop(guard);
        let timed_out = sys::futex_wait(&self.seq, seq, timeout_ns) == Err(abi::Errno::ETIMEDOUT);
        // Relocked like any other arrival: a thread sleeping on the mutex marks it
        // contended itself, so a free lock taken as merely locked wakes nobody on unlock
        // (waiters of this condition variable sleep on `seq`, never on the mutex).
        (mutex.lock(), timed_out)
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) {
        self.seq.fetch_add(1, Ordering::Release);
        let _ = sys::futex_wake(&self.seq, 1);
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.seq.fetch_add(1, Ordering::Release);
        let _ = sys::futex_wake(&self.seq, i32::MAX as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn uncontended_lock_goes_0_1_0() {
        let m = Mutex::new(5);
        {
            let mut g = m.lock();
            assert_eq!(m.state.load(Ordering::Relaxed), LOCKED);
            *g += 1;
            assert!(m.try_lock().is_none());
        }
        assert_eq!(m.state.load(Ordering::Relaxed), UNLOCKED);
        assert_eq!(*m.lock(), 6);
    }

    #[test]
    fn contended_path_marks_2_and_unlock_resets() {
        let m = Mutex::new(());
        m.state.store(LOCKED, Ordering::Relaxed);
        // Another thread's view: swap to CONTENDED fails to take it...
        assert_ne!(m.state.swap(CONTENDED, Ordering::Acquire), UNLOCKED);
        // ...and the holder's unlock sees CONTENDED (it would wake one sleeper).
        assert_eq!(m.state.swap(UNLOCKED, Ordering::Release), CONTENDED);
        // Now the slow path takes the lock, leaving it CONTENDED (safe over-approximation).
        m.lock_contended();
        assert_eq!(m.state.load(Ordering::Relaxed), CONTENDED);
        drop(m.guard());
        assert_eq!(m.state.load(Ordering::Relaxed), UNLOCKED);
    }

    #[test]
    fn threads_count_correctly() {
        // On the host the futex calls fail at once, so waiters spin; the state machine
        // must still give mutual exclusion.
        let m = Arc::new(Mutex::new(0u64));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let m = Arc::clone(&m);
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        *m.lock() += 1;
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(*m.lock(), 40_000);
        assert_eq!(m.state.load(Ordering::Relaxed), UNLOCKED);
    }

    #[test]
    fn condvar_wait_while_sees_the_change() {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let other = Arc::clone(&pair);
        let t = std::thread::spawn(move || {
            *other.0.lock() = true;
            other.1.notify_all();
        });
        let guard = pair.1.wait_while(pair.0.lock(), |ready| !*ready);
        assert!(*guard);
        drop(guard);
        t.join().unwrap();
        assert_eq!(pair.1.seq.load(Ordering::Relaxed), 1);
    }
}
