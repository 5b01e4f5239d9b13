//! BCM2836 ARM-local interrupt controller ("QA7", BCM2836 ARM-local peripherals rev 3.4;
//! Linux `irq-bcm2836.c`), the CPU-side controller of the BCM2836/7 (Raspberry Pi 2 v1.2 and
//! 3): per core, the four generic timer interrupts, four mailboxes (the inter-processor
//! interrupts), the PMU, and one input from the VideoCore's [`Armctrl`], which it chains to.
//!
//! [`Bcm2836Irq`] puts both behind [`IrqChip`] with one flat numbering:
//!
//! | number | source |
//! | --- | --- |
//! | 0..4 | core timers: CNTPS, CNTPNS, CNTHP, CNTV (the `brcm,bcm2836-l1-intc` cells) |
//! | 4..8 | mailboxes 0..3 of the core |
//! | 8 | the GPU input (never a handler's: its lines are numbered below) |
//! | 32 + 32 * bank + bit | armctrl line (bank, bit) (the `brcm,bcm2835-armctrl-ic` cells) |
//!
//! There are no priorities: [`IrqChip::set_priority`] only checks the number. Sources are
//! level-sensitive and cleared at the device, so the end of an interrupt needs no write,
//! except for a mailbox, whose bits are cleared here.
//!
//! Only the boot core (0) is set up; per-core registers are arrays indexed by core for the
//! SMP issue, which adds routing to the other cores and sending IPIs through the mailbox
//! set registers.

use super::bcm2835_armctrl::{Armctrl, BANKS, LINES_PER_BANK};
use super::irqchip::{InvalidIrq, IrqChip};
use super::mmio::Mmio;
use core::sync::atomic::{AtomicU32, Ordering};
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

/// Cores the controller serves.
pub const CORES: usize = 4;
/// Mailboxes per core.
pub const MAILBOXES: usize = 4;
/// The core this kernel runs on until SMP arrives.
const BOOT_CORE: usize = 0;

/// Local source numbers (bits of the IRQ source register).
const FIRST_TIMER: u32 = 0;
const FIRST_MAILBOX: u32 = 4;
const GPU: u32 = 8;
/// Numbers below this are local sources; armctrl lines follow.
const LOCAL_LINES: u32 = 32;

register_bitfields! {u32,
    /// Which core gets the GPU (armctrl) interrupt.
    GPU_ROUTING [
        IRQ_CORE OFFSET(0) NUMBITS(2) []
    ]
}

register_structs! {
    /// The ARM-local register block (the device tree's `reg`, 0x100 bytes).
    pub LocalRegs {
        (0x00 => _control_and_prescaler),
        (0x0c => gpu_routing: ReadWrite<u32, GPU_ROUTING::Register>),
        (0x10 => _pmu_routing_set),
        /// Write 1s to stop routing the PMU interrupt to a core (bits 0..4 IRQ, 4..8 FIQ).
        (0x14 => pmu_routing_clear: WriteOnly<u32>),
        (0x18 => _core_timer_and_local_routing),
        /// The local timer: reload value, enable (bit 28), interrupt enable (bit 29).
        (0x34 => local_timer_control: ReadWrite<u32>),
        /// Write bit 31 to clear the local timer's interrupt flag.
        (0x38 => local_timer_clear: WriteOnly<u32>),
        (0x3c => _reserved),
        /// Per core: bit n enables timer source n as an IRQ (bits 4..8: as an FIQ).
        (0x40 => timer_control: [ReadWrite<u32>; CORES]),
        /// Per core: bit n enables mailbox n as an IRQ (bits 4..8: as an FIQ).
        (0x50 => mailbox_control: [ReadWrite<u32>; CORES]),
        /// Per core: pending IRQ sources (bit n = local source n).
        (0x60 => irq_source: [ReadOnly<u32>; CORES]),
        (0x70 => _fiq_source),
        /// Core c, mailbox m at index 4c + m: write 1s to set bits (send).
        (0x80 => _mailbox_set: [WriteOnly<u32>; CORES * MAILBOXES]),
        /// Core c, mailbox m at index 4c + m: read the bits, write 1s to clear them.
        (0xc0 => mailbox_clear: [ReadWrite<u32>; CORES * MAILBOXES]),
        (0x100 => @END),
    }
}

/// The interrupt number of local source `source` (a `brcm,bcm2836-l1-intc` specifier),
/// if it is one a handler can own (the GPU input is not: it is demultiplexed).
pub fn local_irq(source: u32) -> Option<u32> {
    (source < GPU).then_some(source)
}

/// The interrupt number of armctrl line (bank, bit) (a `brcm,bcm2835-armctrl-ic` specifier).
pub fn armctrl_irq(bank: u32, bit: u32) -> Option<u32> {
    ((bank as usize) < BANKS && bit < LINES_PER_BANK).then(|| LOCAL_LINES + bank * 32 + bit)
}

/// The BCM2836 local controller with the armctrl chained to its GPU input.
pub struct Bcm2836Irq {
    local: Mmio<LocalRegs>,
    armctrl: Armctrl,
    /// Local sources we enabled (the source register is filtered through it).
    enabled_local: AtomicU32,
}

impl Bcm2836Irq {
    /// Takes over both controllers: every source disabled (also the PMU and the local timer,
    /// which no handler owns: a level left raised there would never be acknowledged), the GPU
    /// input routed to the boot core.
    pub fn new(local: Mmio<LocalRegs>, armctrl: Armctrl) -> Self {
        for core in 0..CORES {
            local.timer_control[core].set(0);
            local.mailbox_control[core].set(0);
        }
        local.pmu_routing_clear.set(0xff);
        local.local_timer_control.set(0);
        local.local_timer_clear.set(1 << 31);
        local
            .gpu_routing
            .write(GPU_ROUTING::IRQ_CORE.val(BOOT_CORE as u32));
        Self {
            local,
            armctrl,
            enabled_local: AtomicU32::new(0),
        }
    }

    /// The armctrl line behind interrupt number `irq`, if it is one.
    fn armctrl_line(irq: u32) -> Option<(usize, u32)> {
        let line = irq.checked_sub(LOCAL_LINES)?;
        let bank = (line / LINES_PER_BANK) as usize;
        (bank < BANKS).then_some((bank, line % LINES_PER_BANK))
    }

    /// Sets or clears local source `source`'s enable bit for the boot core.
    fn set_local(&self, source: u32, on: bool) -> Result<(), InvalidIrq> {
        let (reg, bit) = match source {
            FIRST_TIMER..FIRST_MAILBOX => (&self.local.timer_control[BOOT_CORE], source),
            FIRST_MAILBOX..GPU => (
                &self.local.mailbox_control[BOOT_CORE],
                source - FIRST_MAILBOX,
            ),
            _ => return Err(InvalidIrq(source)),
        };
        let mask = 1 << bit;
        if on {
            self.enabled_local.fetch_or(1 << source, Ordering::Relaxed);
            reg.set(reg.get() | mask);
        } else {
            reg.set(reg.get() & !mask);
            self.enabled_local
                .fetch_and(!(1 << source), Ordering::Relaxed);
        }
        Ok(())
    }
}

impl IrqChip for Bcm2836Irq {
    fn name(&self) -> &'static str {
        "BCM2836 local + BCM2835 armctrl"
    }

    fn lines(&self) -> u32 {
        LOCAL_LINES + BANKS as u32 * LINES_PER_BANK
    }

    fn enable(&self, irq: u32) -> Result<(), InvalidIrq> {
        match Self::armctrl_line(irq) {
            Some((bank, bit)) => self.armctrl.enable(bank, bit).map_err(|_| InvalidIrq(irq)),
            None if irq < LOCAL_LINES => self.set_local(irq, true),
            None => Err(InvalidIrq(irq)),
        }
    }

    fn disable(&self, irq: u32) -> Result<(), InvalidIrq> {
        match Self::armctrl_line(irq) {
            Some((bank, bit)) => self.armctrl.disable(bank, bit).map_err(|_| InvalidIrq(irq)),
            None if irq < LOCAL_LINES => self.set_local(irq, false),
            None => Err(InvalidIrq(irq)),
        }
    }

    fn set_priority(&self, irq: u32, _priority: u8) -> Result<(), InvalidIrq> {
        if irq < self.lines() && (irq >= LOCAL_LINES || local_irq(irq).is_some()) {
            Ok(())
        } else {
            Err(InvalidIrq(irq))
        }
    }

    fn acknowledge(&self) -> Option<u32> {
        let pending = self.local.irq_source[BOOT_CORE].get();
        let local = pending & self.enabled_local.load(Ordering::Relaxed);
        if local != 0 {
            return Some(local.trailing_zeros());
        }
        if pending & (1 << GPU) != 0 {
            let (bank, bit) = self.armctrl.next_pending()?;
            return Some(LOCAL_LINES + bank as u32 * LINES_PER_BANK + bit);
        }
        None
    }

    /// A mailbox's bits are all cleared: its handler must have read them first.
    fn end_of_interrupt(&self, irq: u32) {
        if (FIRST_MAILBOX..GPU).contains(&irq) {
            let mailbox =
                &self.local.mailbox_clear[BOOT_CORE * MAILBOXES + (irq - FIRST_MAILBOX) as usize];
            mailbox.set(mailbox.get());
        }
    }
}
