//! The global frame allocator on real RAM: owned frames free themselves, hand-over to a
//! table is explicit, and frame memory is reached only through its owner.

use crate::mm::frame::{self, Frame, Frames};
use crate::mm::paging;
use crate::{kassert, kassert_eq, ksome, ktest};
use alloc::vec::Vec;
use kcore::PAGE_SIZE;

ktest!(
    fn frames_are_distinct_and_free_themselves_when_dropped() {
        let (free_before, _) = frame::stats();
        let mut frames = Vec::new();
        for _ in 0..64 {
            let frame = ksome!(Frame::alloc_zeroed(), "out of frames");
            let pa = frame.pa();
            kassert!(pa.as_u64() % PAGE_SIZE as u64 == 0, "{pa} not page aligned");
            kassert!(
                frames.iter().all(|f: &Frame| f.pa() != pa),
                "{pa} handed out twice"
            );
            frames.push(frame);
        }
        kassert_eq!(frame::stats().0, free_before - 64);
        drop(frames);
        kassert_eq!(frame::stats().0, free_before);
        Ok(())
    }
);

ktest!(
    fn a_frame_given_up_stays_allocated_until_taken_back() {
        let (free_before, _) = frame::stats();
        let pa = ksome!(Frame::alloc_zeroed(), "out of frames").into_raw();
        kassert_eq!(frame::stats().0, free_before - 1);
        // SAFETY: `pa` came from `into_raw` just above and nothing else holds it.
        #[allow(unsafe_code, reason = "takes back the frame this test gave up")]
        drop(unsafe { Frame::from_raw(pa) });
        kassert_eq!(frame::stats().0, free_before);
        Ok(())
    }
);

ktest!(
    fn never_hands_out_the_kernel_image() {
        let (start, end) = paging::image_phys_range();
        let mut frames = Vec::new();
        for _ in 0..512 {
            match Frame::alloc_zeroed() {
                Some(frame) => {
                    let pa = frame.pa();
                    kassert!(
                        pa < start || pa >= end,
                        "{pa} lies inside the kernel image {start}..{end}"
                    );
                    frames.push(frame);
                }
                None => break,
            }
        }
        kassert!(
            frames.len() == 512,
            "only {} frames available",
            frames.len()
        );
        Ok(())
    }
);

ktest!(
    fn frames_start_zeroed_and_keep_what_is_written() {
        let frame = ksome!(Frame::alloc_zeroed(), "out of frames");
        let mut page = alloc::vec![0xAAu8; PAGE_SIZE];
        kassert!(frame.read(0, &mut page).is_ok());
        kassert!(page.iter().all(|&b| b == 0), "a fresh frame is not zeroed");
        kassert!(frame.write(4090, b"abcdef").is_ok());
        let mut tail = [0u8; 6];
        kassert!(frame.read(4090, &mut tail).is_ok());
        kassert_eq!(&tail, b"abcdef");
        // Past the frame's end: refused, nothing written.
        kassert!(frame.write(4091, b"abcdef").is_err());
        kassert!(frame.read(usize::MAX, &mut tail).is_err());
        Ok(())
    }
);

ktest!(
    fn contiguous_frames_are_aligned_and_freed_together() {
        let (free_before, _) = frame::stats();
        let block = ksome!(Frames::alloc_contiguous(16, 16), "no 16 contiguous frames");
        kassert_eq!(block.start().as_u64() % (16 * PAGE_SIZE as u64), 0);
        kassert_eq!(block.count(), 16);
        kassert_eq!(frame::stats().0, free_before - 16);
        drop(block);
        kassert_eq!(frame::stats().0, free_before);
        Ok(())
    }
);
