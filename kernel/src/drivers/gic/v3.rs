//! GICv3 (Arm IHI 0069): distributor (GICD) with affinity routing, one redistributor
//! (GICR) per CPU for SGIs/PPIs, and the system-register CPU interface (ICC_*_EL1).
//! The redistributor must be woken (GICR_WAKER) and Group 1 enabled before anything arrives.

use super::{DEFAULT_PRIORITY, FIRST_SPI, PRIORITY_MASK, SPURIOUS_FROM};
use super::{bit_position, check};
use crate::arch::gic_cpuif;
use crate::drivers::irqchip::{InvalidIrq, IrqChip};
use crate::drivers::mmio::{Mmio, MmioRegion};
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite};

register_bitfields! {u32,
    /// Distributor control (non-secure view).
    GICD_CTLR [
        /// Register write pending.
        RWP OFFSET(31) NUMBITS(1) [],
        /// Affinity routing enable.
        ARE_NS OFFSET(4) NUMBITS(1) [],
        /// Group 1 (non-secure) enable.
        ENABLE_GRP1A OFFSET(1) NUMBITS(1) [],
        /// Group 1 enable (single security state view).
        ENABLE_GRP1 OFFSET(0) NUMBITS(1) []
    ],
    /// Distributor type.
    GICD_TYPER [
        /// Supported INTIDs = 32 * (ITLinesNumber + 1).
        ITLINESNUMBER OFFSET(0) NUMBITS(5) []
    ],
    /// Redistributor power management.
    GICR_WAKER [
        /// All interfaces of the redistributor are quiescent.
        CHILDREN_ASLEEP OFFSET(2) NUMBITS(1) [],
        /// The connected CPU is asleep.
        PROCESSOR_SLEEP OFFSET(1) NUMBITS(1) []
    ]
}

register_bitfields! {u64,
    /// Redistributor type.
    GICR_TYPER [
        /// Affinity of the CPU this redistributor serves.
        AFFINITY OFFSET(32) NUMBITS(32) [],
        /// Last redistributor in this region.
        LAST OFFSET(4) NUMBITS(1) []
    ]
}

register_structs! {
    /// GICD register block.
    pub GicdRegs {
        (0x0000 => ctlr: ReadWrite<u32, GICD_CTLR::Register>),
        (0x0004 => typer: ReadOnly<u32, GICD_TYPER::Register>),
        (0x0008 => _reserved0),
        (0x0080 => igroupr: [ReadWrite<u32>; 32]),
        (0x0100 => isenabler: [ReadWrite<u32>; 32]),
        (0x0180 => icenabler: [ReadWrite<u32>; 32]),
        (0x0200 => _reserved1),
        (0x0400 => ipriorityr: [ReadWrite<u8>; 1020]),
        (0x07fc => _reserved2),
        (0x0c00 => icfgr: [ReadWrite<u32>; 64]),
        (0x0d00 => _reserved3),
        (0x6100 => irouter: [ReadWrite<u64>; 988]),
        (0x7fe0 => _reserved4),
        (0x8000 => @END),
    }
}

register_structs! {
    /// GICR control frame (RD_base).
    pub GicrRegs {
        (0x0000 => ctlr: ReadWrite<u32>),
        (0x0004 => _reserved0),
        (0x0008 => typer: ReadOnly<u64, GICR_TYPER::Register>),
        (0x0010 => _reserved1),
        (0x0014 => waker: ReadWrite<u32, GICR_WAKER::Register>),
        (0x0018 => _reserved2),
        (0x10000 => @END),
    }
}

register_structs! {
    /// GICR SGI/PPI frame (SGI_base = RD_base + 64 KiB).
    pub GicrSgiRegs {
        (0x0000 => _reserved0),
        (0x0080 => igroupr0: ReadWrite<u32>),
        (0x0084 => _reserved1),
        (0x0100 => isenabler0: ReadWrite<u32>),
        (0x0104 => _reserved2),
        (0x0180 => icenabler0: ReadWrite<u32>),
        (0x0184 => _reserved3),
        (0x0400 => ipriorityr: [ReadWrite<u8>; 32]),
        (0x0420 => _reserved4),
        (0x0c00 => icfgr: [ReadWrite<u32>; 2]),
        (0x0c08 => _reserved5),
        (0x10000 => @END),
    }
}

/// Why the GICv3 could not be brought up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicV3Error {
    /// No redistributor in the mapped region serves this CPU.
    NoRedistributor,
    /// The redistributor did not wake up.
    WakeTimeout,
}

/// A GICv3 with this CPU's redistributor.
pub struct GicV3 {
    gicd: Mmio<GicdRegs>,
    sgi: Mmio<GicrSgiRegs>,
    lines: u32,
}

/// Bytes between consecutive redistributors (RD_base + SGI_base frames).
const GICR_STRIDE: usize = 0x20000;
/// Offset of the SGI/PPI frame inside a redistributor.
const SGI_FRAME_OFFSET: usize = 0x10000;

impl GicV3 {
    /// Brings up the distributor and the redistributor for the CPU with affinity `mpidr_aff`
    /// (Aff3.Aff2.Aff1.Aff0 packed as in GICR_TYPER), found in the mapped region `gicr`.
    pub fn new(
        gicd: Mmio<GicdRegs>,
        gicr: &MmioRegion,
        mpidr_aff: u32,
    ) -> Result<Self, GicV3Error> {
        let (rd, offset) = find_redistributor(gicr, mpidr_aff)?;
        let lines = (32 * (gicd.typer.read(GICD_TYPER::ITLINESNUMBER) + 1)).min(SPURIOUS_FROM);
        let sgi = gicr
            .block::<GicrSgiRegs>(offset + SGI_FRAME_OFFSET)
            .ok_or(GicV3Error::NoRedistributor)?;
        let gic = Self { gicd, sgi, lines };
        gic.init_distributor();
        wake(&rd)?;
        gic.init_redistributor();
        init_cpu_interface();
        Ok(gic)
    }

    fn wait_for_rwp(&self) {
        // Bounded: RWP clears within a few register writes on real hardware.
        for _ in 0..1_000_000 {
            if !self.gicd.ctlr.is_set(GICD_CTLR::RWP) {
                return;
            }
            core::hint::spin_loop();
        }
        log::warn!("GICD_CTLR.RWP stuck");
    }

    fn init_distributor(&self) {
        self.gicd.ctlr.set(0);
        self.wait_for_rwp();
        let words = self.lines.div_ceil(32) as usize;
        for index in 1..words {
            self.gicd.icenabler[index].set(u32::MAX);
            self.gicd.igroupr[index].set(u32::MAX); // every SPI in Group 1
        }
        self.wait_for_rwp();
        for irq in FIRST_SPI as usize..self.lines as usize {
            self.gicd.ipriorityr[irq].set(DEFAULT_PRIORITY);
            self.gicd.irouter[irq - FIRST_SPI as usize].set(0); // affinity 0.0.0.0
        }
        self.gicd.ctlr.write(
            GICD_CTLR::ARE_NS::SET + GICD_CTLR::ENABLE_GRP1A::SET + GICD_CTLR::ENABLE_GRP1::SET,
        );
        self.wait_for_rwp();
    }

    fn init_redistributor(&self) {
        self.sgi.icenabler0.set(u32::MAX);
        self.sgi.igroupr0.set(u32::MAX);
        for prio in self.sgi.ipriorityr.iter() {
            prio.set(DEFAULT_PRIORITY);
        }
    }
}

/// The redistributor serving `mpidr_aff` and its offset in the region.
fn find_redistributor(
    gicr: &MmioRegion,
    mpidr_aff: u32,
) -> Result<(Mmio<GicrRegs>, usize), GicV3Error> {
    let mut offset = 0;
    while let Some(rd) = gicr.block::<GicrRegs>(offset) {
        let typer = rd.typer.extract();
        if typer.read(GICR_TYPER::AFFINITY) as u32 == mpidr_aff {
            return Ok((rd, offset));
        }
        if typer.is_set(GICR_TYPER::LAST) {
            break;
        }
        offset += GICR_STRIDE;
    }
    Err(GicV3Error::NoRedistributor)
}

fn wake(rd: &Mmio<GicrRegs>) -> Result<(), GicV3Error> {
    rd.waker.modify(GICR_WAKER::PROCESSOR_SLEEP::CLEAR);
    for _ in 0..1_000_000 {
        if !rd.waker.is_set(GICR_WAKER::CHILDREN_ASLEEP) {
            return Ok(());
        }
        core::hint::spin_loop();
    }
    Err(GicV3Error::WakeTimeout)
}

fn init_cpu_interface() {
    gic_cpuif::write_sre(gic_cpuif::read_sre() | 1); // system-register interface
    gic_cpuif::write_pmr(u64::from(PRIORITY_MASK));
    gic_cpuif::write_bpr1(0);
    gic_cpuif::write_igrpen1(1);
}

impl IrqChip for GicV3 {
    fn name(&self) -> &'static str {
        "GICv3"
    }

    fn lines(&self) -> u32 {
        self.lines
    }

    fn enable(&self, irq: u32) -> Result<(), InvalidIrq> {
        let (index, bit) = bit_position(check(irq, self.lines)?);
        if irq < FIRST_SPI {
            self.sgi.isenabler0.set(bit);
        } else {
            self.gicd.isenabler[index].set(bit);
        }
        Ok(())
    }

    fn disable(&self, irq: u32) -> Result<(), InvalidIrq> {
        let (index, bit) = bit_position(check(irq, self.lines)?);
        if irq < FIRST_SPI {
            self.sgi.icenabler0.set(bit);
        } else {
            self.gicd.icenabler[index].set(bit);
        }
        Ok(())
    }

    fn set_priority(&self, irq: u32, priority: u8) -> Result<(), InvalidIrq> {
        let irq = check(irq, self.lines)?;
        match self.sgi.ipriorityr.get(irq) {
            Some(reg) => reg.set(priority),
            None => self.gicd.ipriorityr[irq].set(priority),
        }
        Ok(())
    }

    fn acknowledge(&self) -> Option<u32> {
        let irq = (gic_cpuif::read_iar1() & 0xFF_FFFF) as u32;
        (irq < SPURIOUS_FROM).then_some(irq)
    }

    fn end_of_interrupt(&self, irq: u32) {
        gic_cpuif::write_eoir1(u64::from(irq));
    }
}
