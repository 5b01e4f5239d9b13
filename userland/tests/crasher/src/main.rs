//! `/bin/crasher <kind> [args]`: performs exactly one fault, so tests can check that the
//! kernel kills only this process with the right signal. It must never exit normally:
//! if the fault does not happen it says so and exits with status 1.
//!
//! Kinds: `null`, `kernel`, `write-text`, `exec-data`, `stack` (SIGSEGV); `undef`, `brk`
//! (SIGILL); `align` (SIGBUS); and for isolation and memory tests `read-addr <hex>
//! [<expected hex>]`, `write-addr <hex>`, `use-after-munmap`, `write-readonly` (SIGSEGV).
//!
//! The faults need raw loads, stores and jumps, so this crate opts out of
//! `deny(unsafe_code)` function by function; in each, the fault is the point.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use core::arch::asm;
use core::hint::black_box;
use ulib::mem::{Mapping, PROT_READ, PROT_WRITE};
use ulib::{env, eprintln, process};

/// Status when the requested fault did not happen.
const DID_NOT_FAULT: i32 = 1;
/// Status for a bad command line.
const USAGE: i32 = 2;
/// Status when `read-addr` read the expected value (isolation broken).
const READ_EXPECTED: i32 = 3;
/// Status when `read-addr` read some other value without faulting.
const READ_OTHER: i32 = 4;

/// A kernel address (the kernel image base).
const KERNEL_ADDR: usize = 0xFFFF_FFFF_8000_0000;
/// AArch64 `ret`, placed in data memory for `exec-data`.
const RET_INSN: u32 = 0xD65F_03C0;

fn main() -> i32 {
    let kind = env::arg(1).unwrap_or("");
    let code = match kind {
        "null" => load(0).map_or(USAGE, |_| DID_NOT_FAULT),
        "kernel" => load(KERNEL_ADDR).map_or(USAGE, |_| DID_NOT_FAULT),
        "write-text" => {
            store(main as *const () as usize, 0);
            DID_NOT_FAULT
        }
        "exec-data" => exec_data(),
        "undef" => undef(),
        "brk" => breakpoint(),
        "align" => align(),
        "stack" => recurse(0).map_or(USAGE, |_| DID_NOT_FAULT),
        "read-addr" => read_addr(),
        "write-addr" => match env::arg(2).and_then(parse_hex) {
            Some(addr) => {
                store(addr, 0xBAD0_BAD0);
                DID_NOT_FAULT
            }
            None => USAGE,
        },
        "use-after-munmap" => use_after_munmap(),
        "write-readonly" => write_readonly(),
        _ => {
            eprintln!(
                "usage: crasher null|kernel|write-text|exec-data|undef|brk|align|stack|read-addr <hex> [<hex>]|write-addr <hex>|use-after-munmap|write-readonly"
            );
            return USAGE;
        }
    };
    if code == DID_NOT_FAULT {
        eprintln!("crasher: {kind} did not fault");
    }
    process::exit(code)
}

fn parse_hex(text: &str) -> Option<usize> {
    usize::from_str_radix(text.trim_start_matches("0x"), 16).ok()
}

/// Loads the 64-bit word at `addr` with a plain `ldr`.
#[allow(
    unsafe_code,
    reason = "a load from an arbitrary address is the fault under test"
)]
fn load(addr: usize) -> Option<u64> {
    let value: u64;
    // SAFETY: not safe, on purpose: the address is expected to be unmapped or kernel-only,
    // and the resulting fault must kill this process. Nothing in Rust depends on the value.
    unsafe {
        asm!("ldr {v}, [{a}]", a = in(reg) addr, v = lateout(reg) value, options(nostack, readonly))
    };
    Some(value)
}

/// Stores `value` at `addr` with a plain `str`.
#[allow(
    unsafe_code,
    reason = "a store to an arbitrary address is the fault under test"
)]
fn store(addr: usize, value: u64) {
    // SAFETY: not safe, on purpose: the address is expected to be read-only, unmapped or
    // kernel-only, and the fault must kill this process before anything observes it.
    unsafe { asm!("str {v}, [{a}]", a = in(reg) addr, v = in(reg) value, options(nostack)) };
}

/// Branches into heap memory holding a `ret`; the heap is never executable.
#[allow(unsafe_code, reason = "jumping into data is the fault under test")]
fn exec_data() -> i32 {
    let code: Vec<u32> = black_box(alloc::vec![RET_INSN; 4]);
    let target = code.as_ptr() as usize;
    // SAFETY: not safe, on purpose: the page is mapped without execute permission, so the
    // branch faults (instruction abort). Were it executable, `ret` would return here.
    unsafe { asm!("blr {t}", t = in(reg) target, clobber_abi("C")) };
    DID_NOT_FAULT
}

/// Executes the permanently undefined instruction.
#[allow(
    unsafe_code,
    reason = "an undefined instruction is the fault under test"
)]
fn undef() -> i32 {
    // SAFETY: `udf` raises an undefined-instruction exception; the kernel ends the process.
    unsafe { asm!("udf #0", options(nomem, nostack)) };
    DID_NOT_FAULT
}

/// Executes a breakpoint with no debugger attached.
#[allow(unsafe_code, reason = "a breakpoint is the fault under test")]
fn breakpoint() -> i32 {
    // SAFETY: `brk` raises a breakpoint exception; the kernel ends the process.
    unsafe { asm!("brk #0", options(nomem, nostack)) };
    DID_NOT_FAULT
}

/// A load through a misaligned SP (SP alignment check, SCTLR_EL1.SA0), then, should that
/// not fault, a misaligned exclusive load (always an alignment fault).
#[allow(unsafe_code, reason = "alignment faults are the fault under test")]
fn align() -> i32 {
    // SAFETY: not safe, on purpose: SP is misaligned by 4 for one load, which should fault;
    // if it does not, SP is restored before anything else uses the stack.
    unsafe {
        asm!(
            "mov {saved}, sp",
            "sub {tmp}, {saved}, #4",
            "mov sp, {tmp}",
            "ldr {tmp}, [sp]",
            "mov sp, {saved}",
            saved = out(reg) _,
            tmp = out(reg) _,
        )
    };
    let words = black_box([0u64; 2]);
    let misaligned = words.as_ptr() as usize + 1;
    // SAFETY: not safe, on purpose: exclusive loads require natural alignment, so this
    // faults; the address is inside `words`, so a read would touch only our own stack.
    unsafe {
        asm!("ldxr {v}, [{a}]", "clrex", a = in(reg) misaligned, v = out(reg) _, options(nostack))
    };
    DID_NOT_FAULT
}

/// Recurses until the stack runs into its guard page.
fn recurse(depth: u64) -> Option<u64> {
    let frame = black_box([depth; 64]);
    if black_box(depth) == u64::MAX {
        return None;
    }
    let below = recurse(depth + 1)?;
    Some(below + frame[7])
}

/// `read-addr <hex> [<expected>]`: reads another process's (or the kernel's) address.
fn read_addr() -> i32 {
    let Some(addr) = env::arg(2).and_then(parse_hex) else {
        return USAGE;
    };
    let expected = env::arg(3).and_then(parse_hex);
    let value = load(addr);
    match (value, expected) {
        (Some(v), Some(e)) if v as usize == e => READ_EXPECTED,
        (Some(_), _) => READ_OTHER,
        (None, _) => USAGE,
    }
}

/// Maps, writes and unmaps memory, then reads it.
fn use_after_munmap() -> i32 {
    let Ok(mut mapping) = Mapping::new(4 * ulib::mem::PAGE_SIZE, PROT_READ | PROT_WRITE) else {
        return USAGE;
    };
    mapping.as_mut_slice().fill(0x5A);
    let addr = mapping.addr();
    drop(mapping);
    load(addr + ulib::mem::PAGE_SIZE).map_or(USAGE, |_| DID_NOT_FAULT)
}

/// Maps memory, makes it read-only, then writes it.
fn write_readonly() -> i32 {
    let Ok(mut mapping) = Mapping::new(ulib::mem::PAGE_SIZE, PROT_READ | PROT_WRITE) else {
        return USAGE;
    };
    mapping.as_mut_slice().fill(0xA5);
    if mapping.protect(0, mapping.len(), PROT_READ).is_err() {
        eprintln!("crasher: mprotect failed");
        return USAGE;
    }
    if mapping.as_slice().first() != Some(&0xA5) {
        return USAGE;
    }
    store(mapping.addr(), 1);
    DID_NOT_FAULT
}

ulib::entry!(main);
