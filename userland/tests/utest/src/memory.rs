//! Memory tests: anonymous mappings are zero-filled and hold data; mprotect and munmap
//! take effect (a child touching the memory afterwards is killed); thread stacks have a
//! guard page.

use crate::procs::run;
use ulib::check::{Context, TestResult};
use ulib::mem::{Mapping, PAGE_SIZE, PROT_READ, PROT_WRITE};
use ulib::process::signal::SIGSEGV;
use ulib::{ensure, ensure_eq};

/// Size of the pattern test mapping.
const MIB: usize = 1024 * 1024;

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(7) ^ (i >> 12)) as u8
}

/// 1 MiB of anonymous memory is zero-filled, holds a pattern, and is zeroed when reused.
pub fn mmap_pattern() -> TestResult {
    let mut mapping = Mapping::new(MIB, PROT_READ | PROT_WRITE).context("mmap 1 MiB")?;
    ensure_eq!(mapping.len(), MIB);
    ensure!(
        mapping.addr().is_multiple_of(PAGE_SIZE),
        "unaligned mapping {:#x}",
        mapping.addr()
    );
    ensure!(
        mapping.as_slice().iter().all(|&b| b == 0),
        "fresh mapping is not zero-filled"
    );
    for (i, byte) in mapping.as_mut_slice().iter_mut().enumerate() {
        *byte = pattern(i);
    }
    let bad = mapping
        .as_slice()
        .iter()
        .enumerate()
        .find(|&(i, &b)| b != pattern(i));
    ensure!(bad.is_none(), "pattern mismatch at {bad:?}");
    let first = mapping.addr();
    drop(mapping);
    // The range is free again: a new mapping of the same size may reuse it, zeroed.
    let again = Mapping::new(MIB, PROT_READ | PROT_WRITE).context("mmap again")?;
    ensure!(
        again.as_slice().iter().all(|&b| b == 0),
        "reused memory at {first:#x} is not zeroed"
    );
    Ok(())
}

/// Read-only memory keeps its data and can be made writable again.
pub fn mprotect_read_only_still_reads() -> TestResult {
    let mut mapping = Mapping::new(2 * PAGE_SIZE, PROT_READ | PROT_WRITE).context("mmap")?;
    mapping.as_mut_slice().fill(0x3C);
    mapping
        .protect(0, mapping.len(), PROT_READ)
        .context("mprotect")?;
    ensure!(
        mapping.as_slice().iter().all(|&b| b == 0x3C),
        "read-only data changed"
    );
    mapping
        .protect(0, mapping.len(), PROT_READ | PROT_WRITE)
        .context("mprotect back")?;
    mapping.as_mut_slice().fill(1);
    ensure!(mapping.as_slice().iter().all(|&b| b == 1), "writable again");
    Ok(())
}

/// A child touching memory after munmap is killed with SIGSEGV.
pub fn access_after_munmap() -> TestResult {
    let status = run("/bin/crasher", &["use-after-munmap"])?;
    ensure_eq!(status.signal(), Some(SIGSEGV));
    Ok(())
}

/// A child writing memory it made read-only is killed with SIGSEGV.
pub fn write_after_mprotect() -> TestResult {
    let status = run("/bin/crasher", &["write-readonly"])?;
    ensure_eq!(status.signal(), Some(SIGSEGV));
    Ok(())
}

/// A thread overflowing its stack hits the guard page: SIGSEGV.
pub fn thread_stack_guard() -> TestResult {
    let status = run("/bin/utest", &["child-thread-overflow"])?;
    ensure_eq!(status.signal(), Some(SIGSEGV));
    Ok(())
}
