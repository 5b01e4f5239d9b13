//! Memory management: the linear map, physical frames (owned handles), the kernel's and user
//! spaces' translation tables, device mappings, the kernel heap, kernel stacks, and copies to
//! and from user memory. The virtual address map itself is the architecture's
//! (`arch::layout`).
//!
//! Files, each importing only those before it: `linear` (address arithmetic), `frame`,
//! `paging` (kernel table, table memory), `user_table`, `mmio`, `kstack`, `heap`, `uaccess`.

#[allow(
    unsafe_code,
    reason = "frames are raw RAM, reached through the linear map"
)]
pub mod frame;
#[allow(unsafe_code, reason = "GlobalAlloc glue")]
pub mod heap;
pub mod kstack;
pub mod linear;
#[allow(unsafe_code, reason = "wraps fresh device mappings")]
pub mod mmio;
#[allow(
    unsafe_code,
    reason = "table memory, the boot window on the DTB and TTBR1 are raw memory"
)]
pub mod paging;
pub mod uaccess;
#[allow(
    unsafe_code,
    reason = "a user table owns frames by address and installs TTBR0"
)]
pub mod user_table;

use crate::arch::layout::LINEAR_SIZE;
use kcore::PhysRange;

/// The kernel heap gets this fraction of RAM, within the bounds below.
const HEAP_FRACTION: u64 = 16;
const HEAP_MIN: u64 = 1 << 20;
const HEAP_MAX: u64 = 16 << 20;
/// Most ranges kept out of the frame allocator.
const MAX_RESERVED: usize = 20;

/// Why memory could not be set up.
#[derive(Debug)]
pub enum MemoryInitError {
    /// No room for the frame bitmap.
    Frames(frame::FrameInitError),
    /// No room for the heap.
    Heap(heap::HeapInitError),
}

impl core::fmt::Display for MemoryInitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MemoryInitError::Frames(frame::FrameInitError::NoRoomForBitmap) => {
                f.write_str("no free RAM for the frame bitmap")
            }
            MemoryInitError::Frames(frame::FrameInitError::AlreadyInitialised) => {
                f.write_str("the frame allocator exists already")
            }
            MemoryInitError::Heap(_) => f.write_str("no contiguous RAM for the kernel heap"),
        }
    }
}

/// What the boot loader and firmware left in RAM, as the board found it.
#[derive(Clone, Copy, Debug)]
pub struct BootMemory<'a> {
    /// RAM ranges.
    pub ram: &'a [PhysRange],
    /// Ranges firmware reserved.
    pub reserved: &'a [PhysRange],
    /// The device tree blob.
    pub dtb: PhysRange,
    /// The initial ramdisk, if the loader passed one.
    pub initrd: Option<PhysRange>,
}

/// What [`init_allocators`] kept for the kernel from the boot loader's memory.
#[derive(Clone, Copy, Debug, Default)]
pub struct BootModules {
    /// The initial ramdisk's bytes: RAM the frame allocator never hands out, read-only.
    pub initrd: Option<&'static [u8]>,
}

/// Sets up the frame allocator and the heap, after the kernel table is live, keeping the
/// image, the device tree, the initrd and firmware reservations out of the allocator.
/// An initrd outside RAM is left alone (and reported): its bytes are not reachable.
pub fn init_allocators(boot: &BootMemory<'_>) -> Result<BootModules, MemoryInitError> {
    let (image_start, image_end) = paging::image_phys_range();
    let initrd = boot.initrd.filter(|initrd| {
        let in_ram = initrd.end() <= LINEAR_SIZE
            && boot.ram.iter().any(|ram| ram.contains_range(initrd));
        if !in_ram {
            log::error!(target: "mm", "initrd {:#x}+{:#x} is not in RAM; ignored", initrd.base, initrd.size);
        }
        in_ram
    });
    let mut reserved = [PhysRange::default(); MAX_RESERVED];
    let mut count = 0;
    let image = PhysRange::new(
        image_start.as_u64(),
        image_end.as_u64() - image_start.as_u64(),
    );
    let firmware = boot.reserved.iter().copied();
    for range in [image, boot.dtb].into_iter().chain(initrd).chain(firmware) {
        match reserved.get_mut(count) {
            Some(slot) => {
                *slot = range;
                count += 1;
            }
            None => {
                log::warn!(target: "mm", "more than {MAX_RESERVED} reserved ranges; {:#x}+{:#x} not kept", range.base, range.size)
            }
        }
    }
    frame::init(boot.ram, &reserved[..count]).map_err(MemoryInitError::Frames)?;
    let ram: u64 = boot.ram.iter().map(|r| r.size).sum();
    heap::init((ram / HEAP_FRACTION).clamp(HEAP_MIN, HEAP_MAX) as usize)
        .map_err(MemoryInitError::Heap)?;
    let initrd = initrd.map(|range| {
        let base = linear::phys_to_virt(kcore::PhysAddr(range.base)).as_u64() as *const u8;
        // SAFETY: the range lies in RAM below LINEAR_SIZE (checked above), so the linear map
        // covers it; `frame::init` reserved it, so it is never handed out as frames, and the
        // kernel never writes it: the bytes stay as the loader left them for good. `init`
        // refuses to run twice, so this is the only slice over them.
        #[allow(unsafe_code, reason = "the reserved initrd, read-only for good")]
        unsafe {
            core::slice::from_raw_parts(base, range.size as usize)
        }
    });
    Ok(BootModules { initrd })
}
