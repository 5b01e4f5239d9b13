//! What happens on exceptions, above the architecture layer: system calls, user faults
//! (demand paging or the end of the faulting process) and interrupts, each followed by the
//! preemption check on the way out.

use crate::arch::layout::USER_END;
use crate::arch::vectors::TrapFrame;
use crate::proc::{self, FaultError};
use crate::sched;
use abi::syscall::signal;
use kcore::esr::{Esr, ExceptionClass, FaultKind};

fn from_user(frame: &TrapFrame) -> bool {
    frame.spsr & 0xF == 0 // EL0t
}

/// A synchronous exception from EL0.
pub fn user_sync(frame: &mut TrapFrame) {
    let esr = Esr(frame.esr);
    match esr.class() {
        ExceptionClass::Svc64 => crate::syscall::dispatch(frame),
        ExceptionClass::DataAbortLower | ExceptionClass::InstrAbortLower => user_abort(frame, esr),
        ExceptionClass::PcAlignment => {
            proc::fatal_user_fault("PC alignment fault", frame.elr, frame.esr, signal::SIGBUS)
        }
        ExceptionClass::SpAlignment => proc::fatal_user_fault(
            "SP alignment fault",
            frame.sp_el0,
            frame.esr,
            signal::SIGBUS,
        ),
        _ => proc::fatal_user_fault("illegal instruction", frame.elr, frame.esr, signal::SIGILL),
    }
    leave_to_user();
}

fn user_abort(frame: &TrapFrame, esr: Esr) {
    let exec = esr.class() == ExceptionClass::InstrAbortLower;
    let fault = esr.fault_kind();
    if fault == Some(FaultKind::Alignment) {
        proc::fatal_user_fault("alignment fault", frame.far, frame.esr, signal::SIGBUS);
    }
    if matches!(fault, Some(FaultKind::Translation(_)))
        && let Some(space) = proc::current_space()
    {
        match space.handle_fault(frame.far, esr.is_write(), exec) {
            Ok(()) => return,
            Err(FaultError::OutOfMemory) => {
                proc::fatal_user_fault("out of memory", frame.far, frame.esr, signal::SIGKILL)
            }
            Err(FaultError::Segv) => {}
        }
    }
    let what = if exec {
        "bad instruction fetch"
    } else {
        "bad memory access"
    };
    proc::fatal_user_fault(what, frame.far, frame.esr, signal::SIGSEGV);
}

/// A kernel access to user memory faulted: fill a demand-zero page if that is all it was.
/// Returns true when the access can simply be retried.
pub fn kernel_user_access_fault(far: u64, esr: Esr) -> bool {
    if far >= USER_END || !matches!(esr.fault_kind(), Some(FaultKind::Translation(_))) {
        return false;
    }
    proc::current_space()
        .is_some_and(|space| space.handle_fault(far, esr.is_write(), false).is_ok())
}

/// An interrupt from EL0 or EL1.
pub fn irq(frame: &mut TrapFrame) {
    crate::irq::handle_pending();
    if from_user(frame) {
        leave_to_user();
    } else {
        sched::preempt_if_needed();
    }
}

/// Preemption check, then a thread whose process is dying leaves here.
fn leave_to_user() {
    if sched::preempt_and_check_interrupted() {
        proc::exit_thread(0);
    }
}
