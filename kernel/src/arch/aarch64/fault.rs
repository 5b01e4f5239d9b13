//! Recoverable kernel accesses: instructions that may fault on purpose (probing an address,
//! copying from user memory) list a fix-up address in the `.extable` section. When such an
//! instruction faults, the synchronous exception handler resumes at the fix-up instead of
//! treating the fault as a kernel bug, and records the syndrome for the caller.

use core::sync::atomic::{AtomicU64, Ordering};

/// One `.extable` entry: the instruction that may fault and where to resume.
#[repr(C)]
struct ExtableEntry {
    insn: u64,
    fixup: u64,
}

/// The syndrome and address of a fault that a fix-up recovered from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultInfo {
    /// ESR_EL1 at the fault.
    pub esr: u64,
    /// FAR_EL1 at the fault.
    pub far: u64,
}

static LAST_FIXUP_ESR: AtomicU64 = AtomicU64::new(0);
static LAST_FIXUP_FAR: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" {
    static __extable_start: ExtableEntry;
    static __extable_end: ExtableEntry;
    /// Loads the u64 at `addr` into `*out`; returns 0, or 1 if the load faulted.
    fn probe_read_u64_asm(addr: u64, out: *mut u64) -> u64;
}

core::arch::global_asm!(
    r#"
.text
.global probe_read_u64_asm
probe_read_u64_asm:
1:  ldr     x2, [x0]
    str     x2, [x1]
    mov     x0, #0
    ret
2:  mov     x0, #1
    ret
.pushsection .extable, "a"
.balign 8
    .quad   1b, 2b
.popsection
"#
);

fn extable() -> &'static [ExtableEntry] {
    // SAFETY: the linker script places only ExtableEntry records (pairs of u64 emitted by
    // the asm above and in usercopy) between these two symbols, in read-only data.
    unsafe {
        let start = &raw const __extable_start;
        let end = &raw const __extable_end;
        let count = (end as usize - start as usize) / core::mem::size_of::<ExtableEntry>();
        core::slice::from_raw_parts(start, count)
    }
}

/// The fix-up address for a faulting instruction, if it has one; records the fault.
pub(super) fn fixup_for(elr: u64, esr: u64, far: u64) -> Option<u64> {
    let entry = extable().iter().find(|e| e.insn == elr)?;
    LAST_FIXUP_ESR.store(esr, Ordering::Relaxed);
    LAST_FIXUP_FAR.store(far, Ordering::Relaxed);
    Some(entry.fixup)
}

/// Reads a u64 at any kernel virtual address without risking a fatal fault: an unmapped
/// or inaccessible address gives `Err` with the fault's syndrome.
pub fn probe_read_u64(addr: u64) -> Result<u64, FaultInfo> {
    if !addr.is_multiple_of(8) {
        return Err(FaultInfo { esr: 0, far: addr });
    }
    let mut value = 0u64;
    // SAFETY: the asm reads through a possibly bad pointer, but a fault there resumes at its
    // fix-up (listed in .extable); `out` points at a live local.
    let failed = unsafe { probe_read_u64_asm(addr, &raw mut value) };
    if failed == 0 {
        Ok(value)
    } else {
        Err(FaultInfo {
            esr: LAST_FIXUP_ESR.load(Ordering::Relaxed),
            far: LAST_FIXUP_FAR.load(Ordering::Relaxed),
        })
    }
}
