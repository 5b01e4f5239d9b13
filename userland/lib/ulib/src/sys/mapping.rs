//! [`Mapping`]: an owned anonymous `mmap` region, unmapped on drop. Owning the range is what
//! makes `munmap`/`mprotect` safe: nothing else in the program can point into it.

use super::{Errno, Sysno, call, syscall};
use abi::syscall::mman::{MAP_ANONYMOUS, MAP_PRIVATE};

/// Page size of the user address space.
pub const PAGE_SIZE: usize = 4096;

/// An anonymous private mapping, zero-filled on first touch, unmapped when dropped.
#[derive(Debug)]
pub struct Mapping {
    addr: usize,
    len: usize,
}

impl Mapping {
    /// Maps `len` bytes (rounded up to pages) with `prot` (`mman::PROT_*`) where the kernel
    /// chooses. The kernel refuses `PROT_WRITE | PROT_EXEC`.
    pub fn new(len: usize, prot: usize) -> Result<Mapping, Errno> {
        let len = len
            .checked_next_multiple_of(PAGE_SIZE)
            .ok_or(Errno::ENOMEM)?;
        // fd -1, offset 0: anonymous memory. Without MAP_FIXED the kernel picks a free
        // range, so no existing memory is replaced.
        let addr = call(
            Sysno::Mmap,
            [0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, usize::MAX, 0],
        )?;
        Ok(Mapping { addr, len })
    }

    /// Start address.
    pub fn addr(&self) -> usize {
        self.addr
    }

    /// Length in bytes (whole pages).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: mappings have at least one page.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The mapped bytes. Reading a page mapped without `PROT_READ` kills the process
    /// with SIGSEGV (a fault, never a stale read).
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: [addr, addr+len) is mapped for as long as `self` lives (only `drop`
        // unmaps it), and nothing else in the program has a reference into it.
        unsafe { core::slice::from_raw_parts(self.addr as *const u8, self.len) }
    }

    /// The mapped bytes, writable. Writing a page without `PROT_WRITE` kills the process
    /// with SIGSEGV.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; `&mut self` makes this the only reference.
        unsafe { core::slice::from_raw_parts_mut(self.addr as *mut u8, self.len) }
    }

    /// Changes the protection of the pages `[offset, offset+len)` of this mapping.
    pub fn protect(&mut self, offset: usize, len: usize, prot: usize) -> Result<(), Errno> {
        let end = offset.checked_add(len).ok_or(Errno::EINVAL)?;
        if end > self.len {
            return Err(Errno::EINVAL);
        }
        // SAFETY: the range lies inside this owned mapping and `&mut self` guarantees no
        // reference into it is alive; a later access the new protection forbids faults.
        Errno::decode(unsafe {
            syscall(
                Sysno::Mprotect as usize,
                [self.addr + offset, len, prot, 0, 0, 0],
            )
        })
        .map(drop)
    }

    /// Gives up ownership without unmapping: the memory stays mapped for the rest of the
    /// process's life. Returns (address, length).
    pub fn leak(self) -> (usize, usize) {
        let range = (self.addr, self.len);
        core::mem::forget(self);
        range
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the range is exactly this owned mapping and no borrow of it outlives
        // `self`, so nothing can use the memory after it is unmapped.
        let _ = unsafe { syscall(Sysno::Munmap as usize, [self.addr, self.len, 0, 0, 0, 0]) };
    }
}
