//! Arm's standard parts, which any platform may have: the PL011 UART, the GIC (v2 or v3), the
//! architected timer and PSCI firmware. Each is found by `compatible`; a platform keeps what
//! it found and brings the device up when the kernel asks for it.

use super::fdt_util::{Interrupt, PortKind, interrupt, is_compatible, nth_range};
use super::platform::{Console, DeviceError};
use crate::arch::psci::Conduit;
use crate::drivers::gic::v2::GicV2;
use crate::drivers::gic::v3::GicV3;
use crate::drivers::irqchip::IrqChip;
use crate::drivers::pl011::Pl011;
use crate::drivers::power::PowerControl;
use crate::drivers::psci::Psci;
use crate::mm::mmio;
use fdt::Fdt;
use kcore::PhysRange;
use log::info;

/// The PL011 as a console port (`console=ttyAMA<n>`).
pub const PL011: PortKind = PortKind {
    tty: "ttyAMA",
    compatible: &["arm,pl011"],
};
const GIC_V3: &[&str] = &["arm,gic-v3"];
const GIC_V2: &[&str] = &[
    "arm,cortex-a15-gic",
    "arm,gic-400",
    "arm,cortex-a9-gic",
    "arm,cortex-a7-gic",
    "arm,arm11mp-gic",
];
const TIMER: &[&str] = &["arm,armv8-timer", "arm,armv7-timer"];
const PSCI: &[&str] = &["arm,psci-1.0", "arm,psci-0.2", "arm,psci"];

/// Maps and initialises the PL011 at `regs` as the console, its received bytes raising
/// `rx_irq`.
pub fn pl011_console(regs: PhysRange, rx_irq: Option<u32>) -> Result<Console, DeviceError> {
    let regs = mmio::map(regs).map_err(DeviceError::Map)?;
    let uart = PL011_UART.call_once(|| {
        let uart = Pl011::new(regs);
        uart.init();
        uart
    });
    Ok(Console { uart, rx_irq })
}

/// Which GIC the board has, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicInfo {
    /// GICv2: distributor and CPU interface.
    V2 { gicd: PhysRange, gicc: PhysRange },
    /// GICv3: distributor and redistributor region.
    V3 { gicd: PhysRange, gicr: PhysRange },
}

static PL011_UART: spin::Once<Pl011> = spin::Once::new();
static GIC_V2_CHIP: spin::Once<GicV2> = spin::Once::new();
static GIC_V3_CHIP: spin::Once<GicV3> = spin::Once::new();
static PSCI_POWER: spin::Once<Psci> = spin::Once::new();

impl GicInfo {
    /// The GIC the tree describes (a GICv3 first).
    pub fn find(fdt: &Fdt<'_>) -> Option<GicInfo> {
        if let Some(node) = fdt.find_compatible(GIC_V3) {
            return Some(GicInfo::V3 {
                gicd: nth_range(fdt, node, 0)?,
                gicr: nth_range(fdt, node, 1)?,
            });
        }
        let node = fdt.find_compatible(GIC_V2)?;
        Some(GicInfo::V2 {
            gicd: nth_range(fdt, node, 0)?,
            gicc: nth_range(fdt, node, 1)?,
        })
    }

    /// Maps the GIC and brings it up for the boot CPU.
    pub fn start(self) -> Result<&'static dyn IrqChip, DeviceError> {
        match self {
            GicInfo::V2 { gicd, gicc } => {
                info!(target: "gic", "GICv2 at {:#x} (cpu interface {:#x})", gicd.base, gicc.base);
                let gicd = mmio::map(gicd).map_err(DeviceError::Map)?;
                let gicc = mmio::map(gicc).map_err(DeviceError::Map)?;
                Ok(GIC_V2_CHIP.call_once(|| GicV2::new(gicd, gicc)))
            }
            GicInfo::V3 { gicd, gicr } => {
                info!(target: "gic", "GICv3 at {:#x} (redistributors {:#x})", gicd.base, gicr.base);
                let gicd = mmio::map(gicd).map_err(DeviceError::Map)?;
                let gicr = mmio::map_region(gicr).map_err(DeviceError::Map)?;
                let gic = GicV3::new(gicd, &gicr, 0)
                    .map_err(|_| DeviceError::Driver("GICv3 redistributor did not come up"))?;
                Ok(GIC_V3_CHIP.call_once(|| gic))
            }
        }
    }
}

/// The INTID of an interrupt that goes to a GIC: (type, number, flags) cells, type 0 = SPI
/// (INTID 32 + n), 1 = PPI (INTID 16 + n). `None` for other controllers.
pub fn gic_intid(irq: &Interrupt<'_, '_>) -> Option<u32> {
    if !is_compatible(&irq.controller, GIC_V3) && !is_compatible(&irq.controller, GIC_V2) {
        return None;
    }
    match irq.cells() {
        [0, number, ..] => number.checked_add(32),
        [1, number, ..] => number.checked_add(16),
        _ => None,
    }
}

/// The EL1 virtual timer's interrupt, numbered by `number` (the platform's decoder for its
/// controllers' specifiers): the third entry of the timer node's `interrupts` (secure
/// physical, non-secure physical, virtual, hypervisor).
pub fn virtual_timer_irq(
    fdt: &Fdt<'_>,
    number: fn(&Interrupt<'_, '_>) -> Option<u32>,
) -> Option<u32> {
    const VIRTUAL_TIMER_ENTRY: usize = 2;
    let node = fdt.find_compatible(TIMER)?;
    number(&interrupt(fdt, node, VIRTUAL_TIMER_ENTRY)?)
}

/// How to call PSCI firmware, if the tree describes it.
pub fn find_psci(fdt: &Fdt<'_>) -> Option<Conduit> {
    let node = fdt.find_compatible(PSCI)?;
    match node.property("method")?.as_str()? {
        "hvc" => Some(Conduit::Hvc),
        "smc" => Some(Conduit::Smc),
        _ => None,
    }
}

/// Power control through PSCI firmware reached through `conduit`.
pub fn psci_power(conduit: Conduit) -> &'static dyn PowerControl {
    PSCI_POWER.call_once(|| Psci::new(conduit))
}
