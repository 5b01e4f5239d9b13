//! The global allocator: `linked_list_allocator` heaps on anonymous `mmap` memory.
//!
//! The heap grows by mapping chunks (64 KiB first, doubling up to 4 MiB, or as large as
//! one request needs). The kernel places new mappings at the lowest free address, so a
//! chunk usually lands right after the previous one and extends that heap
//! (`Heap::extend` needs contiguous memory); otherwise it starts another arena. Memory is
//! zero-filled on demand, so a chunk costs frames only once touched.
//!
//! The lock is the futex-based [`crate::sync::Mutex`] rather than a spin lock: with strict
//! priorities a high-priority thread spinning on a lock held by a preempted lower one
//! would never let it run again.

use super::mapping::Mapping;
use crate::sync::Mutex;
use abi::syscall::mman::{PROT_READ, PROT_WRITE};
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};
use linked_list_allocator::Heap;

/// Most separate arenas (non-contiguous growth steps).
const MAX_ARENAS: usize = 32;
/// First chunk size.
const FIRST_CHUNK: usize = 64 * 1024;
/// Largest chunk mapped for small requests.
const MAX_CHUNK: usize = 4 * 1024 * 1024;

/// Heaps, each over one contiguous run of mapped chunks.
struct Arenas {
    heaps: [Heap; MAX_ARENAS],
    count: usize,
    next_chunk: usize,
}

// SAFETY: a Heap only describes memory mapped for this process, which every thread may
// use; the Mutex around Arenas serialises all access to the free lists.
unsafe impl Send for Arenas {}

impl Arenas {
    const fn new() -> Self {
        Arenas {
            heaps: [const { Heap::empty() }; MAX_ARENAS],
            count: 0,
            next_chunk: FIRST_CHUNK,
        }
    }

    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        let count = self.count;
        if let Some(ptr) = self.heaps[..count]
            .iter_mut()
            .find_map(|h| h.allocate_first_fit(layout).ok())
        {
            return Some(ptr);
        }
        let grown = self.grow(layout)?;
        self.heaps[grown].allocate_first_fit(layout).ok()
    }

    /// Maps a chunk big enough for `layout`; returns the index of the heap that got it.
    fn grow(&mut self, layout: Layout) -> Option<usize> {
        // Room for alignment padding and the allocator's hole headers.
        let need = layout.size().checked_add(layout.align())?.checked_add(64)?;
        let size = need
            .max(self.next_chunk)
            .checked_next_multiple_of(FIRST_CHUNK)?;
        let chunk = Mapping::new(size, PROT_READ | PROT_WRITE).ok()?;
        let (addr, len) = (chunk.addr(), chunk.len());
        self.next_chunk = (self.next_chunk * 2).min(MAX_CHUNK);
        if let Some(last) = self.count.checked_sub(1) {
            let heap = &mut self.heaps[last];
            if heap.top() as usize == addr {
                chunk.leak();
                // SAFETY: [addr, addr+len) was just mapped read-write, is owned by nobody
                // else (leaked to the heap) and starts exactly at this heap's top.
                unsafe { heap.extend(len) };
                return Some(last);
            }
        }
        // Out of arenas: the chunk is unmapped again when dropped here.
        let heap = self.heaps.get_mut(self.count)?;
        chunk.leak();
        // SAFETY: the range was just mapped read-write for the rest of the process's life
        // and nothing else references it; `heap` is empty.
        unsafe { heap.init(addr as *mut u8, len) };
        self.count += 1;
        Some(self.count - 1)
    }

    fn deallocate(&mut self, ptr: NonNull<u8>, layout: Layout) {
        let addr = ptr.as_ptr() as usize;
        let count = self.count;
        if let Some(heap) = self.heaps[..count]
            .iter_mut()
            .find(|h| (h.bottom() as usize..h.top() as usize).contains(&addr))
        {
            // SAFETY: `ptr` came from this heap's allocate_first_fit with `layout` (the
            // GlobalAlloc contract) and is freed once.
            unsafe { heap.deallocate(ptr, layout) };
        }
    }
}

/// The process-wide allocator.
pub struct UserHeap {
    arenas: Mutex<Arenas>,
}

impl UserHeap {
    /// An allocator that maps its first chunk on first use.
    pub const fn new() -> Self {
        UserHeap {
            arenas: Mutex::new(Arenas::new()),
        }
    }
}

impl Default for UserHeap {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: allocations come from mapped, otherwise unused memory, each handed out once
// by the free list under the lock; dealloc returns a block to the heap it came from.
unsafe impl GlobalAlloc for UserHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.arenas
            .lock()
            .allocate(layout)
            .map_or(ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(ptr) = NonNull::new(ptr) {
            self.arenas.lock().deallocate(ptr, layout);
        }
    }
}

#[cfg(all(target_os = "none", not(test)))]
#[global_allocator]
static ALLOCATOR: UserHeap = UserHeap::new();
