//! Memory: owned anonymous mappings and the kernel's memory statistics.

use abi::Errno;
pub use abi::syscall::MemInfo;
pub use abi::syscall::mman::{PROT_EXEC, PROT_READ, PROT_WRITE};

pub use crate::sys::Mapping;

/// No access (`mprotect` a guard page).
pub const PROT_NONE: usize = 0;
/// Page size of the user address space.
pub const PAGE_SIZE: usize = 4096;

/// The kernel's memory statistics (frames free and total, kernel heap use).
pub fn meminfo() -> Result<MemInfo, Errno> {
    let mut info = MemInfo::default();
    crate::sys::meminfo(&mut info)?;
    Ok(info)
}
