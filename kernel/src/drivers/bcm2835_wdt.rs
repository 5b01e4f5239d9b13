//! BCM2835 power-management block's watchdog (`brcm,bcm2835-pm-wdt`; Linux
//! `bcm2835_wdt.c`): how a Raspberry Pi, which has no PSCI firmware, restarts and halts.
//! A restart arms the watchdog with a short timeout and a full-reset configuration. A
//! power-off is the same restart with partition 63 in RSTS, which the Pi firmware takes as
//! "halt" (it stops instead of booting; QEMU's model powers off).

use super::mmio::Mmio;
use super::power::PowerControl;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::ReadWrite;

/// Every write to these registers carries this in bits 31:24, or it is ignored.
const PASSWORD: u32 = 0x5a00_0000;
/// RSTC's watchdog configuration field (bits 5:4), and its "full reset" value.
const RSTC_WRCFG_MASK: u32 = 0x30;
const RSTC_WRCFG_FULL_RESET: u32 = 0x20;
/// RSTS's boot partition, spread over bits 0, 2, 4, 6, 8, 10; all set = partition 63.
const RSTS_PARTITION_MASK: u32 = 0x555;
const RSTS_PARTITION_HALT: u32 = 0x555;
/// Watchdog ticks (~16 µs each) before the reset: short, but long enough to write RSTC.
const RESET_TICKS: u32 = 10;

register_structs! {
    /// The PM block (the device tree's first `reg`, "pm").
    pub PmRegs {
        (0x00 => _power_domains),
        (0x1c => rstc: ReadWrite<u32>),
        (0x20 => rsts: ReadWrite<u32>),
        (0x24 => wdog: ReadWrite<u32>),
        (0x28 => @END),
    }
}

/// The PM watchdog.
pub struct PmWatchdog {
    regs: Mmio<PmRegs>,
}

impl PmWatchdog {
    /// A driver for the PM block at `regs`.
    pub fn new(regs: Mmio<PmRegs>) -> Self {
        Self { regs }
    }

    /// Resets the SoC through the watchdog, booting partition `partition_bits` next.
    fn restart(&self, partition_bits: u32) {
        let rsts = self.regs.rsts.get() & !RSTS_PARTITION_MASK & !0xff00_0000;
        self.regs.rsts.set(PASSWORD | rsts | partition_bits);
        self.regs.wdog.set(PASSWORD | RESET_TICKS);
        let rstc = self.regs.rstc.get() & !RSTC_WRCFG_MASK & !0xff00_0000;
        self.regs.rstc.set(PASSWORD | rstc | RSTC_WRCFG_FULL_RESET);
    }
}

impl PowerControl for PmWatchdog {
    fn power_off(&self) {
        self.restart(RSTS_PARTITION_HALT);
    }

    fn reboot(&self) {
        self.restart(0);
    }
}
