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
