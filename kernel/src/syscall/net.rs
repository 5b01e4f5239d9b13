//! Local socket system calls and `poll`.

use super::file::get;
use crate::fs::{self, FileObject, OpenFile};
use crate::ipc::socket::{self, Kind, Socket};
use crate::mm::uaccess;
use crate::proc;
use crate::sched::{self, WakeReason};
use crate::time;
use abi::socket::*;
use abi::syscall::{UserStr, open_flags};
use abi::{Errno, Sysno};
use alloc::sync::Arc;
use alloc::vec::Vec;

/// Most entries in one `poll`.
const MAX_POLL_FDS: usize = 64;

fn caller_cred() -> Ucred {
    let cred = proc::current_cred();
    Ucred {
        pid: sched::current_pid(),
        uid: cred.uid,
        gid: cred.gid,
    }
}

fn socket_of(fd: usize) -> Result<(Arc<OpenFile>, Arc<Socket>), Errno> {
    let file = get(fd)?;
    match &file.object {
        FileObject::Socket(socket) => {
            let socket = socket.clone();
            Ok((file, socket))
        }
        _ => Err(Errno::ENOTSOCK),
    }
}

fn path(ptr: usize, len: usize) -> Result<alloc::string::String, Errno> {
    uaccess::read_string(UserStr { ptr, len }, MAX_SOCKET_PATH)
}

fn install(socket: Arc<Socket>, cloexec: bool) -> Result<usize, Errno> {
    let flags = open_flags::O_RDWR
        | if socket.is_nonblocking() {
            open_flags::O_NONBLOCK
        } else {
            0
        };
    let file = OpenFile::new(FileObject::Socket(socket), flags);
    proc::with_fds(|fds| fds.insert(file, cloexec))?
}

pub fn handle(sysno: Sysno, args: [usize; 6]) -> Result<usize, Errno> {
    match sysno {
        Sysno::Socket => {
            let kind = match args[1] & !(SOCK_NONBLOCK | SOCK_CLOEXEC) {
                SOCK_SEQPACKET => Kind::SeqPacket,
                SOCK_DGRAM => Kind::Datagram,
                _ => return Err(Errno::EINVAL),
            };
            if args[0] != AF_UNIX {
                return Err(Errno::EINVAL);
            }
            install(
                Socket::new(kind, caller_cred(), args[1] & SOCK_NONBLOCK != 0),
                args[1] & SOCK_CLOEXEC != 0,
            )
        }
        Sysno::Bind => {
            let (_, socket) = socket_of(args[0])?;
            socket
                .bind(&path(args[1], args[2])?, proc::current_cred())
                .map(|()| 0)
        }
        Sysno::Listen => socket_of(args[0])?.1.listen(args[1]).map(|()| 0),
        Sysno::Accept => {
            if args[1] & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
                return Err(Errno::EINVAL);
            }
            let connection = socket_of(args[0])?.1.accept()?;
            if args[1] & SOCK_NONBLOCK != 0 {
                connection.set_nonblocking(true);
            }
            install(connection, args[1] & SOCK_CLOEXEC != 0)
        }
        Sysno::Connect => {
            let (_, socket) = socket_of(args[0])?;
            socket.connect(&path(args[1], args[2])?).map(|()| 0)
        }
        Sysno::SendTo => send_to(args),
        Sysno::RecvFrom => {
            let (file, socket) = socket_of(args[0])?;
            let dontwait = args[3] & MSG_DONTWAIT != 0 || file.flags & open_flags::O_NONBLOCK != 0;
            let mut buf = alloc::vec![0; args[2].min(MAX_MESSAGE)];
            let (n, from) = socket.recv(&mut buf, dontwait)?;
            uaccess::write_bytes(args[1], &buf[..n])?;
            if args[4] != 0 {
                uaccess::write_struct(args[4], &from)?;
            }
            Ok(n)
        }
        Sysno::GetPeerCred => {
            let cred = socket_of(args[0])?.1.peer_cred()?;
            uaccess::write_struct(args[1], &cred).map(|()| 0)
        }
        Sysno::SetNonblock => {
            let (_, socket) = socket_of(args[0])?;
            socket.set_nonblocking(args[1] != 0);
            Ok(0)
        }
        Sysno::Poll => poll(args[0], args[1], args[2] as isize),
        _ => Err(Errno::ENOSYS),
    }
}

fn send_to(args: [usize; 6]) -> Result<usize, Errno> {
    let (file, socket) = socket_of(args[0])?;
    let data = uaccess::read_bytes(args[1], args[2], MAX_MESSAGE, Errno::EMSGSIZE)?;
    let to = if args[4] != 0 {
        Some(socket::lookup(&path(args[4], args[5])?)?)
    } else {
        None
    };
    let dontwait = args[3] & MSG_DONTWAIT != 0 || file.flags & open_flags::O_NONBLOCK != 0;
    socket.send(&data, to, dontwait, caller_cred())
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
        let Ok(file) = get(entry.fd as usize) else {
            entry.revents = POLLNVAL;
            ready += 1;
            continue;
        };
        let (readable, writable, hung_up) = match &file.object {
            FileObject::Socket(socket) => socket.readiness(),
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

fn poll(fds: usize, nfds: usize, timeout_ms: isize) -> Result<usize, Errno> {
    if nfds > MAX_POLL_FDS {
        return Err(Errno::EINVAL);
    }
    let mut entries: Vec<PollFd> = (0..nfds)
        .map(|i| {
            uaccess::read_struct::<PollFd>(
                fds.checked_add(i * size_of::<PollFd>())
                    .ok_or(Errno::EFAULT)?,
            )
        })
        .collect::<Result<_, _>>()?;
    let deadline = (timeout_ms >= 0).then(|| {
        time::now().saturating_add(time::ns_to_ticks(
            (timeout_ms as u64).saturating_mul(1_000_000),
        ))
    });
    let mut ready = evaluate(&mut entries);
    if ready == 0 && timeout_ms != 0 {
        let mut probe = entries.clone();
        let reason = crate::fs::poll::wait_while(deadline, || evaluate(&mut probe) == 0);
        if reason == WakeReason::Interrupted {
            return Err(Errno::EINTR);
        }
        ready = evaluate(&mut entries);
    }
    for (i, entry) in entries.iter().enumerate() {
        uaccess::write_struct(
            fds.checked_add(i * size_of::<PollFd>())
                .ok_or(Errno::EFAULT)?,
            entry,
        )?;
    }
    Ok(ready)
}
