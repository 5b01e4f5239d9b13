//! The typed values a decoded system call carries: descriptors, user pointers and slices
//! (unchecked until accessed), and the enumerated arguments.

use abi::Errno;
use core::marker::PhantomData;

/// A file descriptor number as the caller passed it (whether it is open is the table's
/// question: `EBADF`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fd(pub usize);

/// A user address holding a `T`, unchecked until accessed.
#[derive(Debug)]
pub struct UserPtr<T> {
    addr: u64,
    _points_to: PhantomData<fn() -> T>,
}

// By hand: the derives would ask the same of `T`, which is only pointed to.
impl<T> Clone for UserPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for UserPtr<T> {}

impl<T> PartialEq for UserPtr<T> {
    fn eq(&self, other: &Self) -> bool {
        self.addr == other.addr
    }
}

impl<T> Eq for UserPtr<T> {}

impl<T> UserPtr<T> {
    /// The pointer at `addr`.
    pub const fn new(addr: u64) -> Self {
        UserPtr {
            addr,
            _points_to: PhantomData,
        }
    }

    /// Its address.
    pub const fn addr(self) -> u64 {
        self.addr
    }

    /// Element `index` of an array starting here (`None` if the address overflows).
    pub fn offset(self, index: usize) -> Option<Self> {
        let bytes = index.checked_mul(core::mem::size_of::<T>())?;
        Some(UserPtr::new(self.addr.checked_add(bytes as u64)?))
    }
}

/// A user byte range `[addr, addr + len)` with `len <= isize::MAX`, unchecked until accessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserSlice {
    addr: u64,
    len: usize,
}

impl UserSlice {
    /// `len` bytes at `addr`: `EINVAL` for a length no `ssize_t` can hold (a negative one).
    #[inline]
    pub fn new(addr: u64, len: u64) -> Result<Self, Errno> {
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| isize::try_from(len).is_ok())
            .ok_or(Errno::EINVAL)?;
        Ok(UserSlice { addr, len })
    }

    /// Start address.
    pub const fn addr(self) -> u64 {
        self.addr
    }

    /// Length in bytes.
    pub const fn len(self) -> usize {
        self.len
    }

    /// Whether it has no bytes.
    pub const fn is_empty(self) -> bool {
        self.len == 0
    }

    /// The first `max` bytes at most (reads and writes may be shortened, as POSIX allows).
    pub fn truncated(self, max: usize) -> Self {
        UserSlice {
            len: self.len.min(max),
            ..self
        }
    }
}

/// Which child `wait` reaps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    /// Any child (pid -1).
    Any,
    /// The child with this pid.
    Child(u32),
}

/// A `futex` operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FutexOp {
    /// Sleep while the word holds `value`, up to `timeout_ns` (0: no timeout).
    Wait { value: u32, timeout_ns: u64 },
    /// Wake up to `count` sleepers.
    Wake { count: u32 },
}

/// A clock for `clock_gettime`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Since the epoch (here: since boot).
    Realtime,
    /// Since boot.
    Monotonic,
}

/// What `reboot` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RebootMode {
    /// Power off.
    PowerOff,
    /// Restart.
    Restart,
}

/// A socket type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketKind {
    /// SOCK_SEQPACKET.
    SeqPacket,
    /// SOCK_DGRAM.
    Datagram,
}
