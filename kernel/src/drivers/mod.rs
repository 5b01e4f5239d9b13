//! Device drivers, one file per IP block, each taking the registers it was given (boards
//! map them: `board`), and the interfaces generic code uses them through: [`irqchip`],
//! [`uart`], [`power`]. Drivers know nothing above the architecture layer.

pub mod bcm2835_armctrl;
pub mod bcm2835_aux_uart;
pub mod bcm2835_wdt;
pub mod bcm2836_local;
pub mod gic;
pub mod irqchip;
#[allow(unsafe_code, reason = "the one MMIO wrapper all drivers share")]
pub mod mmio;
pub mod pl011;
pub mod power;
pub mod psci;
pub mod uart;
