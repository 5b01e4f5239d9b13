//! Kernel tests that run on the target (see `ktest`).

mod exception;
mod frame;
mod heap;
mod paging;
mod sched;
mod socket;
mod syscall;
mod timer;
