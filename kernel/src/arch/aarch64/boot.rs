//! Entry from the boot loader: the arm64 Linux `Image` header and the position-independent
//! early code that runs with the MMU off (Documentation/arch/arm64/booting.rst).
//!
//! The loader enters `_start` at EL2 or EL1 with the MMU off and the device tree's physical
//! address in x0, the image at any 2 MiB-aligned address. The code here saves x0, parks
//! secondary cores, drops from EL2 to EL1, zeroes .bss, builds three boot tables (an identity
//! map of the GiB it runs in, the kernel image and a window on the DTB in the upper half),
//! enables the MMU and jumps to `kernel_main` at its link address. With the MMU off all memory
//! is Device memory, so this code does only aligned, non-SIMD stores.

use crate::arch::layout::{BLOCK_2M, FDT_BOOT_VA, KIMAGE_BASE};
use kcore::pagetable::MAIR_EL1_VALUE;

/// Descriptor for a 2 MiB or 1 GiB block of normal, inner-shareable, accessed memory.
const BOOT_BLOCK_NORMAL: u64 = 0b01 | (1 << 2) | (0b11 << 8) | (1 << 10);
/// Same, never executable (PXN | UXN).
const BOOT_BLOCK_NORMAL_XN: u64 = BOOT_BLOCK_NORMAL | (1 << 53) | (1 << 54);
/// Table descriptor type bits.
const DESC_TABLE: u64 = 0b11;
/// SCTLR_EL1 with the MMU and caches off and every RES1 bit set.
const SCTLR_EL1_MMU_OFF: u64 = 0x30D0_0800;
/// SCTLR_EL1 bits set when enabling: M (MMU), C (data cache), SA and SA0 (stack alignment
/// checks at EL1 and EL0), I (instruction cache); WXN stays clear (W^X comes from the tables).
const SCTLR_EL1_ENABLE: u64 = (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 12);
/// TCR_EL1: T0SZ = T1SZ = 25 (39-bit), 4 KiB granules, inner-shareable write-back walks.
/// IPS and AS are filled in at boot from ID_AA64MMFR0_EL1.
const TCR_EL1_BASE: u64 = 25
    | (1 << 8)
    | (1 << 10)
    | (0b11 << 12)
    | (25 << 16)
    | (1 << 24)
    | (1 << 26)
    | (0b11 << 28)
    | (0b10 << 30);
/// HCR_EL2.RW: EL1 is AArch64.
const HCR_EL2_RW: u64 = 1 << 31;
/// CPTR_EL2 with its RES1 bits and no FP/SIMD trap.
const CPTR_EL2_NO_TRAPS: u64 = 0x33FF;
/// SPSR for the eret to EL1h with D, A, I and F masked.
const SPSR_EL1H_MASKED: u64 = 0x3C5;
/// CPACR_EL1.FPEN = 0b11: FP/SIMD usable at EL0 and EL1 (the kernel saves user FP state
/// on context switch; the kernel itself is built softfloat and never touches those registers).
const CPACR_EL1_FPEN: u64 = 0b11 << 20;

core::arch::global_asm!(
    r#"
.section .text.head, "ax"
.global _start
_start:
    b       primary_entry           // code0
    .long   0                       // code1
    .quad   0                       // text_offset
    .quad   __kernel_image_size     // image_size, including .bss and the boot stack
    .quad   0xA                     // flags: little endian, 4 KiB pages, anywhere in RAM
    .quad   0, 0, 0                 // res2..res4
    .ascii  "ARM\x64"               // magic
    .long   0                       // res5

.section .text.boot, "ax"
primary_entry:
    mov     x19, x0                 // x19 = DTB physical address, kept until kernel_main
    adr     x21, _start             // x21 = physical load address of the image
    mrs     x0, mpidr_el1
    and     x0, x0, #0xFFFFFF
    cbnz    x0, park                // only the boot CPU (affinity 0.0.0) continues

    mrs     x20, CurrentEL
    lsr     x20, x20, #2            // x20 = exception level we were entered at
    cmp     x20, #1
    b.eq    at_el1
    cmp     x20, #2
    b.ne    park                    // EL3 entry is not supported

    // At EL2: make EL1 AArch64, give it the timers and GIC system registers, drop to EL1h.
    ldr     x0, ={hcr}
    msr     hcr_el2, x0
    mrs     x0, cnthctl_el2
    orr     x0, x0, #3              // EL1PCTEN | EL1PCEN
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr
    mrs     x0, id_aa64pfr0_el1
    ubfx    x0, x0, #24, #4         // GIC system register interface present?
    cbz     x0, 1f
    mrs     x0, S3_4_C12_C9_5       // ICC_SRE_EL2
    orr     x0, x0, #0x1            // SRE
    orr     x0, x0, #0x8            // Enable (lower ELs may use SRE)
    msr     S3_4_C12_C9_5, x0
    isb
1:  ldr     x0, ={cptr}
    msr     cptr_el2, x0
    msr     hstr_el2, xzr
    msr     vttbr_el2, xzr
    ldr     x0, ={sctlr_off}
    msr     sctlr_el1, x0
    ldr     x0, ={spsr}
    msr     spsr_el2, x0
    adr     x0, at_el1
    msr     elr_el2, x0
    eret

at_el1:
    msr     daifset, #0xf
    msr     spsel, #1
    ldr     x0, ={sctlr_off}
    msr     sctlr_el1, x0
    isb
    ldr     x0, ={cpacr}
    msr     cpacr_el1, x0
    isb

    // Zero .bss (this includes the boot tables). 16-byte aligned stores only.
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
2:  cmp     x0, x1
    b.hs    3f
    stp     xzr, xzr, [x0], #16
    b       2b
3:
    // TTBR0: identity-map the GiB that holds the image, so the code keeps running after
    // the MMU goes on.
    adrp    x0, boot_l1_lo
    lsr     x1, x21, #30
    lsl     x2, x1, #30
    ldr     x3, ={block}
    orr     x2, x2, x3
    str     x2, [x0, x1, lsl #3]

    // TTBR1: one L1 slot -> boot_l2 holding the image (2 MiB blocks) and the DTB window.
    adrp    x0, boot_l1_hi
    adrp    x1, boot_l2
    orr     x2, x1, #{table}
    mov     x3, #{kimage_l1}
    str     x2, [x0, x3, lsl #3]
    ldr     x4, =__kernel_image_size
    ldr     x7, ={block_2m_minus_1}
    add     x4, x4, x7
    lsr     x4, x4, #21             // number of 2 MiB blocks in the image
    mov     x5, x21                 // next physical block
    mov     x6, #{kimage_l2}        // next L2 index
    ldr     x3, ={block}
4:  orr     x2, x5, x3
    str     x2, [x1, x6, lsl #3]
    add     x5, x5, #{block_2m}
    add     x6, x6, #1
    subs    x4, x4, #1
    b.ne    4b

    // The DTB window: the 2 MiB block holding the blob and the next one (read-only use).
    cbz     x19, 5f
    lsr     x5, x19, #21
    lsl     x5, x5, #21
    mov     x6, #{fdt_l2}
    ldr     x3, ={block_xn}
    orr     x2, x5, x3
    str     x2, [x1, x6, lsl #3]
    add     x5, x5, #{block_2m}
    add     x6, x6, #1
    orr     x2, x5, x3
    str     x2, [x1, x6, lsl #3]
5:
    // Throw away any stale cache lines over the image: it was just written with the
    // caches off, and the MMU-on view is cacheable.
    dsb     sy
    mrs     x0, ctr_el0
    ubfx    x0, x0, #16, #4
    mov     x1, #4
    lsl     x1, x1, x0              // x1 = smallest data cache line in bytes
    sub     x2, x1, #1
    bic     x0, x21, x2
    ldr     x3, =__kernel_image_size
    add     x3, x3, x21
6:  dc      ivac, x0
    add     x0, x0, x1
    cmp     x0, x3
    b.lo    6b
    dsb     sy

    // MAIR, TCR (with the CPU's physical address size and 16-bit ASIDs when available).
    ldr     x0, ={mair}
    msr     mair_el1, x0
    ldr     x0, ={tcr}
    mrs     x1, id_aa64mmfr0_el1
    and     x2, x1, #0x7
    bfi     x0, x2, #32, #3         // IPS = PARange
    ubfx    x2, x1, #4, #4
    cmp     x2, #2
    b.ne    7f
    orr     x0, x0, #(1 << 36)      // AS: 16-bit ASIDs
7:  msr     tcr_el1, x0
    adrp    x0, boot_l1_lo
    msr     ttbr0_el1, x0
    adrp    x0, boot_l1_hi
    msr     ttbr1_el1, x0
    isb
    tlbi    vmalle1
    ic      iallu
    dsb     nsh
    isb
    mrs     x0, sctlr_el1
    ldr     x1, ={sctlr_on}
    orr     x0, x0, x1
    msr     sctlr_el1, x0
    isb

    // Jump to the link address in the upper half.
    ldr     x0, =boot_high
    br      x0

park:
    wfe
    b       park

.text
boot_high:
    ldr     x0, =__boot_stack_top
    mov     sp, x0
    mov     x29, xzr                // end of the frame-pointer chain
    mov     x30, xzr
    ldr     x0, =exception_vectors
    msr     vbar_el1, x0
    isb
    mov     x0, x19
    mov     x1, x21
    mov     x2, x20
    bl      kernel_main
    b       park

.section .bss.boot_tables, "aw", @nobits
.balign 4096
boot_l1_lo: .space 4096
boot_l1_hi: .space 4096
boot_l2:    .space 4096
"#,
    hcr = const HCR_EL2_RW,
    cptr = const CPTR_EL2_NO_TRAPS,
    sctlr_off = const SCTLR_EL1_MMU_OFF,
    sctlr_on = const SCTLR_EL1_ENABLE,
    spsr = const SPSR_EL1H_MASKED,
    cpacr = const CPACR_EL1_FPEN,
    block = const BOOT_BLOCK_NORMAL,
    block_xn = const BOOT_BLOCK_NORMAL_XN,
    table = const DESC_TABLE,
    kimage_l1 = const (KIMAGE_BASE >> 30) & 0x1FF,
    kimage_l2 = const (KIMAGE_BASE >> 21) & 0x1FF,
    fdt_l2 = const (FDT_BOOT_VA >> 21) & 0x1FF,
    block_2m = const BLOCK_2M,
    block_2m_minus_1 = const BLOCK_2M - 1,
    mair = const MAIR_EL1_VALUE,
    tcr = const TCR_EL1_BASE,
);
