//! `IdMap`: a small hash map from `u32` ids (thread ids, process ids) to values, for the
//! kernel's hot lookups (every switch, wake-up and LiteIPC message looks threads up; a
//! `BTreeMap` search costs ~60–120 instructions, this ~10).
//!
//! Open addressing with linear probing; the home slot of an id is its low bits, which suits
//! ids handed out in sequence (they rarely collide). Removal shifts the following entries
//! back, so there are no tombstones. The load stays at most one half.

use alloc::vec::Vec;

/// Slots of the first allocation.
const MIN_CAPACITY: usize = 16;

/// Map from `u32` ids to `V`. Iteration order is unspecified.
#[derive(Clone, Debug)]
pub struct IdMap<V> {
    slots: Vec<Option<(u32, V)>>,
    len: usize,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> IdMap<V> {
    /// An empty map (allocates on the first insert).
    pub const fn new() -> Self {
        IdMap {
            slots: Vec::new(),
            len: 0,
        }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The slot holding `id`, if present.
    #[inline]
    fn find(&self, id: u32) -> Option<usize> {
        let mask = self.mask();
        let mut i = id as usize & mask;
        loop {
            match self.slots.get(i)? {
                None => return None,
                Some((k, _)) if *k == id => return Some(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value of `id`.
    #[inline]
    pub fn get(&self, id: u32) -> Option<&V> {
        let i = self.find(id)?;
        self.slots.get(i)?.as_ref().map(|(_, v)| v)
    }

    /// The value of `id`, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: u32) -> Option<&mut V> {
        let i = self.find(id)?;
        self.slots.get_mut(i)?.as_mut().map(|(_, v)| v)
    }

    /// Whether `id` is present.
    #[inline]
    pub fn contains_key(&self, id: u32) -> bool {
        self.find(id).is_some()
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(MIN_CAPACITY);
        let old = core::mem::take(&mut self.slots);
        self.slots.resize_with(capacity, || None);
        for (id, value) in old.into_iter().flatten() {
            let i = self.free_slot(id);
            if let Some(slot) = self.slots.get_mut(i) {
                *slot = Some((id, value));
            }
        }
    }

    /// The first empty slot on `id`'s probe path (the table is never full).
    fn free_slot(&self, id: u32) -> usize {
        let mask = self.mask();
        let mut i = id as usize & mask;
        while self.slots.get(i).is_some_and(Option::is_some) {
            i = (i + 1) & mask;
        }
        i
    }

    /// Inserts `value` for `id`, returning the value it replaces.
    pub fn insert(&mut self, id: u32, value: V) -> Option<V> {
        if let Some(old) = self.get_mut(id) {
            return Some(core::mem::replace(old, value));
        }
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let i = self.free_slot(id);
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = Some((id, value));
            self.len += 1;
        }
        None
    }

    /// The value of `id`, inserting `make()` first if absent.
    #[inline]
    pub fn get_or_insert_with(&mut self, id: u32, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(id) {
            Some(i) => i,
            None => {
                self.insert(id, make());
                self.find(id).expect("invariant: just inserted")
            }
        };
        match self.slots.get_mut(i) {
            Some(Some((_, v))) => v,
            _ => unreachable!("invariant: find returns an occupied slot"),
        }
    }

    /// Removes `id`, returning its value.
    pub fn remove(&mut self, id: u32) -> Option<V> {
        let mut hole = self.find(id)?;
        let (_, value) = self.slots.get_mut(hole)?.take()?;
        self.len -= 1;
        // Backward shift: move later entries of the run into the hole when their home slot
        // does not lie (cyclically) between the hole and where they sit.
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let Some(Some((k, _))) = self.slots.get(j) else {
                break;
            };
            let home = *k as usize & mask;
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                let moved = self.slots.get_mut(j).and_then(Option::take);
                if let Some(slot) = self.slots.get_mut(hole) {
                    *slot = moved;
                }
                hole = j;
            }
        }
        Some(value)
    }

    /// Every (id, value).
    pub fn iter(&self) -> impl Iterator<Item = (u32, &V)> {
        self.slots.iter().flatten().map(|(k, v)| (*k, v))
    }

    /// Every (id, value), values mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut V)> {
        self.slots.iter_mut().flatten().map(|(k, v)| (*k, v))
    }

    /// Every value.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.slots.iter().flatten().map(|(_, v)| v)
    }

    /// Every value, mutably.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.slots.iter_mut().flatten().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_like_a_btreemap_under_random_operations() {
        let mut map = IdMap::new();
        let mut model = BTreeMap::new();
        let mut rng = crate::test_rng::XorShift(0x2545_F491_4F6C_DD1D);
        for step in 0..50_000u32 {
            let x = rng.next();
            // Mostly sequential ids with some far-away ones and many collisions mod 16.
            let id = match x % 4 {
                0 => (x >> 8) as u32 % 64,
                1 => ((x >> 8) as u32 % 8) * 16 + 3,
                2 => (x >> 8) as u32,
                _ => step / 3,
            };
            match (x >> 40) % 3 {
                0 => assert_eq!(map.insert(id, step), model.insert(id, step)),
                1 => assert_eq!(map.remove(id), model.remove(&id)),
                _ => assert_eq!(map.get(id), model.get(&id)),
            }
            assert_eq!(map.len(), model.len());
            if step % 997 == 0 {
                for (k, v) in &model {
                    assert_eq!(map.get(*k), Some(v));
                }
                let mut seen: Vec<(u32, u32)> = map.iter().map(|(k, v)| (k, *v)).collect();
                seen.sort_unstable();
                assert_eq!(
                    seen,
                    model.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>()
                );
            }
        }
    }

    #[test]
    fn get_or_insert_with_and_mutation() {
        let mut map: IdMap<Vec<u32>> = IdMap::new();
        map.get_or_insert_with(7, Vec::new).push(1);
        map.get_or_insert_with(7, || unreachable!()).push(2);
        map.get_or_insert_with(23, Vec::new).push(3);
        assert_eq!(map.get(7), Some(&vec![1, 2]));
        for v in map.values_mut() {
            v.push(9);
        }
        assert_eq!(map.get(23), Some(&vec![3, 9]));
        assert!(map.contains_key(23) && !map.contains_key(39));
        assert_eq!(map.remove(7), Some(vec![1, 2, 9]));
        assert!(map.get(7).is_none() && !map.is_empty());
    }
}
