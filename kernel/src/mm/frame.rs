//! Physical frames, owned: the global allocator (kcore's bitmap over all RAM the device tree
//! reports, with the kernel image, the device tree, the initrd, firmware reservations and the
//! bitmap itself marked used) hands out [`Frame`]s, each freed when dropped, and contiguous
//! [`Frames`] blocks.
//!
//! A frame's memory is reached only through its owner's handle, and only by copying (never
//! by reference): it may be mapped into user space or handed to a device, so it is raw memory
//! outside Rust's objects. A frame stops being freed on drop only when its owner says so with
//! [`Frame::into_raw`] (a page table taking it over) or [`Frames::leak`] (the heap).

use super::linear::phys_to_virt;
use crate::arch::usercopy;
use crate::sync::IrqSafeMutex;
use abi::Errno;
use core::mem::MaybeUninit;
use kcore::frame::FrameAllocator;
use kcore::{PAGE_SIZE, PhysAddr, PhysRange};

const PAGE: u64 = PAGE_SIZE as u64;

static FRAMES: IrqSafeMutex<Option<FrameAllocator<'static>>> = IrqSafeMutex::new(None);

/// Why the frame allocator could not be set up.
#[derive(Debug)]
pub enum FrameInitError {
    /// No free RAM large enough for the allocation bitmap.
    NoRoomForBitmap,
    /// The allocator exists already.
    AlreadyInitialised,
}

/// Sets up the allocator over `ram`. `reserved` lists every range in use before it existed.
pub fn init(ram: &[PhysRange], reserved: &[PhysRange]) -> Result<(), FrameInitError> {
    let mut frames = FRAMES.lock();
    if frames.is_some() {
        return Err(FrameInitError::AlreadyInitialised);
    }
    let span_start = ram.iter().map(|r| r.base).min().unwrap_or(0) & !(PAGE - 1);
    let span_end = ram
        .iter()
        .map(PhysRange::end)
        .max()
        .unwrap_or(0)
        .next_multiple_of(PAGE);
    let count = ((span_end - span_start) / PAGE) as usize;
    let words = FrameAllocator::bitmap_words(count);
    let bitmap_bytes = (words as u64 * 8).next_multiple_of(PAGE);
    let bitmap_pa =
        find_free_block(ram, reserved, bitmap_bytes).ok_or(FrameInitError::NoRoomForBitmap)?;
    let bitmap_ptr = phys_to_virt(PhysAddr(bitmap_pa)).as_u64() as *mut u64;
    // SAFETY: find_free_block chose RAM (covered by the linear map) outside every reserved
    // range, and nothing has allocated from RAM yet; the allocator marks the bitmap used
    // below, so it is never handed out: the slice is this allocator's for good.
    let bitmap = unsafe { core::slice::from_raw_parts_mut(bitmap_ptr, words) };
    let mut allocator = FrameAllocator::new(bitmap, PhysAddr(span_start), count);
    for range in ram {
        allocator.add_free_range(PhysAddr(range.base), PhysAddr(range.end()));
    }
    for range in reserved {
        allocator.reserve_range(PhysAddr(range.base), PhysAddr(range.end()));
    }
    allocator.reserve_range(PhysAddr(bitmap_pa), PhysAddr(bitmap_pa + bitmap_bytes));
    *frames = Some(allocator);
    Ok(())
}

/// The highest page-aligned block of `size` bytes in `ram` that overlaps no reserved range.
fn find_free_block(ram: &[PhysRange], reserved: &[PhysRange], size: u64) -> Option<u64> {
    let mut best: Option<u64> = None;
    for range in ram {
        let mut candidate = range.end().checked_sub(size)? & !(PAGE - 1);
        while candidate >= range.base {
            let end = candidate + size;
            match reserved
                .iter()
                .find(|r| r.base < end && candidate < r.end())
            {
                None => {
                    best = best.max(Some(candidate));
                    break;
                }
                Some(clash) => match clash.base.checked_sub(size) {
                    Some(below) => candidate = below & !(PAGE - 1),
                    None => break,
                },
            }
        }
    }
    best
}

/// Returns frames to the allocator. Freeing a frame twice is a kernel bug, reported and
/// survived.
fn free(pa: PhysAddr, count: usize) {
    let result = FRAMES
        .lock()
        .as_mut()
        .map(|frames| frames.free_contiguous(pa, count));
    if let Some(Err(error)) = result {
        log::error!("frame: bad free of {count} at {pa}: {error:?}");
    }
}

/// (free frames, total frames).
pub fn stats() -> (usize, usize) {
    FRAMES
        .lock()
        .as_ref()
        .map_or((0, 0), |f| (f.free_count(), f.total_frames()))
}

/// Raw pointer to `[offset, offset + len)` of the page at `pa`, if that lies inside the page.
#[inline]
fn bytes_at(pa: PhysAddr, offset: usize, len: usize) -> Result<*mut u8, Errno> {
    match offset.checked_add(len) {
        Some(end) if end <= PAGE_SIZE => {
            Ok((phys_to_virt(pa).as_u64() as usize + offset) as *mut u8)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// One physical page frame, owned by whoever holds this value and freed when it is dropped.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    pa: PhysAddr,
}

impl Frame {
    /// A free frame, zero-filled; `None` when memory is exhausted.
    pub fn alloc_zeroed() -> Option<Frame> {
        let pa = FRAMES.lock().as_mut()?.alloc()?;
        let frame = Frame { pa };
        let start = frame.bytes(0, PAGE_SIZE).ok()?;
        // SAFETY: the frame was just taken from the allocator, so nothing else refers to its
        // page, which the linear map covers (all RAM is mapped).
        unsafe { core::ptr::write_bytes(start, 0, PAGE_SIZE) };
        Some(frame)
    }

    /// The frame's physical address (to map it; the frame stays owned here).
    pub fn pa(&self) -> PhysAddr {
        self.pa
    }

    #[inline]
    fn bytes(&self, offset: usize, len: usize) -> Result<*mut u8, Errno> {
        bytes_at(self.pa, offset, len)
    }

    /// Copies `data` into the frame at `offset` (EINVAL if it runs past the frame's end).
    #[inline]
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<(), Errno> {
        let dst = self.bytes(offset, data.len())?;
        // SAFETY: the range lies inside this owned frame (checked above), reached through
        // the linear map; `data` is a kernel buffer, so the two do not overlap. The frame's
        // memory is never lent out by reference, so no Rust reference aliases it.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len()) };
        Ok(())
    }

    /// Copies `buf.len()` bytes out of the frame from `offset` (EINVAL past the frame's end).
    #[cfg_attr(not(test), expect(dead_code, reason = "only tests read frames back"))]
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<(), Errno> {
        let src = self.bytes(offset, buf.len())?;
        // SAFETY: as in `write`, with the copy going the other way.
        unsafe { core::ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copies `len` bytes from user address `src` of the running process into the frame at
    /// `offset`: EFAULT if the user range is bad, EINVAL past the frame's end.
    #[inline]
    pub fn copy_from_user(&self, offset: usize, src: u64, len: usize) -> Result<(), Errno> {
        let dst = self.bytes(offset, len)?;
        // SAFETY: `dst..dst + len` lies inside this owned frame (checked above) and is
        // reached through the linear map; the user side is read with unprivileged loads.
        unsafe { usercopy::copy_from_user_raw(dst, src, len) }.map_err(|_| Errno::EFAULT)
    }

    /// Gives up ownership: the frame is no longer freed on drop, and whoever takes the
    /// address (a page table mapping it as owned) must free it with [`Frame::from_raw`].
    #[must_use = "the frame is freed only by whoever takes this address"]
    pub fn into_raw(self) -> PhysAddr {
        let pa = self.pa;
        core::mem::forget(self);
        pa
    }

    /// Takes ownership back of a frame given up with [`Frame::into_raw`].
    ///
    /// # Safety
    /// `pa` must come from `into_raw`, and nothing else may use or free the frame from now
    /// on (the mapping that held it is gone).
    pub unsafe fn from_raw(pa: PhysAddr) -> Frame {
        Frame { pa }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        free(self.pa, 1);
    }
}

/// Physically contiguous frames, owned like [`Frame`]: freed together on drop.
#[derive(Debug)]
pub struct Frames {
    start: PhysAddr,
    count: usize,
}

impl Frames {
    /// `count` contiguous frames starting at a multiple of `align_frames` frames.
    pub fn alloc_contiguous(count: usize, align_frames: usize) -> Option<Frames> {
        let start = FRAMES
            .lock()
            .as_mut()?
            .alloc_contiguous(count, align_frames)?;
        Some(Frames { start, count })
    }

    /// Physical address of the first frame.
    #[cfg_attr(not(test), expect(dead_code, reason = "only tests look at the block"))]
    pub fn start(&self) -> PhysAddr {
        self.start
    }

    /// Number of frames.
    #[cfg_attr(not(test), expect(dead_code, reason = "only tests look at the block"))]
    pub fn count(&self) -> usize {
        self.count
    }

    /// Hands the frames over for the rest of the kernel's life (the heap's arena): they are
    /// never freed, and the returned slice through the linear map is the only way to them.
    pub fn leak(self) -> &'static mut [MaybeUninit<u8>] {
        let ptr = phys_to_virt(self.start).as_u64() as *mut MaybeUninit<u8>;
        let len = self.count * PAGE_SIZE;
        core::mem::forget(self);
        // SAFETY: the frames were allocated for this value alone, are contiguous and covered
        // by the linear map, and are never freed (forgotten above): the slice has them for
        // good. `MaybeUninit` makes no claim about their contents.
        unsafe { core::slice::from_raw_parts_mut(ptr, len) }
    }
}

impl Drop for Frames {
    fn drop(&mut self) {
        free(self.start, self.count);
    }
}
