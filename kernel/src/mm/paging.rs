//! The kernel's translation tables (TTBR1) and the raw-memory glue behind them: table pages
//! reached through the linear map (or, before it exists, through the image mapping), the
//! boot-time window on the device tree, and device mappings (`ioremap`).

use crate::arch::cpu;
use crate::arch::layout::{
    FDT_BOOT_VA, FDT_MAX_SIZE, KIMAGE_BASE, LINEAR_BASE, LINEAR_SIZE, MMIO_AREA_SIZE, MMIO_BASE,
};
use crate::sync::IrqSafeMutex;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use kcore::pagetable::{Attrs, MapError, PageTable, TableMemory};
use kcore::{PAGE_SIZE, PhysAddr, VirtAddr};

const PAGE: u64 = PAGE_SIZE as u64;
/// Table pages available before the frame allocator exists.
const BOOT_POOL_PAGES: usize = 32;

#[repr(C, align(4096))]
struct BootPool(UnsafeCell<[[u64; 512]; BOOT_POOL_PAGES]>);
// SAFETY: pages are handed out once each (BOOT_POOL_NEXT is atomic) and then only reached
// through the table-memory accessors while the kernel table lock is held.
unsafe impl Sync for BootPool {}

static BOOT_POOL: BootPool = BootPool(UnsafeCell::new([[0; 512]; BOOT_POOL_PAGES]));
static BOOT_POOL_NEXT: AtomicUsize = AtomicUsize::new(0);
/// Physical address the image was loaded at.
static LOAD_PA: AtomicU64 = AtomicU64::new(0);
/// Set once the final tables (with the linear map) are live.
static LINEAR_READY: AtomicBool = AtomicBool::new(false);
static KERNEL_TABLE: IrqSafeMutex<Option<PageTable>> = IrqSafeMutex::new(None);
static NEXT_MMIO_VA: AtomicU64 = AtomicU64::new(MMIO_BASE);

/// The kernel virtual address of RAM at `pa`, in the linear map.
pub fn phys_to_virt(pa: PhysAddr) -> VirtAddr {
    VirtAddr(LINEAR_BASE + pa.as_u64())
}

/// The physical address of a kernel image address.
pub fn kimage_to_phys(va: u64) -> PhysAddr {
    PhysAddr(va - KIMAGE_BASE + LOAD_PA.load(Ordering::Relaxed))
}

/// Where table memory is reached: the image mapping until the linear map is live.
fn table_va(pa: PhysAddr) -> u64 {
    if LINEAR_READY.load(Ordering::Acquire) {
        phys_to_virt(pa).as_u64()
    } else {
        pa.as_u64() - LOAD_PA.load(Ordering::Relaxed) + KIMAGE_BASE
    }
}

/// The next unused boot pool page (zeroed: .bss is cleared by the boot code).
fn take_pool_page() -> Option<PhysAddr> {
    let index = BOOT_POOL_NEXT.fetch_add(1, Ordering::Relaxed);
    if index >= BOOT_POOL_PAGES {
        return None;
    }
    Some(kimage_to_phys(
        BOOT_POOL.0.get() as u64 + (index as u64) * PAGE,
    ))
}

/// Table memory for kernel tables: boot pool pages until the frame allocator exists.
pub struct KernelTableMemory;

impl TableMemory for KernelTableMemory {
    fn alloc_table(&mut self) -> Option<PhysAddr> {
        // Frames once the allocator exists; until then (early device mappings) the pool.
        super::frame::alloc_zeroed().or_else(take_pool_page)
    }

    fn free_table(&mut self, table: PhysAddr) {
        let pool_start = kimage_to_phys(BOOT_POOL.0.get() as u64);
        let in_pool = table >= pool_start
            && table.as_u64() < pool_start.as_u64() + BOOT_POOL_PAGES as u64 * PAGE;
        if !in_pool {
            super::frame::free(table);
        }
    }

    fn read_entry(&self, table: PhysAddr, index: usize) -> u64 {
        let ptr = (table_va(table) as *const u64).wrapping_add(index % 512);
        // SAFETY: `table` is a table page the mapper owns, mapped (image or linear map) at
        // table_va; the index is reduced to the page's 512 entries.
        unsafe { ptr.read_volatile() }
    }

    fn write_entry(&mut self, table: PhysAddr, index: usize, value: u64) {
        let ptr = (table_va(table) as *mut u64).wrapping_add(index % 512);
        // SAFETY: as in read_entry; the caller holds the kernel table lock.
        unsafe { ptr.write_volatile(value) };
    }
}

/// The device tree blob through the window the boot code mapped, up to its header size.
pub fn boot_fdt_window(dtb_pa: u64) -> Option<&'static [u8]> {
    let offset = dtb_pa % crate::arch::layout::BLOCK_2M;
    if dtb_pa == 0 || !dtb_pa.is_multiple_of(8) {
        return None;
    }
    let window = (2 * crate::arch::layout::BLOCK_2M - offset).min(FDT_MAX_SIZE) as usize;
    let base = (FDT_BOOT_VA + offset) as *const u8;
    // SAFETY: the boot code mapped two 2 MiB blocks from the DTB's block at FDT_BOOT_VA, so
    // `window` bytes from `base` are mapped read-only normal memory for the whole boot.
    let header = unsafe { core::slice::from_raw_parts(base, 8) };
    let total = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    // SAFETY: as above; `total` is clamped to the mapped window.
    Some(unsafe { core::slice::from_raw_parts(base, total.min(window)) })
}

/// The kernel image sections, for W^X mapping.
struct ImageLayout {
    text: (u64, u64),
    rodata: (u64, u64),
    data: (u64, u64),
    boot_stack: (u64, u64),
}

unsafe extern "C" {
    static __kernel_start: u8;
    static __text_end: u8;
    static __rodata_end: u8;
    static __bss_end: u8;
    static __boot_stack_bottom: u8;
    static __boot_stack_top: u8;
    static __kernel_end: u8;
}

fn image_layout() -> ImageLayout {
    let addr = |sym: *const u8| sym as u64;
    ImageLayout {
        text: (addr(&raw const __kernel_start), addr(&raw const __text_end)),
        rodata: (addr(&raw const __text_end), addr(&raw const __rodata_end)),
        data: (
            addr(&raw const __rodata_end),
            addr(&raw const __bss_end).next_multiple_of(PAGE),
        ),
        boot_stack: (
            addr(&raw const __boot_stack_bottom),
            addr(&raw const __boot_stack_top),
        ),
    }
}

/// Physical range of the whole kernel image, .bss and boot stack included.
pub fn image_phys_range() -> (PhysAddr, PhysAddr) {
    let start = addr_of_start();
    let end = &raw const __kernel_end as u64;
    (kimage_to_phys(start), kimage_to_phys(end))
}

fn addr_of_start() -> u64 {
    &raw const __kernel_start as u64
}

/// Builds the final kernel table: the linear map of `ram` (read-only over the image's text
/// and rodata), the image with W^X per section and a guard page under the boot stack; then
/// switches TTBR1 to it and retires the boot identity map.
pub fn init_kernel_table(load_pa: u64, ram: &[crate::board::Range]) -> Result<(), MapError> {
    LOAD_PA.store(load_pa, Ordering::Relaxed);
    let mem = &mut KernelTableMemory;
    let mut table = PageTable::new_upper(mem)?;
    for range in ram {
        let start = range.base.next_multiple_of(PAGE);
        let end = range.end().min(LINEAR_SIZE) & !(PAGE - 1);
        if end > start {
            table.map(
                mem,
                phys_to_virt(PhysAddr(start)),
                PhysAddr(start),
                end - start,
                Attrs::KERNEL_RW,
                true,
            )?;
        }
    }
    let image = image_layout();
    let (text_start, rodata_end) = (image.text.0, image.rodata.1);
    table.protect(
        mem,
        phys_to_virt(kimage_to_phys(text_start)),
        rodata_end - text_start,
        Attrs::KERNEL_RO,
    )?;
    for ((start, end), attrs) in [
        (image.text, Attrs::KERNEL_RX),
        (image.rodata, Attrs::KERNEL_RO),
        (image.data, Attrs::KERNEL_RW),
        (image.boot_stack, Attrs::KERNEL_RW),
    ] {
        table.map(
            mem,
            VirtAddr(start),
            kimage_to_phys(start),
            end - start,
            attrs,
            false,
        )?;
    }
    let empty_user_root = mem.alloc_table().ok_or(MapError::NoMemory)?;
    // SAFETY: the new table maps the image (code, data, the boot stack we run on) at the
    // addresses in use, and the DTB has been copied out of its boot window.
    unsafe { cpu::switch_kernel_table(table.root().as_u64()) };
    // SAFETY: an all-invalid table: user addresses fault until a process installs its own.
    unsafe { cpu::switch_user_table(empty_user_root.as_u64(), 0) };
    LINEAR_READY.store(true, Ordering::Release);
    *KERNEL_TABLE.lock() = Some(table);
    Ok(())
}

/// Maps [va, va+size) to [pa, pa+size) in the kernel table.
pub fn map_kernel(va: VirtAddr, pa: PhysAddr, size: u64, attrs: Attrs) -> Result<(), MapError> {
    let mut guard = KERNEL_TABLE.lock();
    let table = guard.as_mut().ok_or(MapError::NoMemory)?;
    table.map(&mut KernelTableMemory, va, pa, size, attrs, false)?;
    cpu::publish_table_writes();
    Ok(())
}

/// Unmaps [va, va+size) from the kernel table and invalidates the TLB for it.
pub fn unmap_kernel(va: VirtAddr, size: u64) -> Result<(), MapError> {
    let mut guard = KERNEL_TABLE.lock();
    let table = guard.as_mut().ok_or(MapError::NoMemory)?;
    table.unmap(&mut KernelTableMemory, va, size)?;
    cpu::flush_tlb_kernel_range(va.as_u64(), size);
    Ok(())
}

/// The physical address and attributes `va` maps to in the kernel table.
pub fn translate_kernel(va: VirtAddr) -> Option<(PhysAddr, Attrs)> {
    KERNEL_TABLE
        .lock()
        .as_ref()?
        .translate(&KernelTableMemory, va)
}

/// Maps a device's registers and returns their virtual address.
pub fn ioremap(pa: u64, size: u64) -> Result<VirtAddr, MapError> {
    let start = pa & !(PAGE - 1);
    let len = (pa - start + size).next_multiple_of(PAGE);
    let va = NEXT_MMIO_VA.fetch_add(len, Ordering::Relaxed);
    if va + len > MMIO_BASE + MMIO_AREA_SIZE {
        return Err(MapError::NoMemory);
    }
    map_kernel(VirtAddr(va), PhysAddr(start), len, Attrs::DEVICE)?;
    Ok(VirtAddr(va + (pa - start)))
}

/// A RAM range as a mutable slice of words in the linear map.
///
/// # Safety
/// [pa, pa + words * 8) must be RAM that nothing else uses for the rest of the program.
pub unsafe fn linear_words_mut(pa: PhysAddr, words: usize) -> &'static mut [u64] {
    let ptr = phys_to_virt(pa).as_u64() as *mut u64;
    // SAFETY: the caller hands over exclusive use of this RAM; the linear map covers it.
    unsafe { core::slice::from_raw_parts_mut(ptr, words) }
}

/// The initial ramdisk's bytes, through the linear map.
pub fn initrd_slice(base: u64, size: u64) -> &'static [u8] {
    let ptr = phys_to_virt(PhysAddr(base)).as_u64() as *const u8;
    // SAFETY: the initrd range is RAM reserved in the frame allocator for the kernel's whole
    // life and never written, and the linear map covers it.
    unsafe { core::slice::from_raw_parts(ptr, size as usize) }
}

/// Zeroes one page of RAM through the linear map.
pub fn zero_frame(pa: PhysAddr) {
    let ptr = phys_to_virt(pa).as_u64() as *mut u8;
    // SAFETY: `pa` is a frame the caller just took from the frame allocator, so no one
    // else refers to it; the linear map covers all RAM.
    unsafe { core::ptr::write_bytes(ptr, 0, PAGE_SIZE) };
}

/// Copies `data` into the frame at `pa`, starting `offset` bytes in; stops at the frame's end.
pub fn write_phys(pa: PhysAddr, offset: usize, data: &[u8]) {
    let len = data.len().min(PAGE_SIZE.saturating_sub(offset));
    let dst = (phys_to_virt(pa).as_u64() as usize + offset) as *mut u8;
    // SAFETY: [offset, offset + len) lies inside the frame, which the caller owns; the
    // linear map covers all RAM and `data` is a separate kernel buffer.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), dst, len) };
}

/// Runs `f` on bytes [offset, offset + len) of the frame at `pa` (clamped to the frame).
pub fn with_frame_bytes_mut<R>(
    pa: PhysAddr,
    offset: usize,
    len: usize,
    f: impl FnOnce(&mut [u8]) -> R,
) -> R {
    let offset = offset.min(PAGE_SIZE);
    let len = len.min(PAGE_SIZE - offset);
    let ptr = (phys_to_virt(pa).as_u64() as usize + offset) as *mut u8;
    // SAFETY: the range lies inside the frame, which the caller owns and nothing else writes
    // while `f` runs (the kernel is single-CPU with IRQs masked in system calls); the slice
    // does not outlive the call.
    let bytes = unsafe { core::slice::from_raw_parts_mut(ptr, len) };
    f(bytes)
}
