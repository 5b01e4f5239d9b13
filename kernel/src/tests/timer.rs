//! One-shot timer interrupts through the GIC.

use crate::time;
use crate::{kassert, ktest};
use core::sync::atomic::{AtomicU64, Ordering};

static FIRED_AT: AtomicU64 = AtomicU64::new(0);

fn record(now: u64) {
    FIRED_AT.store(now, Ordering::SeqCst);
}

ktest!(fn oneshot_interrupt_arrives_after_its_deadline() {
    FIRED_AT.store(0, Ordering::SeqCst);
    let start = time::now();
    let deadline = start + time::ns_to_ticks(5_000_000);
    let give_up = start + time::ns_to_ticks(2_000_000_000);
    time::arm_oneshot(deadline, record);
    while FIRED_AT.load(Ordering::SeqCst) == 0 && time::now() < give_up {
        crate::arch::cpu::wait_for_interrupt();
    }
    let fired = FIRED_AT.load(Ordering::SeqCst);
    kassert!(fired != 0, "no timer interrupt within 2 s");
    kassert!(fired >= deadline, "fired {} ticks early", deadline - fired);
    Ok(())
});

ktest!(fn cancelled_oneshot_does_not_fire() {
    FIRED_AT.store(0, Ordering::SeqCst);
    let start = time::now();
    time::arm_oneshot(start + time::ns_to_ticks(2_000_000), record);
    time::cancel_oneshot();
    let until = start + time::ns_to_ticks(20_000_000);
    while time::now() < until {
        core::hint::spin_loop();
    }
    kassert!(FIRED_AT.load(Ordering::SeqCst) == 0, "cancelled timer fired");
    Ok(())
});
