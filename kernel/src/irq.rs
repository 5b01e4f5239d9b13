//! Interrupt dispatch: the board's interrupt controller and a table of handlers by number.

use crate::drivers::irqchip::{InvalidIrq, IrqChip, MAX_IRQS};
use crate::sync::IrqSafeMutex;

/// A function that services one interrupt.
pub type IrqHandler = fn(u32);

static CHIP: spin::Once<&'static dyn IrqChip> = spin::Once::new();
static HANDLERS: IrqSafeMutex<[Option<IrqHandler>; MAX_IRQS as usize]> =
    IrqSafeMutex::new([None; MAX_IRQS as usize]);

/// Installs the interrupt controller.
pub fn init(chip: &'static dyn IrqChip) {
    CHIP.call_once(|| chip);
}

/// The installed interrupt controller.
pub fn chip() -> Option<&'static dyn IrqChip> {
    CHIP.get().copied()
}

/// Registers `handler` for `irq` and enables the interrupt.
pub fn register(irq: u32, handler: IrqHandler) -> Result<(), InvalidIrq> {
    let chip = chip().ok_or(InvalidIrq(irq))?;
    let mut handlers = HANDLERS.lock();
    let slot = handlers.get_mut(irq as usize).ok_or(InvalidIrq(irq))?;
    *slot = Some(handler);
    chip.enable(irq)
}

/// Most interrupts serviced per exception, so a stuck source cannot starve the code that
/// runs after the handlers (preemption).
const MAX_PER_ENTRY: usize = 16;

/// Services pending interrupts (called from the IRQ vector with IRQs masked).
pub fn handle_pending() {
    let Some(chip) = chip() else { return };
    for _ in 0..MAX_PER_ENTRY {
        let Some(irq) = chip.acknowledge() else { break };
        let handler = HANDLERS.lock().get(irq as usize).copied().flatten();
        match handler {
            Some(handler) => handler(irq),
            None => {
                log::warn!("irq {irq} has no handler; disabling it");
                let _ = chip.disable(irq);
            }
        }
        chip.end_of_interrupt(irq);
    }
}
