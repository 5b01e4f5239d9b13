//! Thread and scheduler tests: join values, strict priority order, RR time slicing vs
//! FIFO run-to-completion, sleep, and futex-based Mutex/Condvar under contention.
//!
//! The controlling thread runs at priority 10, the highest a user thread may have, so
//! threads it creates at 11..=31 wait until it blocks.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use ulib::check::{Context, TestResult};
use ulib::sync::{Condvar, Mutex};
use ulib::thread::{self, JoinHandle, Policy};
use ulib::time;
use ulib::{ensure, ensure_eq};

/// Priority of the controlling thread.
const CONTROL_PRIORITY: u32 = 10;
/// Priority of the worker threads.
const WORKER_PRIORITY: u32 = 20;
/// How long the controller lets busy workers run.
const BUSY_WINDOW: Duration = Duration::from_millis(200);

fn at_control_priority() -> TestResult {
    thread::set_priority(CONTROL_PRIORITY).context("set_priority(10)")?;
    ensure_eq!(
        thread::current_priority().context("current_priority")?,
        CONTROL_PRIORITY
    );
    Ok(())
}

fn join_all(handles: Vec<JoinHandle>) -> Result<Vec<i32>, alloc::string::String> {
    handles
        .into_iter()
        .map(|h| h.join().context("join"))
        .collect()
}

/// Join returns each thread's own return value (negative too).
pub fn join_returns_value() -> TestResult {
    let a = thread::spawn(|| 42, 11).context("spawn")?;
    let b = thread::spawn(|| -7, 11).context("spawn")?;
    ensure!(a.tid() != b.tid(), "two threads share tid {:?}", a.tid());
    ensure_eq!(a.join(), Ok(42));
    ensure_eq!(b.join(), Ok(-7));
    Ok(())
}

/// A one-shot gate: threads wait until it opens.
struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    fn new() -> Self {
        Gate {
            open: Mutex::new(false),
            changed: Condvar::new(),
        }
    }

    fn wait(&self) {
        drop(self.changed.wait_while(self.open.lock(), |open| !*open));
    }

    fn release(&self) {
        *self.open.lock() = true;
        self.changed.notify_all();
    }
}

/// Threads at 30, 20, 11 made ready together run 11, 20, 30.
pub fn priority_order() -> TestResult {
    at_control_priority()?;
    let gate = Arc::new(Gate::new());
    let order = Arc::new(Mutex::new(Vec::new()));
    // Created lowest first, so creation order is the opposite of the expected run order.
    let mut handles = Vec::new();
    for priority in [30u32, 20, 11] {
        let (gate, order) = (Arc::clone(&gate), Arc::clone(&order));
        let worker = move || {
            gate.wait();
            order.lock().push(priority);
            0
        };
        handles.push(thread::spawn(worker, priority).context("spawn")?);
    }
    // None has run yet: all are below us. Open the gate, then block in join.
    let ran_early = order.lock().len();
    gate.release();
    join_all(handles)?;
    ensure_eq!(ran_early, 0);
    ensure_eq!(*order.lock(), [11, 20, 30]);
    Ok(())
}

/// Two busy workers at [`WORKER_PRIORITY`] with `policy`; returns their counters after
/// [`BUSY_WINDOW`] and after both finished.
fn busy_pair(policy: Policy) -> Result<([u64; 2], [u64; 2]), alloc::string::String> {
    at_control_priority()?;
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let mut handles = Vec::new();
    for i in 0..2 {
        let (stop, counters) = (Arc::clone(&stop), Arc::clone(&counters));
        let worker = move || {
            loop {
                counters[i].fetch_add(1, Ordering::Relaxed);
                if stop.load(Ordering::Relaxed) {
                    return 0;
                }
            }
        };
        let handle = thread::spawn(worker, WORKER_PRIORITY).context("spawn")?;
        thread::set_param(handle.tid(), WORKER_PRIORITY, policy).context("set_param")?;
        handles.push(handle);
    }
    thread::sleep(BUSY_WINDOW);
    let during = [
        counters[0].load(Ordering::Relaxed),
        counters[1].load(Ordering::Relaxed),
    ];
    stop.store(true, Ordering::Relaxed);
    join_all(handles)?;
    let after = [
        counters[0].load(Ordering::Relaxed),
        counters[1].load(Ordering::Relaxed),
    ];
    Ok((during, after))
}

/// Two busy SCHED_RR threads of equal priority both make progress.
pub fn round_robin_shares() -> TestResult {
    let (during, _) = busy_pair(Policy::RoundRobin)?;
    ensure!(
        during[0] > 0 && during[1] > 0,
        "RR workers after {BUSY_WINDOW:?}: {during:?}"
    );
    Ok(())
}

/// Of two busy SCHED_FIFO threads only the first runs until it ends.
pub fn fifo_not_time_sliced() -> TestResult {
    let (during, after) = busy_pair(Policy::Fifo)?;
    let ran = during.iter().filter(|&&c| c > 0).count();
    ensure!(
        ran == 1,
        "FIFO workers after {BUSY_WINDOW:?}: {during:?} (exactly one should run)"
    );
    ensure!(
        after[0] > 0 && after[1] > 0,
        "the second FIFO worker never ran: {after:?}"
    );
    Ok(())
}

/// A 10 ms sleep lasts at least 10 ms (and not absurdly long).
pub fn sleep_10ms() -> TestResult {
    let start = time::now();
    thread::sleep_ms(10);
    let slept = time::now().saturating_sub(start);
    ensure!(slept >= Duration::from_millis(10), "slept only {slept:?}");
    ensure!(slept < Duration::from_secs(1), "slept {slept:?}");
    let instant = time::Instant::now();
    thread::sleep(Duration::from_millis(1));
    ensure!(
        instant.elapsed() >= Duration::from_millis(1),
        "Instant went backwards"
    );
    Ok(())
}

/// Threads and increments of the contended counter.
const COUNTER_THREADS: u32 = 4;
const INCREMENTS: u64 = 1000;

/// Threads that yield while holding the Mutex still count exactly.
pub fn mutex_counter() -> TestResult {
    at_control_priority()?;
    let counter = Arc::new(Mutex::new(0u64));
    let mut handles = Vec::new();
    for _ in 0..COUNTER_THREADS {
        let counter = Arc::clone(&counter);
        let worker = move || {
            for _ in 0..INCREMENTS {
                let mut guard = counter.lock();
                let seen = *guard;
                // Give up the CPU while holding the lock: the others must block, not race.
                thread::yield_now();
                *guard = seen + 1;
            }
            0
        };
        handles.push(thread::spawn(worker, WORKER_PRIORITY).context("spawn")?);
    }
    join_all(handles)?;
    ensure_eq!(*counter.lock(), u64::from(COUNTER_THREADS) * INCREMENTS);
    Ok(())
}

/// Round trips of the ping-pong test.
const ROUNDS: u32 = 1000;

/// Two threads alternate 1000 times through a Condvar.
pub fn condvar_ping_pong() -> TestResult {
    at_control_priority()?;
    // (whose turn: 0 or 1, total moves)
    let state = Arc::new((Mutex::new((0u32, 0u32)), Condvar::new()));
    let mut handles = Vec::new();
    for me in 0..2u32 {
        let state = Arc::clone(&state);
        let player = move || {
            let (lock, cv) = &*state;
            for _ in 0..ROUNDS {
                let mut guard = cv.wait_while(lock.lock(), |(turn, _)| *turn != me);
                guard.0 = 1 - me;
                guard.1 += 1;
                drop(guard);
                cv.notify_all();
            }
            0
        };
        handles.push(thread::spawn(player, WORKER_PRIORITY).context("spawn")?);
    }
    join_all(handles)?;
    ensure_eq!(*state.0.lock(), (0, 2 * ROUNDS));
    Ok(())
}
