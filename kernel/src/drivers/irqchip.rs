//! What the kernel asks of an interrupt controller, whichever the board has (GICv2, GICv3,
//! or a SoC's own): the board instantiates one and hands it to `irq`.

/// Interrupt numbers the kernel dispatches: `0..MAX_IRQS` (the GIC's INTIDs below its special
/// IDs; other controllers number their lines inside this range).
pub const MAX_IRQS: u32 = 1020;

/// An interrupt number the controller does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidIrq(pub u32);

/// An interrupt controller, as seen from the boot CPU.
pub trait IrqChip: Send + Sync {
    /// What it is, for the boot log (`GICv3`).
    fn name(&self) -> &'static str;
    /// Number of interrupt lines it implements (all below [`MAX_IRQS`]).
    fn lines(&self) -> u32;
    /// Enables an interrupt.
    fn enable(&self, irq: u32) -> Result<(), InvalidIrq>;
    /// Disables an interrupt.
    fn disable(&self, irq: u32) -> Result<(), InvalidIrq>;
    /// Sets an interrupt's priority (0 most urgent); controllers without priorities ignore it.
    fn set_priority(&self, irq: u32, priority: u8) -> Result<(), InvalidIrq>;
    /// Acknowledges the highest-priority pending interrupt; `None` if nothing is pending.
    fn acknowledge(&self) -> Option<u32>;
    /// Signals the end of handling for an acknowledged interrupt.
    fn end_of_interrupt(&self, irq: u32);
}
