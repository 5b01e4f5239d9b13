//! The one wrapper through which drivers reach memory-mapped registers.

use core::ops::Deref;
use core::ptr::NonNull;

/// A typed view of a device's register block at a fixed virtual address.
pub struct Mmio<T> {
    base: NonNull<T>,
}

impl<T> Mmio<T> {
    /// Wraps the register block at `base`.
    ///
    /// # Safety
    /// `base` must be the virtual address of a device mapping (Device memory) of at least
    /// `size_of::<T>()` bytes that stays mapped for the program's lifetime, and `T` must
    /// describe that device's registers (tock-registers types only).
    pub const unsafe fn new(base: NonNull<T>) -> Self {
        Self { base }
    }
}

/// A mapped device region whose register blocks are found at run time (e.g. GICv3
/// redistributors): blocks can be taken out at checked offsets without further `unsafe`.
pub struct MmioRegion {
    base: NonNull<u8>,
    size: usize,
}

impl MmioRegion {
    /// Wraps the device mapping [base, base + size).
    ///
    /// # Safety
    /// The range must be a permanent Device-memory mapping of one device's registers.
    pub const unsafe fn new(base: NonNull<u8>, size: usize) -> Self {
        Self { base, size }
    }

    /// The register block `T` at `offset`, if it lies wholly inside the region.
    /// The caller picks `T` to match what the device has at that offset.
    pub fn block<T>(&self, offset: usize) -> Option<Mmio<T>> {
        let end = offset.checked_add(core::mem::size_of::<T>())?;
        if end > self.size || !offset.is_multiple_of(core::mem::align_of::<T>()) {
            return None;
        }
        let ptr = NonNull::new(self.base.as_ptr().wrapping_add(offset).cast::<T>())?;
        // SAFETY: the block lies inside the region, which `new`'s contract makes a permanent
        // device mapping, and is aligned for T.
        Some(unsafe { Mmio::new(ptr) })
    }
}

impl<T> Deref for Mmio<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `new`'s contract: the mapping is valid and permanent, and the register
        // types use volatile, interior-mutable access, so shared references are sound.
        unsafe { self.base.as_ref() }
    }
}

// SAFETY: register blocks are plain MMIO accessed through volatile operations; drivers
// serialise access that needs it with their own locks.
unsafe impl<T> Send for Mmio<T> {}
// SAFETY: as above; tock-registers cells are safe to share for volatile access.
unsafe impl<T> Sync for Mmio<T> {}
