//! The global physical frame allocator: kcore's bitmap allocator over all RAM the device
//! tree reports, with the kernel image, the device tree, the initrd, firmware reservations
//! and the bitmap itself marked used.

use super::paging;
use crate::board::{BoardInfo, Range};
use crate::sync::IrqSafeMutex;
use kcore::frame::FrameAllocator;
use kcore::{PAGE_SIZE, PhysAddr};

const PAGE: u64 = PAGE_SIZE as u64;

static FRAMES: IrqSafeMutex<Option<FrameAllocator<'static>>> = IrqSafeMutex::new(None);

/// Why the frame allocator could not be set up.
#[derive(Debug)]
pub enum FrameInitError {
    /// No free RAM large enough for the allocation bitmap.
    NoRoomForBitmap,
}

/// Sets up the allocator. `reserved` lists every range in use before it existed.
pub fn init(board: &BoardInfo, reserved: &[Range]) -> Result<(), FrameInitError> {
    let ram = board.memory.as_slice();
    let span_start = ram.iter().map(|r| r.base).min().unwrap_or(0) & !(PAGE - 1);
    let span_end = ram
        .iter()
        .map(Range::end)
        .max()
        .unwrap_or(0)
        .next_multiple_of(PAGE);
    let frames = ((span_end - span_start) / PAGE) as usize;
    let words = FrameAllocator::bitmap_words(frames);
    let bitmap_bytes = (words as u64 * 8).next_multiple_of(PAGE);
    let bitmap_pa =
        find_free_block(ram, reserved, bitmap_bytes).ok_or(FrameInitError::NoRoomForBitmap)?;
    // SAFETY: find_free_block chose RAM outside every reserved range; from now on the
    // allocator marks it used, so nothing else will be given this memory.
    #[allow(unsafe_code, reason = "hands the bitmap's RAM to the allocator")]
    let bitmap = unsafe { paging::linear_words_mut(PhysAddr(bitmap_pa), words) };
    let mut allocator = FrameAllocator::new(bitmap, PhysAddr(span_start), frames);
    for range in ram {
        allocator.add_free_range(PhysAddr(range.base), PhysAddr(range.end()));
    }
    for range in reserved {
        allocator.reserve_range(PhysAddr(range.base), PhysAddr(range.end()));
    }
    allocator.reserve_range(PhysAddr(bitmap_pa), PhysAddr(bitmap_pa + bitmap_bytes));
    *FRAMES.lock() = Some(allocator);
    Ok(())
}

/// The highest page-aligned block of `size` bytes in `ram` that overlaps no reserved range.
fn find_free_block(ram: &[Range], reserved: &[Range], size: u64) -> Option<u64> {
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

/// One free frame, contents undefined.
pub fn alloc() -> Option<PhysAddr> {
    FRAMES.lock().as_mut()?.alloc()
}

/// One free frame, zeroed.
pub fn alloc_zeroed() -> Option<PhysAddr> {
    let frame = alloc()?;
    paging::zero_frame(frame);
    Some(frame)
}

/// `count` physically contiguous frames aligned to `align_frames` frames.
pub fn alloc_contiguous(count: usize, align_frames: usize) -> Option<PhysAddr> {
    FRAMES
        .lock()
        .as_mut()?
        .alloc_contiguous(count, align_frames)
}

/// Returns a frame. Freeing a frame twice is a kernel bug, reported but survived.
pub fn free(frame: PhysAddr) {
    let result = FRAMES.lock().as_mut().map(|frames| frames.free(frame));
    if let Some(Err(error)) = result {
        log::error!("frame: bad free of {frame}: {error:?}");
    }
}

/// (free frames, total frames).
pub fn stats() -> (usize, usize) {
    FRAMES
        .lock()
        .as_ref()
        .map_or((0, 0), |f| (f.free_count(), f.total_frames()))
}
