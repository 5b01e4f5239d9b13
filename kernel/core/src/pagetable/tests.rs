//! Host tests for the mapper, over a `HashMap`-backed `TableMemory` that counts live tables and
//! can be given an allocation budget. `map` covers mapping, translation and validation; `edit`
//! covers unmap, protect, destroy and a randomized comparison against a per-page model.

mod edit;
mod map;

use std::boxed::Box;
use std::collections::{BTreeMap, HashMap};
use std::vec::Vec;

pub(super) use super::*;

pub(super) const KIB4: u64 = 0x1000;
pub(super) const MIB2: u64 = L2_BLOCK_SIZE;
pub(super) const GIB1: u64 = L1_BLOCK_SIZE;

/// Table memory on the host heap. Table "physical addresses" are handed out from a counter and
/// never reused, so a use-after-free of a table panics in `read_entry`.
pub(super) struct TestMem {
    pub(super) tables: HashMap<u64, Box<[u64; ENTRIES_PER_TABLE]>>,
    next: u64,
    pub(super) budget: Option<usize>,
}

impl TestMem {
    pub(super) fn new() -> Self {
        Self {
            tables: HashMap::new(),
            next: 0x7000_0000,
            budget: None,
        }
    }

    pub(super) fn with_budget(budget: usize) -> Self {
        Self {
            budget: Some(budget),
            ..Self::new()
        }
    }

    pub(super) fn live(&self) -> usize {
        self.tables.len()
    }

    /// Every table and its contents, in address order, for before/after comparisons.
    pub(super) fn dump(&self) -> BTreeMap<u64, Vec<u64>> {
        self.tables.iter().map(|(k, v)| (*k, v.to_vec())).collect()
    }
}

impl TableMemory for TestMem {
    fn alloc_table(&mut self) -> Option<PhysAddr> {
        if let Some(budget) = &mut self.budget {
            *budget = budget.checked_sub(1)?;
        }
        let pa = self.next;
        self.next += KIB4;
        self.tables.insert(pa, Box::new([0; ENTRIES_PER_TABLE]));
        Some(PhysAddr(pa))
    }

    fn free_table(&mut self, table: PhysAddr) {
        assert!(
            self.tables.remove(&table.0).is_some(),
            "free of unknown table {table}"
        );
        if let Some(budget) = &mut self.budget {
            *budget += 1;
        }
    }

    fn read_entry(&self, table: PhysAddr, index: usize) -> u64 {
        self.tables
            .get(&table.0)
            .unwrap_or_else(|| panic!("read of unknown table {table}"))[index]
    }

    fn write_entry(&mut self, table: PhysAddr, index: usize, value: u64) {
        self.tables
            .get_mut(&table.0)
            .unwrap_or_else(|| panic!("write to unknown table {table}"))[index] = value;
    }
}

pub(super) fn va(v: u64) -> VirtAddr {
    VirtAddr(v)
}

pub(super) fn pa(p: u64) -> PhysAddr {
    PhysAddr(p)
}

pub(super) fn leaves(pt: &PageTable, mem: &TestMem) -> Vec<(u64, u64, u64)> {
    let mut out = Vec::new();
    pt.for_each_leaf(mem, |v, p, s| out.push((v.0, p.0, s)));
    out
}
