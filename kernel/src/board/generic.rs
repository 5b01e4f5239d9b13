//! The generic Arm platform: QEMU's `virt` machine and boards built like it from Arm's
//! standard parts, found by `compatible`: a PL011 console (`console=ttyAMA<n>` picks alias
//! `serial<n>`, else `/chosen/stdout-path`, else the first PL011), a GICv2 or GICv3, the
//! architected timer, PSCI. It takes any tree, so it is probed last.

use super::arm::{self, GicInfo};
use super::fdt_util::{console_port, interrupt, nth_range};
use super::platform::{Console, DeviceError, Platform};
use crate::arch::psci::Conduit;
use crate::drivers::irqchip::IrqChip;
use crate::drivers::power::PowerControl;
use fdt::Fdt;
use kcore::PhysRange;

/// What the platform kept of the device tree.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Generic {
    /// The console PL011's registers.
    pub(super) uart: Option<PhysRange>,
    /// Its interrupt (INTID).
    pub(super) uart_irq: Option<u32>,
    pub(super) gic: Option<GicInfo>,
    /// INTID of the EL1 virtual timer.
    pub(super) timer_irq: Option<u32>,
    pub(super) psci: Option<Conduit>,
}

static GENERIC: spin::Once<Generic> = spin::Once::new();

/// Takes any tree: whatever of the standard parts it describes is driven.
pub fn probe(fdt: &Fdt<'_>, bootargs: &str) -> Option<&'static dyn Platform> {
    let found = Generic::find(fdt, bootargs);
    Some(GENERIC.call_once(|| found))
}

impl Generic {
    /// What the tree describes of the standard parts.
    pub(super) fn find(fdt: &Fdt<'_>, bootargs: &str) -> Generic {
        let uart = console_port(fdt, bootargs, &[arm::PL011]).map(|(_, node)| node);
        Generic {
            uart: uart.and_then(|node| nth_range(fdt, node, 0)),
            uart_irq: uart
                .and_then(|node| interrupt(fdt, node, 0))
                .and_then(|irq| arm::gic_intid(&irq)),
            gic: GicInfo::find(fdt),
            timer_irq: arm::virtual_timer_irq(fdt, arm::gic_intid),
            psci: arm::find_psci(fdt),
        }
    }
}

impl Platform for Generic {
    fn name(&self) -> &'static str {
        "generic Arm (PL011, GIC, PSCI)"
    }

    fn console(&self) -> Result<Console, DeviceError> {
        arm::pl011_console(self.uart.ok_or(DeviceError::Missing)?, self.uart_irq)
    }

    fn interrupt_controller(&self) -> Result<&'static dyn IrqChip, DeviceError> {
        self.gic.ok_or(DeviceError::Missing)?.start()
    }

    fn timer_irq(&self) -> Option<u32> {
        self.timer_irq
    }

    fn power(&self) -> Option<&'static dyn PowerControl> {
        Some(arm::psci_power(self.psci?))
    }
}
