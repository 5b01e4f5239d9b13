//! BCM2835 ARM interrupt controller ("armctrl", BCM2835 ARM Peripherals chapter 7; Linux
//! `irq-bcm2835.c`): the VideoCore peripherals' 64 interrupt lines plus 8 ARM-side ones
//! (ARM timer, mailbox, doorbells, ...). On the BCM2836/7 it is not the CPU's interrupt
//! controller but one input (GPU) of the ARM-local controller, which chains to it.
//!
//! Lines are addressed as (bank, bit), as in the device tree binding
//! `brcm,bcm2835-armctrl-ic`: bank 0 = the "basic" ARM interrupts 0..8, bank 1 = GPU
//! interrupts 0..32, bank 2 = GPU interrupts 32..64.

use super::mmio::Mmio;
use core::sync::atomic::{AtomicU32, Ordering};
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, WriteOnly};

/// Banks of lines: basic, GPU 0..32, GPU 32..64.
pub const BANKS: usize = 3;
/// Lines per bank (bank 0 implements only the low [`BASIC_LINES`]).
pub const LINES_PER_BANK: u32 = 32;
/// The ARM-side interrupts of bank 0; its higher bits are summaries and shortcuts.
const BASIC_LINES: u32 = 8;

register_structs! {
    /// Registers from offset 0x200 of the block (the device tree's `reg`).
    pub ArmctrlRegs {
        /// Pending and enabled lines of bank 0 (low 8 bits), then summary bits.
        (0x00 => basic_pending: ReadOnly<u32>),
        /// Pending and enabled GPU lines 0..32, 32..64.
        (0x04 => gpu_pending: [ReadOnly<u32>; 2]),
        (0x0c => _fiq_control),
        /// Write 1 to enable GPU lines 0..32, 32..64.
        (0x10 => gpu_enable: [WriteOnly<u32>; 2]),
        /// Write 1 to enable bank 0 lines.
        (0x18 => basic_enable: WriteOnly<u32>),
        /// Write 1 to disable GPU lines 0..32, 32..64.
        (0x1c => gpu_disable: [WriteOnly<u32>; 2]),
        /// Write 1 to disable bank 0 lines.
        (0x24 => basic_disable: WriteOnly<u32>),
        (0x28 => @END),
    }
}

/// A (bank, bit) the controller does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoSuchLine;

/// The BCM2835 armctrl.
pub struct Armctrl {
    regs: Mmio<ArmctrlRegs>,
    /// What we enabled, per bank: the pending registers are filtered through it, so a
    /// stray bit can never be returned as an interrupt nobody asked for.
    enabled: [AtomicU32; BANKS],
}

impl Armctrl {
    /// Takes over the controller with every line disabled.
    pub fn new(regs: Mmio<ArmctrlRegs>) -> Self {
        regs.basic_disable.set(u32::MAX);
        for reg in &regs.gpu_disable {
            reg.set(u32::MAX);
        }
        Self {
            regs,
            enabled: [const { AtomicU32::new(0) }; BANKS],
        }
    }

    /// The mask of `bit` in `bank`, if the controller has that line.
    fn mask(bank: usize, bit: u32) -> Result<u32, NoSuchLine> {
        let lines = if bank == 0 {
            BASIC_LINES
        } else {
            LINES_PER_BANK
        };
        if bank < BANKS && bit < lines {
            Ok(1 << bit)
        } else {
            Err(NoSuchLine)
        }
    }

    /// Enables line `bit` of `bank`.
    pub fn enable(&self, bank: usize, bit: u32) -> Result<(), NoSuchLine> {
        let mask = Self::mask(bank, bit)?;
        self.enabled[bank].fetch_or(mask, Ordering::Relaxed);
        match bank {
            0 => self.regs.basic_enable.set(mask),
            _ => self.regs.gpu_enable[bank - 1].set(mask),
        }
        Ok(())
    }

    /// Disables line `bit` of `bank`.
    pub fn disable(&self, bank: usize, bit: u32) -> Result<(), NoSuchLine> {
        let mask = Self::mask(bank, bit)?;
        match bank {
            0 => self.regs.basic_disable.set(mask),
            _ => self.regs.gpu_disable[bank - 1].set(mask),
        }
        self.enabled[bank].fetch_and(!mask, Ordering::Relaxed);
        Ok(())
    }

    /// The lowest pending, enabled line as (bank, bit). The GPU banks are read directly
    /// rather than through bank 0's summary and shortcut bits, which leave some lines out.
    pub fn next_pending(&self) -> Option<(usize, u32)> {
        let pending = [
            self.regs.basic_pending.get() & ((1 << BASIC_LINES) - 1),
            self.regs.gpu_pending[0].get(),
            self.regs.gpu_pending[1].get(),
        ];
        pending
            .iter()
            .zip(&self.enabled)
            .enumerate()
            .find_map(|(bank, (bits, enabled))| {
                let live = bits & enabled.load(Ordering::Relaxed);
                (live != 0).then(|| (bank, live.trailing_zeros()))
            })
    }
}
