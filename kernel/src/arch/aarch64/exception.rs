//! Rust side of exception handling: the handlers the vector table calls.
//!
//! Synchronous exceptions at EL1 are either expected faults with a fix-up (probes, user
//! copies) or kernel bugs, reported with the decoded syndrome, a register dump and a
//! backtrace before the kernel panics. Everything else goes to the [`TrapHandlers`] the
//! generic kernel installs at boot: the architecture layer knows no code above it.

use super::fault;
use super::vectors::TrapFrame;
use core::fmt;
use kcore::esr::Esr;

/// The generic kernel's entry points for exceptions, handed to the architecture at boot.
pub struct TrapHandlers {
    /// A synchronous exception from EL0: a system call, a fault, an illegal instruction.
    pub user_sync: fn(&mut TrapFrame),
    /// An interrupt, taken from EL0 or EL1.
    pub irq: fn(&mut TrapFrame),
    /// A sanctioned kernel access to user memory faulted at `far`: returns true when the
    /// fault was resolved (a demand-zero page) and the access can be retried.
    pub user_access_fault: fn(far: u64, esr: Esr) -> bool,
}

static HANDLERS: spin::Once<TrapHandlers> = spin::Once::new();

/// Installs the exception handlers (once; later calls are ignored). Until then an
/// exception other than a fixed-up kernel access is fatal.
pub fn set_trap_handlers(handlers: TrapHandlers) {
    HANDLERS.call_once(|| handlers);
}

#[unsafe(no_mangle)]
extern "C" fn handle_el1_sync(frame: &mut TrapFrame) {
    let esr = Esr(frame.esr);
    // Only sanctioned accesses (listed in .extable) may fault without being a kernel bug.
    if esr.is_abort()
        && let Some(fixup) = fault::fixup_for(frame.elr, frame.esr, frame.far)
    {
        let retry = HANDLERS
            .get()
            .is_some_and(|h| (h.user_access_fault)(frame.far, esr));
        if !retry {
            frame.elr = fixup; // a demand-zero page was not the answer: fail the access
        }
        return;
    }
    fatal("kernel exception", frame);
}

#[unsafe(no_mangle)]
extern "C" fn handle_irq(frame: &mut TrapFrame) {
    match HANDLERS.get() {
        Some(handlers) => (handlers.irq)(frame),
        None => fatal("interrupt before the kernel installed its handlers", frame),
    }
}

#[unsafe(no_mangle)]
extern "C" fn handle_el0_sync(frame: &mut TrapFrame) {
    match HANDLERS.get() {
        Some(handlers) => (handlers.user_sync)(frame),
        None => fatal(
            "exception from EL0 before the kernel installed its handlers",
            frame,
        ),
    }
}

#[unsafe(no_mangle)]
extern "C" fn handle_unexpected(frame: &mut TrapFrame) {
    fatal("unexpected exception (FIQ, SError or AArch32)", frame);
}

#[unsafe(no_mangle)]
extern "C" fn handle_kernel_stack_overflow(frame: &mut TrapFrame) {
    fatal("kernel stack overflow (x0 lost)", frame);
}

/// An exception the kernel cannot recover from: the panic message carries the decoded
/// syndrome, the registers and a backtrace from the trapped frame.
fn fatal(what: &str, frame: &TrapFrame) -> ! {
    panic!("{}", FatalReport { what, frame });
}

/// The report of a fatal exception, written by the panic handler's console writer.
struct FatalReport<'a> {
    what: &'a str,
    frame: &'a TrapFrame,
}

impl fmt::Display for FatalReport<'_> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let frame = self.frame;
        writeln!(out, "{}: {}", self.what, Esr(frame.esr))?;
        writeln!(
            out,
            "  FAR {:#018x}  ELR {:#018x}  SPSR {:#010x}",
            frame.far, frame.elr, frame.spsr
        )?;
        for (row, regs) in frame.x.chunks(4).enumerate() {
            out.write_str(" ")?;
            for (col, value) in regs.iter().enumerate() {
                write!(out, " x{:<2} {value:#018x}", row * 4 + col)?;
            }
            writeln!(out)?;
        }
        writeln!(out, "  sp_el0 {:#018x}", frame.sp_el0)?;
        writeln!(out, "trapped at:\n  {:#018x}", frame.elr)?;
        write_backtrace(out, frame.x[29]);
        Ok(())
    }
}

/// Prints return addresses by walking the frame-pointer chain from `fp`. Every load goes
/// through a probe, so a corrupt chain ends the walk instead of faulting.
pub fn write_backtrace(out: &mut impl fmt::Write, mut fp: u64) {
    const MAX_FRAMES: usize = 32;
    for _ in 0..MAX_FRAMES {
        if fp == 0 {
            break;
        }
        let (Ok(next), Ok(lr)) = (fault::probe_read_u64(fp), fault::probe_read_u64(fp + 8)) else {
            let _ = writeln!(out, "  <bad frame pointer {fp:#x}>");
            break;
        };
        if lr == 0 {
            break;
        }
        let _ = writeln!(out, "  {:#018x}", lr.saturating_sub(4));
        if next <= fp {
            break;
        }
        fp = next;
    }
}
