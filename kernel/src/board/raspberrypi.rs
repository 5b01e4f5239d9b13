//! Raspberry Pi 3 (BCM2837) and 4 (BCM2711), chosen by the root node's `compatible`.
//!
//! What differs from the generic Arm platform, all taken from the device tree:
//! - the console is usually the mini UART (`brcm,bcm2835-aux-uart`, `stdout-path` =
//!   `serial1`, Linux's `ttyS1`), which carries GPIO 14/15 while the PL011 (`ttyAMA0`) drives
//!   Bluetooth; `console=` can pick either;
//! - the BCM2837 has no GIC: the ARM-local controller (`brcm,bcm2836-l1-intc`, the timers)
//!   with the armctrl (`brcm,bcm2836-armctrl-ic`, the peripherals) chained to it, one
//!   [`Bcm2836Irq`]. The BCM2711 has a GIC-400, driven as on the generic platform;
//! - neither has PSCI: power-off and restart go through the PM watchdog
//!   (`brcm,bcm2835-pm-wdt`), unless firmware adds a PSCI node;
//! - peripherals sit at VideoCore bus addresses (0x7e...) that `/soc`'s `ranges` maps to ARM
//!   physical ones (0x3f... on the BCM2837, 0xfe... on the BCM2711); `fdt_util` translates
//!   every `reg`, so nothing here knows an address.
//!
//! Not here yet, with the facts for the work that adds them:
//! - secondary cores (SMP): `enable-method = "spin-table"`, `cpu-release-addr` 0xd8, 0xe0,
//!   0xe8, 0xf0 for cores 0..3 in the first page (the tree's /memreserve/ 0..0x1000 keeps it);
//!   the firmware's (and QEMU's) loop waits in WFE, so a release needs `dsb` + `sev`. IPIs are
//!   the local controller's per-core mailboxes ([`crate::drivers::bcm2836_local`]: set at
//!   0x80 + 16 * core + 4 * mailbox, read/clear at 0xc0 + ..., enables at 0x50 + 4 * core);
//!   timer enables are per core at 0x40 + 4 * core; the GPU (armctrl) input goes to one core
//!   only (local 0x0c). The BCM2711 uses GIC SGIs instead.
//! - the SD card (storage): on the Pi 3 the card slot is the `brcm,bcm2835-sdhost` at
//!   0x7e202000 (ARM 0x3f202000, armctrl line (2, 24) = interrupt 120) on GPIO 48..53 in ALT0;
//!   the Arasan `brcm,bcm2835-sdhci` at 0x7e300000 (line (2, 30) = 126) drives the Wi-Fi chip
//!   on GPIO 34..39. U-Boot reads the card through the sdhost (its `mmc 0`). QEMU's raspi3b
//!   emulates both and hands the card to whichever GPIO 48..53 select (U-Boot leaves ALT0:
//!   sdhost). The Pi 4's card is `brcm,bcm2711-emmc2` under `/emmc2bus` (two-cell child
//!   addresses, ARM 0xfe340000, GIC SPI 0x7e).

use super::arm::{self, GicInfo};
use super::fdt_util::{Interrupt, PortKind, console_port, interrupt, is_compatible, nth_range};
use super::platform::{Console, DeviceError, Platform};
use crate::arch::psci::Conduit;
use crate::drivers::bcm2835_armctrl::Armctrl;
use crate::drivers::bcm2835_aux_uart::AuxUart;
use crate::drivers::bcm2835_wdt::PmWatchdog;
use crate::drivers::bcm2836_local::{Bcm2836Irq, armctrl_irq, local_irq};
use crate::drivers::irqchip::IrqChip;
use crate::drivers::power::PowerControl;
use crate::mm::mmio;
use fdt::Fdt;
use kcore::PhysRange;
use log::{info, warn};

/// The SoCs this file knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Soc {
    /// Raspberry Pi 3 (and Zero 2 W, CM3).
    Bcm2837,
    /// Raspberry Pi 4 (and 400, CM4).
    Bcm2711,
}

const LOCAL_INTC: &[&str] = &["brcm,bcm2836-l1-intc"];
const ARMCTRL: &[&str] = &["brcm,bcm2836-armctrl-ic", "brcm,bcm2835-armctrl-ic"];
const PM_WATCHDOG: &[&str] = &["brcm,bcm2835-pm-wdt"];
/// The mini UART as a console port: an 8250-style port to Linux (`console=ttyS<n>`).
const AUX_UART: PortKind = PortKind {
    tty: "ttyS",
    compatible: &["brcm,bcm2835-aux-uart"],
};
/// The console ports, the default kind first, and their drivers.
const CONSOLE_PORTS: [PortKind; 2] = [AUX_UART, arm::PL011];
const CONSOLE_DRIVERS: [UartKind; 2] = [UartKind::MiniUart, UartKind::Pl011];

/// Which UART the console is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum UartKind {
    /// The BCM2835 mini UART.
    MiniUart,
    /// The PL011.
    Pl011,
}

/// The console UART.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ConsoleInfo {
    pub(super) kind: UartKind,
    pub(super) regs: PhysRange,
    /// Its interrupt, numbered as the interrupt controller numbers it.
    pub(super) irq: Option<u32>,
}

/// The interrupt controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IrqChipInfo {
    /// BCM2837: the BCM2836 ARM-local controller with the BCM2835 armctrl chained to it.
    Bcm2836 {
        local: PhysRange,
        armctrl: PhysRange,
    },
    /// BCM2711: a GIC-400.
    Gic(GicInfo),
}

/// How the machine is powered off and restarted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PowerInfo {
    /// PSCI firmware (not there with the Pi firmware alone).
    Psci(Conduit),
    /// The PM block's watchdog, at these registers.
    PmWatchdog(PhysRange),
}

/// What the platform kept of the device tree.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct RaspberryPi {
    pub(super) soc: Soc,
    pub(super) console: Option<ConsoleInfo>,
    pub(super) irqchip: Option<IrqChipInfo>,
    /// Interrupt of the EL1 virtual timer.
    pub(super) timer_irq: Option<u32>,
    pub(super) power: Option<PowerInfo>,
}

static PI: spin::Once<RaspberryPi> = spin::Once::new();
static BCM2836_CHIP: spin::Once<Bcm2836Irq> = spin::Once::new();
static MINI_UART: spin::Once<AuxUart> = spin::Once::new();
static WATCHDOG: spin::Once<PmWatchdog> = spin::Once::new();

/// Takes trees whose root is compatible with a BCM2837 or a BCM2711.
pub fn probe(fdt: &Fdt<'_>, bootargs: &str) -> Option<&'static dyn Platform> {
    let found = RaspberryPi::find(fdt, bootargs)?;
    Some(PI.call_once(|| found))
}

impl RaspberryPi {
    /// What the tree describes, if it is a Raspberry Pi 3 or 4.
    pub(super) fn find(fdt: &Fdt<'_>, bootargs: &str) -> Option<RaspberryPi> {
        let root = fdt.find_node("/")?;
        let soc = if is_compatible(&root, &["brcm,bcm2837"]) {
            Soc::Bcm2837
        } else if is_compatible(&root, &["brcm,bcm2711"]) {
            Soc::Bcm2711
        } else {
            return None;
        };
        let console = console_port(fdt, bootargs, &CONSOLE_PORTS).and_then(|(kind, node)| {
            Some(ConsoleInfo {
                kind: *CONSOLE_DRIVERS.get(kind)?,
                regs: nth_range(fdt, node, 0)?,
                irq: interrupt(fdt, node, 0).and_then(|irq| irq_number(&irq)),
            })
        });
        let irqchip = match soc {
            Soc::Bcm2837 => bcm2836_irqchip(fdt),
            Soc::Bcm2711 => GicInfo::find(fdt).map(IrqChipInfo::Gic),
        };
        let power = arm::find_psci(fdt).map(PowerInfo::Psci).or_else(|| {
            let node = fdt.find_compatible(PM_WATCHDOG)?;
            Some(PowerInfo::PmWatchdog(nth_range(fdt, node, 0)?))
        });
        Some(RaspberryPi {
            soc,
            console,
            irqchip,
            timer_irq: arm::virtual_timer_irq(fdt, irq_number),
            power,
        })
    }
}

fn bcm2836_irqchip(fdt: &Fdt<'_>) -> Option<IrqChipInfo> {
    let local = fdt.find_compatible(LOCAL_INTC)?;
    let armctrl = fdt.find_compatible(ARMCTRL)?;
    Some(IrqChipInfo::Bcm2836 {
        local: nth_range(fdt, local, 0)?,
        armctrl: nth_range(fdt, armctrl, 0)?,
    })
}

/// The number [`Bcm2836Irq`] or the GIC gives an interrupt: (source, flags) cells for the
/// local controller, (bank, line) for the armctrl, GIC cells for the GIC.
fn irq_number(irq: &Interrupt<'_, '_>) -> Option<u32> {
    if is_compatible(&irq.controller, LOCAL_INTC) {
        local_irq(*irq.cells().first()?)
    } else if is_compatible(&irq.controller, ARMCTRL) {
        armctrl_irq(*irq.cells().first()?, *irq.cells().get(1)?)
    } else {
        arm::gic_intid(irq)
    }
}

impl Platform for RaspberryPi {
    fn name(&self) -> &'static str {
        match self.soc {
            Soc::Bcm2837 => "BCM2837 (Raspberry Pi 3)",
            Soc::Bcm2711 => "BCM2711 (Raspberry Pi 4)",
        }
    }

    fn console(&self) -> Result<Console, DeviceError> {
        let info = self.console.ok_or(DeviceError::Missing)?;
        match info.kind {
            UartKind::Pl011 => arm::pl011_console(info.regs, info.irq),
            UartKind::MiniUart => {
                let regs = mmio::map(info.regs).map_err(DeviceError::Map)?;
                let uart = MINI_UART.call_once(|| {
                    let uart = AuxUart::new(regs);
                    uart.init();
                    uart
                });
                Ok(Console {
                    uart,
                    rx_irq: info.irq,
                })
            }
        }
    }

    fn interrupt_controller(&self) -> Result<&'static dyn IrqChip, DeviceError> {
        match self.irqchip.ok_or(DeviceError::Missing)? {
            IrqChipInfo::Gic(gic) => gic.start(),
            IrqChipInfo::Bcm2836 { local, armctrl } => {
                info!(target: "irq", "BCM2836 local controller at {:#x}, BCM2835 armctrl at {:#x}", local.base, armctrl.base);
                let local = mmio::map(local).map_err(DeviceError::Map)?;
                let armctrl = mmio::map(armctrl).map_err(DeviceError::Map)?;
                Ok(BCM2836_CHIP.call_once(|| Bcm2836Irq::new(local, Armctrl::new(armctrl))))
            }
        }
    }

    fn timer_irq(&self) -> Option<u32> {
        self.timer_irq
    }

    fn power(&self) -> Option<&'static dyn PowerControl> {
        match self.power? {
            PowerInfo::Psci(conduit) => Some(arm::psci_power(conduit)),
            PowerInfo::PmWatchdog(regs) => match mmio::map(regs) {
                Ok(regs) => Some(WATCHDOG.call_once(|| PmWatchdog::new(regs))),
                Err(e) => {
                    warn!(target: "board", "PM watchdog unusable ({e}): no power-off or restart");
                    None
                }
            },
        }
    }
}
