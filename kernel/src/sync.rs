//! Locks that are safe to take from both thread and interrupt context: the lock masks IRQs
//! on this CPU for as long as it is held, so an interrupt handler can never spin on a lock
//! its own CPU already holds.

use crate::arch::cpu::{self, IrqState};
use core::ops::{Deref, DerefMut};

/// A spin lock that masks IRQs while held.
pub struct IrqSafeMutex<T> {
    inner: spin::Mutex<T>,
}

/// Guard of an [`IrqSafeMutex`]; unlocks, then restores the IRQ mask, on drop.
pub struct IrqSafeGuard<'a, T> {
    guard: Option<spin::MutexGuard<'a, T>>,
    irq: IrqState,
}

impl<T> IrqSafeMutex<T> {
    /// A new unlocked mutex.
    pub const fn new(value: T) -> Self {
        Self {
            inner: spin::Mutex::new(value),
        }
    }

    /// The data, through exclusive access to the mutex itself (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Masks IRQs and takes the lock.
    pub fn lock(&self) -> IrqSafeGuard<'_, T> {
        let irq = cpu::irq_save_disable();
        IrqSafeGuard {
            guard: Some(self.inner.lock()),
            irq,
        }
    }
}

impl<T> Deref for IrqSafeGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard
            .as_ref()
            .expect("invariant: guard present until drop")
    }
}

impl<T> DerefMut for IrqSafeGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard
            .as_mut()
            .expect("invariant: guard present until drop")
    }
}

impl<T> Drop for IrqSafeGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.guard.take());
        cpu::irq_restore(self.irq);
    }
}
