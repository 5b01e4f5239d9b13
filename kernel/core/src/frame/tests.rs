//! Host tests for the bitmap frame allocator.

use std::collections::HashSet;
use std::vec;
use std::vec::Vec;

use super::*;

const BASE: u64 = 0x4000_0000;
const P: u64 = PAGE_SIZE as u64;

fn pa(frame: u64) -> PhysAddr {
    PhysAddr::new(BASE + frame * P)
}

/// Counts clear bits by brute force, to cross-check the cached `free` counter.
fn count_free_by_probe(a: &FrameAllocator<'_>) -> usize {
    (0..a.total_frames() as u64)
        .filter(|&f| !a.is_allocated(pa(f)))
        .count()
}

#[test]
fn bitmap_words_rounds_up() {
    assert_eq!(FrameAllocator::bitmap_words(0), 0);
    assert_eq!(FrameAllocator::bitmap_words(1), 1);
    assert_eq!(FrameAllocator::bitmap_words(64), 1);
    assert_eq!(FrameAllocator::bitmap_words(65), 2);
}

#[test]
fn starts_all_used_and_counts() {
    let mut bm = [0u64; 4];
    let mut a = FrameAllocator::new(&mut bm, PhysAddr(BASE), 200);
    assert_eq!(a.total_frames(), 200);
    assert_eq!(a.free_count(), 0);
    assert_eq!(a.alloc(), None);
    assert!(a.is_allocated(pa(0)));
    a.add_free_range(pa(0), pa(200));
    assert_eq!(a.free_count(), 200);
    // Adding again does not double count.
    a.add_free_range(pa(0), pa(200));
    assert_eq!(a.free_count(), 200);
    assert_eq!(count_free_by_probe(&a), 200);
    assert_eq!(a.end(), pa(200));
}

#[test]
fn new_clamps_to_bitmap_and_aligns_base() {
    let mut bm = [0u64; 1];
    let mut a = FrameAllocator::new(&mut bm, PhysAddr(BASE + 0x123), 1000);
    assert_eq!(a.total_frames(), 64);
    assert_eq!(a.base(), PhysAddr(BASE));
    a.add_free_range(pa(0), pa(1000));
    assert_eq!(a.free_count(), 64);
    let mut empty: [u64; 0] = [];
    let mut b = FrameAllocator::new(&mut empty, PhysAddr(BASE), 10);
    assert_eq!(b.total_frames(), 0);
    b.add_free_range(pa(0), pa(10));
    assert_eq!(b.alloc(), None);
    assert_eq!(b.free(pa(0)), Err(FrameError::OutOfRange));
}

#[test]
fn new_clamps_at_top_of_address_space() {
    let mut bm = [0u64; 2];
    let base = u64::MAX - 10 * P + 1; // 10 pages below 2^64, page aligned
    let mut a = FrameAllocator::new(&mut bm, PhysAddr(base), 128);
    assert!(a.total_frames() < 10);
    a.add_free_range(PhysAddr(base), PhysAddr(u64::MAX));
    assert_eq!(a.free_count(), a.total_frames());
    while a.alloc().is_some() {}
    assert_eq!(a.free_count(), 0);
}

#[test]
fn free_range_rounds_inward_reserve_rounds_outward() {
    let mut bm = [0u64; 1];
    let mut a = FrameAllocator::new(&mut bm, PhysAddr(BASE), 64);
    a.add_free_range(PhysAddr(BASE + 1), PhysAddr(BASE + 4 * P - 1));
    // Only frames 1 and 2 are whole inside the range.
    assert_eq!(a.free_count(), 2);
    assert!(a.is_allocated(pa(0)) && !a.is_allocated(pa(1)) && !a.is_allocated(pa(2)));
    assert!(a.is_allocated(pa(3)));
    a.add_free_range(pa(0), pa(64));
    a.reserve_range(PhysAddr(BASE + P + 5), PhysAddr(BASE + 2 * P + 1));
    // Frames 1 and 2 are touched.
    assert_eq!(a.free_count(), 62);
    assert!(a.is_allocated(PhysAddr(BASE + P + 77)));
    a.reserve_range(PhysAddr(BASE + P), PhysAddr(BASE + 3 * P));
    assert_eq!(a.free_count(), 62, "reserve is idempotent");
    a.reserve_range(pa(10), pa(10));
    assert_eq!(a.free_count(), 62, "empty reserve does nothing");
    // Ranges partly outside are clipped.
    a.reserve_range(PhysAddr(0), pa(4));
    assert_eq!(a.free_count(), 60);
    a.reserve_range(pa(63), PhysAddr(u64::MAX));
    assert_eq!(a.free_count(), 59);
    assert_eq!(count_free_by_probe(&a), 59);
}

#[test]
fn reserved_frames_are_never_handed_out() {
    let mut bm = [0u64; 4];
    let mut a = FrameAllocator::new(&mut bm, PhysAddr(BASE), 256);
    a.add_free_range(pa(0), pa(256));
    a.reserve_range(pa(10), pa(70));
    a.reserve_range(pa(200), pa(201));
    let mut got = HashSet::new();
    while let Some(f) = a.alloc() {
        let n = (f.as_u64() - BASE) / P;
        assert!(
            !(10..70).contains(&n) && n != 200,
            "reserved frame {n} handed out"
        );
        assert!(got.insert(n), "frame {n} handed out twice");
    }
    assert_eq!(got.len(), 256 - 60 - 1);
    assert_eq!(a.free_count(), 0);
    assert_eq!(a.alloc(), None, "exhaustion returns None");
}

#[test]
fn hole_between_ram_regions_is_never_used() {
    let mut bm = [0u64; 4];
    let mut a = FrameAllocator::new(&mut bm, PhysAddr(BASE), 256);
    a.add_free_range(pa(0), pa(100));
    a.add_free_range(pa(150), pa(256));
    assert_eq!(a.free_count(), 206);
    let mut n = 0;
    while let Some(f) = a.alloc() {
        assert!(
            !(pa(100)..pa(150)).contains(&f),
            "hole frame {f} handed out"
        );
        n += 1;
    }
    assert_eq!(n, 206);
    assert_eq!(a.alloc_contiguous(1, 1), None);
}

#[test]
fn double_free_and_bad_frees_are_detected() {
    let mut bm = [0u64; 1];
    let mut a = FrameAllocator::new(&mut bm, PhysAddr(BASE), 64);
    a.add_free_range(pa(0), pa(64));
    let f = a.alloc().expect("frame");
    assert!(a.is_allocated(f));
    assert_eq!(a.free(f), Ok(()));
    assert!(!a.is_allocated(f));
    assert_eq!(a.free(f), Err(FrameError::NotAllocated));
    assert_eq!(a.free_count(), 64);
    assert_eq!(a.free(PhysAddr(BASE + 12)), Err(FrameError::Misaligned));
    assert_eq!(a.free(PhysAddr(BASE - P)), Err(FrameError::OutOfRange));
    assert_eq!(a.free(pa(64)), Err(FrameError::OutOfRange));
    assert_eq!(a.free(PhysAddr(0)), Err(FrameError::OutOfRange));
    assert!(
        !a.is_allocated(pa(64)),
        "outside the span reads as not allocated"
    );
    assert_eq!(a.free_count(), 64);
}

#[test]
fn contiguous_with_alignment() {
    let mut bm = [0u64; 8];
    // Base deliberately not 16-frame aligned in physical terms: frame 0 is pfn 0x40003.
    let base = BASE + 3 * P;
    let mut a = FrameAllocator::new(&mut bm, PhysAddr(base), 512);
    a.add_free_range(PhysAddr(base), PhysAddr(base + 512 * P));
    a.reserve_range(PhysAddr(base + 20 * P), PhysAddr(base + 21 * P));
    let run = a.alloc_contiguous(16, 16).expect("aligned run");
    assert!(run.is_aligned(16 * P), "{run} not 64 KiB aligned");
    // The run starting at pfn 0x40010 (index 13) overlaps the reserved index 20, so it moves on.
    assert_eq!(run, PhysAddr(BASE + 0x20 * P));
    for i in 0..16 {
        assert!(a.is_allocated(PhysAddr(run.as_u64() + i * P)));
    }
    assert_eq!(a.free_count(), 512 - 1 - 16);
    let unaligned = a.alloc_contiguous(5, 0).expect("first fit");
    assert_eq!(unaligned, PhysAddr(base));
    assert_eq!(
        a.alloc_contiguous(3, 3),
        None,
        "alignment must be a power of two"
    );
    assert_eq!(a.alloc_contiguous(0, 1), None);
    assert_eq!(a.alloc_contiguous(513, 1), None);
    assert_eq!(a.free_contiguous(run, 16), Ok(()));
    assert_eq!(a.free_count(), 512 - 1 - 5);
}

#[test]
fn contiguous_fails_when_fragmented() {
    let mut bm = [0u64; 1];
    let mut a = FrameAllocator::new(&mut bm, PhysAddr(BASE), 64);
    a.add_free_range(pa(0), pa(64));
    // Reserve every 4th frame: the largest free run is 3 frames.
    for f in (0..64).step_by(4) {
        a.reserve_range(pa(f), pa(f + 1));
    }
    assert_eq!(a.alloc_contiguous(4, 1), None);
    assert_eq!(a.alloc_contiguous(3, 1), Some(pa(1)));
    assert_eq!(a.free_count(), 64 - 16 - 3);
}

#[test]
fn free_contiguous_is_all_or_nothing() {
    let mut bm = [0u64; 1];
    let mut a = FrameAllocator::new(&mut bm, PhysAddr(BASE), 64);
    a.add_free_range(pa(0), pa(64));
    let run = a.alloc_contiguous(8, 1).expect("run");
    assert_eq!(run, pa(0));
    assert_eq!(a.free(pa(3)), Ok(()));
    let before = a.free_count();
    assert_eq!(a.free_contiguous(run, 8), Err(FrameError::NotAllocated));
    assert_eq!(a.free_count(), before);
    assert!(
        a.is_allocated(pa(0)) && a.is_allocated(pa(7)),
        "nothing freed on error"
    );
    assert_eq!(a.free_contiguous(pa(60), 8), Err(FrameError::OutOfRange));
    assert_eq!(
        a.free_contiguous(pa(0), usize::MAX),
        Err(FrameError::OutOfRange)
    );
    assert_eq!(a.free_contiguous(pa(0), 3), Ok(()));
    assert_eq!(a.free_contiguous(pa(4), 4), Ok(()));
    assert_eq!(a.free_count(), 64);
}

#[test]
fn alloc_rotates_from_hint() {
    let mut bm = [0u64; 4];
    let mut a = FrameAllocator::new(&mut bm, PhysAddr(BASE), 256);
    a.add_free_range(pa(0), pa(256));
    let firsts: Vec<_> = (0..70).map(|_| a.alloc().expect("frame")).collect();
    assert_eq!(firsts[0], pa(0));
    assert_eq!(firsts[69], pa(69));
    // Freeing a low frame does not make the next alloc rescan from the start...
    a.free(pa(5)).expect("free");
    assert_eq!(a.alloc(), Some(pa(70)));
    // ...but the low frame is found again after wrapping around.
    while a.free_count() > 1 {
        a.alloc().expect("frame");
    }
    assert_eq!(a.alloc(), Some(pa(5)));
    assert_eq!(a.alloc(), None);
}

use crate::test_rng::XorShift;

/// Whether `f` lies outside the hole and the reserved range of the randomized test.
fn usable_frame(f: PhysAddr) -> bool {
    !(pa(400)..pa(450)).contains(&f) && !(pa(600)..pa(610)).contains(&f)
}

#[test]
fn randomized_alloc_free_never_duplicates() {
    const FRAMES: usize = 1000;
    let mut bm = vec![0u64; FrameAllocator::bitmap_words(FRAMES)];
    let mut a = FrameAllocator::new(&mut bm, PhysAddr(BASE), FRAMES);
    a.add_free_range(pa(0), pa(400));
    a.add_free_range(pa(450), pa(FRAMES as u64));
    a.reserve_range(pa(600), pa(610));
    let usable = FRAMES - 50 - 10;
    assert_eq!(a.free_count(), usable);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut held: Vec<PhysAddr> = Vec::new();
    let mut held_set: HashSet<PhysAddr> = HashSet::new();
    for step in 0..20_000 {
        let r = rng.next();
        if !r.is_multiple_of(3) || held.is_empty() {
            if r.is_multiple_of(17) {
                let count = (r >> 8) as usize % 6 + 1;
                let align = 1 << ((r >> 16) % 4);
                if let Some(run) = a.alloc_contiguous(count, align) {
                    assert!(run.is_aligned(align as u64 * P));
                    for i in 0..count as u64 {
                        let f = PhysAddr(run.as_u64() + i * P);
                        assert!(usable_frame(f), "step {step}: {f} is a hole or reserved");
                        assert!(held_set.insert(f), "step {step}: {f} handed out twice");
                        held.push(f);
                    }
                }
            } else if let Some(f) = a.alloc() {
                assert!(usable_frame(f), "step {step}: {f} is a hole or reserved");
                assert!(held_set.insert(f), "step {step}: {f} handed out twice");
                held.push(f);
            } else {
                assert_eq!(held.len(), usable, "None only when exhausted");
            }
        } else {
            let i = (r >> 5) as usize % held.len();
            let f = held.swap_remove(i);
            held_set.remove(&f);
            assert_eq!(a.free(f), Ok(()));
            assert_eq!(a.free(f), Err(FrameError::NotAllocated));
        }
        assert_eq!(a.free_count() + held.len(), usable, "step {step}");
    }
    assert_eq!(count_free_by_probe(&a), a.free_count());
    for f in held {
        a.free(f).expect("free held frame");
    }
    assert_eq!(a.free_count(), usable);
}
