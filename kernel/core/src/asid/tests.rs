//! Host tests for the generational ASID allocator.

use std::collections::HashSet;
use std::vec::Vec;

use super::*;

/// Allocates until the generation would roll over, asserting no flush on the way.
fn exhaust(a: &mut AsidAllocator) -> Vec<Asid> {
    let remaining = a.capacity() - a.in_use();
    (0..remaining)
        .map(|_| {
            let (asid, flush) = a.allocate();
            assert!(!flush, "rolled over before the space was used up");
            asid
        })
        .collect()
}

/// Recounts the bitmap, to cross-check `in_use` and the reserved bit.
fn assert_bitmap(a: &AsidAllocator) {
    let set: u32 = a.bitmap.iter().map(|w| w.count_ones()).sum();
    assert_eq!(
        a.bitmap.first().map(|w| w & 1),
        Some(1),
        "ASID 0 must stay reserved"
    );
    assert_eq!(set as usize, a.in_use() + 1);
}

#[test]
fn widths_and_capacity() {
    assert_eq!(AsidAllocator::new(8).capacity(), 255);
    assert_eq!(AsidAllocator::new(16).capacity(), 65_535);
    for odd in [0, 4, 12, 32, u8::MAX] {
        let a = AsidAllocator::new(odd);
        assert_eq!(a.bits(), 8, "width {odd} falls back to 8");
        assert_eq!(a.capacity(), 255);
    }
}

#[test]
fn never_hands_out_zero_and_values_are_distinct_until_exhausted() {
    for bits in [8, 16] {
        let mut a = AsidAllocator::new(bits);
        let all = exhaust(&mut a);
        let values: HashSet<u16> = all.iter().map(|asid| asid.value()).collect();
        assert_eq!(values.len(), a.capacity(), "{bits}-bit values repeat");
        assert!(
            !values.contains(&0),
            "{bits}-bit allocator handed out ASID 0"
        );
        assert!(all.iter().all(|&asid| a.is_current(asid)));
        assert_eq!(a.in_use(), a.capacity());
        assert_bitmap(&a);
    }
}

#[test]
fn eight_bit_rollover_after_255() {
    let mut a = AsidAllocator::new(8);
    let first = exhaust(&mut a);
    assert_eq!(first.len(), 255);
    assert!(first.iter().all(|asid| asid.value() <= 255));
    let (next, flush) = a.allocate();
    assert!(flush, "the 256th allocation must start a new generation");
    assert_ne!(next.value(), 0);
    assert_eq!(next.generation(), first[0].generation() + 1);
}

#[test]
fn rollover_makes_old_asids_stale() {
    let mut a = AsidAllocator::new(8);
    let old = exhaust(&mut a);
    let (fresh, flush) = a.allocate();
    assert!(flush);
    assert!(a.is_current(fresh));
    assert!(
        old.iter().all(|&asid| !a.is_current(asid)),
        "old generation still current"
    );
    assert_eq!(a.in_use(), 1);
    assert_bitmap(&a);
    // The new generation again has the full space, with no further flush.
    let rest = exhaust(&mut a);
    assert_eq!(rest.len(), 254);
    assert!(!rest.iter().any(|asid| asid.value() == fresh.value()));
}

#[test]
fn freed_asids_are_reused_before_rollover() {
    let mut a = AsidAllocator::new(8);
    let all = exhaust(&mut a);
    let freed: HashSet<u16> = [all[3], all[100], all[254]]
        .iter()
        .map(|x| x.value())
        .collect();
    for &asid in &all {
        if freed.contains(&asid.value()) {
            a.free(asid);
        }
    }
    assert_eq!(a.in_use(), 252);
    let mut again = HashSet::new();
    for _ in 0..3 {
        let (asid, flush) = a.allocate();
        assert!(!flush, "rolled over although freed ASIDs were available");
        assert_eq!(asid.generation(), all[0].generation());
        again.insert(asid.value());
    }
    assert_eq!(again, freed);
    assert!(a.allocate().1, "now the space is really exhausted");
}

#[test]
fn unused_values_come_before_freed_ones() {
    // The search continues after the last allocation, so a just-freed value (whose TLB
    // entries may still be being invalidated) is not the very next one handed out.
    let mut a = AsidAllocator::new(8);
    let (first, _) = a.allocate();
    a.free(first);
    let (second, flush) = a.allocate();
    assert!(!flush);
    assert_ne!(second.value(), first.value());
}

#[test]
fn double_free_is_harmless() {
    let mut a = AsidAllocator::new(8);
    let (x, _) = a.allocate();
    let (_y, _) = a.allocate();
    a.free(x);
    a.free(x);
    assert_eq!(a.in_use(), 1);
    assert_bitmap(&a);
    // x is handed out once more, then the space holds exactly capacity - 1 others.
    let rest = exhaust(&mut a);
    assert_eq!(rest.len(), 254);
    assert_eq!(
        rest.iter().filter(|asid| asid.value() == x.value()).count(),
        1
    );
}

#[test]
fn free_of_stale_asid_does_not_touch_new_generation() {
    let mut a = AsidAllocator::new(8);
    let old = exhaust(&mut a);
    let (fresh, flush) = a.allocate();
    assert!(flush);
    // Stale ASIDs with the same value as live ones: freeing them must change nothing.
    let twin = old
        .iter()
        .copied()
        .find(|asid| asid.value() == fresh.value())
        .expect("every value existed in the old generation");
    for &asid in &old {
        a.free(asid);
    }
    assert!(a.is_current(fresh));
    assert_eq!(a.in_use(), 1);
    assert_bitmap(&a);
    assert!(!a.is_current(twin));
    let rest = exhaust(&mut a);
    assert!(
        !rest.iter().any(|asid| asid.value() == fresh.value()),
        "live ASID handed out twice after a stale free"
    );
}

#[test]
fn several_rollovers_count_generations() {
    let mut a = AsidAllocator::new(8);
    let start = a.generation();
    let mut flushes = 0;
    for _ in 0..(255 * 3 + 1) {
        if a.allocate().1 {
            flushes += 1;
        }
    }
    assert_eq!(flushes, 3);
    assert_eq!(a.generation(), start + 3);
}

#[test]
fn sixteen_bit_reuse_and_wraparound_search() {
    let mut a = AsidAllocator::new(16);
    let all = exhaust(&mut a);
    // Free values on both sides of a word boundary and at the top of the space.
    let pick = [1usize, 63, 64, 65_534];
    for &i in &pick {
        a.free(all[i]);
    }
    let mut got: Vec<u16> = (0..pick.len())
        .map(|_| {
            let (asid, flush) = a.allocate();
            assert!(!flush);
            asid.value()
        })
        .collect();
    got.sort_unstable();
    let mut want: Vec<u16> = pick.iter().map(|&i| all[i].value()).collect();
    want.sort_unstable();
    assert_eq!(got, want);
    assert_bitmap(&a);
}

#[test]
fn process_churn_never_rolls_over_when_freed() {
    // 1000 spawn/exit cycles with 10 live processes fit in one 8-bit generation.
    let mut a = AsidAllocator::new(8);
    let mut live: Vec<Asid> = (0..10).map(|_| a.allocate().0).collect();
    for i in 0..1000 {
        let old = live.remove(i % live.len());
        a.free(old);
        let (asid, flush) = a.allocate();
        assert!(!flush, "cycle {i} rolled over");
        assert!(
            live.iter().all(|l| l.value() != asid.value()),
            "cycle {i}: duplicate"
        );
        live.push(asid);
    }
    assert_eq!(a.in_use(), 10);
    assert_bitmap(&a);
}

#[test]
fn search_wraps_to_values_below_the_hint() {
    let mut a = AsidAllocator::new(8);
    let all = exhaust(&mut a);
    let value = |v: u16| {
        *all.iter()
            .find(|asid| asid.value() == v)
            .expect("allocated")
    };
    a.free(value(5));
    a.free(value(200));
    assert_eq!(a.allocate(), (value(5), false));
    // The hint is now past 5; the only free values are 200 (above) and then 3 (below).
    a.free(value(3));
    assert_eq!(a.allocate(), (value(200), false));
    let (low, flush) = a.allocate();
    assert!(
        !flush,
        "a free value below the hint must be found before rolling over"
    );
    assert_eq!(low, value(3));
}
