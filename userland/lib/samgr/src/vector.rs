//! [`Vector`]: upstream's `Vector` (`samgr/source/common.c`), the slot array behind service ids,
//! feature ids and router tokens. An element keeps its index until removed, because the index
//! *is* its identity (`Identity::service_id`, `Identity::feature_id`, `SvcIdentity::token`).
//!
//! Semantics kept from upstream: `size` counts slots ever used (`top`), `num` the live ones;
//! removal ([`Vector::swap`] with `None`) leaves a hole; [`Vector::add`] appends while there is
//! capacity and reuses a hole (the highest) only when full, growing by [`GROW_STEP`].

use alloc::vec::Vec;

/// Slots added when a full vector grows.
pub const GROW_STEP: usize = 4;
/// Largest index (upstream indexes with `int16`).
pub const MAX_INDEX: usize = i16::MAX as usize;

/// A slot vector with stable indices.
#[derive(Debug, Clone)]
pub struct Vector<T> {
    slots: Vec<Option<T>>,
    /// Capacity as upstream counts it (`max`), grown in [`GROW_STEP`]s.
    max: usize,
    free: usize,
}

impl<T> Default for Vector<T> {
    fn default() -> Self {
        Vector::new()
    }
}

impl<T> Vector<T> {
    /// An empty vector.
    pub const fn new() -> Self {
        Vector {
            slots: Vec::new(),
            max: 0,
            free: 0,
        }
    }

    /// Adds `element`; returns its index, or `None` when the index space is exhausted.
    pub fn add(&mut self, element: T) -> Option<usize> {
        if self.slots.len() >= self.max {
            if let Some(hole) = self.slots.iter().rposition(Option::is_none) {
                self.slots[hole] = Some(element);
                self.free -= 1;
                return Some(hole);
            }
            if self.max + GROW_STEP > MAX_INDEX + 1 {
                return None;
            }
            self.max += GROW_STEP;
        }
        self.slots.push(Some(element));
        Some(self.slots.len() - 1)
    }

    /// Slots in use, holes included (upstream `VECTOR_Size`: iterate `0..size()`).
    pub fn size(&self) -> usize {
        self.slots.len()
    }

    /// Live elements (upstream `VECTOR_Num`).
    pub fn num(&self) -> usize {
        self.slots.len() - self.free
    }

    /// The element at `index`, if live.
    pub fn at(&self, index: usize) -> Option<&T> {
        self.slots.get(index).and_then(Option::as_ref)
    }

    /// The element at `index`, if live, mutably.
    pub fn at_mut(&mut self, index: usize) -> Option<&mut T> {
        self.slots.get_mut(index).and_then(Option::as_mut)
    }

    /// Replaces slot `index` with `element` (`None` removes), returning the old element. An
    /// index past [`Vector::size`] or an empty slot returns `None` and changes nothing.
    pub fn swap(&mut self, index: usize, element: Option<T>) -> Option<T> {
        let slot = self.slots.get_mut(index)?;
        slot.as_ref()?;
        let old = core::mem::replace(slot, element);
        if slot.is_none() {
            self.free += 1;
        }
        old
    }

    /// Index of the first live element satisfying `pred` (upstream `VECTOR_FindByKey`).
    pub fn find(&self, mut pred: impl FnMut(&T) -> bool) -> Option<usize> {
        self.slots
            .iter()
            .position(|slot| slot.as_ref().is_some_and(&mut pred))
    }

    /// `(index, element)` of every live element, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| slot.as_ref().map(|e| (i, e)))
    }
}
