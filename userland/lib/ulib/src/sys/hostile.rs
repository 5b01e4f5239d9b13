//! Deliberately invalid system-call arguments, for tests that the kernel refuses them.
//!
//! Each call here is safe because its pointer argument is a [`Foreign`] range: one that
//! cannot be this process's memory (inside the unmapped null guard, at or above the end
//! of the user address space, or wrapping around it). Whatever the kernel does with it,
//! no Rust object of ours can change.

use super::mapping::{Mapping, PAGE_SIZE};
use super::{Errno, Sysno, call, syscall};
use core::sync::atomic::AtomicU32;

/// End of the unmapped guard at address 0 (nothing is ever mapped below it).
pub const NULL_GUARD_END: usize = 0x1_0000;
/// End of the 39-bit user address space.
pub const USER_END: usize = 0x80_0000_0000;

/// An address range that is not, and cannot become, memory of this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Foreign {
    addr: usize,
    len: usize,
}

impl Foreign {
    /// `[addr, addr+len)` if it lies wholly in the null guard, starts at or above the end
    /// of user space (kernel addresses, ranges that overflow), else `None`.
    pub fn new(addr: usize, len: usize) -> Option<Foreign> {
        let foreign = addr >= USER_END
            || addr
                .checked_add(len)
                .is_some_and(|end| end <= NULL_GUARD_END);
        foreign.then_some(Foreign { addr, len })
    }

    /// Start address.
    pub fn addr(self) -> usize {
        self.addr
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.len
    }

    /// True when the range has no bytes.
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// `write(fd, range)`: the kernel must fail with EFAULT.
pub fn write(fd: usize, from: Foreign) -> Result<usize, Errno> {
    call(Sysno::Write, [fd, from.addr, from.len, 0, 0, 0])
}

/// `read(fd, range)`: the kernel must fail with EFAULT.
pub fn read(fd: usize, into: Foreign) -> Result<usize, Errno> {
    call(Sysno::Read, [fd, into.addr, into.len, 0, 0, 0])
}

/// `ioctl(fd, cmd, range.addr)`: a pointer argument that is not our memory (null, kernel),
/// for any command; the kernel must fail (EFAULT) without touching memory of ours.
pub fn ioctl(fd: usize, cmd: usize, arg: Foreign) -> Result<usize, Errno> {
    call(Sysno::Ioctl, [fd, cmd, arg.addr, 0, 0, 0])
}

/// `open(path range, flags, 0)`: the kernel must fail with EFAULT.
pub fn open(path: Foreign, flags: usize) -> Result<usize, Errno> {
    call(Sysno::Open, [path.addr, path.len, flags, 0, 0, 0])
}

/// `fstat(fd, at)`: the kernel must fail with EFAULT.
pub fn fstat(fd: usize, at: Foreign) -> Result<usize, Errno> {
    call(Sysno::Fstat, [fd, at.addr, 0, 0, 0, 0])
}

/// `spawn(request at range.addr)`: the kernel must fail with EFAULT.
pub fn spawn(request: Foreign) -> Result<usize, Errno> {
    call(Sysno::Spawn, [request.addr, 0, 0, 0, 0, 0])
}

/// `wait(pid, status at range.addr, options)`.
pub fn wait(pid: isize, status: Foreign, options: usize) -> Result<usize, Errno> {
    call(Sysno::Wait, [pid as usize, status.addr, options, 0, 0, 0])
}

/// `futex(word.addr + offset, WAIT, expected, timeout_ns)` on any address, e.g. an
/// unaligned one. Safe for every address: the kernel only reads the futex word.
pub fn futex_wait_at(
    word: &AtomicU32,
    byte_offset: usize,
    expected: u32,
    timeout_ns: u64,
) -> Result<usize, Errno> {
    let addr = (word.as_ptr() as usize).wrapping_add(byte_offset);
    call(
        Sysno::Futex,
        [
            addr,
            abi::syscall::futex::WAIT,
            expected as usize,
            timeout_ns as usize,
            0,
            0,
        ],
    )
}

/// `munmap(mapping + offset, PAGE_SIZE)` with a non-page-aligned `offset` (the kernel must
/// fail with EINVAL); `None` without calling when `offset` is aligned or outside.
pub fn munmap_unaligned(mapping: &mut Mapping, offset: usize) -> Option<Result<usize, Errno>> {
    if offset.is_multiple_of(PAGE_SIZE) || offset >= mapping.len() {
        return None;
    }
    let addr = mapping.addr() + offset;
    // SAFETY: the address lies inside a mapping we own and hold `&mut` to, so no
    // reference into it is alive; a correct kernel refuses the unaligned address, and a
    // wrong one can only unmap pages of that mapping (later accesses fault).
    Some(Errno::decode(unsafe {
        syscall(Sysno::Munmap as usize, [addr, PAGE_SIZE, 0, 0, 0, 0])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_non_user_ranges_are_foreign() {
        assert!(Foreign::new(0, 10).is_some());
        assert!(Foreign::new(0xFFFF_FFFF_8000_0000, 10).is_some());
        assert!(Foreign::new(usize::MAX - 4, 100).is_some());
        assert!(Foreign::new(USER_END, 1).is_some());
        assert!(Foreign::new(NULL_GUARD_END - 1, 2).is_none());
        assert!(Foreign::new(0x40_0000, 1).is_none());
        assert!(Foreign::new(USER_END - 1, 1).is_none());
    }
}
