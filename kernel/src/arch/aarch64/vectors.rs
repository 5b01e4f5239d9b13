//! The exception vector table and trap-frame save/restore (ARM ARM D1.10).
//!
//! Every exception saves a [`TrapFrame`] on the current kernel stack (SP_EL1) and calls one
//! Rust handler in `exception.rs`. Exceptions taken from EL1 first check that the stack
//! pointer is still inside its stack: kernel stacks are `KSTACK_SIZE` bytes, top-aligned to
//! twice that with an unmapped guard of the same size below, so an overflow clears bit
//! `KSTACK_SHIFT` of SP. Such an overflow switches to the emergency exception stack instead
//! of faulting again on the guard page (which would recurse forever).

use crate::arch::layout::KSTACK_SHIFT;

/// Bytes of a saved [`TrapFrame`] on the stack.
pub const TRAP_FRAME_SIZE: usize = core::mem::size_of::<TrapFrame>();

/// Registers saved on exception entry, in the order the vector code stores them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    /// x0..x30.
    pub x: [u64; 31],
    /// The EL0 stack pointer.
    pub sp_el0: u64,
    /// Return address (ELR_EL1).
    pub elr: u64,
    /// Saved program status (SPSR_EL1).
    pub spsr: u64,
    /// Exception syndrome (ESR_EL1), read on entry.
    pub esr: u64,
    /// Fault address (FAR_EL1), read on entry.
    pub far: u64,
}

const _: () = assert!(TRAP_FRAME_SIZE == 36 * 8 && TRAP_FRAME_SIZE.is_multiple_of(16));

core::arch::global_asm!(
    r#"
.macro SAVE_REGS
    stp     x0, x1, [sp, #16 * 0]
    stp     x2, x3, [sp, #16 * 1]
    stp     x4, x5, [sp, #16 * 2]
    stp     x6, x7, [sp, #16 * 3]
    stp     x8, x9, [sp, #16 * 4]
    stp     x10, x11, [sp, #16 * 5]
    stp     x12, x13, [sp, #16 * 6]
    stp     x14, x15, [sp, #16 * 7]
    stp     x16, x17, [sp, #16 * 8]
    stp     x18, x19, [sp, #16 * 9]
    stp     x20, x21, [sp, #16 * 10]
    stp     x22, x23, [sp, #16 * 11]
    stp     x24, x25, [sp, #16 * 12]
    stp     x26, x27, [sp, #16 * 13]
    stp     x28, x29, [sp, #16 * 14]
    mrs     x21, sp_el0
    stp     x30, x21, [sp, #16 * 15]
    mrs     x22, elr_el1
    mrs     x23, spsr_el1
    stp     x22, x23, [sp, #16 * 16]
    mrs     x24, esr_el1
    mrs     x25, far_el1
    stp     x24, x25, [sp, #16 * 17]
.endm

// Entry from EL1: check for kernel stack overflow without a free register (x0 is swapped
// through SP), then save the frame and call the handler.
.macro ENTRY_EL1 handler
    sub     sp, sp, #{frame}
    add     sp, sp, x0
    sub     x0, sp, x0
    tbz     x0, #{kstack_shift}, kernel_stack_overflow
    sub     x0, sp, x0
    sub     sp, sp, x0
    SAVE_REGS
    mov     x0, sp
    bl      \handler
    b       exception_return
.endm

.macro ENTRY_EL0 handler
    sub     sp, sp, #{frame}
    SAVE_REGS
    mov     x0, sp
    bl      \handler
    b       exception_return
.endm

.macro VECTOR label
.balign 0x80
    b       \label
.endm

.section .text.vectors, "ax"
.balign 0x800
.global exception_vectors
exception_vectors:
    // Current EL with SP_EL0: never used (the kernel always runs on SP_EL1).
    VECTOR  v_el1t
    VECTOR  v_el1t
    VECTOR  v_el1t
    VECTOR  v_el1t
    // Current EL with SP_ELx.
    VECTOR  v_el1_sync
    VECTOR  v_el1_irq
    VECTOR  v_el1_fiq
    VECTOR  v_el1_serror
    // Lower EL, AArch64.
    VECTOR  v_el0_sync
    VECTOR  v_el0_irq
    VECTOR  v_el0_fiq
    VECTOR  v_el0_serror
    // Lower EL, AArch32: not supported.
    VECTOR  v_el0_32
    VECTOR  v_el0_32
    VECTOR  v_el0_32
    VECTOR  v_el0_32

v_el1t:       ENTRY_EL1 handle_unexpected
v_el1_sync:   ENTRY_EL1 handle_el1_sync
v_el1_irq:    ENTRY_EL1 handle_irq
v_el1_fiq:    ENTRY_EL1 handle_unexpected
v_el1_serror: ENTRY_EL1 handle_unexpected
v_el0_sync:   ENTRY_EL0 handle_el0_sync
v_el0_irq:    ENTRY_EL0 handle_irq
v_el0_fiq:    ENTRY_EL0 handle_unexpected
v_el0_serror: ENTRY_EL0 handle_unexpected
v_el0_32:     ENTRY_EL0 handle_unexpected

// Restores the frame at SP and returns from the exception.
.global exception_return
exception_return:
    ldp     x22, x23, [sp, #16 * 16]
    msr     elr_el1, x22
    msr     spsr_el1, x23
    ldp     x30, x21, [sp, #16 * 15]
    msr     sp_el0, x21
    ldp     x0, x1, [sp, #16 * 0]
    ldp     x2, x3, [sp, #16 * 1]
    ldp     x4, x5, [sp, #16 * 2]
    ldp     x6, x7, [sp, #16 * 3]
    ldp     x8, x9, [sp, #16 * 4]
    ldp     x10, x11, [sp, #16 * 5]
    ldp     x12, x13, [sp, #16 * 6]
    ldp     x14, x15, [sp, #16 * 7]
    ldp     x16, x17, [sp, #16 * 8]
    ldp     x18, x19, [sp, #16 * 9]
    ldp     x20, x21, [sp, #16 * 10]
    ldp     x22, x23, [sp, #16 * 11]
    ldp     x24, x25, [sp, #16 * 12]
    ldp     x26, x27, [sp, #16 * 13]
    ldp     x28, x29, [sp, #16 * 14]
    add     sp, sp, #{frame}
    eret

// The stack overflowed into its guard: continue on the emergency stack (x0 is lost).
kernel_stack_overflow:
    ldr     x0, =__exception_stack_top
    mov     sp, x0
    sub     sp, sp, #{frame}
    SAVE_REGS
    mov     x0, sp
    bl      handle_kernel_stack_overflow
1:  wfe
    b       1b

.section .bss.exception_stack, "aw", @nobits
.balign 16
__exception_stack_bottom:
    .space  {exc_stack}
__exception_stack_top:
"#,
    frame = const TRAP_FRAME_SIZE,
    kstack_shift = const KSTACK_SHIFT,
    exc_stack = const EXCEPTION_STACK_SIZE,
);

/// Size of the emergency stack used after a kernel stack overflow.
const EXCEPTION_STACK_SIZE: usize = 16 * 1024;
