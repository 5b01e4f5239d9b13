//! Ending a run: power off or restart through the board's power controller.

use crate::arch::cpu;
use crate::drivers::power::PowerControl;

static CONTROL: spin::Once<&'static dyn PowerControl> = spin::Once::new();

/// Installs the board's power controller.
pub fn init(control: &'static dyn PowerControl) {
    CONTROL.call_once(|| control);
}

/// Powers the machine off; parks the CPU if there is no controller or it refused.
pub fn power_off() -> ! {
    if let Some(control) = CONTROL.get() {
        control.power_off();
    }
    cpu::halt()
}

/// Restarts the machine; parks the CPU if there is no controller or it refused.
pub fn reboot() -> ! {
    if let Some(control) = CONTROL.get() {
        control.reboot();
    }
    cpu::halt()
}
