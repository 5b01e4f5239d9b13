//! AArch64 stage-1 translation tables: 4 KiB granule, 39-bit virtual addresses (TCR_EL1.T0SZ =
//! T1SZ = 25), so walks start at level 1 and use three levels (Arm ARM D8.2, "Translation table
//! walk"): L1 entries map 1 GiB, L2 entries 2 MiB, L3 entries 4 KiB pages. Index bits are
//! L1 = va[38:30], L2 = va[29:21], L3 = va[20:12].
//!
//! The same mapper serves TTBR0 (user, `va < 2^39`) and TTBR1 (kernel,
//! `va >= 0xFFFF_FF80_0000_0000`); a `PageTable` knows which [`Half`] it serves, refuses
//! addresses of the other half with [`MapError::NonCanonical`], and reports full canonical
//! addresses back.
//!
//! Table memory is reached only through [`TableMemory`], so the kernel backs it with its linear
//! map and the host tests with a `HashMap`. Every operation that can fail first walks the range
//! read-only (checking for conflicts and counting the table pages it will need), then allocates
//! all those pages, and only then writes: a failure leaves the tables exactly as they were.
//!
//! TLB maintenance is the caller's job: after `unmap` or `protect` invalidate the range (and, for
//! `map`, nothing is needed since only invalid entries are replaced). Splitting a block swaps the
//! block descriptor for a table descriptor in one write; the new table maps the untouched part of
//! the block identically.

mod pte;
mod walk;

use core::fmt;

use crate::addr::{PAGE_SIZE, PhysAddr, VirtAddr};

pub use pte::{Attrs, MAIR_EL1_VALUE, MemType, decode_attrs, desc_addr, encode_leaf, encode_table};

/// Virtual address bits translated by each half (TCR_EL1.TxSZ = 64 - VA_BITS).
pub const VA_BITS: u32 = 39;
/// Value for both TCR_EL1.T0SZ and TCR_EL1.T1SZ.
pub const TCR_TXSZ: u64 = 64 - VA_BITS as u64;
/// Descriptors per table page.
pub const ENTRIES_PER_TABLE: usize = 512;
/// Bytes mapped by one level-1 block descriptor (1 GiB).
pub const L1_BLOCK_SIZE: u64 = 1 << 30;
/// Bytes mapped by one level-2 block descriptor (2 MiB).
pub const L2_BLOCK_SIZE: u64 = 1 << 21;
/// One past the last lower-half (TTBR0) address.
pub const LOWER_HALF_END: u64 = 1 << VA_BITS;
/// First upper-half (TTBR1) address.
pub const UPPER_HALF_START: u64 = !(LOWER_HALF_END - 1);
/// Output addresses must stay below 2^48 (bits [47:12] of a descriptor).
const PA_LIMIT: u64 = 1 << 48;
/// `PAGE_SIZE` as a `u64`.
const PAGE: u64 = PAGE_SIZE as u64;

/// Bytes mapped by one entry of a table at `level` (1, 2 or 3; anything else reads as 3).
pub(crate) const fn level_size(level: u8) -> u64 {
    1 << level_shift(level)
}

/// Lowest VA bit indexing a table at `level`.
const fn level_shift(level: u8) -> u32 {
    match level {
        1 => 30,
        2 => 21,
        _ => 12,
    }
}

/// Why a page-table operation failed. On every error the tables are left unchanged.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The address is not canonical, or belongs to the other half than this table serves.
    NonCanonical,
    /// An address or size is not a multiple of the page size.
    Misaligned,
    /// Some page of the range is already mapped (`map`).
    AlreadyMapped,
    /// Some page of the range is not mapped (`protect`).
    NotMapped,
    /// `TableMemory::alloc_table` ran out of pages.
    NoMemory,
    /// The attributes ask for a writable and executable mapping (W^X).
    WriteExec,
    /// The range runs past the end of its half of the address space, or the physical range past
    /// 2^48.
    Overflow,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NonCanonical => "virtual address not canonical for this table",
            Self::Misaligned => "address or size not page aligned",
            Self::AlreadyMapped => "range already mapped",
            Self::NotMapped => "range not mapped",
            Self::NoMemory => "out of page-table memory",
            Self::WriteExec => "writable and executable mapping refused (W^X)",
            Self::Overflow => "range overflows the address space",
        })
    }
}

/// How the mapper reaches table memory: the kernel implements it over its linear map, tests over
/// a HashMap.
pub trait TableMemory {
    /// A zeroed 4 KiB page for a table, or None when memory is exhausted.
    ///
    /// The page must be all zeroes (every entry invalid): the mapper relies on it and does not
    /// clear pages itself. Pages come back through `free_table` with arbitrary contents.
    fn alloc_table(&mut self) -> Option<PhysAddr>;
    /// Returns a page obtained from `alloc_table` (no longer referenced by any table).
    fn free_table(&mut self, table: PhysAddr);
    /// Reads entry `index` (0..512) of the table page at `table`.
    fn read_entry(&self, table: PhysAddr, index: usize) -> u64;
    /// Writes entry `index` (0..512) of the table page at `table`. The kernel implementation
    /// must make the write visible to the table walker (a plain store on a coherent walker;
    /// the caller issues `dsb ishst` before TLB maintenance or `msr ttbr`).
    fn write_entry(&mut self, table: PhysAddr, index: usize, value: u64);
}

/// Which half of the virtual address space a table translates.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Half {
    /// TTBR0_EL1: `[0, 2^39)`, user space.
    Lower,
    /// TTBR1_EL1: `[0xFFFF_FF80_0000_0000, 2^64)`, the kernel.
    Upper,
}

/// A translation table tree, identified by its level-1 root page.
#[derive(Debug, PartialEq, Eq)]
pub struct PageTable {
    /// Physical address of the level-1 table.
    root: PhysAddr,
    /// The half of the address space this tree translates.
    half: Half,
}

impl PageTable {
    /// Allocates an empty lower-half (TTBR0) table tree: just the L1 root.
    pub fn new(mem: &mut impl TableMemory) -> Result<Self, MapError> {
        Self::new_in(mem, Half::Lower)
    }

    /// Allocates an empty upper-half (TTBR1) table tree.
    pub fn new_upper(mem: &mut impl TableMemory) -> Result<Self, MapError> {
        Self::new_in(mem, Half::Upper)
    }

    /// Allocates an empty table tree for `half`.
    pub fn new_in(mem: &mut impl TableMemory, half: Half) -> Result<Self, MapError> {
        let root = mem.alloc_table().ok_or(MapError::NoMemory)?;
        Ok(Self { root, half })
    }

    /// Adopts an existing lower-half tree rooted at `root`.
    pub const fn from_root(root: PhysAddr) -> Self {
        Self::from_root_in(root, Half::Lower)
    }

    /// Adopts an existing upper-half tree rooted at `root`.
    pub const fn from_root_upper(root: PhysAddr) -> Self {
        Self::from_root_in(root, Half::Upper)
    }

    /// Adopts an existing tree rooted at `root` translating `half`.
    pub const fn from_root_in(root: PhysAddr, half: Half) -> Self {
        Self { root, half }
    }

    /// Physical address of the L1 table: the value for TTBR0/TTBR1 (before adding an ASID).
    pub fn root(&self) -> PhysAddr {
        self.root
    }

    /// The half of the address space this tree translates.
    pub fn half(&self) -> Half {
        self.half
    }

    /// Whether `va` belongs to the half this table translates.
    pub fn covers(&self, va: VirtAddr) -> bool {
        self.offset(va).is_ok()
    }

    /// Maps [va, va+size) to [pa, pa+size). size, va, pa page-aligned (Misaligned otherwise;
    /// size 0 = Ok no-op). With allow_blocks, uses 1 GiB / 2 MiB block descriptors wherever va,
    /// pa and remaining size allow. Fails with AlreadyMapped if any page in the range is mapped —
    /// and in that case (and on NoMemory) leaves the table exactly as it was: the range is
    /// checked and every table page it needs allocated before anything is written.
    ///
    /// Writable+executable attributes fail with `WriteExec`; device memory is mapped
    /// non-executable whatever `attrs.exec` says.
    pub fn map(
        &mut self,
        mem: &mut impl TableMemory,
        va: VirtAddr,
        pa: PhysAddr,
        size: u64,
        attrs: Attrs,
        allow_blocks: bool,
    ) -> Result<(), MapError> {
        if attrs.is_write_exec() {
            return Err(MapError::WriteExec);
        }
        if !pa.is_aligned(PAGE) {
            return Err(MapError::Misaligned);
        }
        let (start, end) = self.span(va, size)?;
        match pa.as_u64().checked_add(size) {
            Some(pa_end) if pa_end <= PA_LIMIT => {}
            _ => return Err(MapError::Overflow),
        }
        if start == end {
            return Ok(());
        }
        let req = walk::MapRequest {
            delta: pa.as_u64().wrapping_sub(start),
            attrs,
            allow_blocks,
        };
        let needed = walk::map_plan(mem, self.root, 1, start, end, &req)?;
        let mut reserve = walk::Reserve::fill(mem, needed)?;
        let result = walk::map_apply(mem, &mut reserve, self.root, 1, start, end, &req);
        reserve.release(mem);
        result
    }

    /// Unmaps [va, va+size); splits a block that is only partly covered into next-level entries
    /// (keeping the rest mapped with same attrs). Unmapping pages that are not mapped is NOT an
    /// error (skip them). Frees L2/L3 tables that become empty.
    ///
    /// Splitting needs at most four new table pages; if they cannot be had the result is
    /// `NoMemory` and nothing changed. The root table is never freed.
    pub fn unmap(
        &mut self,
        mem: &mut impl TableMemory,
        va: VirtAddr,
        size: u64,
    ) -> Result<(), MapError> {
        let (start, end) = self.span(va, size)?;
        if start == end {
            return Ok(());
        }
        let needed = walk::split_plan(mem, self.root, 1, start, end, false)?;
        let mut reserve = walk::Reserve::fill(mem, needed)?;
        let result = walk::unmap_apply(mem, &mut reserve, self.root, 1, start, end);
        reserve.release(mem);
        result
    }

    /// Changes attributes of every mapped page in [va, va+size), splitting blocks as needed;
    /// NotMapped if any page in the range is unmapped (and nothing changed).
    ///
    /// Blocks wholly inside the range stay blocks. `WriteExec` is refused as in `map`.
    pub fn protect(
        &mut self,
        mem: &mut impl TableMemory,
        va: VirtAddr,
        size: u64,
        attrs: Attrs,
    ) -> Result<(), MapError> {
        if attrs.is_write_exec() {
            return Err(MapError::WriteExec);
        }
        let (start, end) = self.span(va, size)?;
        if start == end {
            return Ok(());
        }
        let needed = walk::split_plan(mem, self.root, 1, start, end, true)?;
        let mut reserve = walk::Reserve::fill(mem, needed)?;
        let result = walk::protect_apply(mem, &mut reserve, self.root, 1, start, end, attrs);
        reserve.release(mem);
        result
    }

    /// Translation of one address: physical address (with the page offset added) and attributes.
    pub fn translate(&self, mem: &impl TableMemory, va: VirtAddr) -> Option<(PhysAddr, Attrs)> {
        let offset = self.offset(va).ok()?;
        let mut table = self.root;
        for level in 1..=3 {
            let desc = mem.read_entry(table, index(offset, level));
            match walk::Entry::classify(desc, level) {
                walk::Entry::Invalid => return None,
                walk::Entry::Table(next) => table = next,
                walk::Entry::Leaf(desc) => {
                    let size = level_size(level);
                    let base = desc_addr(desc).align_down(size);
                    return Some((base.checked_add(offset & (size - 1))?, decode_attrs(desc)));
                }
            }
        }
        None
    }

    /// Calls f(va, pa, size) for every leaf mapping (block or page) in address order — used to
    /// free user frames at exit. Upper-half tables report full (sign-extended) addresses.
    pub fn for_each_leaf(
        &self,
        mem: &impl TableMemory,
        mut f: impl FnMut(VirtAddr, PhysAddr, u64),
    ) {
        let high = match self.half {
            Half::Lower => 0,
            Half::Upper => UPPER_HALF_START,
        };
        walk::for_each_leaf(mem, self.root, 1, 0, &mut |offset, pa, size| {
            f(VirtAddr::new(high | offset), pa, size);
        });
    }

    /// Frees every table page (root included); does not free the mapped frames.
    pub fn destroy(self, mem: &mut impl TableMemory) {
        walk::free_tree(mem, self.root, 1);
    }

    /// Offset of `va` inside this table's 39-bit half.
    fn offset(&self, va: VirtAddr) -> Result<u64, MapError> {
        let top = va.as_u64() >> VA_BITS;
        let expected = match self.half {
            Half::Lower => 0,
            Half::Upper => u64::MAX >> VA_BITS,
        };
        if top != expected {
            return Err(MapError::NonCanonical);
        }
        Ok(va.as_u64() & (LOWER_HALF_END - 1))
    }

    /// Validates `[va, va + size)` and returns it as offsets `(start, end)` inside the half.
    fn span(&self, va: VirtAddr, size: u64) -> Result<(u64, u64), MapError> {
        if !va.is_aligned(PAGE) || !size.is_multiple_of(PAGE) {
            return Err(MapError::Misaligned);
        }
        let start = self.offset(va)?;
        match start.checked_add(size) {
            Some(end) if end <= LOWER_HALF_END => Ok((start, end)),
            _ => Err(MapError::Overflow),
        }
    }
}

/// Index into a table at `level` for the half-offset `offset`.
fn index(offset: u64, level: u8) -> usize {
    ((offset >> level_shift(level)) as usize) % ENTRIES_PER_TABLE
}

#[cfg(test)]
mod tests;
