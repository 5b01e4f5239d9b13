//! The global frame allocator on real RAM.

use crate::mm::{frame, paging};
use crate::{kassert, kassert_eq, ksome, ktest};
use alloc::vec::Vec;
use kcore::{PAGE_SIZE, PhysAddr};

ktest!(
    fn alloc_gives_distinct_frames_and_free_restores_count() {
        let (free_before, _) = frame::stats();
        let mut frames = Vec::new();
        for _ in 0..64 {
            let pa = ksome!(frame::alloc(), "out of frames");
            kassert!(pa.as_u64() % PAGE_SIZE as u64 == 0, "{pa} not page aligned");
            kassert!(!frames.contains(&pa), "{pa} handed out twice");
            frames.push(pa);
        }
        kassert_eq!(frame::stats().0, free_before - 64);
        for pa in frames {
            frame::free(pa);
        }
        kassert_eq!(frame::stats().0, free_before);
        Ok(())
    }
);

ktest!(
    fn never_hands_out_the_kernel_image() {
        let (start, end) = paging::image_phys_range();
        let mut frames = Vec::new();
        for _ in 0..512 {
            match frame::alloc() {
                Some(pa) => {
                    kassert!(
                        pa < start || pa >= end,
                        "{pa} lies inside the kernel image {start}..{end}"
                    );
                    frames.push(pa);
                }
                None => break,
            }
        }
        kassert!(
            frames.len() == 512,
            "only {} frames available",
            frames.len()
        );
        frames.into_iter().for_each(frame::free);
        Ok(())
    }
);

ktest!(
    fn zeroed_frames_read_back_zero() {
        let pa = ksome!(frame::alloc_zeroed(), "out of frames");
        let va = paging::phys_to_virt(pa).as_u64();
        for offset in (0..PAGE_SIZE as u64).step_by(512) {
            kassert_eq!(crate::arch::fault::probe_read_u64(va + offset), Ok(0));
        }
        frame::free(pa);
        Ok(())
    }
);

ktest!(
    fn contiguous_allocation_is_aligned() {
        let (free_before, _) = frame::stats();
        let pa = ksome!(frame::alloc_contiguous(16, 16), "no 16 contiguous frames");
        kassert_eq!(pa.as_u64() % (16 * PAGE_SIZE as u64), 0);
        kassert_eq!(frame::stats().0, free_before - 16);
        for i in 0..16u64 {
            frame::free(PhysAddr(pa.as_u64() + i * PAGE_SIZE as u64));
        }
        kassert_eq!(frame::stats().0, free_before);
        Ok(())
    }
);
