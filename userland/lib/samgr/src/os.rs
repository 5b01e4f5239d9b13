//! The few OS services samgr needs, behind one seam (upstream's `samgr/adapter`: `thread_adapter`,
//! `queue_adapter`, `time_adapter`): a blocking [`Mutex`], a [`Condvar`], [`spawn`] a thread at a
//! kernel priority, a millisecond clock and an id for the calling thread.
//!
//! On the target they are ulib's futex `Mutex`/`Condvar` and threads; under `cargo test` (or with
//! the `std` feature, for crates that host-test code built on samgr) they are `std`'s, so the same
//! registry and task pools run as real threads on the host. Nothing here spins or sleeps to wait.

pub use imp::*;

#[cfg(not(any(test, feature = "std")))]
mod imp {
    use crate::errno::Error;
    use core::time::Duration;

    /// A blocking lock (ulib futex mutex).
    pub struct Mutex<T>(ulib::sync::Mutex<T>);
    /// The guard of [`Mutex`].
    pub type MutexGuard<'a, T> = ulib::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        /// A new unlocked mutex.
        pub const fn new(value: T) -> Self {
            Mutex(ulib::sync::Mutex::new(value))
        }

        /// Locks, sleeping while another thread holds it.
        pub fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock()
        }
    }

    /// A condition variable for [`Mutex`] (ulib futex condvar).
    #[derive(Default)]
    pub struct Condvar(ulib::sync::Condvar);

    impl Condvar {
        /// A new condition variable.
        pub const fn new() -> Self {
            Condvar(ulib::sync::Condvar::new())
        }

        /// Unlocks, sleeps until notified (or spuriously), relocks.
        pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(guard)
        }

        /// Like [`Condvar::wait`] with a timeout.
        pub fn wait_timeout<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            timeout: Duration,
        ) -> MutexGuard<'a, T> {
            self.0.wait_timeout(guard, timeout).0
        }

        /// Wakes one waiter.
        pub fn notify_one(&self) {
            self.0.notify_one();
        }

        /// Wakes every waiter.
        pub fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    /// Starts a detached thread running `f` at kernel priority `priority` (10..=31). ulib
    /// threads have a fixed stack ([`ulib::thread::STACK_SIZE`]), so `stack_size` is advisory.
    pub fn spawn(
        _name: &str,
        priority: u32,
        _stack_size: usize,
        f: impl FnOnce() + Send + 'static,
    ) -> Result<(), Error> {
        ulib::thread::spawn(
            move || {
                f();
                0
            },
            priority,
        )
        .map(drop)
        .map_err(|_| Error::NoMemory)
    }

    /// Milliseconds on the monotonic clock.
    pub fn now_ms() -> u64 {
        u64::try_from(ulib::time::now().as_millis()).unwrap_or(u64::MAX)
    }

    /// An id of the calling thread, unique while it lives.
    pub fn current_thread() -> u64 {
        u64::from(ulib::thread::current().as_raw())
    }
}

#[cfg(any(test, feature = "std"))]
mod imp {
    use crate::errno::Error;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    /// A blocking lock (std; a panicking holder does not poison it for the others).
    pub struct Mutex<T>(std::sync::Mutex<T>);
    /// The guard of [`Mutex`].
    pub type MutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        /// A new unlocked mutex.
        pub const fn new(value: T) -> Self {
            Mutex(std::sync::Mutex::new(value))
        }

        /// Locks, sleeping while another thread holds it.
        pub fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    /// A condition variable for [`Mutex`].
    #[derive(Default)]
    pub struct Condvar(std::sync::Condvar);

    impl Condvar {
        /// A new condition variable.
        pub const fn new() -> Self {
            Condvar(std::sync::Condvar::new())
        }

        /// Unlocks, sleeps until notified (or spuriously), relocks.
        pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(guard).unwrap_or_else(|e| e.into_inner())
        }

        /// Like [`Condvar::wait`] with a timeout.
        pub fn wait_timeout<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            timeout: Duration,
        ) -> MutexGuard<'a, T> {
            match self.0.wait_timeout(guard, timeout) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            }
        }

        /// Wakes one waiter.
        pub fn notify_one(&self) {
            self.0.notify_one();
        }

        /// Wakes every waiter.
        pub fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    /// Host stack for pool threads: Rust test closures need more than samgr's 0x800 bytes.
    const HOST_STACK: usize = 256 * 1024;

    /// Starts a detached thread running `f`; the host ignores the priority.
    pub fn spawn(
        name: &str,
        _priority: u32,
        stack_size: usize,
        f: impl FnOnce() + Send + 'static,
    ) -> Result<(), Error> {
        std::thread::Builder::new()
            .name(name.into())
            .stack_size(stack_size.max(HOST_STACK))
            .spawn(f)
            .map(drop)
            .map_err(|_| Error::NoMemory)
    }

    /// Milliseconds since the first call.
    pub fn now_ms() -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        let start = START.get_or_init(Instant::now);
        u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// An id of the calling thread, unique in the process.
    pub fn current_thread() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        std::thread_local! {
            static ID: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
        }
        ID.with(|id| *id)
    }
}
