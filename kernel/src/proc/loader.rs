//! Loading a static ELF executable into a fresh address space, and the initial user stack
//! laid out as on Linux: argc, argv pointers, NULL, envp pointers, NULL, auxv pairs, then
//! the strings, SP 16-byte aligned.

use super::space::{AddressSpace, Perms};
use crate::arch::layout::{USER_STACK_SIZE, USER_STACK_TOP};
use crate::mm::frame::Frame;
use abi::Errno;
use abi::syscall::auxv;
use alloc::string::String;
use alloc::vec::Vec;
use kcore::PAGE_SIZE;
use kcore::elf::{ElfLimits, LoadPlan, load_plan};

const PAGE: u64 = PAGE_SIZE as u64;
/// Largest program image accepted.
const MAX_IMAGE: u64 = 64 << 20;

/// A loaded program, ready for its first thread.
pub struct Loaded {
    /// The new address space.
    pub space: AddressSpace,
    /// Entry point.
    pub entry: u64,
    /// Initial stack pointer (pointing at argc).
    pub sp: u64,
}

/// Validates `image` and builds an address space running it with `argv`/`envp`.
pub fn load(
    image: &[u8],
    argv: &[String],
    envp: &[String],
    uid: u32,
    gid: u32,
) -> Result<Loaded, Errno> {
    let limits = ElfLimits {
        user_end: USER_STACK_TOP - USER_STACK_SIZE - PAGE,
        max_segments: 16,
        max_total_size: MAX_IMAGE,
    };
    let plan = load_plan(image, &limits).map_err(|e| e.errno())?;
    let space = AddressSpace::new()?;
    for segment in &plan.segments {
        load_segment(&space, image, segment)?;
    }
    let stack_base = USER_STACK_TOP - USER_STACK_SIZE;
    space.map_anonymous(
        stack_base,
        USER_STACK_SIZE,
        Perms {
            read: true,
            write: true,
            exec: false,
        },
    )?;
    let sp = build_stack(&space, &plan, argv, envp, uid, gid)?;
    Ok(Loaded {
        space,
        entry: plan.entry,
        sp,
    })
}

fn load_segment(
    space: &AddressSpace,
    image: &[u8],
    segment: &kcore::elf::Segment,
) -> Result<(), Errno> {
    let start = segment.vaddr & !(PAGE - 1);
    let end = (segment.vaddr + segment.mem_size).next_multiple_of(PAGE);
    let pages = ((end - start) / PAGE) as usize;
    // Owned frames: on an early return they are freed with the vector.
    let mut frames = Vec::with_capacity(pages);
    let data = image
        .get(segment.file_offset as usize..(segment.file_offset + segment.file_size) as usize)
        .ok_or(Errno::ENOEXEC)?;
    for i in 0..pages {
        let frame = Frame::alloc_zeroed().ok_or(Errno::ENOMEM)?;
        let page_va = start + i as u64 * PAGE;
        // Bytes of file data that land in this page.
        let from = page_va.max(segment.vaddr);
        let to = (page_va + PAGE).min(segment.vaddr + segment.file_size);
        if from < to {
            let src = data
                .get((from - segment.vaddr) as usize..(to - segment.vaddr) as usize)
                .ok_or(Errno::ENOEXEC)?;
            frame.write((from - page_va) as usize, src)?;
        }
        frames.push(frame);
    }
    let perms = Perms {
        read: segment.perms.read,
        write: segment.perms.write,
        exec: segment.perms.exec,
    };
    space.map_image(start, frames, perms)
}

/// Lays out argc/argv/envp/auxv and the strings at the top of the stack.
fn build_stack(
    space: &AddressSpace,
    plan: &LoadPlan,
    argv: &[String],
    envp: &[String],
    uid: u32,
    gid: u32,
) -> Result<u64, Errno> {
    let strings_len: usize = argv.iter().chain(envp).map(|s| s.len() + 1).sum();
    let auxv_pairs: [(usize, u64); 8] = [
        (auxv::AT_PHDR, plan.phdr_vaddr.unwrap_or(0)),
        (auxv::AT_PHENT, u64::from(plan.phent)),
        (auxv::AT_PHNUM, u64::from(plan.phnum)),
        (auxv::AT_PAGESZ, PAGE),
        (auxv::AT_ENTRY, plan.entry),
        (auxv::AT_UID, u64::from(uid)),
        (auxv::AT_GID, u64::from(gid)),
        (auxv::AT_NULL, 0),
    ];
    let words = 1 + argv.len() + 1 + envp.len() + 1 + 2 * auxv_pairs.len();
    let strings_start = (USER_STACK_TOP - strings_len as u64) & !15;
    let sp = (strings_start - 8 * words as u64) & !15;
    if USER_STACK_TOP - sp > USER_STACK_SIZE / 2 {
        return Err(Errno::E2BIG);
    }
    let mut block = Vec::with_capacity((USER_STACK_TOP - sp) as usize);
    let mut string_addr = strings_start;
    let mut strings = Vec::with_capacity(strings_len);
    let push_word = |block: &mut Vec<u8>, value: u64| block.extend_from_slice(&value.to_le_bytes());
    push_word(&mut block, argv.len() as u64);
    for list in [argv, envp] {
        for s in list {
            push_word(&mut block, string_addr);
            strings.extend_from_slice(s.as_bytes());
            strings.push(0);
            string_addr += s.len() as u64 + 1;
        }
        push_word(&mut block, 0);
    }
    for (key, value) in auxv_pairs {
        push_word(&mut block, key as u64);
        push_word(&mut block, value);
    }
    block.resize((strings_start - sp) as usize, 0);
    block.extend_from_slice(&strings);
    space.write_user(sp, &block)?;
    Ok(sp)
}
