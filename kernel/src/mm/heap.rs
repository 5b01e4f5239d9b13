//! The kernel heap: `linked_list_allocator` behind an IRQ-safe spin lock, on physically
//! contiguous frames reached through the linear map, so `alloc` works in the kernel.

use super::frame::Frames;
use crate::sync::IrqSafeMutex;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};
use kcore::PAGE_SIZE;
use linked_list_allocator::Heap;

struct KernelHeap(IrqSafeMutex<Heap>);

// SAFETY: allocation and deallocation go through linked_list_allocator under one lock; it
// returns blocks that satisfy the layout or null.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0
            .lock()
            .allocate_first_fit(layout)
            .map_or(ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(block) = NonNull::new(ptr) {
            // SAFETY: GlobalAlloc's contract: `ptr` came from `alloc` with this layout.
            unsafe { self.0.lock().deallocate(block, layout) };
        }
    }
}

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(IrqSafeMutex::new(Heap::empty()));

/// Why the heap could not be created.
#[derive(Debug)]
pub struct HeapInitError;

/// Gives the heap `bytes` (rounded to pages) of contiguous RAM, for good.
pub fn init(bytes: usize) -> Result<(), HeapInitError> {
    let mut heap = HEAP.0.lock();
    if !heap.bottom().is_null() {
        return Err(HeapInitError); // already has its arena
    }
    let pages = bytes.div_ceil(PAGE_SIZE).max(1);
    let frames = Frames::alloc_contiguous(pages, 1).ok_or(HeapInitError)?;
    heap.init_from_slice(frames.leak());
    Ok(())
}

/// (bytes in use, bytes free).
pub fn stats() -> (usize, usize) {
    let heap = HEAP.0.lock();
    (heap.used(), heap.free())
}
