//! The kernel heap under allocation patterns.

use crate::mm::heap;
use crate::{kassert, kassert_eq, ktest};
use alloc::boxed::Box;
use alloc::vec::Vec;

ktest!(
    fn interleaved_alloc_free_keeps_contents_and_returns_memory() {
        let (used_before, _) = heap::stats();
        let mut blocks: Vec<Option<Vec<u8>>> = Vec::new();
        for i in 0..200usize {
            let size = 1 + (i * 37) % 3000;
            blocks.push(Some(alloc::vec![i as u8; size]));
        }
        for block in blocks.iter_mut().step_by(2) {
            *block = None;
        }
        for i in (0..200usize).step_by(2) {
            blocks[i] = Some(alloc::vec![0xEE; 64 + i]);
        }
        for (i, block) in blocks.iter().enumerate() {
            let block = block.as_ref().map(Vec::as_slice).unwrap_or(&[]);
            let expected = if i % 2 == 0 { 0xEE } else { i as u8 };
            kassert!(block.iter().all(|&b| b == expected), "block {i} corrupted");
        }
        drop(blocks);
        kassert_eq!(heap::stats().0, used_before);
        Ok(())
    }
);

ktest!(
    fn large_and_aligned_allocations() {
        #[repr(align(4096))]
        struct Page([u8; 4096]);
        let pages: Vec<Box<Page>> = (0..8).map(|_| Box::new(Page([7; 4096]))).collect();
        for page in &pages {
            kassert_eq!((&**page as *const Page as usize) % 4096, 0);
            kassert!(page.0.iter().all(|&b| b == 7));
        }
        let big = alloc::vec![0u64; 128 * 1024]; // 1 MiB
        kassert!(big.iter().all(|&w| w == 0));
        Ok(())
    }
);

ktest!(
    fn exhaustion_is_reported_not_fatal() {
        let (_, free) = heap::stats();
        let mut v: Vec<u8> = Vec::new();
        kassert!(
            v.try_reserve_exact(free + 4096).is_err(),
            "reserved more than the heap holds"
        );
        kassert!(v.try_reserve_exact(1024).is_ok());
        Ok(())
    }
);
