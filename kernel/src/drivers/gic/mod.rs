//! Generic Interrupt Controller drivers (Arm IHI 0048B for GICv2, IHI 0069 for GICv3), both
//! behind the [`IrqChip`](super::irqchip::IrqChip) trait, and what the two share.

use super::irqchip::InvalidIrq;

pub mod v2;
pub mod v3;

/// Interrupt IDs below this are SGIs (0..16) and PPIs (16..32), banked per CPU.
pub const FIRST_SPI: u32 = 32;
/// INTIDs 1020..1023 are special (spurious and friends).
pub const SPURIOUS_FROM: u32 = 1020;
/// Default priority given to every interrupt (lower is more urgent).
pub const DEFAULT_PRIORITY: u8 = 0xA0;
/// Priority mask: let every priority more urgent than this through.
pub const PRIORITY_MASK: u8 = 0xF0;

/// Checks an interrupt number against the controller's size.
fn check(irq: u32, lines: u32) -> Result<usize, InvalidIrq> {
    if irq < lines && irq < SPURIOUS_FROM {
        Ok(irq as usize)
    } else {
        Err(InvalidIrq(irq))
    }
}

/// Register index and bit for a one-bit-per-interrupt register array.
fn bit_position(irq: usize) -> (usize, u32) {
    (irq / 32, 1 << (irq % 32))
}
