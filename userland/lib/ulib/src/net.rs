//! Local sockets and `poll` (abi `socket` module): [`UnixSeqPacketListener`] and
//! [`UnixSeqPacket`] (connection-oriented, message boundaries kept: the `std`
//! `UnixListener`/`UnixStream` pair for SOCK_SEQPACKET), [`UnixDatagram`], and [`poll`] over
//! any descriptors (sockets, the console, `/dev/initctl`, `/dev/lite_ipc`).
//!
//! Sockets made here are close-on-exec, so spawned programs do not inherit them and a
//! daemon's death closes its sockets. Connections from [`UnixSeqPacketListener::accept`]
//! are the exception: the kernel's `accept` takes no flags, so they are inherited by
//! children spawned while they are open.

use crate::sys;
use abi::Errno;
use abi::socket::{
    AF_UNIX, MAX_SOCKET_PATH, MSG_DONTWAIT, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_SEQPACKET,
};
use alloc::vec::Vec;
use core::time::Duration;

pub use abi::socket::{
    MAX_MESSAGE, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, PollFd, SOCKET_BUFFER, Ucred,
};

/// Pending connections a listener keeps (the kernel caps it at 64).
pub const DEFAULT_BACKLOG: usize = 16;

/// Checks a socket path as the kernel will (absolute, at most `MAX_SOCKET_PATH` bytes), so
/// a bad one fails before a socket is made.
pub fn check_path(path: &str) -> Result<(), Errno> {
    if !path.starts_with('/') || path.len() > MAX_SOCKET_PATH {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// An owned descriptor, closed on drop.
#[derive(Debug)]
struct OwnedFd(usize);

impl OwnedFd {
    fn socket(kind: usize, nonblocking: bool) -> Result<OwnedFd, Errno> {
        let flags = SOCK_CLOEXEC | if nonblocking { SOCK_NONBLOCK } else { 0 };
        sys::net::socket(AF_UNIX, kind | flags).map(OwnedFd)
    }
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        let _ = sys::close(self.0);
    }
}

fn dontwait(nonblocking: bool) -> usize {
    if nonblocking { MSG_DONTWAIT } else { 0 }
}

/// A SOCK_SEQPACKET socket listening on a path.
#[derive(Debug)]
pub struct UnixSeqPacketListener {
    fd: OwnedFd,
}

impl UnixSeqPacketListener {
    /// Binds to `path` (EADDRINUSE if it exists; its directory must exist) and listens.
    /// The path disappears when the listener is closed.
    pub fn bind(path: &str) -> Result<UnixSeqPacketListener, Errno> {
        UnixSeqPacketListener::bind_with(path, false)
    }

    /// Like [`UnixSeqPacketListener::bind`], but non-blocking from the start: for a
    /// daemon's poll loop, which takes connections with
    /// [`UnixSeqPacketListener::accept_queued`].
    pub fn bind_nonblocking(path: &str) -> Result<UnixSeqPacketListener, Errno> {
        UnixSeqPacketListener::bind_with(path, true)
    }

    fn bind_with(path: &str, nonblocking: bool) -> Result<UnixSeqPacketListener, Errno> {
        check_path(path)?;
        let fd = OwnedFd::socket(SOCK_SEQPACKET, nonblocking)?;
        sys::net::bind(fd.0, path.as_bytes())?;
        sys::net::listen(fd.0, DEFAULT_BACKLOG)?;
        Ok(UnixSeqPacketListener { fd })
    }

    /// Takes the next connection (blocks, unless the listener was made with
    /// [`UnixSeqPacketListener::bind_nonblocking`]: then EAGAIN if none). The connection
    /// inherits the listener's blocking mode.
    pub fn accept(&self) -> Result<UnixSeqPacket, Errno> {
        sys::net::accept(self.fd.0).map(|fd| UnixSeqPacket { fd: OwnedFd(fd) })
    }

    /// Takes every connection queued on this non-blocking listener, for a daemon's poll
    /// loop: each is made non-blocking and comes with its peer's credentials; once `room`
    /// connections are taken, later ones are closed at once (`who: too many connections;
    /// refused pid N` on the console), and a connection whose peer has already gone is
    /// dropped. Stops when the queue is empty, or at an error (logged as
    /// `who: accept failed`).
    pub fn accept_queued(&self, who: &str, room: usize) -> Vec<(UnixSeqPacket, Ucred)> {
        let mut taken = Vec::new();
        loop {
            let socket = match self.accept() {
                Ok(s) => s,
                Err(Errno::EAGAIN) => return taken,
                Err(e) => {
                    crate::println!("{who}: accept failed: {e:?}");
                    return taken;
                }
            };
            let Ok(cred) = socket.peer_cred() else {
                continue;
            };
            if taken.len() >= room {
                crate::println!("{who}: too many connections; refused pid {}", cred.pid);
                continue;
            }
            let _ = socket.set_nonblocking(true);
            taken.push((socket, cred));
        }
    }

    /// The descriptor, for [`poll`] (readable: a connection is waiting).
    pub fn fd(&self) -> usize {
        self.fd.0
    }
}

/// A connected SOCK_SEQPACKET socket: each `send` is one message, each `recv` takes one.
#[derive(Debug)]
pub struct UnixSeqPacket {
    fd: OwnedFd,
}

impl UnixSeqPacket {
    /// Connects to the listener at `path` (ECONNREFUSED if nobody listens there).
    pub fn connect(path: &str) -> Result<UnixSeqPacket, Errno> {
        check_path(path)?;
        let fd = OwnedFd::socket(SOCK_SEQPACKET, false)?;
        sys::net::connect(fd.0, path.as_bytes())?;
        Ok(UnixSeqPacket { fd })
    }

    /// Sends one message (at most [`MAX_MESSAGE`] bytes). Blocks while the peer's buffer
    /// is full, unless non-blocking (EAGAIN); ECONNRESET once the peer has gone.
    pub fn send(&self, message: &[u8]) -> Result<usize, Errno> {
        sys::net::sendto(self.fd.0, message, 0, None)
    }

    /// Sends one message without blocking (EAGAIN when the peer's buffer is full).
    pub fn try_send(&self, message: &[u8]) -> Result<usize, Errno> {
        sys::net::sendto(self.fd.0, message, dontwait(true), None)
    }

    /// Receives one message into `buf` (a longer one is truncated); 0 means the peer has
    /// gone (end-of-stream). Blocks unless non-blocking (EAGAIN).
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut from = Ucred::default();
        sys::net::recvfrom(self.fd.0, buf, 0, &mut from)
    }

    /// Receives one message without blocking (EAGAIN when none is queued).
    pub fn try_recv(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut from = Ucred::default();
        sys::net::recvfrom(self.fd.0, buf, dontwait(true), &mut from)
    }

    /// Credentials (pid, uid, gid) of the process at the other end.
    pub fn peer_cred(&self) -> Result<Ucred, Errno> {
        let mut cred = Ucred::default();
        sys::net::getpeercred(self.fd.0, &mut cred)?;
        Ok(cred)
    }

    /// Sets or clears non-blocking mode.
    pub fn set_nonblocking(&self, on: bool) -> Result<(), Errno> {
        sys::net::set_nonblock(self.fd.0, on).map(drop)
    }

    /// The descriptor, for [`poll`].
    pub fn fd(&self) -> usize {
        self.fd.0
    }
}

/// A SOCK_DGRAM socket: messages to and from paths, each with the sender's credentials.
#[derive(Debug)]
pub struct UnixDatagram {
    fd: OwnedFd,
}

impl UnixDatagram {
    /// A socket bound to `path`, to receive on.
    pub fn bind(path: &str) -> Result<UnixDatagram, Errno> {
        check_path(path)?;
        let fd = OwnedFd::socket(SOCK_DGRAM, false)?;
        sys::net::bind(fd.0, path.as_bytes())?;
        Ok(UnixDatagram { fd })
    }

    /// An unbound socket, to send with [`UnixDatagram::send_to`].
    pub fn unbound() -> Result<UnixDatagram, Errno> {
        OwnedFd::socket(SOCK_DGRAM, false).map(|fd| UnixDatagram { fd })
    }

    /// Sets the default destination for [`UnixDatagram::send`].
    pub fn connect(&self, path: &str) -> Result<(), Errno> {
        check_path(path)?;
        sys::net::connect(self.fd.0, path.as_bytes()).map(drop)
    }

    /// Sends one message to the connected destination.
    pub fn send(&self, message: &[u8]) -> Result<usize, Errno> {
        sys::net::sendto(self.fd.0, message, 0, None)
    }

    /// Sends one message to the socket bound at `path`.
    pub fn send_to(&self, message: &[u8], path: &str) -> Result<usize, Errno> {
        check_path(path)?;
        sys::net::sendto(self.fd.0, message, 0, Some(path.as_bytes()))
    }

    /// Receives one message and its sender's credentials.
    pub fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, Ucred), Errno> {
        let mut from = Ucred::default();
        let n = sys::net::recvfrom(self.fd.0, buf, 0, &mut from)?;
        Ok((n, from))
    }

    /// Sets or clears non-blocking mode.
    pub fn set_nonblocking(&self, on: bool) -> Result<(), Errno> {
        sys::net::set_nonblock(self.fd.0, on).map(drop)
    }

    /// The descriptor, for [`poll`].
    pub fn fd(&self) -> usize {
        self.fd.0
    }
}

/// A `poll` entry for `fd` and `events` (`POLLIN | POLLOUT`).
pub fn poll_fd(fd: usize, events: i16) -> PollFd {
    PollFd {
        fd: i32::try_from(fd).unwrap_or(-1),
        events,
        revents: 0,
    }
}

/// `poll`'s timeout argument: -1 for none (wait forever), else milliseconds rounded up
/// (so a short timeout never becomes a busy 0), saturating.
pub fn timeout_ms(timeout: Option<Duration>) -> isize {
    match timeout {
        None => -1,
        Some(t) => {
            let ms = t.as_nanos().div_ceil(1_000_000);
            isize::try_from(ms).unwrap_or(isize::MAX)
        }
    }
}

/// Waits until an entry of `fds` is ready or `timeout` passes (`None`: forever); fills
/// in `revents` and returns how many entries have any (0: timed out).
pub fn poll(fds: &mut [PollFd], timeout: Option<Duration>) -> Result<usize, Errno> {
    sys::net::poll(fds, timeout_ms(timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_and_saturate() {
        assert_eq!(timeout_ms(None), -1);
        assert_eq!(timeout_ms(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_ms(Some(Duration::from_nanos(1))), 1);
        assert_eq!(timeout_ms(Some(Duration::from_millis(1500))), 1500);
        assert_eq!(timeout_ms(Some(Duration::from_micros(1500))), 2);
        assert_eq!(timeout_ms(Some(Duration::MAX)), isize::MAX);
    }

    #[test]
    fn paths_are_checked_before_any_call() {
        assert_eq!(check_path("/dev/socket/seed"), Ok(()));
        assert_eq!(check_path("dev/socket/seed"), Err(Errno::EINVAL));
        assert_eq!(check_path(""), Err(Errno::EINVAL));
        let long = alloc::format!("/{}", "a".repeat(MAX_SOCKET_PATH));
        assert_eq!(check_path(&long), Err(Errno::EINVAL));
        assert_eq!(
            UnixSeqPacket::connect("relative").err(),
            Some(Errno::EINVAL)
        );
    }

    #[test]
    fn poll_entries() {
        let entry = poll_fd(3, POLLIN | POLLOUT);
        assert_eq!(
            (entry.fd, entry.events, entry.revents),
            (3, POLLIN | POLLOUT, 0)
        );
        assert_eq!(
            poll_fd(usize::MAX, POLLIN).fd,
            -1,
            "an impossible fd is ignored"
        );
    }

    #[test]
    fn host_calls_fail_cleanly() {
        assert_eq!(
            UnixSeqPacket::connect("/dev/socket/x").err(),
            Some(Errno::ENOSYS)
        );
        assert_eq!(
            UnixSeqPacketListener::bind("/dev/socket/x").err(),
            Some(Errno::ENOSYS)
        );
        let mut fds = [poll_fd(0, POLLIN)];
        assert_eq!(poll(&mut fds, None), Err(Errno::ENOSYS));
    }
}
