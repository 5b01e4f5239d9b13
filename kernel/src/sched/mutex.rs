//! A sleeping kernel mutex with priority inheritance: while a higher-priority thread waits,
//! the owner runs at the waiter's priority, so a medium-priority thread cannot starve it
//! (the classic priority inversion).

use super::{Priority, Tid, WakeReason};
use crate::arch::cpu;
use crate::sync::IrqSafeMutex;
use alloc::collections::VecDeque;
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};

struct State {
    owner: Option<Tid>,
    waiters: VecDeque<(Tid, Priority)>,
}

/// A mutex whose waiters sleep, with priority inheritance.
pub struct KMutex<T> {
    state: IrqSafeMutex<State>,
    data: UnsafeCell<T>,
}

// SAFETY: `data` is only reached through a guard, and only the owner holds a guard.
unsafe impl<T: Send> Sync for KMutex<T> {}
// SAFETY: moving the mutex moves its data; no thread-bound state is kept.
unsafe impl<T: Send> Send for KMutex<T> {}

/// Access to the data of a locked [`KMutex`]; unlocks on drop.
pub struct KMutexGuard<'a, T> {
    mutex: &'a KMutex<T>,
}

impl<T> KMutex<T> {
    /// An unlocked mutex.
    pub const fn new(value: T) -> Self {
        Self {
            state: IrqSafeMutex::new(State {
                owner: None,
                waiters: VecDeque::new(),
            }),
            data: UnsafeCell::new(value),
        }
    }

    /// Takes the mutex, sleeping (and lending our priority to the owner) while it is held.
    pub fn lock(&self) -> KMutexGuard<'_, T> {
        let irq = cpu::irq_save_disable();
        let me = super::current();
        loop {
            let mut state = self.state.lock();
            match state.owner {
                None => {
                    state.owner = Some(me);
                    break;
                }
                Some(owner) => {
                    let (my_priority, _) =
                        super::get_param(me).unwrap_or((Priority::LOWEST, super::Policy::Fifo));
                    state.waiters.push_back((me, my_priority));
                    drop(state);
                    super::boost(owner, my_priority);
                    if super::block_current(None) != WakeReason::Woken {
                        self.state.lock().waiters.retain(|(t, _)| *t != me);
                    }
                }
            }
        }
        cpu::irq_restore(irq);
        KMutexGuard { mutex: self }
    }

    fn unlock(&self) {
        let irq = cpu::irq_save_disable();
        let me = super::current();
        let next = {
            let mut state = self.state.lock();
            state.owner = None;
            // Hand the wake-up to the most urgent waiter (FIFO among equals).
            let best = state
                .waiters
                .iter()
                .enumerate()
                .min_by_key(|(i, (_, p))| (*p, *i))
                .map(|(i, _)| i);
            best.and_then(|i| state.waiters.remove(i))
        };
        super::unboost(me);
        if let Some((tid, _)) = next {
            super::wake(tid, WakeReason::Woken);
        }
        cpu::irq_restore(irq);
        super::preempt_if_needed();
    }
}

impl<T> Deref for KMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard's thread owns the mutex, so no other reference to the data exists.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T> DerefMut for KMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref, and `&mut self` makes this the only access through the guard.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T> Drop for KMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}
