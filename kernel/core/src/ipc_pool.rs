//! The LiteIPC receive-pool allocator: first-fit blocks inside one process's pool, by offset.
//! A block is first *queued* (the kernel wrote a message into it) and becomes *delivered*
//! when the process receives it; only delivered blocks may be freed by the process
//! (BUFF_FREE), so a hostile process cannot free a message it has not seen, free twice, or
//! free an address that is not a message at all.
//!
//! Blocks live in a `Vec` sorted by offset: a pool usually holds a handful of messages, so a
//! binary search and a short shift beat a `BTreeMap`'s node walks and allocations (this
//! runs twice per LiteIPC message); the first-fit scan is linear either way.

use alloc::vec::Vec;

/// Blocks start on this alignment (message headers hold u64 fields).
pub const POOL_ALIGN: usize = 16;

/// Why a pool operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// No block starts at that offset.
    NotAllocated,
    /// The block exists but has not been delivered to the process.
    NotDelivered,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Block {
    len: usize,
    delivered: bool,
}

/// Allocator state for one pool of `size` bytes.
#[derive(Clone, Debug)]
pub struct PoolAllocator {
    size: usize,
    /// (offset, block), sorted by offset.
    blocks: Vec<(usize, Block)>,
    used: usize,
}

impl PoolAllocator {
    /// An empty pool of `size` bytes.
    pub fn new(size: usize) -> Self {
        Self {
            size,
            blocks: Vec::new(),
            used: 0,
        }
    }

    /// Pool size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Bytes in blocks (rounded to the alignment).
    pub fn used(&self) -> usize {
        self.used
    }

    /// A queued (not yet delivered) block of `len` bytes; `None` if no gap fits.
    pub fn alloc(&mut self, len: usize) -> Option<usize> {
        let len = len.max(1).checked_next_multiple_of(POOL_ALIGN)?;
        let mut candidate = 0usize;
        let mut index = self.blocks.len();
        for (i, &(start, block)) in self.blocks.iter().enumerate() {
            if start >= candidate.checked_add(len)? {
                index = i;
                break;
            }
            candidate = start + block.len;
        }
        if candidate.checked_add(len)? > self.size {
            return None;
        }
        self.blocks.insert(
            index,
            (
                candidate,
                Block {
                    len,
                    delivered: false,
                },
            ),
        );
        self.used += len;
        Some(candidate)
    }

    /// Index of the block starting at `offset`.
    fn find(&self, offset: usize) -> Result<usize, PoolError> {
        self.blocks
            .binary_search_by_key(&offset, |&(start, _)| start)
            .map_err(|_| PoolError::NotAllocated)
    }

    /// Marks a queued block as delivered to the process.
    pub fn mark_delivered(&mut self, offset: usize) -> Result<(), PoolError> {
        let index = self.find(offset)?;
        let (_, block) = self.blocks.get_mut(index).ok_or(PoolError::NotAllocated)?;
        block.delivered = true;
        Ok(())
    }

    /// Frees a block on behalf of the kernel (queued or delivered).
    pub fn release(&mut self, offset: usize) -> Result<usize, PoolError> {
        let index = self.find(offset)?;
        let (_, block) = self.blocks.remove(index);
        self.used -= block.len;
        Ok(block.len)
    }

    /// Checks that the process may free the block at `offset` (delivered, not yet freed).
    pub fn check_user_free(&self, offset: usize) -> Result<(), PoolError> {
        let index = self.find(offset)?;
        match self.blocks.get(index) {
            None => Err(PoolError::NotAllocated),
            Some((_, block)) if !block.delivered => Err(PoolError::NotDelivered),
            Some(_) => Ok(()),
        }
    }

    /// Frees a delivered block on behalf of the process.
    pub fn user_free(&mut self, offset: usize) -> Result<usize, PoolError> {
        self.check_user_free(offset)?;
        self.release(offset)
    }

    /// Number of blocks.
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_first_fit_aligned_and_reuses_gaps() {
        let mut pool = PoolAllocator::new(4096);
        let a = pool.alloc(100).expect("fits");
        let b = pool.alloc(200).expect("fits");
        assert_eq!(a, 0);
        assert_eq!(b, 112);
        assert_eq!(pool.used(), 112 + 208);
        pool.release(a).expect("allocated");
        assert_eq!(pool.alloc(96), Some(0), "the gap at the start is reused");
        assert_eq!(pool.alloc(4096), None, "too big for what is left");
    }

    #[test]
    fn whole_pool_fits_exactly_once() {
        let mut pool = PoolAllocator::new(4096);
        let all = pool.alloc(4096).expect("the whole pool");
        assert_eq!(pool.alloc(1), None);
        pool.release(all).expect("allocated");
        assert_eq!(pool.used(), 0);
        assert!(pool.alloc(4096).is_some());
    }

    #[test]
    fn user_may_free_only_delivered_blocks_once() {
        let mut pool = PoolAllocator::new(1024);
        let a = pool.alloc(64).expect("fits");
        assert_eq!(pool.user_free(a), Err(PoolError::NotDelivered));
        assert_eq!(pool.user_free(a + 16), Err(PoolError::NotAllocated));
        assert_eq!(pool.user_free(999_999), Err(PoolError::NotAllocated));
        pool.mark_delivered(a).expect("allocated");
        assert_eq!(pool.user_free(a), Ok(64));
        assert_eq!(
            pool.user_free(a),
            Err(PoolError::NotAllocated),
            "double free"
        );
        assert_eq!(pool.used(), 0);
    }

    #[test]
    fn random_alloc_free_never_overlaps() {
        let mut pool = PoolAllocator::new(64 * 1024);
        let mut live: alloc::vec::Vec<(usize, usize)> = alloc::vec::Vec::new();
        let mut rng = crate::test_rng::XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let x = rng.next();
            if x.is_multiple_of(3) && !live.is_empty() {
                let (off, _) = live.swap_remove((x as usize / 3) % live.len());
                pool.release(off).expect("live block");
            } else if let Some(off) = pool.alloc((x % 3000) as usize) {
                let len = ((x % 3000) as usize).max(1).next_multiple_of(POOL_ALIGN);
                assert!(off + len <= pool.size());
                assert!(
                    live.iter().all(|&(o, l)| off + len <= o || o + l <= off),
                    "overlap at {off}"
                );
                live.push((off, len));
            }
            assert_eq!(pool.used(), live.iter().map(|&(_, l)| l).sum::<usize>());
        }
    }
}
