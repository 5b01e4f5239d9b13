//! Generic Interrupt Controller drivers (Arm IHI 0048B for GICv2, IHI 0069 for GICv3) behind
//! one [`IrqChip`] trait, so the rest of the kernel does not care which version the board has.

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

/// An interrupt number the controller does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidIrq(pub u32);

/// An interrupt controller.
pub trait IrqChip: Send + Sync {
    /// Architecture version: 2 or 3.
    fn version(&self) -> u8;
    /// Number of interrupt IDs the distributor implements.
    fn lines(&self) -> u32;
    /// Enables an interrupt.
    fn enable(&self, irq: u32) -> Result<(), InvalidIrq>;
    /// Disables an interrupt.
    fn disable(&self, irq: u32) -> Result<(), InvalidIrq>;
    /// Sets an interrupt's priority (0 most urgent).
    fn set_priority(&self, irq: u32, priority: u8) -> Result<(), InvalidIrq>;
    /// Acknowledges the highest-priority pending interrupt; `None` if nothing is pending.
    fn acknowledge(&self) -> Option<u32>;
    /// Signals the end of handling for an acknowledged interrupt.
    fn end_of_interrupt(&self, irq: u32);
}

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
