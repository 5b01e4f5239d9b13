//! GICv2 (Arm IHI 0048B): memory-mapped distributor (GICD) and CPU interface (GICC).

use super::{DEFAULT_PRIORITY, FIRST_SPI, PRIORITY_MASK, SPURIOUS_FROM};
use super::{bit_position, check};
use crate::drivers::irqchip::{InvalidIrq, IrqChip};
use crate::drivers::mmio::Mmio;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

register_bitfields! {u32,
    /// Distributor control.
    GICD_CTLR [
        /// Forward pending interrupts to CPU interfaces.
        ENABLE OFFSET(0) NUMBITS(1) []
    ],
    /// Distributor type.
    GICD_TYPER [
        /// Supported interrupt lines = 32 * (ITLinesNumber + 1).
        ITLINESNUMBER OFFSET(0) NUMBITS(5) []
    ],
    /// CPU interface control.
    GICC_CTLR [
        /// Signal Group 1 interrupts to the processor.
        ENABLE OFFSET(0) NUMBITS(1) []
    ],
    /// Interrupt acknowledge.
    GICC_IAR [
        /// The acknowledged interrupt ID.
        INTERRUPT_ID OFFSET(0) NUMBITS(10) []
    ]
}

register_structs! {
    /// GICD register block (shared between CPUs except the banked first entries).
    pub GicdRegs {
        (0x000 => ctlr: ReadWrite<u32, GICD_CTLR::Register>),
        (0x004 => typer: ReadOnly<u32, GICD_TYPER::Register>),
        (0x008 => _reserved0),
        (0x100 => isenabler: [ReadWrite<u32>; 32]),
        (0x180 => icenabler: [ReadWrite<u32>; 32]),
        (0x200 => _reserved1),
        (0x400 => ipriorityr: [ReadWrite<u8>; 1020]),
        (0x7fc => _reserved2),
        (0x800 => itargetsr: [ReadWrite<u8>; 1020]),
        (0xbfc => _reserved3),
        (0xc00 => icfgr: [ReadWrite<u32>; 64]),
        (0xd00 => @END),
    }
}

register_structs! {
    /// GICC register block (banked per CPU).
    pub GiccRegs {
        (0x00 => ctlr: ReadWrite<u32, GICC_CTLR::Register>),
        (0x04 => pmr: ReadWrite<u32>),
        (0x08 => bpr: ReadWrite<u32>),
        (0x0c => iar: ReadOnly<u32, GICC_IAR::Register>),
        (0x10 => eoir: WriteOnly<u32>),
        (0x14 => @END),
    }
}

/// A GICv2.
pub struct GicV2 {
    gicd: Mmio<GicdRegs>,
    gicc: Mmio<GiccRegs>,
    lines: u32,
}

impl GicV2 {
    /// Initialises the distributor (all SPIs disabled, default priority, to CPU 0) and this
    /// CPU's interface.
    pub fn new(gicd: Mmio<GicdRegs>, gicc: Mmio<GiccRegs>) -> Self {
        let lines = (32 * (gicd.typer.read(GICD_TYPER::ITLINESNUMBER) + 1)).min(SPURIOUS_FROM);
        let gic = Self { gicd, gicc, lines };
        gic.init_distributor();
        gic.init_cpu_interface();
        gic
    }

    fn init_distributor(&self) {
        self.gicd.ctlr.write(GICD_CTLR::ENABLE::CLEAR);
        for reg in self
            .gicd
            .icenabler
            .iter()
            .take(self.lines.div_ceil(32) as usize)
        {
            reg.set(u32::MAX);
        }
        for irq in 0..self.lines as usize {
            if let Some(prio) = self.gicd.ipriorityr.get(irq) {
                prio.set(DEFAULT_PRIORITY);
            }
            if irq >= FIRST_SPI as usize
                && let Some(target) = self.gicd.itargetsr.get(irq)
            {
                target.set(1); // CPU interface 0
            }
        }
        self.gicd.ctlr.write(GICD_CTLR::ENABLE::SET);
    }

    fn init_cpu_interface(&self) {
        self.gicc.pmr.set(u32::from(PRIORITY_MASK));
        self.gicc.bpr.set(0);
        self.gicc.ctlr.write(GICC_CTLR::ENABLE::SET);
    }
}

impl IrqChip for GicV2 {
    fn name(&self) -> &'static str {
        "GICv2"
    }

    fn lines(&self) -> u32 {
        self.lines
    }

    fn enable(&self, irq: u32) -> Result<(), InvalidIrq> {
        let (index, bit) = bit_position(check(irq, self.lines)?);
        self.gicd.isenabler[index].set(bit);
        Ok(())
    }

    fn disable(&self, irq: u32) -> Result<(), InvalidIrq> {
        let (index, bit) = bit_position(check(irq, self.lines)?);
        self.gicd.icenabler[index].set(bit);
        Ok(())
    }

    fn set_priority(&self, irq: u32, priority: u8) -> Result<(), InvalidIrq> {
        self.gicd.ipriorityr[check(irq, self.lines)?].set(priority);
        Ok(())
    }

    fn acknowledge(&self) -> Option<u32> {
        let irq = self.gicc.iar.read(GICC_IAR::INTERRUPT_ID);
        (irq < SPURIOUS_FROM).then_some(irq)
    }

    fn end_of_interrupt(&self, irq: u32) {
        self.gicc.eoir.set(irq);
    }
}
