//! Copies between the kernel and user memory. Every user access uses the unprivileged
//! LDTR/STTR instructions, so the hardware checks EL0 permissions: a user pointer into
//! kernel memory (or into a page the user may not write) faults exactly as it would for
//! the user. Faults resume at a fix-up, and the copy reports how much was left.

use crate::arch::layout::USER_END;

unsafe extern "C" {
    fn copy_from_user_asm(dst: *mut u8, src: u64, len: usize) -> usize;
    fn copy_to_user_asm(dst: u64, src: *const u8, len: usize) -> usize;
}

core::arch::global_asm!(
    r#"
.text
// x0 = kernel dst, x1 = user src, x2 = len; returns bytes not copied.
.global copy_from_user_asm
copy_from_user_asm:
    cmp     x2, #8
    b.lo    2f
1:  ldtr    x3, [x1]
    str     x3, [x0], #8
    add     x1, x1, #8
    sub     x2, x2, #8
    cmp     x2, #8
    b.hs    1b
2:  cbz     x2, 4f
3:  ldtrb   w3, [x1]
    strb    w3, [x0], #1
    add     x1, x1, #1
    subs    x2, x2, #1
    b.ne    3b
4:  mov     x0, x2
    ret
5:  mov     x0, x2
    ret
.pushsection .extable, "a"
.balign 8
    .quad   1b, 5b
    .quad   3b, 5b
.popsection

// x0 = user dst, x1 = kernel src, x2 = len; returns bytes not copied.
.global copy_to_user_asm
copy_to_user_asm:
    cmp     x2, #8
    b.lo    2f
1:  ldr     x3, [x1], #8
6:  sttr    x3, [x0]
    add     x0, x0, #8
    sub     x2, x2, #8
    cmp     x2, #8
    b.hs    1b
2:  cbz     x2, 4f
3:  ldrb    w3, [x1], #1
7:  sttrb   w3, [x0]
    add     x0, x0, #1
    subs    x2, x2, #1
    b.ne    3b
4:  mov     x0, x2
    ret
5:  mov     x0, x2
    ret
.pushsection .extable, "a"
.balign 8
    .quad   6b, 5b
    .quad   7b, 5b
.popsection
"#
);

/// A user access failed: the range was outside user space or not mapped for the access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadUserAccess;

fn check_range(addr: u64, len: usize) -> Result<(), BadUserAccess> {
    let end = addr.checked_add(len as u64).ok_or(BadUserAccess)?;
    if end > USER_END {
        Err(BadUserAccess)
    } else {
        Ok(())
    }
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), BadUserAccess> {
    // SAFETY: `dst` is a valid, exclusively borrowed kernel buffer of that length.
    unsafe { copy_from_user_raw(dst.as_mut_ptr(), src, dst.len()) }
}

/// Copies `len` bytes from user address `src` to kernel memory at `dst`.
///
/// # Safety
/// `dst..dst + len` must be kernel memory the caller may write, not referenced by any Rust
/// reference for the duration of the call.
pub unsafe fn copy_from_user_raw(dst: *mut u8, src: u64, len: usize) -> Result<(), BadUserAccess> {
    check_range(src, len)?;
    // SAFETY: the caller vouches for the kernel side; the user side is accessed only with
    // unprivileged loads whose faults resume at the fix-up.
    let left = unsafe { copy_from_user_asm(dst, src, len) };
    if left == 0 {
        Ok(())
    } else {
        Err(BadUserAccess)
    }
}

/// Copies `src` to user address `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), BadUserAccess> {
    check_range(dst, src.len())?;
    // SAFETY: `src` is a valid kernel buffer; the user side is accessed only with
    // unprivileged stores whose faults resume at the fix-up.
    let left = unsafe { copy_to_user_asm(dst, src.as_ptr(), src.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(BadUserAccess)
    }
}
