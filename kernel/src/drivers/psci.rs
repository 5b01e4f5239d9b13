//! Power control through PSCI firmware (Arm DEN 0022), over the conduit the device tree names.

use super::power::PowerControl;
use crate::arch::psci::{self, Conduit};

/// PSCI firmware reached through `conduit`.
#[derive(Clone, Copy, Debug)]
pub struct Psci {
    conduit: Conduit,
}

impl Psci {
    /// Firmware reached through `conduit`.
    pub const fn new(conduit: Conduit) -> Self {
        Psci { conduit }
    }
}

impl PowerControl for Psci {
    fn power_off(&self) {
        psci::system_off(self.conduit);
    }

    fn reboot(&self) {
        psci::system_reset(self.conduit);
    }
}
