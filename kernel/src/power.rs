//! Ending a run: power off or reset through PSCI (conduit from the device tree).

use crate::arch::{cpu, psci};

static CONDUIT: spin::Once<Option<psci::Conduit>> = spin::Once::new();

/// Records how to reach PSCI firmware (None if the board has none).
pub fn init(conduit: Option<psci::Conduit>) {
    CONDUIT.call_once(|| conduit);
}

/// Powers the machine off; parks the CPU if firmware cannot.
pub fn power_off() -> ! {
    if let Some(Some(conduit)) = CONDUIT.get() {
        psci::system_off(*conduit);
    }
    cpu::halt()
}

/// Restarts the machine; parks the CPU if firmware cannot.
pub fn reboot() -> ! {
    if let Some(Some(conduit)) = CONDUIT.get() {
        psci::system_reset(*conduit);
    }
    cpu::halt()
}
