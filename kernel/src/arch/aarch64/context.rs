//! Thread context switching and the first entry of new threads.
//!
//! A switch saves the callee-saved registers (AAPCS64: x19..x29, lr), SP and the EL0 thread
//! pointer of the old thread and loads the new one's; everything else is either saved by the
//! caller or lives in the trap frame on the thread's kernel stack. FP/SIMD registers hold
//! only user state (the kernel is built softfloat), so they are switched lazily by the
//! scheduler with [`fp_save`] / [`fp_restore`].
//!
//! A new thread first runs the scheduler's start hook and a kernel thread whose entry
//! returns ends in its exit hook: both are [`ThreadHooks`] the scheduler hands over with
//! each new context, kept in callee-saved registers until the first switch to the thread.

use super::vectors::TrapFrame;

/// Registers preserved across [`switch_context`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Context {
    /// x19..x28.
    callee_saved: [u64; 10],
    /// x29.
    fp: u64,
    /// x30: where the switch returns to.
    lr: u64,
    /// Kernel stack pointer.
    sp: u64,
    /// TPIDR_EL0, the user thread pointer.
    tpidr_el0: u64,
}

/// What the scheduler runs around a new thread's own code.
#[derive(Clone, Copy, Debug)]
pub struct ThreadHooks {
    /// Runs first on every new thread (kernel or user), with IRQs masked.
    pub on_start: extern "C" fn(),
    /// Where a kernel thread whose entry function returned goes; never returns.
    pub on_kernel_return: extern "C" fn() -> !,
}

/// The user-visible FP/SIMD state.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, Default)]
pub struct FpState {
    q: [u128; 32],
    fpcr: u64,
    fpsr: u64,
}

unsafe extern "C" {
    fn switch_context_asm(prev: *mut Context, next: *const Context);
    fn fp_save_asm(state: *mut FpState);
    fn fp_restore_asm(state: *const FpState);
    fn kernel_thread_entry();
    fn user_thread_entry();
}

core::arch::global_asm!(
    r#"
.text
.global switch_context_asm
switch_context_asm:
    stp     x19, x20, [x0, #0]
    stp     x21, x22, [x0, #16]
    stp     x23, x24, [x0, #32]
    stp     x25, x26, [x0, #48]
    stp     x27, x28, [x0, #64]
    stp     x29, x30, [x0, #80]
    mov     x9, sp
    mrs     x10, tpidr_el0
    stp     x9, x10, [x0, #96]
    ldp     x19, x20, [x1, #0]
    ldp     x21, x22, [x1, #16]
    ldp     x23, x24, [x1, #32]
    ldp     x25, x26, [x1, #48]
    ldp     x27, x28, [x1, #64]
    ldp     x29, x30, [x1, #80]
    ldp     x9, x10, [x1, #96]
    mov     sp, x9
    msr     tpidr_el0, x10
    ret

// New kernel thread: x19 = entry, x20 = argument, x21 = start hook, x22 = return hook.
// The body runs with IRQs enabled.
.global kernel_thread_entry
kernel_thread_entry:
    blr     x21
    msr     daifclr, #2
    mov     x0, x20
    blr     x19
    blr     x22

// New user thread: SP points at its initial trap frame, x21 = start hook.
.global user_thread_entry
user_thread_entry:
    blr     x21
    b       exception_return

.arch_extension fp
.arch_extension simd
.global fp_save_asm
fp_save_asm:
    stp     q0, q1, [x0, #0]
    stp     q2, q3, [x0, #32]
    stp     q4, q5, [x0, #64]
    stp     q6, q7, [x0, #96]
    stp     q8, q9, [x0, #128]
    stp     q10, q11, [x0, #160]
    stp     q12, q13, [x0, #192]
    stp     q14, q15, [x0, #224]
    stp     q16, q17, [x0, #256]
    stp     q18, q19, [x0, #288]
    stp     q20, q21, [x0, #320]
    stp     q22, q23, [x0, #352]
    stp     q24, q25, [x0, #384]
    stp     q26, q27, [x0, #416]
    stp     q28, q29, [x0, #448]
    stp     q30, q31, [x0, #480]
    mrs     x1, fpcr
    mrs     x2, fpsr
    add     x0, x0, #512
    stp     x1, x2, [x0]
    ret

.global fp_restore_asm
fp_restore_asm:
    ldp     q0, q1, [x0, #0]
    ldp     q2, q3, [x0, #32]
    ldp     q4, q5, [x0, #64]
    ldp     q6, q7, [x0, #96]
    ldp     q8, q9, [x0, #128]
    ldp     q10, q11, [x0, #160]
    ldp     q12, q13, [x0, #192]
    ldp     q14, q15, [x0, #224]
    ldp     q16, q17, [x0, #256]
    ldp     q18, q19, [x0, #288]
    ldp     q20, q21, [x0, #320]
    ldp     q22, q23, [x0, #352]
    ldp     q24, q25, [x0, #384]
    ldp     q26, q27, [x0, #416]
    ldp     q28, q29, [x0, #448]
    ldp     q30, q31, [x0, #480]
    add     x0, x0, #512
    ldp     x1, x2, [x0]
    msr     fpcr, x1
    msr     fpsr, x2
    ret
"#
);

const _: () = assert!(core::mem::size_of::<Context>() == 14 * 8);
const _: () = assert!(core::mem::offset_of!(FpState, fpcr) == 512);

impl Context {
    /// A kernel thread that starts in `entry(arg)` on the stack ending at `stack_top`.
    pub fn new_kernel(
        stack_top: u64,
        entry: extern "C" fn(usize),
        arg: usize,
        hooks: &ThreadHooks,
    ) -> Self {
        let mut context = Context {
            sp: stack_top,
            lr: kernel_thread_entry as *const () as u64,
            ..Default::default()
        };
        context.callee_saved = [
            entry as *const () as u64,
            arg as u64,
            hooks.on_start as *const () as u64,
            hooks.on_kernel_return as *const () as u64,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        context
    }

    /// A user thread whose first return to EL0 restores the trap frame at `frame`, which
    /// must lie at the top of its kernel stack.
    pub fn new_user(frame: *mut TrapFrame, tls: u64, hooks: &ThreadHooks) -> Self {
        let mut context = Context {
            sp: frame as u64,
            lr: user_thread_entry as *const () as u64,
            tpidr_el0: tls,
            ..Default::default()
        };
        context.callee_saved[2] = hooks.on_start as *const () as u64;
        context
    }
}

/// Saves the current thread's registers into `prev` and continues with `next`.
///
/// # Safety
/// IRQs must be masked. `prev` must be writable and `next` must hold a context saved by
/// this function or built by `Context::new_*` whose stack is still mapped.
pub unsafe fn switch_context(prev: *mut Context, next: *const Context) {
    // SAFETY: the caller's contract; the asm follows AAPCS64 for everything it touches.
    unsafe { switch_context_asm(prev, next) }
}

/// Saves the live FP/SIMD registers into `state`.
pub fn fp_save(state: &mut FpState) {
    // SAFETY: writes exactly one FpState through a valid &mut.
    unsafe { fp_save_asm(state) }
}

/// Loads the FP/SIMD registers from `state`.
pub fn fp_restore(state: &FpState) {
    // SAFETY: reads exactly one FpState; register contents are not memory-safety relevant.
    unsafe { fp_restore_asm(state) }
}

/// An initial trap frame for a user thread entering `entry(arg)` with stack `sp`.
pub fn user_entry_frame(entry: u64, sp: u64, arg: u64) -> TrapFrame {
    let mut frame = TrapFrame {
        elr: entry,
        sp_el0: sp,
        spsr: 0,
        ..Default::default()
    }; // EL0t, all unmasked
    frame.x[0] = arg;
    frame
}
