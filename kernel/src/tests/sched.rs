//! The scheduler on the target: priority order, preemption latency, RR slices, FIFO and
//! thread teardown.

use crate::sched::{self, Policy, Priority};
use crate::sync::IrqSafeMutex;
use crate::time;
use crate::{kassert, kassert_eq, ksome, ktest};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

fn prio(p: u8) -> Priority {
    Priority::new(p).expect("test priorities are valid")
}

fn spin_for_ms(ms: u64) {
    let until = time::now() + time::ns_to_ticks(ms * 1_000_000);
    while time::now() < until {
        core::hint::spin_loop();
    }
}

static ORDER: IrqSafeMutex<Vec<usize>> = IrqSafeMutex::new(Vec::new());

extern "C" fn record_arg(arg: usize) {
    ORDER.lock().push(arg);
}

ktest!(
    fn higher_priority_runs_first() {
        ORDER.lock().clear();
        let mut tids = Vec::new();
        for p in [30u8, 10, 20] {
            tids.push(ksome!(
                sched::spawn_kernel_thread(
                    "order",
                    prio(p),
                    Policy::RoundRobin,
                    record_arg,
                    p as usize
                )
                .ok(),
                "spawn"
            ));
        }
        for tid in tids {
            kassert_eq!(sched::join(tid), Ok(0));
        }
        kassert_eq!(*ORDER.lock(), alloc::vec![10, 20, 30]);
        Ok(())
    }
);

static STOP: AtomicBool = AtomicBool::new(false);
static WAKE_LATENCY: AtomicU64 = AtomicU64::new(u64::MAX);

extern "C" fn busy_until_stopped(_: usize) {
    while !STOP.load(Ordering::SeqCst) {
        core::hint::spin_loop();
    }
}

extern "C" fn sleep_then_measure(_: usize) {
    let deadline = time::now() + time::ns_to_ticks(5_000_000);
    sched::sleep_until(deadline);
    WAKE_LATENCY.store(time::now() - deadline, Ordering::SeqCst);
    STOP.store(true, Ordering::SeqCst);
}

ktest!(
    fn woken_high_priority_thread_preempts_a_busy_loop() {
        STOP.store(false, Ordering::SeqCst);
        WAKE_LATENCY.store(u64::MAX, Ordering::SeqCst);
        let busy = ksome!(
            sched::spawn_kernel_thread("busy", prio(20), Policy::RoundRobin, busy_until_stopped, 0)
                .ok(),
            "spawn"
        );
        let sleeper = ksome!(
            sched::spawn_kernel_thread(
                "sleeper",
                prio(10),
                Policy::RoundRobin,
                sleep_then_measure,
                0
            )
            .ok(),
            "spawn"
        );
        let _ = sched::join(sleeper);
        STOP.store(true, Ordering::SeqCst);
        let _ = sched::join(busy);
        let latency = WAKE_LATENCY.load(Ordering::SeqCst);
        // The busy thread never yields: the sleeper can only run by preemption from the timer
        // interrupt, and must do so well inside one 20 ms slice (waiting for the slice to
        // end would take up to 20 ms). QEMU's counter follows host time: leave room for load.
        let bound = time::ns_to_ticks(10_000_000);
        kassert!(
            latency < bound,
            "woke {latency} ticks after its deadline (bound {bound})"
        );
        Ok(())
    }
);

static COUNTERS: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];
static FIRST_SAW_SECOND: AtomicU64 = AtomicU64::new(u64::MAX);

extern "C" fn count_until_stopped(index: usize) {
    while !STOP.load(Ordering::SeqCst) {
        COUNTERS[index % 3].fetch_add(1, Ordering::Relaxed);
    }
}

extern "C" fn stop_after_100ms(_: usize) {
    sched::sleep_until(time::now() + time::ns_to_ticks(100_000_000));
    STOP.store(true, Ordering::SeqCst);
}

ktest!(
    fn round_robin_shares_the_cpu_between_equal_priorities() {
        STOP.store(false, Ordering::SeqCst);
        COUNTERS.iter().for_each(|c| c.store(0, Ordering::SeqCst));
        let mut tids = Vec::new();
        for i in 0..3 {
            tids.push(ksome!(
                sched::spawn_kernel_thread(
                    "rr",
                    prio(25),
                    Policy::RoundRobin,
                    count_until_stopped,
                    i
                )
                .ok(),
                "spawn"
            ));
        }
        tids.push(ksome!(
            sched::spawn_kernel_thread("stopper", prio(11), Policy::Fifo, stop_after_100ms, 0).ok(),
            "spawn"
        ));
        for tid in tids {
            let _ = sched::join(tid);
        }
        for (i, counter) in COUNTERS.iter().enumerate() {
            kassert!(
                counter.load(Ordering::SeqCst) > 0,
                "RR thread {i} never ran in 100 ms"
            );
        }
        Ok(())
    }
);

extern "C" fn fifo_first(_: usize) {
    spin_for_ms(70); // longer than three RR slices
    FIRST_SAW_SECOND.store(COUNTERS[1].load(Ordering::SeqCst), Ordering::SeqCst);
}

extern "C" fn fifo_second(_: usize) {
    COUNTERS[1].fetch_add(1, Ordering::SeqCst);
}

ktest!(
    fn fifo_threads_are_not_time_sliced() {
        COUNTERS[1].store(0, Ordering::SeqCst);
        FIRST_SAW_SECOND.store(u64::MAX, Ordering::SeqCst);
        let first = ksome!(
            sched::spawn_kernel_thread("fifo1", prio(25), Policy::Fifo, fifo_first, 0).ok(),
            "spawn"
        );
        let second = ksome!(
            sched::spawn_kernel_thread("fifo2", prio(25), Policy::Fifo, fifo_second, 0).ok(),
            "spawn"
        );
        let _ = sched::join(first);
        let _ = sched::join(second);
        kassert_eq!(FIRST_SAW_SECOND.load(Ordering::SeqCst), 0);
        kassert_eq!(COUNTERS[1].load(Ordering::SeqCst), 1);
        Ok(())
    }
);

extern "C" fn exit_with_arg(arg: usize) {
    sched::exit_current(arg as i32);
}

ktest!(
    fn join_returns_exit_code_and_threads_leave_nothing_behind() {
        let (free_before, _) = crate::mm::frame::stats();
        for i in 0..200 {
            let tid = ksome!(
                sched::spawn_kernel_thread("cycle", prio(15), Policy::RoundRobin, exit_with_arg, i)
                    .ok(),
                "spawn"
            );
            kassert_eq!(sched::join(tid), Ok(i as i32));
        }
        sched::yield_now(); // let the last dead thread be reaped
        kassert_eq!(crate::mm::frame::stats().0, free_before);
        kassert!(sched::join(sched::Tid(999_999)).is_err());
        Ok(())
    }
);
