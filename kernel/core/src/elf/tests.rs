//! Host tests for ELF load planning. Images are written byte by byte here (no external files):
//! a valid two-segment executable, one image per error, and a mutation fuzz whose accepted
//! plans are re-checked against the rules by an independent decoder.

use std::vec;
use std::vec::Vec;

use super::*;

const PT_NOTE: u32 = 4;
const PT_GNU_STACK: u32 = 0x6474_e551;
const R: u32 = 4;
const W: u32 = 2;
const X: u32 = 1;

/// One program header to write.
#[derive(Clone, Copy)]
struct Ph {
    p_type: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

const fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
    Ph {
        p_type: PT_LOAD,
        flags,
        offset,
        vaddr,
        filesz,
        memsz,
    }
}

const TEXT: Ph = load(R | X, 0, 0x40_0000, 0x1000, 0x1000);
const DATA: Ph = load(R | W, 0x1000, 0x41_1000, 0x100, 0x3000);
const STACK: Ph = Ph {
    p_type: PT_GNU_STACK,
    flags: R | W,
    offset: 0,
    vaddr: 0,
    filesz: 0,
    memsz: 0,
};
const ENTRY: u64 = 0x40_0100;
const LIMITS: ElfLimits = ElfLimits::DEFAULT;

/// Writes a 64-byte ELF64 header, program headers at offset 64, and zero bytes up to `len`.
fn build(entry: u64, phs: &[Ph], len: usize) -> Vec<u8> {
    let mut img = Vec::new();
    img.extend_from_slice(b"\x7fELF");
    img.extend_from_slice(&[2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // class, data, version, pad
    img.extend_from_slice(&ET_EXEC.to_le_bytes());
    img.extend_from_slice(&EM_AARCH64.to_le_bytes());
    img.extend_from_slice(&1u32.to_le_bytes()); // e_version
    img.extend_from_slice(&entry.to_le_bytes());
    img.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    img.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    img.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    img.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    img.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    img.extend_from_slice(&(phs.len() as u16).to_le_bytes());
    img.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx
    assert_eq!(img.len(), 64);
    for ph in phs {
        img.extend_from_slice(&ph.p_type.to_le_bytes());
        img.extend_from_slice(&ph.flags.to_le_bytes());
        for v in [ph.offset, ph.vaddr, ph.vaddr, ph.filesz, ph.memsz, 0x1000] {
            img.extend_from_slice(&v.to_le_bytes());
        }
    }
    img.resize(len.max(img.len()), 0);
    img
}

/// The valid image: RX text (with the headers) and RW data + bss, 0x1100 bytes.
pub(super) fn valid() -> Vec<u8> {
    build(ENTRY, &[TEXT, DATA, STACK], 0x1100)
}

fn plan_of(phs: &[Ph]) -> Result<LoadPlan, ElfError> {
    load_plan(&build(ENTRY, phs, 0x1100), &LIMITS)
}

#[test]
fn valid_two_segment_image() {
    let plan = load_plan(&valid(), &LIMITS).expect("valid");
    assert_eq!(plan.entry, ENTRY);
    assert_eq!((plan.phent, plan.phnum), (56, 3));
    assert_eq!(
        plan.phdr_vaddr,
        Some(0x40_0040),
        "headers are in the text segment"
    );
    let rx = SegmentPerms {
        read: true,
        write: false,
        exec: true,
    };
    let rw = SegmentPerms {
        read: true,
        write: true,
        exec: false,
    };
    assert_eq!(
        plan.segments,
        vec![
            Segment {
                vaddr: 0x40_0000,
                mem_size: 0x1000,
                file_offset: 0,
                file_size: 0x1000,
                perms: rx
            },
            Segment {
                vaddr: 0x41_1000,
                mem_size: 0x3000,
                file_offset: 0x1000,
                file_size: 0x100,
                perms: rw
            },
        ]
    );
    assert_eq!(
        (plan.segments[1].page_start(), plan.segments[1].page_end()),
        (0x41_1000, 0x41_4000)
    );
}

#[test]
fn segments_are_sorted_and_phdr_comes_from_pt_phdr() {
    let phdr = Ph {
        p_type: PT_PHDR,
        flags: R,
        offset: 64,
        vaddr: 0x40_0040,
        filesz: 168,
        memsz: 168,
    };
    let plan = plan_of(&[DATA, phdr, TEXT]).expect("valid");
    assert_eq!(plan.segments[0].vaddr, 0x40_0000);
    assert_eq!(plan.phdr_vaddr, Some(0x40_0040));
    // A PT_PHDR pointing outside every segment is not reported.
    let stray = Ph {
        vaddr: 0x50_0000,
        ..phdr
    };
    assert_eq!(plan_of(&[TEXT, stray]).map(|p| p.phdr_vaddr), Ok(None));
}

#[test]
fn empty_load_segments_are_skipped_and_edges_are_inclusive() {
    let empty = load(R, 0, 0x90_0000, 0, 0);
    assert_eq!(plan_of(&[TEXT, empty]).map(|p| p.segments.len()), Ok(1));
    // A segment may end exactly at user_end, and at the top of the user half.
    let top = load(R | X, 0, USER_VA_LIMIT - 0x1000, 0x100, 0x1000);
    let img = build(USER_VA_LIMIT - 0x1000, &[top], 0x1100);
    assert!(load_plan(&img, &LIMITS).is_ok());
    let limits = ElfLimits {
        user_end: 0x40_1000,
        ..LIMITS
    };
    assert!(load_plan(&build(ENTRY, &[TEXT], 0x1100), &limits).is_ok());
}

#[test]
fn identification_errors() {
    let mut img = valid();
    assert_eq!(load_plan(&[], &LIMITS), Err(ElfError::NotElf));
    assert_eq!(load_plan(b"\x7fEL", &LIMITS), Err(ElfError::NotElf));
    assert_eq!(load_plan(b"#!/bin/sh\n", &LIMITS), Err(ElfError::NotElf));
    assert_eq!(load_plan(&img[..4], &LIMITS), Err(ElfError::BadHeader));
    assert_eq!(load_plan(&img[..40], &LIMITS), Err(ElfError::BadHeader));
    img[4] = 1;
    assert_eq!(load_plan(&img, &LIMITS), Err(ElfError::WrongClass));
    img[4] = 2;
    img[5] = 2;
    assert_eq!(load_plan(&img, &LIMITS), Err(ElfError::WrongEndian));
    img[5] = 1;
    img[6] = 0;
    assert_eq!(
        load_plan(&img, &LIMITS),
        Err(ElfError::BadHeader),
        "ident version"
    );
    img[6] = 1;
    img[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    assert_eq!(load_plan(&img, &LIMITS), Err(ElfError::WrongMachine));
    img[18..20].copy_from_slice(&EM_AARCH64.to_le_bytes());
    for e_type in [3u16, 1, 4, 0] {
        img[16..18].copy_from_slice(&e_type.to_le_bytes());
        assert_eq!(
            load_plan(&img, &LIMITS),
            Err(ElfError::NotExecutable),
            "e_type {e_type}"
        );
    }
}

#[test]
fn header_table_errors() {
    let base = valid();
    let mut img = base.clone();
    img[54..56].copy_from_slice(&32u16.to_le_bytes()); // e_phentsize of ELF32
    assert_eq!(load_plan(&img, &LIMITS), Err(ElfError::BadHeader));
    let mut img = base.clone();
    img[32..40].copy_from_slice(&0x1100u64.to_le_bytes()); // e_phoff at the end of the file
    assert_eq!(load_plan(&img, &LIMITS), Err(ElfError::BadHeader));
    img[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(load_plan(&img, &LIMITS), Err(ElfError::BadHeader));
    assert_eq!(
        load_plan(&base[..64 + 56], &LIMITS),
        Err(ElfError::BadHeader),
        "table cut"
    );
    let mut img = base.clone();
    img[20..24].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(
        load_plan(&img, &LIMITS),
        Err(ElfError::BadHeader),
        "e_version"
    );
}

#[test]
fn segment_count_errors() {
    assert_eq!(plan_of(&[]), Err(ElfError::NoSegments));
    let note = Ph {
        p_type: PT_NOTE,
        ..TEXT
    };
    assert_eq!(plan_of(&[note, STACK]), Err(ElfError::NoSegments));
    assert_eq!(
        plan_of(&[load(R, 0, 0x40_0000, 0, 0)]),
        Err(ElfError::NoSegments)
    );
    let one = ElfLimits {
        max_segments: 1,
        ..LIMITS
    };
    assert_eq!(load_plan(&valid(), &one), Err(ElfError::TooManySegments));
    let many = vec![STACK; MAX_PROGRAM_HEADERS + 1];
    let img = build(ENTRY, &many, 0x2000);
    assert_eq!(load_plan(&img, &LIMITS), Err(ElfError::TooManySegments));
    let mut img = valid();
    img[56..58].copy_from_slice(&0xffffu16.to_le_bytes()); // PN_XNUM
    assert_eq!(load_plan(&img, &LIMITS), Err(ElfError::TooManySegments));
}

#[test]
fn segment_size_errors() {
    let outside = load(R | W, 0x1000, 0x41_1000, 0x101, 0x3000);
    assert_eq!(plan_of(&[TEXT, outside]), Err(ElfError::SegmentOutsideFile));
    let at_end = load(R | W, 0x1100, 0x41_2100, 0, 0x3000);
    assert!(
        plan_of(&[TEXT, at_end]).is_ok(),
        "a bss-only segment may start at the end"
    );
    let past_end = load(R | W, 0x2000, 0x41_2000, 0, 0x3000);
    assert_eq!(
        plan_of(&[TEXT, past_end]),
        Err(ElfError::SegmentOutsideFile)
    );
    let file_gt_mem = load(R | W, 0x1000, 0x41_1000, 0x100, 0x80);
    assert_eq!(
        plan_of(&[TEXT, file_gt_mem]),
        Err(ElfError::SegmentTooLarge)
    );
    let huge = load(R | W, 0x1000, 0x41_1000, 0x100, 0x1000_0001);
    assert_eq!(
        plan_of(&[TEXT, huge]),
        Err(ElfError::SegmentTooLarge),
        "> 256 MiB total"
    );
    let small = ElfLimits {
        max_total_size: 0x3fff,
        ..LIMITS
    };
    assert_eq!(load_plan(&valid(), &small), Err(ElfError::SegmentTooLarge));
    let exact = ElfLimits {
        max_total_size: 0x4000,
        ..LIMITS
    };
    assert!(
        load_plan(&valid(), &exact).is_ok(),
        "pages: 1 text + 3 data"
    );
}

#[test]
fn overflow_and_address_errors() {
    let off_overflow = load(R | W, u64::MAX - 0x10, 0x41_1000, 0x100, 0x3000);
    assert_eq!(
        plan_of(&[TEXT, off_overflow]),
        Err(ElfError::SegmentOverflow)
    );
    let va_overflow = load(R | W, 0x1000, u64::MAX - 0xfff, 0x100, 0x2000);
    assert_eq!(
        plan_of(&[TEXT, va_overflow]),
        Err(ElfError::SegmentOverflow)
    );
    let round_overflow = load(R | W, 0x1000, u64::MAX - 0xfff, 0x100, 0x800);
    assert_eq!(
        plan_of(&[TEXT, round_overflow]),
        Err(ElfError::SegmentOverflow)
    );
    let kernel = load(R | W, 0x1000, 0xffff_0000_0000_1000, 0x100, 0x1000);
    assert_eq!(plan_of(&[TEXT, kernel]), Err(ElfError::KernelAddress));
    let straddle = load(R | W, 0x1000, USER_VA_LIMIT - 0x1000, 0x100, 0x1001);
    assert_eq!(plan_of(&[TEXT, straddle]), Err(ElfError::KernelAddress));
    let low = ElfLimits {
        user_end: 0x41_0000,
        ..LIMITS
    };
    assert_eq!(load_plan(&valid(), &low), Err(ElfError::KernelAddress));
    let unaligned_end = ElfLimits {
        user_end: 0x41_3800,
        ..LIMITS
    };
    assert_eq!(
        load_plan(&valid(), &unaligned_end),
        Err(ElfError::KernelAddress),
        "pages count"
    );
    let high = ElfLimits {
        user_end: u64::MAX,
        ..LIMITS
    };
    let above = load(R | W, 0x1000, USER_VA_LIMIT, 0x100, 0x1000);
    let img = build(ENTRY, &[TEXT, above], 0x1100);
    assert_eq!(
        load_plan(&img, &high),
        Err(ElfError::KernelAddress),
        "clamped to 2^39"
    );
}

#[test]
fn layout_and_permission_errors() {
    let same_page = load(R | W, 0x800, 0x40_0800, 0x100, 0x100);
    assert_eq!(
        plan_of(&[TEXT, same_page]),
        Err(ElfError::OverlappingSegments)
    );
    let shared_page = load(R | W, 0x800, 0x40_1800, 0x100, 0x100);
    let text_half = load(R | X, 0, 0x40_0000, 0x1000, 0x1100);
    assert_eq!(
        plan_of(&[text_half, shared_page]),
        Err(ElfError::OverlappingSegments)
    );
    let misaligned = load(R | W, 0x1000, 0x41_1010, 0x100, 0x3000);
    assert_eq!(plan_of(&[TEXT, misaligned]), Err(ElfError::Misaligned));
    let wx = load(R | W | X, 0x1000, 0x41_1000, 0x100, 0x3000);
    assert_eq!(plan_of(&[TEXT, wx]), Err(ElfError::WriteAndExecute));
    assert_eq!(
        plan_of(&[load(W | X, 0, 0x40_0000, 0x1000, 0x1000)]),
        Err(ElfError::WriteAndExecute)
    );
}

#[test]
fn entry_errors() {
    for entry in [0x41_1000, 0x40_1000, 0, u64::MAX, 0x3f_ffff] {
        let img = build(entry, &[TEXT, DATA], 0x1100);
        assert_eq!(
            load_plan(&img, &LIMITS),
            Err(ElfError::EntryNotExecutable),
            "{entry:#x}"
        );
    }
    let img = build(0x40_0fff, &[TEXT, DATA], 0x1100);
    assert!(load_plan(&img, &LIMITS).is_ok(), "last byte of text");
}

#[test]
fn errno_mapping() {
    for e in [
        ElfError::NotElf,
        ElfError::WrongMachine,
        ElfError::BadHeader,
        ElfError::NoSegments,
    ] {
        assert_eq!(e.errno(), Errno::ENOEXEC);
    }
    for e in [
        ElfError::KernelAddress,
        ElfError::OverlappingSegments,
        ElfError::WriteAndExecute,
    ] {
        assert_eq!(Errno::from(e), Errno::EINVAL);
    }
}
