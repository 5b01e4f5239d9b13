//! The generic Arm platform: QEMU's `virt` machine and boards built like it from Arm's
//! standard parts, found by `compatible`: a PL011 console (`console=ttyAMA<n>` picks alias
//! `serial<n>`, else `/chosen/stdout-path`, else the first PL011), a GICv2 or GICv3, the
//! architected timer, PSCI. It takes any tree, so it is probed last.

use super::fdt_util::{is_compatible, nth_range, numbered_alias, stdout_node};
use super::platform::{Console, DeviceError, Platform};
use crate::arch::psci::Conduit;
use crate::drivers::gic::v2::GicV2;
use crate::drivers::gic::v3::GicV3;
use crate::drivers::irqchip::IrqChip;
use crate::drivers::pl011::Pl011;
use crate::drivers::power::PowerControl;
use crate::drivers::psci::Psci;
use crate::mm::mmio;
use fdt::Fdt;
use fdt::node::FdtNode;
use kcore::PhysRange;
use log::info;

const PL011: &[&str] = &["arm,pl011"];
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

/// Which interrupt controller the board has, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GicInfo {
    /// GICv2: distributor and CPU interface.
    V2 { gicd: PhysRange, gicc: PhysRange },
    /// GICv3: distributor and redistributor region.
    V3 { gicd: PhysRange, gicr: PhysRange },
}

/// What the platform kept of the device tree.
#[derive(Debug)]
struct Generic {
    uart: Option<PhysRange>,
    uart_irq: Option<u32>,
    gic: Option<GicInfo>,
    timer_irq: Option<u32>,
    psci: Option<Conduit>,
}

static GENERIC: spin::Once<Generic> = spin::Once::new();
static UART: spin::Once<Pl011> = spin::Once::new();
static GIC_V2_CHIP: spin::Once<GicV2> = spin::Once::new();
static GIC_V3_CHIP: spin::Once<GicV3> = spin::Once::new();
static POWER: spin::Once<Psci> = spin::Once::new();

/// Takes any tree: whatever of the standard parts it describes is driven.
pub fn probe(fdt: &Fdt<'_>, bootargs: &str) -> Option<&'static dyn Platform> {
    let uart = find_uart(fdt, bootargs);
    let found = Generic {
        uart: uart.and_then(|node| nth_range(node, 0)),
        uart_irq: uart
            .and_then(|node| node.property("interrupts"))
            .and_then(|p| gic_intid(p.value, 0)),
        gic: find_gic(fdt),
        timer_irq: find_timer_irq(fdt),
        psci: find_psci(fdt),
    };
    Some(GENERIC.call_once(|| found))
}

impl Platform for Generic {
    fn name(&self) -> &'static str {
        "generic Arm (PL011, GIC, PSCI)"
    }

    fn console(&self) -> Result<Console, DeviceError> {
        let regs = mmio::map(self.uart.ok_or(DeviceError::Missing)?).map_err(DeviceError::Map)?;
        let uart = UART.call_once(|| {
            let uart = Pl011::new(regs);
            uart.init();
            uart
        });
        Ok(Console {
            uart,
            rx_irq: self.uart_irq,
        })
    }

    fn interrupt_controller(&self) -> Result<&'static dyn IrqChip, DeviceError> {
        match self.gic.ok_or(DeviceError::Missing)? {
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

    fn timer_irq(&self) -> Option<u32> {
        self.timer_irq
    }

    fn power(&self) -> Option<&'static dyn PowerControl> {
        let conduit = self.psci?;
        Some(POWER.call_once(|| Psci::new(conduit)))
    }
}

/// The console UART: `console=ttyAMA<n>` on the command line names alias `serial<n>`;
/// otherwise `/chosen/stdout-path`; otherwise the first PL011.
fn find_uart<'b, 'a>(fdt: &'b Fdt<'a>, bootargs: &str) -> Option<FdtNode<'b, 'a>> {
    let requested = kcore::bootargs::BootArgs::new(bootargs)
        .get("console")
        .and_then(|c| c.split(',').next())
        .and_then(|tty| tty.strip_prefix("ttyAMA"))
        .and_then(|n| numbered_alias(fdt, "serial", n))
        .filter(|node| is_compatible(node, PL011));
    let stdout = stdout_node(fdt).filter(|node| is_compatible(node, PL011));
    requested.or(stdout).or_else(|| fdt.find_compatible(PL011))
}

/// The INTID of entry `index` of a GIC `interrupts` property: (type, number, flags) cells,
/// type 0 = SPI (INTID 32 + n), 1 = PPI (INTID 16 + n).
fn gic_intid(cells: &[u8], index: usize) -> Option<u32> {
    let entry = cells.chunks_exact(12).nth(index)?;
    let cell = |i: usize| {
        entry
            .get(i * 4..i * 4 + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    match cell(0)? {
        0 => cell(1)?.checked_add(32),
        1 => cell(1)?.checked_add(16),
        _ => None,
    }
}

fn find_gic(fdt: &Fdt<'_>) -> Option<GicInfo> {
    if let Some(node) = fdt.find_compatible(GIC_V3) {
        return Some(GicInfo::V3 {
            gicd: nth_range(node, 0)?,
            gicr: nth_range(node, 1)?,
        });
    }
    let node = fdt.find_compatible(GIC_V2)?;
    Some(GicInfo::V2 {
        gicd: nth_range(node, 0)?,
        gicc: nth_range(node, 1)?,
    })
}

/// INTID of the virtual timer: the third (type, number, flags) triple of the
/// `arm,armv8-timer` node's `interrupts` (secure phys, non-secure phys, virtual, hyp).
fn find_timer_irq(fdt: &Fdt<'_>) -> Option<u32> {
    const VIRTUAL_TIMER_ENTRY: usize = 2;
    let node = fdt.find_compatible(TIMER)?;
    gic_intid(node.property("interrupts")?.value, VIRTUAL_TIMER_ENTRY)
}

fn find_psci(fdt: &Fdt<'_>) -> Option<Conduit> {
    let node = fdt.find_compatible(PSCI)?;
    match node.property("method")?.as_str()? {
        "hvc" => Some(Conduit::Hvc),
        "smc" => Some(Conduit::Smc),
        _ => None,
    }
}
