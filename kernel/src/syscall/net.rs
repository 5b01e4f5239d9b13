//! Local socket system calls and `poll`.

use crate::fs::{self, FileObject, OpenFile};
use crate::ipc::socket::{self, Kind, Socket, caller_ucred};
use crate::mm::uaccess::{self, UserPtr, UserSlice};
use crate::proc;
use crate::sched::{self, WakeReason};
use crate::time;
use abi::Errno;
use abi::socket::*;
use abi::syscall::open_flags;
use alloc::sync::Arc;
use alloc::vec::Vec;
use kcore::syscall::{Fd, SocketKind};

/// Most entries in one `poll`.
const MAX_POLL_FDS: usize = 64;

/// The socket behind `fd` (ENOTSOCK for another kind of file), with its open file.
fn socket_of(fd: Fd) -> Result<(Arc<OpenFile>, Arc<Socket>), Errno> {
    let file = fs::file(fd.0)?;
    let FileObject::Stream(stream) = &file.object else {
        return Err(Errno::ENOTSOCK);
    };
    let stream: Arc<dyn core::any::Any + Send + Sync> = stream.clone();
    let socket = stream.downcast::<Socket>().map_err(|_| Errno::ENOTSOCK)?;
    Ok((file, socket))
}

fn path(slice: UserSlice) -> Result<alloc::string::String, Errno> {
    uaccess::read_string(slice, MAX_SOCKET_PATH)
}

fn install(socket: Arc<Socket>, cloexec: bool) -> Result<usize, Errno> {
    let flags = open_flags::O_RDWR
        | if socket.is_nonblocking() {
            open_flags::O_NONBLOCK
        } else {
            0
        };
    fs::install(OpenFile::new(FileObject::Stream(socket), flags), cloexec)
}

pub(super) fn socket(kind: SocketKind, nonblocking: bool, cloexec: bool) -> Result<usize, Errno> {
    let kind = match kind {
        SocketKind::SeqPacket => Kind::SeqPacket,
        SocketKind::Datagram => Kind::Datagram,
    };
    install(Socket::new(kind, caller_ucred(), nonblocking), cloexec)
}

pub(super) fn bind(fd: Fd, at: UserSlice) -> Result<usize, Errno> {
    let (_, socket) = socket_of(fd)?;
    socket.bind(&path(at)?, proc::current_cred()).map(|()| 0)
}

pub(super) fn listen(fd: Fd, backlog: usize) -> Result<usize, Errno> {
    socket_of(fd)?.1.listen(backlog).map(|()| 0)
}

pub(super) fn accept(fd: Fd, nonblocking: bool, cloexec: bool) -> Result<usize, Errno> {
    let connection = socket_of(fd)?.1.accept()?;
    if nonblocking {
        connection.set_nonblocking(true);
    }
    install(connection, cloexec)
}

pub(super) fn connect(fd: Fd, to: UserSlice) -> Result<usize, Errno> {
    let (_, socket) = socket_of(fd)?;
    socket.connect(&path(to)?).map(|()| 0)
}

pub(super) fn send_to(
    fd: Fd,
    data: UserSlice,
    flags: usize,
    to: Option<UserSlice>,
) -> Result<usize, Errno> {
    let (file, socket) = socket_of(fd)?;
    let data = uaccess::read_bytes(data, MAX_MESSAGE, Errno::EMSGSIZE)?;
    let to = match to {
        Some(at) => Some(socket::lookup(&path(at)?)?),
        None => None,
    };
    let dontwait = flags & MSG_DONTWAIT != 0 || file.flags & open_flags::O_NONBLOCK != 0;
    socket.send(&data, to, dontwait, caller_ucred())
}

pub(super) fn recv_from(
    fd: Fd,
    buf: UserSlice,
    flags: usize,
    from: Option<UserPtr<Ucred>>,
) -> Result<usize, Errno> {
    let (file, socket) = socket_of(fd)?;
    let dontwait = flags & MSG_DONTWAIT != 0 || file.flags & open_flags::O_NONBLOCK != 0;
    let buf = buf.truncated(MAX_MESSAGE);
    let mut bounce = alloc::vec![0; buf.len()];
    let (n, sender) = socket.recv(&mut bounce, dontwait)?;
    uaccess::write_bytes(buf, &bounce[..n])?;
    if let Some(from) = from {
        uaccess::write(from, &sender)?;
    }
    Ok(n)
}

pub(super) fn peer_cred(fd: Fd, out: UserPtr<Ucred>) -> Result<usize, Errno> {
    let cred = socket_of(fd)?.1.peer_cred()?;
    uaccess::write(out, &cred).map(|()| 0)
}

pub(super) fn set_nonblock(fd: Fd, on: bool) -> Result<usize, Errno> {
    socket_of(fd)?.1.set_nonblocking(on);
    Ok(0)
}

/// Fills in `revents` for every entry; returns how many have any.
fn evaluate(entries: &mut [PollFd]) -> usize {
    let me = sched::current();
    let mut ready = 0;
    for entry in entries.iter_mut() {
        entry.revents = 0;
        if entry.fd < 0 {
            continue;
        }
        let Ok(file) = fs::file(entry.fd as usize) else {
            entry.revents = POLLNVAL;
            ready += 1;
            continue;
        };
        let (readable, writable, hung_up) = match &file.object {
            FileObject::Stream(stream) => stream.readiness(),
            FileObject::Device(fs::DEV_CONSOLE) => (fs::console::has_input(), true, false),
            FileObject::Device(fs::DEV_INITCTL) => (fs::initctl::has_message(), true, false),
            FileObject::Device(fs::DEV_LITEIPC) => {
                (crate::ipc::liteipc::has_message(me), false, false)
            }
            _ => (true, true, false),
        };
        let mut revents = 0;
        if readable && entry.events & POLLIN != 0 {
            revents |= POLLIN;
        }
        if writable && entry.events & POLLOUT != 0 {
            revents |= POLLOUT;
        }
        if hung_up {
            revents |= POLLHUP;
        }
        entry.revents = revents;
        ready += usize::from(revents != 0);
    }
    ready
}

pub(super) fn poll(fds: UserPtr<PollFd>, nfds: usize, timeout_ms: i64) -> Result<usize, Errno> {
    if nfds > MAX_POLL_FDS {
        return Err(Errno::EINVAL);
    }
    let entry = |i: usize| fds.offset(i).ok_or(Errno::EFAULT);
    let mut entries: Vec<PollFd> = (0..nfds)
        .map(|i| uaccess::read(entry(i)?))
        .collect::<Result<_, _>>()?;
    let deadline = (timeout_ms >= 0).then(|| {
        time::now().saturating_add(time::ns_to_ticks(
            (timeout_ms as u64).saturating_mul(1_000_000),
        ))
    });
    let mut ready = evaluate(&mut entries);
    if ready == 0 && timeout_ms != 0 {
        let mut probe = entries.clone();
        let reason = fs::poll::wait_while(deadline, || evaluate(&mut probe) == 0);
        if reason == WakeReason::Interrupted {
            return Err(Errno::EINTR);
        }
        ready = evaluate(&mut entries);
    }
    for (i, polled) in entries.iter().enumerate() {
        uaccess::write(entry(i)?, polled)?;
    }
    Ok(ready)
}
