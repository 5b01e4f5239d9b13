//! Process entry: `_start` receives SP pointing at argc (x0 = 0, as the kernel sets it),
//! turns the stack image into a safe [`StackImage`] and hands over to `rt::start`.

use crate::startup::StackImage;

/// Top of the initial stack (the kernel's `USER_STACK_TOP`): the argv/envp strings end
/// below it.
pub const USER_STACK_TOP: usize = 0x7F_FF00_0000;

core::arch::global_asm!(
    ".section .text._start, \"ax\"",
    ".global _start",
    ".type _start, %function",
    "_start:",
    // Outermost frame: no caller for backtraces and frame-pointer walks.
    "    mov x29, #0",
    "    mov x30, #0",
    "    mov x0, sp",
    // The kernel gives a 16-byte aligned SP; realign anyway before any call.
    "    and x1, x0, #~15",
    "    mov sp, x1",
    "    bl {start}",
    "    brk #1",
    ".size _start, . - _start",
    start = sym ulib_start,
);

unsafe extern "Rust" {
    /// The program's main, exported by `ulib::entry!`.
    safe fn __ulib_main() -> i32;
}

/// Called by `_start` with the initial SP.
extern "C" fn ulib_start(sp: usize) -> ! {
    let image = match USER_STACK_TOP.checked_sub(sp) {
        // SAFETY: the kernel mapped the stack from the initial SP up to the stack top and
        // wrote argc/argv/envp/auxv and the strings there; the runtime only ever pushes
        // below that SP, so these bytes stay valid and unchanged for the whole process.
        Some(len) if len > 0 => unsafe { core::slice::from_raw_parts(sp as *const u8, len) },
        _ => &[],
    };
    crate::rt::start(StackImage::new(image, sp), __ulib_main)
}
