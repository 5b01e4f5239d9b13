//! What the kernel asks of the board's power controller: off and restart.

/// Ends a run: firmware (PSCI) or a SoC's power-management block.
pub trait PowerControl: Send + Sync {
    /// Powers the system off. Returns only if the controller refused.
    fn power_off(&self);
    /// Restarts the system. Returns only if the controller refused.
    fn reboot(&self);
}
