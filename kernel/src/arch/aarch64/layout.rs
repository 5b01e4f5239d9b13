//! The kernel's virtual address map (39-bit VA, 4 KiB granule, TTBR1 = upper half).
//!
//! ```text
//! 0xFFFF_FF80_0000_0000  LINEAR_BASE   linear map of RAM: va = LINEAR_BASE + pa   (256 GiB)
//! 0xFFFF_FFC0_0000_0000  KSTACK_BASE   kernel stacks, each with an unmapped guard page below
//! 0xFFFF_FFE0_0000_0000  MMIO_BASE     device mappings (ioremap)
//! 0xFFFF_FFFF_8000_0000  KIMAGE_BASE   the kernel image (linker/kernel.ld)
//! 0xFFFF_FFFF_A000_0000  FDT_BOOT_VA   boot-time window on the device tree (2 x 2 MiB)
//! ```

/// Start of the linear map of physical memory.
pub const LINEAR_BASE: u64 = 0xFFFF_FF80_0000_0000;
/// Size of the linear-map window: physical addresses below this are mappable.
pub const LINEAR_SIZE: u64 = 0x40_0000_0000;
/// Start of the kernel stack area.
pub const KSTACK_BASE: u64 = 0xFFFF_FFC0_0000_0000;
/// Size of the kernel stack area.
pub const KSTACK_AREA_SIZE: u64 = 0x20_0000_0000;
/// Start of the device mapping area.
pub const MMIO_BASE: u64 = 0xFFFF_FFE0_0000_0000;
/// Size of the device mapping area.
pub const MMIO_AREA_SIZE: u64 = 0x10_0000_0000;
/// Where the kernel image is linked (must match linker/kernel.ld).
pub const KIMAGE_BASE: u64 = 0xFFFF_FFFF_8000_0000;
/// Boot-time window on the device tree blob, mapped by the boot code.
pub const FDT_BOOT_VA: u64 = 0xFFFF_FFFF_A000_0000;
/// Largest device tree we accept (the arm64 boot protocol's limit).
pub const FDT_MAX_SIZE: u64 = 2 * 1024 * 1024;
/// 2 MiB, the block size the boot code maps with.
pub const BLOCK_2M: u64 = 2 * 1024 * 1024;
/// log2 of a kernel stack's size: the vector code tests this bit of SP to detect overflow.
pub const KSTACK_SHIFT: u32 = 15;
/// Bytes of a kernel stack (32 KiB). Each sits at the top of a slot twice this size whose
/// lower half is an unmapped guard.
pub const KSTACK_SIZE: u64 = 1 << KSTACK_SHIFT;

/// First address above user space (TTBR0 covers [0, 2^39)).
pub const USER_END: u64 = 1 << 39;
/// Lowest address a user mapping may use (page 0 stays unmapped to catch null pointers).
pub const USER_START: u64 = 0x1_0000;
/// Top of the main thread's stack.
pub const USER_STACK_TOP: u64 = 0x7F_FF00_0000;
/// Reserved span below each user stack top (the stack may grow this far).
pub const USER_STACK_SIZE: u64 = 1 << 20;
/// Where `mmap` without a fixed address places mappings.
pub const USER_MMAP_BASE: u64 = 0x10_0000_0000;
/// End of the `mmap` area (thread stacks are mmapped too).
pub const USER_MMAP_END: u64 = 0x70_0000_0000;
