//! Arm semihosting (used only by test runs under QEMU `-semihosting`) to exit with a status.

use core::arch::asm;

const SYS_EXIT: u64 = 0x18;
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x2_0026;

/// Ends the QEMU run with `status` as its exit code. Returns only without semihosting.
pub fn exit(status: u32) {
    let block = [ADP_STOPPED_APPLICATION_EXIT, u64::from(status)];
    // SAFETY: the semihosting SYS_EXIT call reads the two-word parameter block at x1, which
    // lives on this stack for the duration of the call.
    unsafe {
        asm!("hlt #0xf000", in("x0") SYS_EXIT, in("x1") block.as_ptr(), options(nostack));
    }
}
