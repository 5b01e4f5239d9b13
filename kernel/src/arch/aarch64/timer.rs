//! The EL1 virtual generic timer (CNTV_*), programmed as a one-shot compare deadline.

use aarch64_cpu::registers::{CNTV_CTL_EL0, CNTV_CVAL_EL0, ReadWriteable, Writeable};

/// Fires the timer interrupt when the virtual counter reaches `deadline`.
pub fn set_deadline(deadline: u64) {
    CNTV_CVAL_EL0.set(deadline);
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::SET + CNTV_CTL_EL0::IMASK::CLEAR);
}

/// Stops the timer so it raises no further interrupt.
pub fn stop() {
    CNTV_CTL_EL0.modify(CNTV_CTL_EL0::ENABLE::CLEAR);
}
