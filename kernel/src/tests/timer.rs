//! Timer interrupts through the GIC, seen as sleeps waking at (not before) their deadline.

use crate::sched::{self, WakeReason};
use crate::time;
use crate::{kassert, kassert_eq, ktest};

ktest!(
    fn sleep_wakes_after_its_deadline_by_interrupt() {
        for delay_ms in [1u64, 5, 12] {
            let start = time::now();
            let deadline = start + time::ns_to_ticks(delay_ms * 1_000_000);
            kassert_eq!(sched::sleep_until(deadline), WakeReason::TimedOut);
            let woke = time::now();
            kassert!(woke >= deadline, "woke {} ticks early", deadline - woke);
            kassert!(
                woke - deadline < time::ns_to_ticks(50_000_000),
                "woke {} ticks late",
                woke - deadline
            );
        }
        Ok(())
    }
);

ktest!(
    fn conversions_round_trip() {
        kassert_eq!(
            time::ticks_to_ns(time::ns_to_ticks(1_000_000_000)),
            1_000_000_000
        );
        kassert!(time::frequency_hz() > 0);
        Ok(())
    }
);

static EARLY: sched::WaitQueue = sched::WaitQueue::new();
static EARLY_DONE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

extern "C" fn wake_early(_: usize) {
    let _ = sched::sleep_until(time::now() + time::ns_to_ticks(2_000_000));
    EARLY_DONE.store(true, core::sync::atomic::Ordering::SeqCst);
    EARLY.wake_all();
}

ktest!(
    fn a_wait_woken_early_leaves_no_early_timeout_behind() {
        EARLY_DONE.store(false, core::sync::atomic::Ordering::SeqCst);
        let prio = crate::ksome!(crate::sched::Priority::new(10), "priority");
        let helper = crate::ksome!(
            sched::spawn_kernel_thread(
                "wake_early",
                prio,
                crate::sched::Policy::RoundRobin,
                wake_early,
                0
            )
            .ok(),
            "spawn"
        );
        // Woken long before its 30 ms deadline: the timer entry may stay queued.
        let first = time::now() + time::ns_to_ticks(30_000_000);
        let reason = EARLY.wait_while(Some(first), || {
            !EARLY_DONE.load(core::sync::atomic::Ordering::SeqCst)
        });
        kassert_eq!(reason, WakeReason::Woken);
        let _ = sched::join(helper);
        // A later wait with a later deadline times out at its own deadline, not the first.
        let second = time::now() + time::ns_to_ticks(60_000_000);
        kassert_eq!(EARLY.wait(Some(second)), WakeReason::TimedOut);
        let woke = time::now();
        kassert!(woke >= second, "timed out {} ticks early", second - woke);
        Ok(())
    }
);

// What boot used to check on every boot: five consecutive 10 ms one-shot sleeps, each
// ended by its own timer interrupt, no earlier than its deadline and in order.
ktest!(
    fn five_consecutive_sleeps_wake_in_order_at_their_deadlines() {
        const SLEEPS: u64 = 5;
        const PERIOD_NS: u64 = 10_000_000;
        let start = time::now();
        let mut last = start;
        for n in 1..=SLEEPS {
            let deadline = start + time::ns_to_ticks(n * PERIOD_NS);
            kassert_eq!(sched::sleep_until(deadline), WakeReason::TimedOut);
            let woke = time::now();
            kassert!(
                woke >= deadline,
                "sleep {n} woke {} ticks early",
                deadline - woke
            );
            kassert!(woke > last, "sleep {n} did not advance the clock");
            last = woke;
        }
        Ok(())
    }
);
