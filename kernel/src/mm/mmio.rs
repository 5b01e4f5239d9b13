//! Device registers: [`map`] gives a driver its register block at the physical range a board
//! found in the device tree, as a fresh Device-memory mapping that stays for good. The one
//! place a driver's `Mmio` wrapper is made.

use super::paging::ioremap;
use crate::drivers::mmio::{Mmio, MmioRegion};
use core::ptr::NonNull;
use kcore::PhysRange;
use kcore::pagetable::MapError;

/// Maps the registers at `range` (at least `size_of::<T>()` bytes of them) and views them as
/// the register block `T`.
pub fn map<T>(range: PhysRange) -> Result<Mmio<T>, MapError> {
    let size = range.size.max(core::mem::size_of::<T>() as u64);
    let va = ioremap(range.base, size)?;
    let base = NonNull::new(va.as_u64() as *mut T).ok_or(MapError::NonCanonical)?;
    if !va
        .as_u64()
        .is_multiple_of(core::mem::align_of::<T>() as u64)
    {
        return Err(MapError::Misaligned);
    }
    // SAFETY: `ioremap` made a fresh Device-memory mapping of `size >= size_of::<T>()` bytes
    // at `base` (aligned for T) that is never unmapped; register types use volatile access.
    Ok(unsafe { Mmio::new(base) })
}

/// Maps the registers at `range` as a region whose blocks are found at run time (GICv3
/// redistributors).
pub fn map_region(range: PhysRange) -> Result<MmioRegion, MapError> {
    let va = ioremap(range.base, range.size)?;
    let base = NonNull::new(va.as_u64() as *mut u8).ok_or(MapError::NonCanonical)?;
    let size = usize::try_from(range.size).map_err(|_| MapError::Overflow)?;
    // SAFETY: a fresh Device-memory mapping of exactly this range, never unmapped.
    Ok(unsafe { MmioRegion::new(base, size) })
}
