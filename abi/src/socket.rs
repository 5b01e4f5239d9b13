//! Local (Unix-domain style) sockets and `poll`: sockets are bound to paths such as
//! `/dev/socket/seed`; SOCK_SEQPACKET connections and SOCK_DGRAM datagrams keep message
//! boundaries; receivers learn the sender's credentials.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The only address family: local sockets named by a path.
pub const AF_UNIX: usize = 1;
/// Connectionless, message boundaries kept, unreliable only in name (local: never lost).
pub const SOCK_DGRAM: usize = 2;
/// Connection-oriented, message boundaries kept.
pub const SOCK_SEQPACKET: usize = 5;
/// `socket` type flag: non-blocking.
pub const SOCK_NONBLOCK: usize = 0o4000;
/// `socket` type flag: close on exec.
pub const SOCK_CLOEXEC: usize = 0o2000000;
/// `send`/`recv` flag: do not block for this call.
pub const MSG_DONTWAIT: usize = 0x40;
/// Largest message.
pub const MAX_MESSAGE: usize = 16 * 1024;
/// Bytes a socket buffers before senders get EAGAIN (or block).
pub const SOCKET_BUFFER: usize = 64 * 1024;
/// Longest socket path.
pub const MAX_SOCKET_PATH: usize = 108;

/// Credentials of the process at the other end.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Ucred {
    /// Process id.
    pub pid: u32,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// One entry of a `poll` set.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct PollFd {
    /// Descriptor (negative: ignored).
    pub fd: i32,
    /// Events of interest.
    pub events: i16,
    /// Events that happened (set by the kernel).
    pub revents: i16,
}

/// Data (or a connection, or end-of-stream) can be read without blocking.
pub const POLLIN: i16 = 0x001;
/// A write would not block.
pub const POLLOUT: i16 = 0x004;
/// Error condition.
pub const POLLERR: i16 = 0x008;
/// The peer hung up.
pub const POLLHUP: i16 = 0x010;
/// Not an open descriptor.
pub const POLLNVAL: i16 = 0x020;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_fixed() {
        assert_eq!(size_of::<Ucred>(), 12);
        assert_eq!(size_of::<PollFd>(), 8);
    }
}
