//! Mapping, translation, encoding through the mapper, and argument validation.

use std::vec::Vec;

use super::*;

#[test]
fn map_and_translate_pages() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    assert_eq!(mem.live(), 1);
    pt.map(
        &mut mem,
        va(0x40_0000),
        pa(0x8000_0000),
        3 * KIB4,
        Attrs::USER_RW,
        true,
    )
    .expect("map");
    assert_eq!(mem.live(), 3, "L1 + L2 + L3");
    assert_eq!(
        pt.translate(&mem, va(0x40_0123)),
        Some((pa(0x8000_0123), Attrs::USER_RW))
    );
    assert_eq!(
        pt.translate(&mem, va(0x40_2FFF)),
        Some((pa(0x8000_2FFF), Attrs::USER_RW))
    );
    assert_eq!(pt.translate(&mem, va(0x40_3000)), None);
    assert_eq!(pt.translate(&mem, va(0x3F_F000)), None);
    assert_eq!(pt.translate(&mem, va(0)), None);
    assert_eq!(
        leaves(&pt, &mem),
        [
            (0x40_0000, 0x8000_0000, KIB4),
            (0x40_1000, 0x8000_1000, KIB4),
            (0x40_2000, 0x8000_2000, KIB4)
        ]
    );
}

#[test]
fn map_2mib_block() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    pt.map(
        &mut mem,
        va(0x20_0000),
        pa(0x4020_0000),
        MIB2,
        Attrs::KERNEL_RO,
        true,
    )
    .expect("map");
    assert_eq!(mem.live(), 2, "L1 + L2, no L3 for a block");
    assert_eq!(leaves(&pt, &mem), [(0x20_0000, 0x4020_0000, MIB2)]);
    assert_eq!(
        pt.translate(&mem, va(0x3F_FFFF)),
        Some((pa(0x403F_FFFF), Attrs::KERNEL_RO))
    );
    assert_eq!(pt.translate(&mem, va(0x40_0000)), None);
}

#[test]
fn map_1gib_block() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    pt.map(
        &mut mem,
        va(GIB1),
        pa(0x4000_0000),
        GIB1,
        Attrs::KERNEL_RW,
        true,
    )
    .expect("map");
    assert_eq!(mem.live(), 1, "a 1 GiB block lives in the root");
    assert_eq!(leaves(&pt, &mem), [(GIB1, 0x4000_0000, GIB1)]);
    assert_eq!(
        pt.translate(&mem, va(GIB1 + 0x1234_5678)),
        Some((pa(0x5234_5678), Attrs::KERNEL_RW))
    );
    let d = mem.read_entry(pt.root(), 1);
    assert_eq!(d & 0b11, 0b01, "block descriptor");
}

#[test]
fn blocks_used_only_where_alignment_allows() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    // [2 MiB - 4 KiB, 6 MiB + 4 KiB): page, two 2 MiB blocks, page.
    let start = MIB2 - KIB4;
    let size = 2 * MIB2 + 2 * KIB4;
    pt.map(
        &mut mem,
        va(start),
        pa(0x4000_0000 + start),
        size,
        Attrs::KERNEL_RW,
        true,
    )
    .expect("map");
    let got: Vec<u64> = leaves(&pt, &mem).iter().map(|l| l.2).collect();
    assert_eq!(got, [KIB4, MIB2, MIB2, KIB4]);
    // Same VA but PA off by one page: no block can be used.
    let mut mem2 = TestMem::new();
    let mut pt2 = PageTable::new(&mut mem2).expect("root");
    pt2.map(
        &mut mem2,
        va(MIB2),
        pa(0x4000_1000),
        MIB2,
        Attrs::KERNEL_RW,
        true,
    )
    .expect("map");
    assert_eq!(leaves(&pt2, &mem2).len(), 512);
    // Blocks not allowed: pages only.
    let mut mem3 = TestMem::new();
    let mut pt3 = PageTable::new(&mut mem3).expect("root");
    pt3.map(
        &mut mem3,
        va(0),
        pa(0x4000_0000),
        2 * MIB2,
        Attrs::KERNEL_RW,
        false,
    )
    .expect("map");
    assert_eq!(leaves(&pt3, &mem3).len(), 1024);
    assert_eq!(mem3.live(), 4);
}

#[test]
fn validation_errors() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    let wx = Attrs {
        exec: true,
        ..Attrs::USER_RW
    };
    assert_eq!(
        pt.map(&mut mem, va(0), pa(0), KIB4, wx, true),
        Err(MapError::WriteExec)
    );
    let kwx = Attrs {
        exec: true,
        ..Attrs::KERNEL_RW
    };
    assert_eq!(
        pt.map(&mut mem, va(0), pa(0), KIB4, kwx, true),
        Err(MapError::WriteExec)
    );
    let ok = Attrs::KERNEL_RW;
    assert_eq!(
        pt.map(&mut mem, va(0x10), pa(0), KIB4, ok, true),
        Err(MapError::Misaligned)
    );
    assert_eq!(
        pt.map(&mut mem, va(0), pa(0x10), KIB4, ok, true),
        Err(MapError::Misaligned)
    );
    assert_eq!(
        pt.map(&mut mem, va(0), pa(0), 100, ok, true),
        Err(MapError::Misaligned)
    );
    assert_eq!(pt.map(&mut mem, va(0), pa(0), 0, ok, true), Ok(()));
    let end = LOWER_HALF_END;
    assert_eq!(
        pt.map(&mut mem, va(end - KIB4), pa(0), 2 * KIB4, ok, true),
        Err(MapError::Overflow)
    );
    assert_eq!(
        pt.map(&mut mem, va(0), pa((1 << 48) - KIB4), 2 * KIB4, ok, true),
        Err(MapError::Overflow)
    );
    assert_eq!(
        pt.map(&mut mem, va(0), pa(0), !0xFFF, ok, true),
        Err(MapError::Overflow)
    );
    assert_eq!(
        pt.unmap(&mut mem, va(0x10), KIB4),
        Err(MapError::Misaligned)
    );
    assert_eq!(
        pt.protect(&mut mem, va(0), KIB4, kwx),
        Err(MapError::WriteExec)
    );
    assert_eq!(mem.live(), 1, "nothing allocated by failed or empty calls");
    // The very last lower-half page is fine.
    pt.map(&mut mem, va(end - KIB4), pa(0x4000_0000), KIB4, ok, true)
        .expect("last page");
    assert_eq!(pt.translate(&mem, va(end - 1)), Some((pa(0x4000_0FFF), ok)));
}

#[test]
fn non_canonical_and_wrong_half_refused() {
    let mut mem = TestMem::new();
    let mut lower = PageTable::new(&mut mem).expect("root");
    let mut upper = PageTable::new_upper(&mut mem).expect("root");
    let ok = Attrs::KERNEL_RW;
    for bad in [
        1 << 39,
        0xFFFF_0000_0000_0000,
        0x8000_0000_0000_0000,
        0xFFFF_FF00_0000_0000,
    ] {
        assert_eq!(
            lower.map(&mut mem, va(bad), pa(0), KIB4, ok, true),
            Err(MapError::NonCanonical)
        );
        assert_eq!(
            upper.map(&mut mem, va(bad), pa(0), KIB4, ok, true),
            Err(MapError::NonCanonical)
        );
        assert_eq!(lower.translate(&mem, va(bad)), None);
        assert!(!lower.covers(va(bad)) && !upper.covers(va(bad)));
    }
    assert_eq!(
        lower.map(&mut mem, va(UPPER_HALF_START), pa(0), KIB4, ok, true),
        Err(MapError::NonCanonical)
    );
    assert_eq!(
        upper.map(&mut mem, va(0x1000), pa(0), KIB4, ok, true),
        Err(MapError::NonCanonical)
    );
    assert_eq!(
        upper.unmap(&mut mem, va(0x1000), KIB4),
        Err(MapError::NonCanonical)
    );
    assert_eq!(
        upper.protect(&mut mem, va(0x1000), KIB4, ok),
        Err(MapError::NonCanonical)
    );
    assert!(lower.covers(va(0x1000)) && upper.covers(va(UPPER_HALF_START)));
    assert_eq!(mem.live(), 2);
}

#[test]
fn upper_half_reports_full_addresses() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new_upper(&mut mem).expect("root");
    assert_eq!(pt.half(), Half::Upper);
    let kbase = 0xFFFF_FFC0_0000_0000; // L1 index 256
    pt.map(
        &mut mem,
        va(kbase),
        pa(0x4000_0000),
        GIB1,
        Attrs::KERNEL_RW,
        true,
    )
    .expect("linear map");
    pt.map(
        &mut mem,
        va(UPPER_HALF_START),
        pa(0x0900_0000),
        KIB4,
        Attrs::DEVICE,
        true,
    )
    .expect("mmio");
    // The very last page of the address space: va + size wraps to 0 but is in range.
    pt.map(
        &mut mem,
        va(0xFFFF_FFFF_FFFF_F000),
        pa(0x4100_0000),
        KIB4,
        Attrs::KERNEL_RO,
        true,
    )
    .expect("top");
    assert_eq!(
        pt.translate(&mem, va(kbase + 0x8_0042)),
        Some((pa(0x4008_0042), Attrs::KERNEL_RW))
    );
    assert_eq!(
        pt.translate(&mem, va(UPPER_HALF_START + 4)),
        Some((pa(0x0900_0004), Attrs::DEVICE))
    );
    assert_eq!(
        pt.translate(&mem, va(u64::MAX)),
        Some((pa(0x4100_0FFF), Attrs::KERNEL_RO))
    );
    assert_eq!(
        pt.translate(&mem, va(0x8_0042)),
        None,
        "lower-half alias must not translate"
    );
    assert_eq!(
        mem.read_entry(pt.root(), 256) & 0b11,
        0b01,
        "va[38:30] of 0xffffffc0_00000000 is 256"
    );
    assert_eq!(
        leaves(&pt, &mem),
        [
            (UPPER_HALF_START, 0x0900_0000, KIB4),
            (kbase, 0x4000_0000, GIB1),
            (0xFFFF_FFFF_FFFF_F000, 0x4100_0000, KIB4)
        ]
    );
    pt.unmap(&mut mem, va(0xFFFF_FFFF_FFFF_F000), KIB4)
        .expect("unmap top");
    assert_eq!(pt.translate(&mem, va(u64::MAX)), None);
    let from_root = PageTable::from_root_upper(pt.root());
    assert_eq!(
        from_root.translate(&mem, va(UPPER_HALF_START)),
        Some((pa(0x0900_0000), Attrs::DEVICE))
    );
    // The same root read as a lower-half table sees the offsets without the sign extension.
    let alias = PageTable::from_root(pt.root());
    assert_eq!(
        alias.translate(&mem, va(kbase & (LOWER_HALF_END - 1))),
        Some((pa(0x4000_0000), Attrs::KERNEL_RW))
    );
}

#[test]
fn already_mapped_leaves_tables_unchanged() {
    let mut mem = TestMem::new();
    let mut pt = PageTable::new(&mut mem).expect("root");
    pt.map(
        &mut mem,
        va(0x40_5000),
        pa(0x8000_0000),
        KIB4,
        Attrs::USER_RO,
        true,
    )
    .expect("map");
    pt.map(
        &mut mem,
        va(GIB1),
        pa(0x4000_0000),
        MIB2,
        Attrs::KERNEL_RW,
        true,
    )
    .expect("block");
    let before = mem.dump();
    // Would need new tables before reaching the conflicting page.
    let r = pt.map(
        &mut mem,
        va(0),
        pa(0x9000_0000),
        0x40_6000,
        Attrs::USER_RW,
        true,
    );
    assert_eq!(r, Err(MapError::AlreadyMapped));
    assert_eq!(mem.dump(), before);
    // Overlapping a block from below.
    let r = pt.map(
        &mut mem,
        va(GIB1 - KIB4),
        pa(0x9000_0000),
        2 * KIB4,
        Attrs::USER_RW,
        true,
    );
    assert_eq!(r, Err(MapError::AlreadyMapped));
    assert_eq!(mem.dump(), before);
    assert_eq!(
        pt.translate(&mem, va(0x40_5000)),
        Some((pa(0x8000_0000), Attrs::USER_RO))
    );
}

#[test]
fn no_memory_rolls_back() {
    let mut mem = TestMem::with_budget(3);
    let mut pt = PageTable::new(&mut mem).expect("root");
    pt.map(
        &mut mem,
        va(0x1000),
        pa(0x8000_0000),
        KIB4,
        Attrs::USER_RW,
        true,
    )
    .expect("uses L2 + L3");
    assert_eq!(mem.budget, Some(0));
    let before = mem.dump();
    // Needs one L2 table and two L3 tables in another GiB, plus one L3 beside the existing one.
    let r = pt.map(
        &mut mem,
        va(GIB1 - KIB4),
        pa(0x9000_0000),
        2 * KIB4,
        Attrs::USER_RW,
        false,
    );
    assert_eq!(r, Err(MapError::NoMemory));
    assert_eq!(mem.dump(), before);
    mem.budget = Some(1);
    let r = pt.map(
        &mut mem,
        va(2 * MIB2 - KIB4),
        pa(0x9000_0000),
        2 * KIB4,
        Attrs::USER_RW,
        false,
    );
    assert_eq!(
        r,
        Err(MapError::NoMemory),
        "needs two L3 tables, one available"
    );
    assert_eq!(mem.dump(), before);
    assert_eq!(mem.budget, Some(1), "reserved pages given back");
    mem.budget = Some(2);
    pt.map(
        &mut mem,
        va(2 * MIB2 - KIB4),
        pa(0x9000_0000),
        2 * KIB4,
        Attrs::USER_RW,
        false,
    )
    .expect("enough now");
    assert_eq!(mem.budget, Some(0));
    // Both pages land in existing L3 tables: no allocation needed.
    pt.map(
        &mut mem,
        va(MIB2 - KIB4),
        pa(0xA000_0000),
        2 * KIB4,
        Attrs::USER_RW,
        false,
    )
    .expect("reuse");
    assert_eq!(
        pt.translate(&mem, va(MIB2)),
        Some((pa(0xA000_1000), Attrs::USER_RW))
    );
    let mut empty = TestMem::with_budget(0);
    assert_eq!(PageTable::new(&mut empty), Err(MapError::NoMemory));
}
