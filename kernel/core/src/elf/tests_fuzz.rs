//! Mutation fuzz for [`load_plan`]: 10,000 corrupted copies of a valid image must never panic,
//! and every plan accepted must satisfy the rules as re-checked here by an independent decoder
//! that does its arithmetic in `u128` (so it cannot share an overflow bug with the planner).

use std::vec::Vec;

use super::tests::valid;
use super::*;

use crate::test_rng::XorShift;

fn le(img: &[u8], at: usize, len: usize) -> u128 {
    img[at..at + len]
        .iter()
        .rev()
        .fold(0u128, |acc, &b| (acc << 8) | u128::from(b))
}

fn round_up(v: u128) -> u128 {
    v.div_ceil(4096) * 4096
}

/// Re-derives everything `plan` claims from the raw bytes and checks every rule.
fn check_plan(img: &[u8], plan: &LoadPlan, limits: &ElfLimits) {
    assert_eq!(&img[..4], b"\x7fELF");
    assert_eq!((img[4], img[5]), (2, 1), "ELF64 little endian");
    assert_eq!(le(img, 16, 2), 2, "ET_EXEC");
    assert_eq!(le(img, 18, 2), 183, "EM_AARCH64");
    assert_eq!(le(img, 54, 2), 56, "e_phentsize");
    let phoff = le(img, 32, 8) as usize;
    let phnum = le(img, 56, 2) as usize;
    assert_eq!((plan.phent, usize::from(plan.phnum)), (56, phnum));
    assert!(phnum <= MAX_PROGRAM_HEADERS && phoff + phnum * 56 <= img.len());

    let mut expected: Vec<(u128, u128, u128, u128, u32)> = (0..phnum)
        .map(|i| phoff + i * 56)
        .filter(|&at| le(img, at, 4) == u128::from(PT_LOAD) && le(img, at + 40, 8) != 0)
        .map(|at| {
            let flags = le(img, at + 4, 4) as u32;
            (
                le(img, at + 16, 8),
                le(img, at + 40, 8),
                le(img, at + 8, 8),
                le(img, at + 32, 8),
                flags,
            )
        })
        .collect();
    expected.sort_by_key(|e| e.0);
    assert_eq!(
        plan.segments.len(),
        expected.len(),
        "one segment per non-empty PT_LOAD"
    );
    assert!(!expected.is_empty() && expected.len() <= limits.max_segments);

    let user_end = u128::from(limits.user_end.min(1 << 39));
    let mut total = 0u128;
    for (seg, &(vaddr, memsz, offset, filesz, flags)) in plan.segments.iter().zip(&expected) {
        let got = (seg.vaddr, seg.mem_size, seg.file_offset, seg.file_size);
        assert_eq!(
            got,
            (vaddr as u64, memsz as u64, offset as u64, filesz as u64)
        );
        assert_eq!(
            (seg.perms.read, seg.perms.write, seg.perms.exec),
            (flags & 4 != 0, flags & 2 != 0, flags & 1 != 0)
        );
        assert!(
            offset + filesz <= img.len() as u128,
            "file bytes inside the image"
        );
        assert!(filesz <= memsz && memsz > 0);
        assert!(
            round_up(vaddr + memsz) <= user_end,
            "below user_end and the kernel half"
        );
        assert_eq!(vaddr % 4096, offset % 4096, "page congruent");
        assert!(!(seg.perms.write && seg.perms.exec), "W^X");
        total += round_up(vaddr + memsz) - vaddr / 4096 * 4096;
    }
    assert!(total <= u128::from(limits.max_total_size));
    for pair in expected.windows(2) {
        assert!(
            round_up(pair[0].0 + pair[0].1) <= pair[1].0 / 4096 * 4096,
            "no shared page"
        );
    }
    let entry = le(img, 24, 8);
    assert_eq!(u128::from(plan.entry), entry);
    assert!(
        expected
            .iter()
            .any(|&(v, m, _, _, f)| f & 1 != 0 && v <= entry && entry < v + m)
    );
    if let Some(phdr) = plan.phdr_vaddr {
        let (phdr, size) = (u128::from(phdr), phnum as u128 * 56);
        assert!(
            expected
                .iter()
                .any(|&(v, _, _, fs, _)| v <= phdr && phdr + size <= v + fs)
        );
    }
}

#[test]
fn mutated_images_never_panic_and_accepted_plans_obey_the_rules() {
    let base = valid();
    let headers_end = 64 + 3 * 56;
    let limits = [
        ElfLimits::DEFAULT,
        ElfLimits {
            user_end: 0x41_2000,
            max_segments: 2,
            max_total_size: 0x3000,
        },
    ];
    let mut rng = XorShift(0xdead_beef_cafe_f00d);
    let (mut accepted, mut rejected) = (0usize, 0usize);
    for round in 0..10_000 {
        let mut img = base.clone();
        for _ in 0..1 + rng.index(6) {
            // Mostly the header and program headers, where a byte matters.
            let at = if rng.index(4) == 0 {
                rng.index(img.len())
            } else {
                rng.index(headers_end)
            };
            img[at] = match rng.index(4) {
                0 => 0,
                1 => 0xff,
                2 => img[at] ^ (1 << rng.index(8)),
                _ => rng.next() as u8,
            };
        }
        if rng.index(20) == 0 {
            img.truncate(rng.index(img.len() + 1));
        }
        let limits = &limits[round % 2];
        match load_plan(&img, limits) {
            Ok(plan) => {
                check_plan(&img, &plan, limits);
                accepted += 1;
            }
            Err(e) => {
                let _ = e.errno();
                rejected += 1;
            }
        }
    }
    // Both outcomes must occur, or the fuzz is not exercising the planner.
    assert!(
        accepted > 100 && rejected > 100,
        "accepted {accepted}, rejected {rejected}"
    );
}
