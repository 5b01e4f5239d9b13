//! Rust side of exception handling: the handlers the vector table calls.
//!
//! Synchronous exceptions at EL1 are either expected faults with a fix-up (probes, user
//! copies) or kernel bugs, reported with the decoded syndrome, a register dump and a
//! backtrace before the kernel panics. IRQs go to the generic dispatcher.

use super::fault;
use super::vectors::TrapFrame;
use core::fmt::Write;
use kcore::esr::Esr;

#[unsafe(no_mangle)]
extern "C" fn handle_el1_sync(frame: &mut TrapFrame) {
    let esr = Esr(frame.esr);
    // Only sanctioned accesses (listed in .extable) may fault without being a kernel bug.
    if esr.is_abort()
        && let Some(fixup) = fault::fixup_for(frame.elr, frame.esr, frame.far)
    {
        if !crate::trap::kernel_user_access_fault(frame.far, esr) {
            frame.elr = fixup; // a demand-zero page was not the answer: fail the access
        }
        return;
    }
    fatal("kernel exception", frame);
}

#[unsafe(no_mangle)]
extern "C" fn handle_irq(frame: &mut TrapFrame) {
    crate::trap::irq(frame);
}

#[unsafe(no_mangle)]
extern "C" fn handle_el0_sync(frame: &mut TrapFrame) {
    crate::trap::user_sync(frame);
}

#[unsafe(no_mangle)]
extern "C" fn handle_unexpected(frame: &mut TrapFrame) {
    fatal("unexpected exception (FIQ, SError or AArch32)", frame);
}

#[unsafe(no_mangle)]
extern "C" fn handle_kernel_stack_overflow(frame: &mut TrapFrame) {
    fatal("kernel stack overflow (x0 lost)", frame);
}

/// Reports an exception the kernel cannot recover from, then panics.
fn fatal(what: &str, frame: &TrapFrame) -> ! {
    let mut out = crate::console::PanicWriter;
    let _ = write!(out, "\r\n{what}: {}\r\n", Esr(frame.esr));
    let _ = write!(
        out,
        "  FAR {:#018x}  ELR {:#018x}  SPSR {:#010x}\r\n",
        frame.far, frame.elr, frame.spsr
    );
    dump_registers(&mut out, frame);
    let _ = write!(out, "backtrace:\r\n  {:#018x}\r\n", frame.elr);
    write_backtrace(&mut out, frame.x[29]);
    panic!("{what} at {:#x}", frame.elr);
}

fn dump_registers(out: &mut impl Write, frame: &TrapFrame) {
    for (row, regs) in frame.x.chunks(4).enumerate() {
        let _ = out.write_str(" ");
        for (col, value) in regs.iter().enumerate() {
            let _ = write!(out, " x{:<2} {value:#018x}", row * 4 + col);
        }
        let _ = out.write_str("\r\n");
    }
    let _ = write!(out, "  sp_el0 {:#018x}\r\n", frame.sp_el0);
}

/// Prints return addresses by walking the frame-pointer chain from `fp`. Every load goes
/// through a probe, so a corrupt chain ends the walk instead of faulting.
pub fn write_backtrace(out: &mut impl Write, mut fp: u64) {
    const MAX_FRAMES: usize = 32;
    for _ in 0..MAX_FRAMES {
        if fp == 0 {
            break;
        }
        let (Ok(next), Ok(lr)) = (fault::probe_read_u64(fp), fault::probe_read_u64(fp + 8)) else {
            let _ = write!(out, "  <bad frame pointer {fp:#x}>\r\n");
            break;
        };
        if lr == 0 {
            break;
        }
        let _ = write!(out, "  {:#018x}\r\n", lr.saturating_sub(4));
        if next <= fp {
            break;
        }
        fp = next;
    }
}
