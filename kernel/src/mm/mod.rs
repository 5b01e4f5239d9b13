//! Memory management: the kernel's address map, its translation tables, physical frames,
//! the kernel heap and kernel stacks.

pub mod frame;
#[allow(unsafe_code, reason = "GlobalAlloc glue")]
pub mod heap;
pub mod kstack;
#[allow(
    unsafe_code,
    reason = "page-table memory, the DTB window and RAM hand-over are raw memory"
)]
pub mod paging;
pub mod uaccess;

use crate::board::{BoardInfo, Range};

/// The kernel heap gets this fraction of RAM, within the bounds below.
const HEAP_FRACTION: u64 = 16;
const HEAP_MIN: u64 = 1 << 20;
const HEAP_MAX: u64 = 16 << 20;

/// Why memory could not be set up.
#[derive(Debug)]
pub enum MemoryInitError {
    /// No room for the frame bitmap.
    Frames(frame::FrameInitError),
    /// No room for the heap.
    Heap(heap::HeapInitError),
}

/// Sets up the frame allocator and the heap, after the kernel table is live.
pub fn init_allocators(board: &BoardInfo, dtb_pa: u64) -> Result<(), MemoryInitError> {
    let (image_start, image_end) = paging::image_phys_range();
    let mut reserved = [Range::default(); 20];
    let mut count = 0;
    let mut reserve = |range: Range| {
        if let Some(slot) = reserved.get_mut(count) {
            *slot = range;
            count += 1;
        }
    };
    reserve(Range {
        base: image_start.as_u64(),
        size: image_end.as_u64() - image_start.as_u64(),
    });
    reserve(Range {
        base: dtb_pa,
        size: board.dtb_size,
    });
    if let Some(initrd) = board.initrd {
        reserve(initrd);
    }
    for range in board.reserved.as_slice() {
        reserve(*range);
    }
    frame::init(board, &reserved[..count]).map_err(MemoryInitError::Frames)?;
    let ram: u64 = board.memory.as_slice().iter().map(|r| r.size).sum();
    heap::init((ram / HEAP_FRACTION).clamp(HEAP_MIN, HEAP_MAX) as usize)
        .map_err(MemoryInitError::Heap)?;
    Ok(())
}
