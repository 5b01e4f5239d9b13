//! Device drivers, one file per IP block, each taking the base address it was given.

pub mod gic;
#[allow(unsafe_code, reason = "the one MMIO wrapper all drivers share")]
pub mod mmio;
pub mod pl011;
