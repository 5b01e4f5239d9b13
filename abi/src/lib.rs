//! The user/kernel ABI, defined once and used by both sides.
//!
//! Convention: `svc #0`, syscall number in x8, arguments in x0..x5, result in x0;
//! a negative result `-e` means the call failed with errno `e` (Linux values).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod errno;
pub mod liteipc;
pub mod socket;
pub mod syscall;

pub use errno::Errno;
pub use syscall::Sysno;
