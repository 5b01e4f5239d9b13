//! Local socket and `poll` system calls (abi `socket` module). The kernel reads paths and
//! send buffers, and writes only into the buffers borrowed mutably here (`recvfrom`'s data
//! and `Ucred`, `getpeercred`'s `Ucred`, `poll`'s entries).

use super::{call, call2, call3};
use abi::socket::{PollFd, Ucred};
use abi::{Errno, Sysno};

/// `socket(AF_UNIX, kind | flags, 0) -> fd`.
pub fn socket(domain: usize, kind: usize) -> Result<usize, Errno> {
    call3(Sysno::Socket, domain, kind, 0)
}

/// `bind(fd, path)`.
pub fn bind(fd: usize, path: &[u8]) -> Result<usize, Errno> {
    call3(Sysno::Bind, fd, path.as_ptr() as usize, path.len())
}

/// `listen(fd, backlog)`.
pub fn listen(fd: usize, backlog: usize) -> Result<usize, Errno> {
    call2(Sysno::Listen, fd, backlog)
}

/// `accept(fd) -> fd` of the new connection.
pub fn accept(fd: usize) -> Result<usize, Errno> {
    // Connections are close-on-exec, so spawned programs never inherit them.
    call2(Sysno::Accept, fd, abi::socket::SOCK_CLOEXEC)
}

/// `connect(fd, path)`.
pub fn connect(fd: usize, path: &[u8]) -> Result<usize, Errno> {
    call3(Sysno::Connect, fd, path.as_ptr() as usize, path.len())
}

/// `sendto(fd, buf, flags, path)`: `path` `None` sends to the connected peer.
pub fn sendto(fd: usize, buf: &[u8], flags: usize, path: Option<&[u8]>) -> Result<usize, Errno> {
    let (path_ptr, path_len) = path.map_or((0, 0), |p| (p.as_ptr() as usize, p.len()));
    call(
        Sysno::SendTo,
        [
            fd,
            buf.as_ptr() as usize,
            buf.len(),
            flags,
            path_ptr,
            path_len,
        ],
    )
}

/// `recvfrom(fd, buf, flags, &mut from) -> count`: the kernel writes at most `buf.len()`
/// bytes into `buf` and the sender's credentials into `from`.
pub fn recvfrom(fd: usize, buf: &mut [u8], flags: usize, from: &mut Ucred) -> Result<usize, Errno> {
    call(
        Sysno::RecvFrom,
        [
            fd,
            buf.as_mut_ptr() as usize,
            buf.len(),
            flags,
            core::ptr::from_mut(from) as usize,
            0,
        ],
    )
}

/// `getpeercred(fd, &mut cred)`.
pub fn getpeercred(fd: usize, cred: &mut Ucred) -> Result<usize, Errno> {
    call2(Sysno::GetPeerCred, fd, core::ptr::from_mut(cred) as usize)
}

/// `poll(fds, timeout_ms) -> ready count` (timeout -1: forever): the kernel writes the
/// `revents` of the entries.
pub fn poll(fds: &mut [PollFd], timeout_ms: isize) -> Result<usize, Errno> {
    call3(
        Sysno::Poll,
        fds.as_mut_ptr() as usize,
        fds.len(),
        timeout_ms as usize,
    )
}

/// `setnonblock(fd, on)`.
pub fn set_nonblock(fd: usize, on: bool) -> Result<usize, Errno> {
    call2(Sysno::SetNonblock, fd, usize::from(on))
}
