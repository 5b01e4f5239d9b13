//! Unmap (with block splitting and table freeing), protect, destroy, and a randomized run
//! checked page by page against a model.

use std::collections::BTreeMap;
use std::vec::Vec;

use super::*;

#[test]
fn unmap_splits_2mib_block() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    pt.map(
        &mut mem,
        va(0x60_0000),
        pa(0x4060_0000),
        MIB2,
        Attrs::KERNEL_RO,
        true,
    )
    .expect("map");
    assert_eq!(mem.live(), 2);
    pt.unmap(&mut mem, va(0x60_3000), 2 * KIB4).expect("unmap");
    assert_eq!(mem.live(), 3, "block split into an L3 table");
    assert_eq!(pt.translate(&mem, va(0x60_3000)), None);
    assert_eq!(pt.translate(&mem, va(0x60_4FFF)), None);
    assert_eq!(
        pt.translate(&mem, va(0x60_2FFF)),
        Some((pa(0x4060_2FFF), Attrs::KERNEL_RO))
    );
    assert_eq!(
        pt.translate(&mem, va(0x60_5000)),
        Some((pa(0x4060_5000), Attrs::KERNEL_RO))
    );
    assert_eq!(
        pt.translate(&mem, va(0x7F_F000)),
        Some((pa(0x407F_F000), Attrs::KERNEL_RO))
    );
    let l = leaves(&pt, &mem);
    assert_eq!(l.len(), 510);
    assert!(l.iter().all(|&(v, p, s)| s == KIB4 && p == v + 0x4000_0000));
}

#[test]
fn unmap_splits_1gib_block_twice() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    pt.map(
        &mut mem,
        va(GIB1),
        pa(0x4000_0000),
        GIB1,
        Attrs::KERNEL_RX,
        true,
    )
    .expect("map");
    pt.unmap(&mut mem, va(GIB1 + 3 * MIB2 + KIB4), KIB4)
        .expect("unmap one page");
    assert_eq!(
        mem.live(),
        3,
        "L1 block -> L2 table of blocks, one of them -> L3 table"
    );
    let l = leaves(&pt, &mem);
    assert_eq!(l.iter().filter(|x| x.2 == MIB2).count(), 511);
    assert_eq!(l.iter().filter(|x| x.2 == KIB4).count(), 511);
    assert_eq!(pt.translate(&mem, va(GIB1 + 3 * MIB2 + KIB4)), None);
    assert_eq!(
        pt.translate(&mem, va(GIB1 + 3 * MIB2)),
        Some((pa(0x4060_0000), Attrs::KERNEL_RX))
    );
    assert_eq!(
        pt.translate(&mem, va(2 * GIB1 - 1)),
        Some((pa(0x7FFF_FFFF), Attrs::KERNEL_RX))
    );
    // Split needs two tables; without them nothing changes.
    let mut small = TestMem::with_budget(2);
    let mut pt2 = PageTable::new(&mut small).expect("root");
    pt2.map(&mut small, va(0), pa(0), GIB1, Attrs::KERNEL_RW, true)
        .expect("block");
    let before = small.dump();
    assert_eq!(
        pt2.unmap(&mut small, va(MIB2 + KIB4), KIB4),
        Err(MapError::NoMemory)
    );
    assert_eq!(small.dump(), before);
}

#[test]
fn unmap_everything_frees_tables() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    pt.map(
        &mut mem,
        va(0x1000),
        pa(0x8000_0000),
        5 * KIB4,
        Attrs::USER_RW,
        true,
    )
    .expect("map");
    pt.map(
        &mut mem,
        va(MIB2 - KIB4),
        pa(0x8100_0000),
        MIB2 + 2 * KIB4,
        Attrs::USER_RO,
        true,
    )
    .expect("map");
    pt.map(
        &mut mem,
        va(3 * GIB1 + 7 * MIB2),
        pa(0x8200_0000),
        3 * KIB4,
        Attrs::USER_RX,
        true,
    )
    .expect("map");
    assert!(mem.live() > 4);
    // Unmapping holes is fine, and so is unmapping in pieces.
    pt.unmap(&mut mem, va(0), 0x3000).expect("unmap");
    pt.unmap(&mut mem, va(0x3000), 4 * GIB1).expect("unmap");
    assert_eq!(mem.live(), 1, "only the root is left");
    assert!(leaves(&pt, &mem).is_empty());
    assert!(mem.tables[&pt.root().0].iter().all(|&e| e == 0));
    pt.unmap(&mut mem, va(0), GIB1).expect("unmap of nothing");
}

#[test]
fn protect_changes_attributes() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    pt.map(
        &mut mem,
        va(0x1_0000),
        pa(0x8000_0000),
        4 * KIB4,
        Attrs::USER_RW,
        true,
    )
    .expect("map");
    pt.protect(&mut mem, va(0x1_1000), 2 * KIB4, Attrs::USER_RX)
        .expect("protect");
    assert_eq!(
        pt.translate(&mem, va(0x1_0000)).map(|t| t.1),
        Some(Attrs::USER_RW)
    );
    assert_eq!(
        pt.translate(&mem, va(0x1_1000)),
        Some((pa(0x8000_1000), Attrs::USER_RX))
    );
    assert_eq!(
        pt.translate(&mem, va(0x1_2000)).map(|t| t.1),
        Some(Attrs::USER_RX)
    );
    assert_eq!(
        pt.translate(&mem, va(0x1_3000)).map(|t| t.1),
        Some(Attrs::USER_RW)
    );
    // A hole in the range: NotMapped, nothing changed.
    let before = mem.dump();
    assert_eq!(
        pt.protect(&mut mem, va(0x1_0000), 5 * KIB4, Attrs::USER_RO),
        Err(MapError::NotMapped)
    );
    assert_eq!(
        pt.protect(&mut mem, va(0x0_F000), 2 * KIB4, Attrs::USER_RO),
        Err(MapError::NotMapped)
    );
    assert_eq!(mem.dump(), before);
}

#[test]
fn protect_block_whole_and_partial() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    pt.map(
        &mut mem,
        va(0),
        pa(0x4000_0000),
        2 * MIB2,
        Attrs::KERNEL_RW,
        true,
    )
    .expect("map");
    pt.protect(&mut mem, va(0), MIB2, Attrs::KERNEL_RO)
        .expect("whole block");
    assert_eq!(mem.live(), 2, "whole block stays a block");
    assert_eq!(leaves(&pt, &mem)[0], (0, 0x4000_0000, MIB2));
    assert_eq!(
        pt.translate(&mem, va(0x1F_FFFF)),
        Some((pa(0x401F_FFFF), Attrs::KERNEL_RO))
    );
    pt.protect(&mut mem, va(MIB2), KIB4, Attrs::KERNEL_RX)
        .expect("one page of a block");
    assert_eq!(mem.live(), 3);
    assert_eq!(
        pt.translate(&mem, va(MIB2)),
        Some((pa(0x4020_0000), Attrs::KERNEL_RX))
    );
    assert_eq!(
        pt.translate(&mem, va(MIB2 + KIB4)),
        Some((pa(0x4020_1000), Attrs::KERNEL_RW))
    );
    assert_eq!(leaves(&pt, &mem).len(), 1 + 512);
}

#[test]
fn destroy_frees_every_table() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    pt.map(
        &mut mem,
        va(0x1000),
        pa(0x8000_0000),
        3 * MIB2,
        Attrs::USER_RW,
        true,
    )
    .expect("map");
    pt.map(
        &mut mem,
        va(5 * GIB1),
        pa(0x4000_0000),
        GIB1,
        Attrs::KERNEL_RW,
        true,
    )
    .expect("map");
    pt.map(
        &mut mem,
        va(9 * GIB1),
        pa(0x8000_0000),
        KIB4,
        Attrs::USER_RO,
        true,
    )
    .expect("map");
    assert!(mem.live() >= 6);
    pt.destroy(&mut mem);
    assert_eq!(mem.live(), 0);
}

use crate::test_rng::XorShift;

/// Expands `for_each_leaf` into per-page translations.
fn expand(pt: &PageTable, mem: &TestMem) -> BTreeMap<u64, (u64, Attrs)> {
    let mut out = BTreeMap::new();
    pt.for_each_leaf(mem, |v, p, s| {
        let attrs = pt.translate(mem, v).expect("leaf translates").1;
        for off in (0..s).step_by(KIB4 as usize) {
            out.insert(v.0 + off, (p.0 + off, attrs));
        }
    });
    out
}

#[test]
fn randomized_against_model() {
    const SPAN_PAGES: u64 = 3 * 512; // 6 MiB window starting 2 MiB below a 1 GiB boundary
    let window = GIB1 - MIB2;
    let attrs = [
        Attrs::USER_RW,
        Attrs::USER_RO,
        Attrs::USER_RX,
        Attrs::KERNEL_RW,
    ];
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    let mut model: BTreeMap<u64, (u64, Attrs)> = BTreeMap::new();
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    for step in 0..400 {
        let r = rng.next();
        let first = (r >> 8) % SPAN_PAGES;
        // Page counts biased towards block-sized runs so splits get exercised.
        let count = match r % 4 {
            0 => 512,
            _ => (r >> 24) % 40 + 1,
        }
        .min(SPAN_PAGES - first);
        let start = window + first * KIB4;
        let size = count * KIB4;
        let a = attrs[((r >> 40) % 4) as usize];
        let before = mem.dump();
        match (r >> 2) % 3 {
            0 => {
                let base_pa = 0x8000_0000
                    + if r & (1 << 50) != 0 {
                        first * KIB4
                    } else {
                        KIB4
                    };
                let pages: Vec<u64> = (0..count).map(|i| start + i * KIB4).collect();
                let clash = pages.iter().any(|p| model.contains_key(p));
                let res = pt.map(&mut mem, va(start), pa(base_pa), size, a, r & 2 != 0);
                if clash {
                    assert_eq!(res, Err(MapError::AlreadyMapped), "step {step}");
                    assert_eq!(mem.dump(), before, "step {step}");
                } else {
                    assert_eq!(res, Ok(()), "step {step}");
                    for (i, p) in pages.iter().enumerate() {
                        model.insert(*p, (base_pa + i as u64 * KIB4, a));
                    }
                }
            }
            1 => {
                pt.unmap(&mut mem, va(start), size).expect("unmap");
                for i in 0..count {
                    model.remove(&(start + i * KIB4));
                }
            }
            _ => {
                let full = (0..count).all(|i| model.contains_key(&(start + i * KIB4)));
                let res = pt.protect(&mut mem, va(start), size, a);
                if full {
                    assert_eq!(res, Ok(()), "step {step}");
                    for i in 0..count {
                        if let Some(e) = model.get_mut(&(start + i * KIB4)) {
                            e.1 = a;
                        }
                    }
                } else {
                    assert_eq!(res, Err(MapError::NotMapped), "step {step}");
                    assert_eq!(mem.dump(), before, "step {step}");
                }
            }
        }
        assert_eq!(expand(&pt, &mem), model, "step {step}");
    }
    pt.unmap(&mut mem, va(0), 4 * GIB1).expect("unmap all");
    assert_eq!(mem.live(), 1);
}
