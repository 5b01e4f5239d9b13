//! Hardware-independent kernel logic: everything here compiles and is unit-tested on the host.
//!
//! - [`addr`]: `PhysAddr` / `VirtAddr` newtypes, `PhysRange`, and page arithmetic.
//! - [`frame`]: the bitmap physical frame allocator.
//! - [`pagetable`]: AArch64 stage-1 descriptors and the 3-level (39-bit VA) table mapper.
//! - [`bootargs`]: the `/chosen/bootargs` command-line parser.
//! - [`esr`]: decoding of the Exception Syndrome Register for fault reports.
//! - [`syscall`]: decoding a system call's registers into a typed, checked request.
//! - [`idmap`]: the `u32`-keyed hash map behind the kernel's thread and IPC tables.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod addr;
pub mod asid;
pub mod bootargs;
pub mod cpio;
pub mod elf;
pub mod esr;
pub mod frame;
pub mod idmap;
pub mod ipc_pool;
pub mod pagetable;
pub mod sched;
pub mod syscall;
#[cfg(test)]
pub(crate) mod test_rng;
pub mod timer_queue;
pub mod vfs;

pub use addr::{PAGE_SIZE, PhysAddr, PhysRange, VirtAddr};
