//! CPU control: interrupt masking, waiting, identification, the counter and TLB maintenance.

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{
    CNTFRQ_EL0, CNTVCT_EL0, DAIF, ID_AA64MMFR0_EL1, ID_AA64MMFR1_EL1, MIDR_EL1, Readable,
    SCTLR_EL1, Writeable,
};
use core::arch::asm;

/// Saved interrupt mask state, restored by [`irq_restore`].
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct IrqState(u64);

/// Masks IRQs and returns the previous state.
pub fn irq_save_disable() -> IrqState {
    let state = IrqState(DAIF.get());
    // SAFETY: setting DAIF.I only masks IRQs on this CPU; it cannot break memory safety.
    unsafe { asm!("msr daifset, #2", options(nomem, nostack, preserves_flags)) };
    state
}

/// Restores the IRQ mask saved by [`irq_save_disable`].
pub fn irq_restore(state: IrqState) {
    DAIF.set(state.0);
}

/// Unmasks IRQs.
pub fn irq_enable() {
    // SAFETY: clearing DAIF.I lets IRQs in; handlers are installed before this is called.
    unsafe { asm!("msr daifclr, #2", options(nomem, nostack, preserves_flags)) };
}

/// Sleeps until an interrupt (or event) arrives.
pub fn wait_for_interrupt() {
    aarch64_cpu::asm::wfi();
}

/// Parks this CPU forever with interrupts masked.
pub fn halt() -> ! {
    let _ = irq_save_disable();
    loop {
        aarch64_cpu::asm::wfe();
    }
}

/// The virtual counter (CNTVCT_EL0), read after an ISB so it is not speculated early.
pub fn counter() -> u64 {
    barrier::isb(barrier::SY);
    CNTVCT_EL0.get()
}

/// Counter frequency in Hz (CNTFRQ_EL0, set by firmware).
pub fn counter_frequency() -> u64 {
    CNTFRQ_EL0.get()
}

/// A name for the CPU core, from MIDR_EL1.
pub fn cpu_name() -> &'static str {
    let midr = MIDR_EL1.get();
    let implementer = (midr >> 24) & 0xFF;
    let part = (midr >> 4) & 0xFFF;
    match (implementer, part) {
        (0x41, 0xD03) => "cortex-a53",
        (0x41, 0xD04) => "cortex-a35",
        (0x41, 0xD05) => "cortex-a55",
        (0x41, 0xD07) => "cortex-a57",
        (0x41, 0xD08) => "cortex-a72",
        (0x41, 0xD09) => "cortex-a73",
        (0x41, 0xD0B) => "cortex-a76",
        (0x41, 0xD0C) => "neoverse-n1",
        _ => "unknown",
    }
}

/// Invalidates the TLB entries of every ASID for the kernel pages in [va, va + size), on all
/// CPUs: `dsb ishst; tlbi vaae1is; dsb ish; isb`.
pub fn flush_tlb_kernel_range(va: u64, size: u64) {
    barrier::dsb(barrier::ISHST);
    let mut page = va & !0xFFF;
    while page < va.saturating_add(size) {
        // SAFETY: TLB invalidation has no memory-safety effect of its own.
        unsafe {
            asm!("tlbi vaae1is, {}", in(reg) (page >> 12) & 0xFFF_FFFF_FFFF, options(nostack))
        };
        page += 0x1000;
    }
    barrier::dsb(barrier::ISH);
    barrier::isb(barrier::SY);
}

/// Invalidates one user page's TLB entries for `asid` on all CPUs.
pub fn flush_tlb_user_page(va: u64, asid: u16) {
    barrier::dsb(barrier::ISHST);
    let operand = ((va >> 12) & 0xFFF_FFFF_FFFF) | (u64::from(asid) << 48);
    // SAFETY: TLB invalidation has no memory-safety effect of its own.
    unsafe { asm!("tlbi vae1is, {}", in(reg) operand, options(nostack)) };
    barrier::dsb(barrier::ISH);
    barrier::isb(barrier::SY);
}

/// Invalidates every TLB entry tagged with `asid` on all CPUs (before the ASID is reused).
pub fn flush_tlb_asid(asid: u16) {
    barrier::dsb(barrier::ISHST);
    // SAFETY: TLB invalidation has no memory-safety effect of its own.
    unsafe { asm!("tlbi aside1is, {}", in(reg) u64::from(asid) << 48, options(nostack)) };
    barrier::dsb(barrier::ISH);
    barrier::isb(barrier::SY);
}

/// Turns on Privileged Access Never when the CPU has it (FEAT_PAN): from then on a plain
/// kernel load or store to a user page faults, and every exception entry re-arms it
/// (SCTLR_EL1.SPAN = 0). User copies use LDTR/STTR, which PAN does not affect. Returns
/// whether PAN is on.
pub fn enable_pan() -> bool {
    if (ID_AA64MMFR1_EL1.get() >> 20) & 0xF == 0 {
        return false;
    }
    const SCTLR_SPAN: u64 = 1 << 23;
    SCTLR_EL1.set(SCTLR_EL1.get() & !SCTLR_SPAN);
    // SAFETY: `msr pan, #1` (encoded for assemblers without the PAN extension) only stops
    // privileged access to user pages, which the kernel never makes outside LDTR/STTR.
    unsafe { asm!(".inst 0xd500419f", "isb", options(nostack)) };
    true
}

/// ASID width in bits (8 or 16), as TCR_EL1.AS was set by the boot code.
pub fn asid_bits() -> u8 {
    if (ID_AA64MMFR0_EL1.get() >> 4) & 0xF == 0b0010 {
        16
    } else {
        8
    }
}

/// Invalidates every TLB entry on all CPUs.
pub fn flush_tlb_all() {
    barrier::dsb(barrier::ISHST);
    // SAFETY: TLB invalidation has no memory-safety effect of its own.
    unsafe { asm!("tlbi vmalle1is", options(nostack)) };
    barrier::dsb(barrier::ISH);
    barrier::isb(barrier::SY);
}

/// Makes page-table writes visible to the table walker before they are used.
pub fn publish_table_writes() {
    barrier::dsb(barrier::ISHST);
    barrier::isb(barrier::SY);
}

/// Installs a new kernel (TTBR1) translation table root and flushes the TLB.
///
/// # Safety
/// `root_pa` must be a complete translation table that maps the running kernel's code,
/// data, stack and everything else it will touch, at the addresses it uses now.
pub unsafe fn switch_kernel_table(root_pa: u64) {
    barrier::dsb(barrier::ISHST);
    // SAFETY: the caller guarantees the new table maps everything in use.
    unsafe { asm!("msr ttbr1_el1, {}", "isb", in(reg) root_pa, options(nostack)) };
    flush_tlb_all();
}

/// Installs a user translation table (TTBR0) with its ASID. `None` disables TTBR0 walks
/// by installing an empty table root.
///
/// # Safety
/// `root_pa` must be a valid translation table root (or an all-invalid table).
pub unsafe fn switch_user_table(root_pa: u64, asid: u16) {
    let ttbr0 = root_pa | (u64::from(asid) << 48);
    // SAFETY: the caller guarantees a valid table; the kernel itself runs from TTBR1.
    unsafe { asm!("msr ttbr0_el1, {}", "isb", in(reg) ttbr0, options(nostack)) };
}

/// The current frame pointer (x29), for backtraces.
pub fn frame_pointer() -> u64 {
    let fp: u64;
    // SAFETY: reading x29 has no side effects.
    unsafe { asm!("mov {}, x29", out(reg) fp, options(nomem, nostack, preserves_flags)) };
    fp
}
