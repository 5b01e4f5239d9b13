//! The kernel's translation tables (TTBR1) and the table memory behind every table: table
//! pages are frames the tables own, reached through the linear map (or, before it exists,
//! pages of a pool in the image), the boot-time window on the device tree, kernel mappings of
//! owned frames, and device mappings (`ioremap`, for `mmio`).

use super::frame::Frame;
use super::linear::{kimage_to_phys, phys_to_kimage, phys_to_virt, set_load_address};
use crate::arch::cpu;
use crate::arch::layout::{
    BLOCK_2M, FDT_BOOT_VA, FDT_MAX_SIZE, LINEAR_SIZE, MMIO_AREA_SIZE, MMIO_BASE,
};
use crate::sync::IrqSafeMutex;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use kcore::pagetable::{Attrs, MapError, PageTable, TableMemory};
use kcore::{PAGE_SIZE, PhysAddr, PhysRange, VirtAddr};

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
/// Set once the final tables (with the linear map) are live.
static LINEAR_READY: AtomicBool = AtomicBool::new(false);
static KERNEL_TABLE: IrqSafeMutex<Option<PageTable>> = IrqSafeMutex::new(None);
static NEXT_MMIO_VA: AtomicU64 = AtomicU64::new(MMIO_BASE);
/// An all-invalid user table: TTBR0 while no user space is active (0 before boot made it).
static EMPTY_USER_ROOT: AtomicU64 = AtomicU64::new(0);
/// Most RAM ranges the linear map covers (the board records no more).
const MAX_RAM_RANGES: usize = 8;
/// The RAM the linear map covers: never mapped as a device.
static RAM: spin::Once<([PhysRange; MAX_RAM_RANGES], usize)> = spin::Once::new();

/// Where table memory is reached: the image mapping until the linear map is live.
fn table_va(pa: PhysAddr) -> u64 {
    if LINEAR_READY.load(Ordering::Acquire) {
        phys_to_virt(pa).as_u64()
    } else {
        phys_to_kimage(pa)
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

/// The memory behind every translation table (kernel and user): frames the tables own, or
/// boot pool pages before the frame allocator exists. It reads and writes table entries by
/// physical address, so only `mm` can make one; kcore's mapper hands it back only the table
/// pages it allocated through it (its `TableMemory` contract, tested on the host).
pub(super) struct KernelTableMemory {
    _only_in_mm: (),
}

impl KernelTableMemory {
    /// Access to table memory, for `mm`'s own tables.
    pub(super) fn new() -> Self {
        KernelTableMemory { _only_in_mm: () }
    }
}

impl TableMemory for KernelTableMemory {
    fn alloc_table(&mut self) -> Option<PhysAddr> {
        // Frames once the allocator exists; until then (early device mappings) the pool.
        // The table tree owns the frame from now on and gives it back in `free_table`.
        Frame::alloc_zeroed()
            .map(Frame::into_raw)
            .or_else(take_pool_page)
    }

    fn free_table(&mut self, table: PhysAddr) {
        let pool_start = kimage_to_phys(BOOT_POOL.0.get() as u64);
        let in_pool = table >= pool_start
            && table.as_u64() < pool_start.as_u64() + BOOT_POOL_PAGES as u64 * PAGE;
        if !in_pool {
            // SAFETY: kcore's mapper frees only table pages it got from `alloc_table`, which
            // are frames given up with `into_raw`; the page is no longer part of any table.
            drop(unsafe { Frame::from_raw(table) });
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

/// Runs `f` on the device tree blob through the window the boot code mapped (up to its
/// header's size). Only before the kernel table replaces the boot tables, which drops the
/// window: `None` after that, or for a DTB address that cannot be a blob.
pub fn with_boot_fdt<R>(dtb_pa: u64, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    let offset = dtb_pa % BLOCK_2M;
    if LINEAR_READY.load(Ordering::Acquire) || dtb_pa == 0 || !dtb_pa.is_multiple_of(8) {
        return None;
    }
    let window = (2 * BLOCK_2M - offset).min(FDT_MAX_SIZE) as usize;
    let base = (FDT_BOOT_VA + offset) as *const u8;
    // SAFETY: until the kernel table is installed (checked above) the boot code's two 2 MiB
    // blocks from the DTB's block at FDT_BOOT_VA are mapped read-only normal memory, so
    // `window` bytes from `base` are readable; nothing writes them.
    let header = unsafe { core::slice::from_raw_parts(base, 8) };
    let total = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    // SAFETY: as above; `total` is clamped to the mapped window, and the borrow ends with
    // `f`, before the window can go.
    Some(f(unsafe {
        core::slice::from_raw_parts(base, total.min(window))
    }))
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
pub fn init_kernel_table(load_pa: u64, ram: &[PhysRange]) -> Result<(), MapError> {
    if LINEAR_READY.load(Ordering::Acquire) {
        return Err(MapError::AlreadyMapped);
    }
    set_load_address(load_pa);
    RAM.call_once(|| {
        let mut ranges = [PhysRange::default(); MAX_RAM_RANGES];
        let count = ram.len().min(MAX_RAM_RANGES);
        ranges[..count].copy_from_slice(&ram[..count]);
        (ranges, count)
    });
    let mem = &mut KernelTableMemory::new();
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
    EMPTY_USER_ROOT.store(empty_user_root.as_u64(), Ordering::Relaxed);
    LINEAR_READY.store(true, Ordering::Release);
    *KERNEL_TABLE.lock() = Some(table);
    Ok(())
}

/// The all-invalid user table installed while no user space is active.
pub(super) fn empty_user_root() -> u64 {
    EMPTY_USER_ROOT.load(Ordering::Relaxed)
}

/// Maps [va, va+size) to [pa, pa+size) in the kernel table.
fn map_kernel(va: VirtAddr, pa: PhysAddr, size: u64, attrs: Attrs) -> Result<(), MapError> {
    let mut guard = KERNEL_TABLE.lock();
    let table = guard.as_mut().ok_or(MapError::NoMemory)?;
    table.map(&mut KernelTableMemory::new(), va, pa, size, attrs, false)?;
    cpu::publish_table_writes();
    Ok(())
}

/// Maps `frame` at kernel address `va` (one page, read/write, never executable); the
/// kernel table owns it until [`unmap_kernel_frame`]. On failure the frame is freed.
pub fn map_kernel_frame(va: VirtAddr, frame: Frame) -> Result<(), MapError> {
    let pa = frame.pa();
    map_kernel(va, pa, PAGE, Attrs::KERNEL_RW.owning())?;
    let _owned_by_the_table = frame.into_raw();
    Ok(())
}

/// Unmaps the page at kernel address `va`, invalidates its TLB entries, and returns its
/// frame if the mapping owned one (a frame from [`map_kernel_frame`]).
pub fn unmap_kernel_frame(va: VirtAddr) -> Result<Option<Frame>, MapError> {
    let mut guard = KERNEL_TABLE.lock();
    let table = guard.as_mut().ok_or(MapError::NoMemory)?;
    let mem = &mut KernelTableMemory::new();
    let Some((pa, attrs)) = table.translate(mem, va) else {
        return Ok(None);
    };
    table.unmap(mem, va, PAGE)?;
    cpu::flush_tlb_kernel_range(va.as_u64(), PAGE);
    if !attrs.owns_frame {
        return Ok(None);
    }
    // SAFETY: only `map_kernel_frame` maps with `owns_frame`, for a frame given up with
    // `into_raw`; the mapping that held it is gone (and its TLB entries with it).
    let frame = unsafe { Frame::from_raw(pa.align_down(PAGE)) };
    Ok(Some(frame))
}

/// The physical address and attributes `va` maps to in the kernel table.
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "only tests inspect the kernel table")
)]
pub fn translate_kernel(va: VirtAddr) -> Option<(PhysAddr, Attrs)> {
    KERNEL_TABLE
        .lock()
        .as_ref()?
        .translate(&KernelTableMemory::new(), va)
}

/// Whether any byte of `range` is RAM (which the linear map covers as normal memory).
fn overlaps_ram(range: &PhysRange) -> bool {
    RAM.get()
        .is_some_and(|(ranges, count)| ranges[..*count].iter().any(|r| r.overlaps(range)))
}

/// Maps a device's registers and returns their virtual address (a fresh Device-memory
/// mapping, never unmapped). RAM is refused (`AlreadyMapped`: the linear map has it), so a
/// device mapping can never alias memory the kernel owns.
pub(super) fn ioremap(pa: u64, size: u64) -> Result<VirtAddr, MapError> {
    if overlaps_ram(&PhysRange::new(pa, size)) {
        return Err(MapError::AlreadyMapped);
    }
    let start = pa & !(PAGE - 1);
    let len = pa
        .checked_sub(start)
        .and_then(|head| head.checked_add(size))
        .and_then(|len| len.checked_next_multiple_of(PAGE))
        .ok_or(MapError::Overflow)?;
    let va = NEXT_MMIO_VA.fetch_add(len, Ordering::Relaxed);
    if va
        .checked_add(len)
        .is_none_or(|end| end > MMIO_BASE + MMIO_AREA_SIZE)
    {
        return Err(MapError::NoMemory);
    }
    map_kernel(VirtAddr(va), PhysAddr(start), len, Attrs::DEVICE)?;
    Ok(VirtAddr(va + (pa - start)))
}
