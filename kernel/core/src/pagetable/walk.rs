//! The recursive table walks behind `PageTable`: a read-only planning pass per operation (finds
//! conflicts and counts the table pages needed), the writing pass that follows it, and the
//! whole-tree visits (`for_each_leaf`, `free_tree`).
//!
//! All walks take offsets inside the 39-bit half, `lo < hi <= 2^39`, and a table at `level`;
//! [`Slots`] cuts `[lo, hi)` into the entries of that table.

use super::pte::{ADDR_MASK, DESC_TABLE_OR_PAGE, DESC_VALID, LEAF_ATTR_MASK};
use super::{
    Attrs, ENTRIES_PER_TABLE, MapError, TableMemory, encode_leaf, encode_table, index, level_size,
};
use crate::addr::PhysAddr;

/// Marks the link word of a reserved page as holding a next pointer (page addresses have
/// bit 0 clear, and the end of the chain is stored as 0).
const LINK_PRESENT: u64 = 1;

/// A descriptor as the walker sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Entry {
    /// Not valid (bit 0 clear, or the reserved 0b01 encoding at level 3).
    Invalid,
    /// A block (levels 1-2) or page (level 3) descriptor.
    Leaf(u64),
    /// A table descriptor pointing at the next level.
    Table(PhysAddr),
}

impl Entry {
    /// Classifies descriptor `desc` found in a table at `level`.
    pub(super) fn classify(desc: u64, level: u8) -> Entry {
        let valid = desc & DESC_VALID != 0;
        let table_or_page = desc & DESC_TABLE_OR_PAGE != 0;
        match (valid, table_or_page, level >= 3) {
            (false, _, _) | (true, false, true) => Entry::Invalid,
            (true, true, true) | (true, false, false) => Entry::Leaf(desc),
            (true, true, false) => Entry::Table(PhysAddr::new(desc & ADDR_MASK)),
        }
    }
}

/// Iterator over the entries of a table at `level` covered by `[cur, end)`: yields
/// `(index, lo, hi)` with `[lo, hi)` the part of the range inside that entry.
struct Slots {
    level: u8,
    cur: u64,
    end: u64,
}

impl Iterator for Slots {
    type Item = (usize, u64, u64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.cur >= self.end {
            return None;
        }
        let size = level_size(self.level);
        let lo = self.cur;
        let hi = ((lo & !(size - 1)) + size).min(self.end);
        self.cur = hi;
        Some((index(lo, self.level), lo, hi))
    }
}

/// The entries of a table at `level` covered by `[lo, hi)`.
fn slots(level: u8, lo: u64, hi: u64) -> Slots {
    Slots {
        level,
        cur: lo,
        end: hi,
    }
}

/// Whether `[lo, hi)` covers the whole entry it lies in at `level`.
fn covers_entry(level: u8, lo: u64, hi: u64) -> bool {
    hi - lo == level_size(level)
}

/// Table pages allocated up front so the writing pass cannot fail halfway. They are chained
/// through entry 0 of each page, which is zeroed again when the page is taken.
pub(super) struct Reserve {
    head: Option<PhysAddr>,
}

impl Reserve {
    /// Allocates `count` table pages; on exhaustion gives back the ones it got and fails.
    pub(super) fn fill<M: TableMemory>(mem: &mut M, count: usize) -> Result<Self, MapError> {
        let mut reserve = Reserve { head: None };
        for _ in 0..count {
            let Some(page) = mem.alloc_table() else {
                reserve.free_all(mem);
                return Err(MapError::NoMemory);
            };
            let link = reserve.head.map_or(0, |next| next.as_u64() | LINK_PRESENT);
            mem.write_entry(page, 0, link);
            reserve.head = Some(page);
        }
        Ok(reserve)
    }

    /// A zeroed table page: from the reserve, or (only if the plan undercounted, which tests
    /// rule out) freshly allocated.
    fn take<M: TableMemory>(&mut self, mem: &mut M) -> Result<PhysAddr, MapError> {
        let Some(page) = self.head else {
            debug_assert!(false, "invariant: planning pass counted every table page");
            return mem.alloc_table().ok_or(MapError::NoMemory);
        };
        let link = mem.read_entry(page, 0);
        mem.write_entry(page, 0, 0);
        self.head = (link & LINK_PRESENT != 0).then(|| PhysAddr::new(link & !LINK_PRESENT));
        Ok(page)
    }

    /// Ends the writing pass: every reserved page should have been used; any left is freed.
    pub(super) fn release<M: TableMemory>(self, mem: &mut M) {
        debug_assert!(
            self.head.is_none(),
            "invariant: planning pass counted no extra page"
        );
        self.free_all(mem);
    }

    /// Frees whatever is left in the reserve.
    fn free_all<M: TableMemory>(mut self, mem: &mut M) {
        while let Some(page) = self.head {
            let link = mem.read_entry(page, 0);
            self.head = (link & LINK_PRESENT != 0).then(|| PhysAddr::new(link & !LINK_PRESENT));
            mem.free_table(page);
        }
    }
}

/// Parameters of one `map` call shared by both passes.
pub(super) struct MapRequest {
    /// Physical minus virtual offset (wrapping), so `pa = offset + delta`.
    pub(super) delta: u64,
    /// Attributes of every leaf written.
    pub(super) attrs: Attrs,
    /// Whether 1 GiB / 2 MiB blocks may be used.
    pub(super) allow_blocks: bool,
}

impl MapRequest {
    /// Whether `[lo, hi)`, under an invalid entry at `level`, becomes a single leaf there.
    fn leaf_here(&self, level: u8, lo: u64, hi: u64) -> bool {
        if level >= 3 {
            return true;
        }
        let size = level_size(level);
        self.allow_blocks
            && covers_entry(level, lo, hi)
            && lo.wrapping_add(self.delta).is_multiple_of(size)
    }

    /// Table pages needed to map `[lo, hi)` under an invalid entry at `level`.
    fn fresh_tables(&self, level: u8, lo: u64, hi: u64) -> usize {
        if self.leaf_here(level, lo, hi) {
            return 0;
        }
        1 + slots(level + 1, lo, hi)
            .map(|(_, a, b)| self.fresh_tables(level + 1, a, b))
            .sum::<usize>()
    }
}

/// Planning pass of `map`: `AlreadyMapped` if any page of `[lo, hi)` is mapped, else the number
/// of table pages the writing pass will allocate.
pub(super) fn map_plan<M: TableMemory>(
    mem: &M,
    table: PhysAddr,
    level: u8,
    lo: u64,
    hi: u64,
    req: &MapRequest,
) -> Result<usize, MapError> {
    let mut needed = 0;
    for (i, a, b) in slots(level, lo, hi) {
        match Entry::classify(mem.read_entry(table, i), level) {
            Entry::Invalid => needed += req.fresh_tables(level, a, b),
            Entry::Leaf(_) => return Err(MapError::AlreadyMapped),
            Entry::Table(next) => needed += map_plan(mem, next, level + 1, a, b, req)?,
        }
    }
    Ok(needed)
}

/// Writing pass of `map`. New tables are filled before they are linked in.
pub(super) fn map_apply<M: TableMemory>(
    mem: &mut M,
    reserve: &mut Reserve,
    table: PhysAddr,
    level: u8,
    lo: u64,
    hi: u64,
    req: &MapRequest,
) -> Result<(), MapError> {
    for (i, a, b) in slots(level, lo, hi) {
        match Entry::classify(mem.read_entry(table, i), level) {
            Entry::Invalid if req.leaf_here(level, a, b) => {
                let pa = PhysAddr::new(a.wrapping_add(req.delta));
                mem.write_entry(table, i, encode_leaf(pa, req.attrs, level));
            }
            Entry::Invalid => {
                let next = reserve.take(mem)?;
                map_apply(mem, reserve, next, level + 1, a, b, req)?;
                mem.write_entry(table, i, encode_table(next));
            }
            Entry::Table(next) => map_apply(mem, reserve, next, level + 1, a, b, req)?,
            Entry::Leaf(_) => return Err(MapError::AlreadyMapped),
        }
    }
    Ok(())
}

/// Planning pass of `unmap` (`need_mapped = false`) and `protect` (`true`, which fails with
/// `NotMapped` on any hole): the number of table pages needed to split blocks that `[lo, hi)`
/// covers only in part.
pub(super) fn split_plan<M: TableMemory>(
    mem: &M,
    table: PhysAddr,
    level: u8,
    lo: u64,
    hi: u64,
    need_mapped: bool,
) -> Result<usize, MapError> {
    let mut needed = 0;
    for (i, a, b) in slots(level, lo, hi) {
        match Entry::classify(mem.read_entry(table, i), level) {
            Entry::Invalid if need_mapped => return Err(MapError::NotMapped),
            Entry::Invalid => {}
            Entry::Leaf(_) => needed += split_cost(level, a, b),
            Entry::Table(next) => needed += split_plan(mem, next, level + 1, a, b, need_mapped)?,
        }
    }
    Ok(needed)
}

/// Table pages needed to carve `[lo, hi)` out of a block at `level`.
fn split_cost(level: u8, lo: u64, hi: u64) -> usize {
    if covers_entry(level, lo, hi) || level >= 3 {
        return 0;
    }
    1 + slots(level + 1, lo, hi)
        .map(|(_, a, b)| split_cost(level + 1, a, b))
        .sum::<usize>()
}

/// Builds a next-level table mapping exactly what the block `desc` at `level` maps, with the
/// same attribute bits. The caller links it in once it has edited it.
fn split<M: TableMemory>(
    mem: &mut M,
    reserve: &mut Reserve,
    desc: u64,
    level: u8,
) -> Result<PhysAddr, MapError> {
    let next = reserve.take(mem)?;
    let child_size = level_size(level + 1);
    let base = desc & ADDR_MASK & !(level_size(level) - 1);
    let kind = if level + 1 >= 3 {
        DESC_VALID | DESC_TABLE_OR_PAGE
    } else {
        DESC_VALID
    };
    for i in 0..ENTRIES_PER_TABLE {
        let addr = base + i as u64 * child_size;
        mem.write_entry(next, i, addr | (desc & LEAF_ATTR_MASK) | kind);
    }
    Ok(next)
}

/// Whether every entry of `table` is invalid.
fn is_empty<M: TableMemory>(mem: &M, table: PhysAddr) -> bool {
    (0..ENTRIES_PER_TABLE).all(|i| mem.read_entry(table, i) & DESC_VALID == 0)
}

/// Writing pass of `unmap`: clears leaves, splits partly covered blocks, frees emptied tables.
pub(super) fn unmap_apply<M: TableMemory>(
    mem: &mut M,
    reserve: &mut Reserve,
    table: PhysAddr,
    level: u8,
    lo: u64,
    hi: u64,
) -> Result<(), MapError> {
    for (i, a, b) in slots(level, lo, hi) {
        match Entry::classify(mem.read_entry(table, i), level) {
            Entry::Invalid => {}
            Entry::Leaf(_) if covers_entry(level, a, b) || level >= 3 => {
                mem.write_entry(table, i, 0)
            }
            Entry::Leaf(desc) => {
                let next = split(mem, reserve, desc, level)?;
                unmap_apply(mem, reserve, next, level + 1, a, b)?;
                mem.write_entry(table, i, encode_table(next));
            }
            Entry::Table(next) => {
                unmap_apply(mem, reserve, next, level + 1, a, b)?;
                if is_empty(mem, next) {
                    mem.write_entry(table, i, 0);
                    mem.free_table(next);
                }
            }
        }
    }
    Ok(())
}

/// Writing pass of `protect`: rewrites leaves in place, splitting partly covered blocks.
pub(super) fn protect_apply<M: TableMemory>(
    mem: &mut M,
    reserve: &mut Reserve,
    table: PhysAddr,
    level: u8,
    lo: u64,
    hi: u64,
    attrs: Attrs,
) -> Result<(), MapError> {
    for (i, a, b) in slots(level, lo, hi) {
        match Entry::classify(mem.read_entry(table, i), level) {
            Entry::Invalid => return Err(MapError::NotMapped),
            Entry::Leaf(desc) if covers_entry(level, a, b) || level >= 3 => {
                let pa = PhysAddr::new(desc & ADDR_MASK);
                mem.write_entry(table, i, encode_leaf(pa, attrs, level));
            }
            Entry::Leaf(desc) => {
                let next = split(mem, reserve, desc, level)?;
                protect_apply(mem, reserve, next, level + 1, a, b, attrs)?;
                mem.write_entry(table, i, encode_table(next));
            }
            Entry::Table(next) => protect_apply(mem, reserve, next, level + 1, a, b, attrs)?,
        }
    }
    Ok(())
}

/// Calls `f(offset, pa, size)` for every leaf under `table`, whose first entry maps `base`.
pub(super) fn for_each_leaf<M: TableMemory>(
    mem: &M,
    table: PhysAddr,
    level: u8,
    base: u64,
    f: &mut dyn FnMut(u64, PhysAddr, u64),
) {
    let size = level_size(level);
    for i in 0..ENTRIES_PER_TABLE {
        let offset = base + i as u64 * size;
        match Entry::classify(mem.read_entry(table, i), level) {
            Entry::Invalid => {}
            Entry::Leaf(desc) => f(offset, PhysAddr::new(desc & ADDR_MASK & !(size - 1)), size),
            Entry::Table(next) => for_each_leaf(mem, next, level + 1, offset, f),
        }
    }
}

/// Frees `table` and every table below it.
pub(super) fn free_tree<M: TableMemory>(mem: &mut M, table: PhysAddr, level: u8) {
    if level < 3 {
        for i in 0..ENTRIES_PER_TABLE {
            if let Entry::Table(next) = Entry::classify(mem.read_entry(table, i), level) {
                free_tree(mem, next, level + 1);
            }
        }
    }
    mem.free_table(table);
}
