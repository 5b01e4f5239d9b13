//! What a platform (a family of boards) gives the kernel: drivers for its devices, made on
//! request from what it kept of the device tree.

use crate::drivers::irqchip::IrqChip;
use crate::drivers::power::PowerControl;
use crate::drivers::uart::Uart;
use core::fmt;
use kcore::pagetable::MapError;

/// Why a device the kernel needs could not be brought up.
#[derive(Debug)]
pub enum DeviceError {
    /// The device tree describes no such device the platform has a driver for.
    Missing,
    /// Its registers could not be mapped.
    Map(MapError),
    /// The driver refused to start (the reason).
    Driver(&'static str),
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::Missing => {
                f.write_str("the device tree describes none this kernel drives")
            }
            DeviceError::Map(e) => write!(f, "its registers cannot be mapped: {e}"),
            DeviceError::Driver(why) => f.write_str(why),
        }
    }
}

/// The kernel console a platform provides: an initialised UART and its receive interrupt.
#[derive(Clone, Copy)]
pub struct Console {
    /// The port.
    pub uart: &'static dyn Uart,
    /// The interrupt its received bytes raise, if the tree names it.
    pub rx_irq: Option<u32>,
}

/// A family of boards: what the kernel asks of a machine, answered with drivers for its
/// devices. Each method maps and initialises its device when called (once, at boot).
pub trait Platform: Sync {
    /// What it is, for the boot log.
    fn name(&self) -> &'static str;
    /// The console UART.
    fn console(&self) -> Result<Console, DeviceError>;
    /// The interrupt controller, ready for the boot CPU.
    fn interrupt_controller(&self) -> Result<&'static dyn IrqChip, DeviceError>;
    /// The interrupt of the EL1 virtual timer (the architecture's timer drives time).
    fn timer_irq(&self) -> Option<u32>;
    /// The power controller.
    fn power(&self) -> Option<&'static dyn PowerControl>;
}
