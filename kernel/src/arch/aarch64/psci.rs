//! Power State Coordination Interface calls (Arm DEN 0022): power off and reset.
//! The conduit (HVC or SMC) comes from the device tree's `/psci` node.

use core::arch::asm;

/// How PSCI calls reach the firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conduit {
    /// `hvc #0` (firmware at EL2, e.g. QEMU with virtualization off).
    Hvc,
    /// `smc #0` (firmware at EL3).
    Smc,
}

const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;
const PSCI_SYSTEM_RESET: u64 = 0x8400_0009;

fn call(conduit: Conduit, function: u64) {
    // SAFETY: SYSTEM_OFF/SYSTEM_RESET take no arguments and do not return on success; on
    // failure firmware returns an error code in x0 and clobbers only x0..x3.
    unsafe {
        match conduit {
            Conduit::Hvc => {
                asm!("hvc #0", inout("x0") function => _, out("x1") _, out("x2") _, out("x3") _)
            }
            Conduit::Smc => {
                asm!("smc #0", inout("x0") function => _, out("x1") _, out("x2") _, out("x3") _)
            }
        }
    }
}

/// Powers the system off. Returns only if the firmware refused.
pub fn system_off(conduit: Conduit) {
    call(conduit, PSCI_SYSTEM_OFF);
}

/// Resets the system. Returns only if the firmware refused.
pub fn system_reset(conduit: Conduit) {
    call(conduit, PSCI_SYSTEM_RESET);
}
