//! System call decoding: the number and six argument registers of a trap become one typed
//! [`Request`], checked once, before any handler runs (hubris `sys/kern/src/syscalls.rs`).
//!
//! Every conversion is checked: a value that does not fit its argument's type (a priority,
//! uid or mode above `u32::MAX`, an exit status above 255, a length above `isize::MAX`, i.e.
//! a negative `ssize_t`) is `EINVAL`, never truncated; an unknown number is `ENOSYS`.
//! User memory is not touched here: pointers become [`UserPtr`]/[`UserSlice`] values whose
//! accesses check the range (`EFAULT`) when the handler makes them. Arguments that are
//! signed in the ABI (a `wait` pid, an `lseek` offset, an `mmap` descriptor, a `poll`
//! timeout) are read as the two's-complement value their register holds.

use abi::socket::{
    AF_UNIX, PollFd, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_SEQPACKET, Ucred,
};
use abi::syscall::{MountRequest, REBOOT_POWER_OFF, REBOOT_RESTART, SpawnRequest, Stat, TaskInfo};
use abi::syscall::{clock, futex};
use abi::{Errno, Sysno};

mod args;

pub use args::{Clock, Fd, FutexOp, RebootMode, SocketKind, UserPtr, UserSlice, WaitFor};

/// One system call with its arguments decoded. Field meanings are those of [`Sysno`]'s
/// documentation; every `u32` here was checked to fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// `exit(status)`, status 0..=255.
    Exit { status: u8 },
    /// `thread_exit(code)`, the code's 32 bits as an `i32`.
    ThreadExit { code: i32 },
    /// `spawn(&request)`.
    Spawn { request: UserPtr<SpawnRequest> },
    /// `execve(&request)`.
    Execve { request: UserPtr<SpawnRequest> },
    /// `wait(pid, &mut status, options)`.
    Wait {
        target: WaitFor,
        status: Option<UserPtr<u32>>,
        nohang: bool,
    },
    /// `kill(pid, signal)`.
    Kill { pid: u32, signal: u32 },
    /// `getpid()`.
    GetPid,
    /// `getppid()`.
    GetPpid,
    /// `gettid()`.
    GetTid,
    /// `thread_create(entry, arg, stack_top, priority)`.
    ThreadCreate {
        entry: u64,
        arg: u64,
        stack_top: u64,
        priority: u32,
    },
    /// `thread_join(tid)`.
    ThreadJoin { tid: u32 },
    /// `futex(addr, op, ...)`.
    Futex { addr: u64, op: FutexOp },
    /// `sched_yield()`.
    SchedYield,
    /// `sched_setparam(tid, priority, policy)`, tid 0 = the caller.
    SchedSetParam {
        tid: u32,
        priority: u32,
        policy: u32,
    },
    /// `sched_getparam(tid)`, tid 0 = the caller.
    SchedGetParam { tid: u32 },
    /// `nanosleep(ns)`.
    Nanosleep { ns: u64 },
    /// `clock_gettime(clock)`.
    ClockGettime { clock: Clock },
    /// `mmap(addr, len, prot, flags, fd)`, fd negative = none.
    Mmap {
        addr: u64,
        len: u64,
        prot: usize,
        flags: usize,
        fd: Option<Fd>,
    },
    /// `munmap(addr, len)`.
    Munmap { addr: u64, len: u64 },
    /// `mprotect(addr, len, prot)`.
    Mprotect { addr: u64, len: u64, prot: usize },
    /// `open(path, flags, mode)`.
    Open {
        path: UserSlice,
        flags: usize,
        mode: u32,
    },
    /// `close(fd)`.
    Close { fd: Fd },
    /// `read(fd, buf)`.
    Read { fd: Fd, buf: UserSlice },
    /// `write(fd, buf)`.
    Write { fd: Fd, buf: UserSlice },
    /// `ioctl(fd, cmd, arg)`: the device decodes `arg` per command.
    Ioctl { fd: Fd, cmd: usize, arg: usize },
    /// `fstat(fd, &mut stat)`.
    Fstat { fd: Fd, stat: UserPtr<Stat> },
    /// `getdents(fd, buf)`.
    Getdents { fd: Fd, buf: UserSlice },
    /// `lseek(fd, offset, whence)`.
    Lseek { fd: Fd, offset: i64, whence: usize },
    /// `dup(fd)`.
    Dup { fd: Fd },
    /// `getuid()`.
    GetUid,
    /// `getgid()`.
    GetGid,
    /// `meminfo(&mut info)`.
    MemInfo {
        info: UserPtr<abi::syscall::MemInfo>,
    },
    /// `tasklist(buf, max)`.
    TaskList { buf: UserPtr<TaskInfo>, max: usize },
    /// `mkdir(path, mode)`.
    Mkdir { path: UserSlice, mode: u32 },
    /// `rmdir(path)`.
    Rmdir { path: UserSlice },
    /// `unlink(path)`.
    Unlink { path: UserSlice },
    /// `chmod(path, mode)`.
    Chmod { path: UserSlice, mode: u32 },
    /// `chown(path, uid, gid)` (`u32::MAX` keeps that id).
    Chown { path: UserSlice, uid: u32, gid: u32 },
    /// `stat(path, &mut stat)`.
    Stat {
        path: UserSlice,
        stat: UserPtr<Stat>,
    },
    /// `mount(&request)`.
    Mount { request: UserPtr<MountRequest> },
    /// `reboot(mode)`.
    Reboot { mode: RebootMode },
    /// `sethostname(name)`.
    SetHostname { name: UserSlice },
    /// `gethostname(buf)`.
    GetHostname { buf: UserSlice },
    /// `dmesg(buf)`.
    Dmesg { buf: UserSlice },
    /// `socket(AF_UNIX, kind | flags)`.
    Socket {
        kind: SocketKind,
        nonblocking: bool,
        cloexec: bool,
    },
    /// `bind(fd, path)`.
    Bind { fd: Fd, path: UserSlice },
    /// `listen(fd, backlog)`.
    Listen { fd: Fd, backlog: usize },
    /// `accept(fd, flags)`.
    Accept {
        fd: Fd,
        nonblocking: bool,
        cloexec: bool,
    },
    /// `connect(fd, path)`.
    Connect { fd: Fd, path: UserSlice },
    /// `sendto(fd, data, flags, path)`, no path = the connected peer.
    SendTo {
        fd: Fd,
        data: UserSlice,
        flags: usize,
        to: Option<UserSlice>,
    },
    /// `recvfrom(fd, buf, flags, &mut cred)`.
    RecvFrom {
        fd: Fd,
        buf: UserSlice,
        flags: usize,
        from: Option<UserPtr<Ucred>>,
    },
    /// `getpeercred(fd, &mut cred)`.
    GetPeerCred { fd: Fd, cred: UserPtr<Ucred> },
    /// `poll(fds, nfds, timeout_ms)`, negative timeout = forever.
    Poll {
        fds: UserPtr<PollFd>,
        nfds: usize,
        timeout_ms: i64,
    },
    /// `set_nonblock(fd, on)`.
    SetNonblock { fd: Fd, on: bool },
}

/// The registers of a system call: `x0..x5`.
#[derive(Clone, Copy, Debug)]
struct Args([u64; 6]);

impl Args {
    #[inline(always)]
    fn raw(&self, i: usize) -> u64 {
        self.0[i]
    }

    #[inline(always)]
    fn usize(&self, i: usize) -> usize {
        self.0[i] as usize // lossless: the kernel and its tests run on 64-bit machines
    }

    #[inline(always)]
    fn u32(&self, i: usize) -> Result<u32, Errno> {
        u32::try_from(self.0[i]).map_err(|_| Errno::EINVAL)
    }

    #[inline(always)]
    fn signed(&self, i: usize) -> i64 {
        self.0[i] as i64 // the ABI's signed arguments: two's complement in the register
    }

    #[inline(always)]
    fn fd(&self, i: usize) -> Fd {
        Fd(self.usize(i))
    }

    #[inline(always)]
    fn slice(&self, addr: usize, len: usize) -> Result<UserSlice, Errno> {
        UserSlice::new(self.0[addr], self.0[len])
    }

    #[inline(always)]
    fn ptr<T>(&self, i: usize) -> UserPtr<T> {
        UserPtr::new(self.0[i])
    }

    /// A pointer that may be null (0: none).
    #[inline(always)]
    fn optional_ptr<T>(&self, i: usize) -> Option<UserPtr<T>> {
        (self.0[i] != 0).then(|| self.ptr(i))
    }
}

const _: () = assert!(core::mem::size_of::<usize>() == 8);

/// What runs a decoded request: the kernel's dispatcher (one `match` on the request).
pub trait Handler {
    /// What a handled request yields.
    type Output;
    /// Handles one request. Mark it `#[inline(always)]`: [`decode_with`] calls it where each
    /// kind of request is made, so its `match` folds into one jump on the call's number.
    fn handle(&mut self, request: Request) -> Result<Self::Output, Errno>;
}

/// Hands every request back as it is.
struct Collect;

impl Handler for Collect {
    type Output = Request;

    fn handle(&mut self, request: Request) -> Result<Request, Errno> {
        Ok(request)
    }
}

/// Decodes system call `number` with argument registers `regs`.
pub fn decode(number: u64, regs: [u64; 6]) -> Result<Request, Errno> {
    decode_with(number, regs, &mut Collect)
}

/// Decodes system call `number` with argument registers `regs` and hands the request to
/// `handler`.
#[inline(always)]
pub fn decode_with<H: Handler>(
    number: u64,
    regs: [u64; 6],
    handler: &mut H,
) -> Result<H::Output, Errno> {
    let mut run = |request| handler.handle(request);
    let sysno = usize::try_from(number)
        .ok()
        .and_then(Sysno::from_raw)
        .ok_or(Errno::ENOSYS)?;
    let a = Args(regs);
    match sysno {
        Sysno::Exit => run(Request::Exit {
            status: u8::try_from(a.raw(0)).map_err(|_| Errno::EINVAL)?,
        }),
        Sysno::ThreadExit => run(Request::ThreadExit {
            code: a.u32(0)? as i32, // the code's bit pattern, as `thread_join` returns it
        }),
        Sysno::Spawn => run(Request::Spawn { request: a.ptr(0) }),
        Sysno::Execve => run(Request::Execve { request: a.ptr(0) }),
        Sysno::Wait => run(Request::Wait {
            target: match a.signed(0) {
                -1 => WaitFor::Any,
                pid if pid > 0 => WaitFor::Child(u32::try_from(pid).map_err(|_| Errno::EINVAL)?),
                _ => return Err(Errno::EINVAL),
            },
            status: a.optional_ptr(1),
            nohang: match a.raw(2) {
                0 => false,
                o if o == abi::syscall::WNOHANG as u64 => true,
                _ => return Err(Errno::EINVAL),
            },
        }),
        Sysno::Kill => run(Request::Kill {
            pid: a.u32(0)?,
            signal: a.u32(1)?,
        }),
        Sysno::GetPid => run(Request::GetPid),
        Sysno::GetPpid => run(Request::GetPpid),
        Sysno::GetTid => run(Request::GetTid),
        Sysno::ThreadCreate => run(Request::ThreadCreate {
            entry: a.raw(0),
            arg: a.raw(1),
            stack_top: a.raw(2),
            priority: a.u32(3)?,
        }),
        Sysno::ThreadJoin => run(Request::ThreadJoin { tid: a.u32(0)? }),
        Sysno::Futex => run(Request::Futex {
            addr: a.raw(0),
            op: match a.usize(1) {
                futex::WAIT => FutexOp::Wait {
                    value: a.u32(2)?,
                    timeout_ns: a.raw(3),
                },
                futex::WAKE => FutexOp::Wake { count: a.u32(2)? },
                _ => return Err(Errno::ENOSYS),
            },
        }),
        Sysno::SchedYield => run(Request::SchedYield),
        Sysno::SchedSetParam => run(Request::SchedSetParam {
            tid: a.u32(0)?,
            priority: a.u32(1)?,
            policy: a.u32(2)?,
        }),
        Sysno::SchedGetParam => run(Request::SchedGetParam { tid: a.u32(0)? }),
        Sysno::Nanosleep => run(Request::Nanosleep { ns: a.raw(0) }),
        Sysno::ClockGettime => run(Request::ClockGettime {
            clock: match a.usize(0) {
                clock::REALTIME => Clock::Realtime,
                clock::MONOTONIC => Clock::Monotonic,
                _ => return Err(Errno::EINVAL),
            },
        }),
        Sysno::Mmap => run(Request::Mmap {
            addr: a.raw(0),
            len: a.raw(1),
            prot: a.usize(2),
            flags: a.usize(3),
            fd: (a.signed(4) >= 0).then(|| a.fd(4)),
        }),
        Sysno::Munmap => run(Request::Munmap {
            addr: a.raw(0),
            len: a.raw(1),
        }),
        Sysno::Mprotect => run(Request::Mprotect {
            addr: a.raw(0),
            len: a.raw(1),
            prot: a.usize(2),
        }),
        Sysno::Open => run(Request::Open {
            path: a.slice(0, 1)?,
            flags: a.usize(2),
            mode: a.u32(3)?,
        }),
        Sysno::Close => run(Request::Close { fd: a.fd(0) }),
        Sysno::Read => run(Request::Read {
            fd: a.fd(0),
            buf: a.slice(1, 2)?,
        }),
        Sysno::Write => run(Request::Write {
            fd: a.fd(0),
            buf: a.slice(1, 2)?,
        }),
        Sysno::Ioctl => run(Request::Ioctl {
            fd: a.fd(0),
            cmd: a.usize(1),
            arg: a.usize(2),
        }),
        Sysno::Fstat => run(Request::Fstat {
            fd: a.fd(0),
            stat: a.ptr(1),
        }),
        Sysno::Getdents => run(Request::Getdents {
            fd: a.fd(0),
            buf: a.slice(1, 2)?,
        }),
        Sysno::Lseek => run(Request::Lseek {
            fd: a.fd(0),
            offset: a.signed(1),
            whence: a.usize(2),
        }),
        Sysno::Dup => run(Request::Dup { fd: a.fd(0) }),
        Sysno::GetUid => run(Request::GetUid),
        Sysno::GetGid => run(Request::GetGid),
        Sysno::MemInfo => run(Request::MemInfo { info: a.ptr(0) }),
        Sysno::TaskList => run(Request::TaskList {
            buf: a.ptr(0),
            max: a.usize(1),
        }),
        Sysno::Mkdir => run(Request::Mkdir {
            path: a.slice(0, 1)?,
            mode: a.u32(2)?,
        }),
        Sysno::Rmdir => run(Request::Rmdir {
            path: a.slice(0, 1)?,
        }),
        Sysno::Unlink => run(Request::Unlink {
            path: a.slice(0, 1)?,
        }),
        Sysno::Chmod => run(Request::Chmod {
            path: a.slice(0, 1)?,
            mode: a.u32(2)?,
        }),
        Sysno::Chown => run(Request::Chown {
            path: a.slice(0, 1)?,
            uid: a.u32(2)?,
            gid: a.u32(3)?,
        }),
        Sysno::Stat => run(Request::Stat {
            path: a.slice(0, 1)?,
            stat: a.ptr(2),
        }),
        Sysno::Mount => run(Request::Mount { request: a.ptr(0) }),
        Sysno::Reboot => run(Request::Reboot {
            mode: match a.usize(0) {
                REBOOT_POWER_OFF => RebootMode::PowerOff,
                REBOOT_RESTART => RebootMode::Restart,
                _ => return Err(Errno::EINVAL),
            },
        }),
        Sysno::SetHostname => run(Request::SetHostname {
            name: a.slice(0, 1)?,
        }),
        Sysno::GetHostname => run(Request::GetHostname {
            buf: a.slice(0, 1)?,
        }),
        Sysno::Dmesg => run(Request::Dmesg {
            buf: a.slice(0, 1)?,
        }),
        Sysno::Socket => {
            let kind = match a.usize(1) & !(SOCK_NONBLOCK | SOCK_CLOEXEC) {
                SOCK_SEQPACKET => SocketKind::SeqPacket,
                SOCK_DGRAM => SocketKind::Datagram,
                _ => return Err(Errno::EINVAL),
            };
            if a.usize(0) != AF_UNIX {
                return Err(Errno::EINVAL);
            }
            run(Request::Socket {
                kind,
                nonblocking: a.usize(1) & SOCK_NONBLOCK != 0,
                cloexec: a.usize(1) & SOCK_CLOEXEC != 0,
            })
        }
        Sysno::Bind => run(Request::Bind {
            fd: a.fd(0),
            path: a.slice(1, 2)?,
        }),
        Sysno::Listen => run(Request::Listen {
            fd: a.fd(0),
            backlog: a.usize(1),
        }),
        Sysno::Accept => {
            let flags = a.usize(1);
            if flags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
                return Err(Errno::EINVAL);
            }
            run(Request::Accept {
                fd: a.fd(0),
                nonblocking: flags & SOCK_NONBLOCK != 0,
                cloexec: flags & SOCK_CLOEXEC != 0,
            })
        }
        Sysno::Connect => run(Request::Connect {
            fd: a.fd(0),
            path: a.slice(1, 2)?,
        }),
        Sysno::SendTo => run(Request::SendTo {
            fd: a.fd(0),
            data: a.slice(1, 2)?,
            flags: a.usize(3),
            to: if a.raw(4) != 0 {
                Some(a.slice(4, 5)?)
            } else {
                None
            },
        }),
        Sysno::RecvFrom => run(Request::RecvFrom {
            fd: a.fd(0),
            buf: a.slice(1, 2)?,
            flags: a.usize(3),
            from: a.optional_ptr(4),
        }),
        Sysno::GetPeerCred => run(Request::GetPeerCred {
            fd: a.fd(0),
            cred: a.ptr(1),
        }),
        Sysno::Poll => run(Request::Poll {
            fds: a.ptr(0),
            nfds: a.usize(1),
            timeout_ms: a.signed(2),
        }),
        Sysno::SetNonblock => run(Request::SetNonblock {
            fd: a.fd(0),
            on: a.raw(1) != 0,
        }),
    }
}

impl Request {
    /// The system call this request is.
    pub fn sysno(&self) -> Sysno {
        match self {
            Request::Exit { .. } => Sysno::Exit,
            Request::ThreadExit { .. } => Sysno::ThreadExit,
            Request::Spawn { .. } => Sysno::Spawn,
            Request::Execve { .. } => Sysno::Execve,
            Request::Wait { .. } => Sysno::Wait,
            Request::Kill { .. } => Sysno::Kill,
            Request::GetPid => Sysno::GetPid,
            Request::GetPpid => Sysno::GetPpid,
            Request::GetTid => Sysno::GetTid,
            Request::ThreadCreate { .. } => Sysno::ThreadCreate,
            Request::ThreadJoin { .. } => Sysno::ThreadJoin,
            Request::Futex { .. } => Sysno::Futex,
            Request::SchedYield => Sysno::SchedYield,
            Request::SchedSetParam { .. } => Sysno::SchedSetParam,
            Request::SchedGetParam { .. } => Sysno::SchedGetParam,
            Request::Nanosleep { .. } => Sysno::Nanosleep,
            Request::ClockGettime { .. } => Sysno::ClockGettime,
            Request::Mmap { .. } => Sysno::Mmap,
            Request::Munmap { .. } => Sysno::Munmap,
            Request::Mprotect { .. } => Sysno::Mprotect,
            Request::Open { .. } => Sysno::Open,
            Request::Close { .. } => Sysno::Close,
            Request::Read { .. } => Sysno::Read,
            Request::Write { .. } => Sysno::Write,
            Request::Ioctl { .. } => Sysno::Ioctl,
            Request::Fstat { .. } => Sysno::Fstat,
            Request::Getdents { .. } => Sysno::Getdents,
            Request::Lseek { .. } => Sysno::Lseek,
            Request::Dup { .. } => Sysno::Dup,
            Request::GetUid => Sysno::GetUid,
            Request::GetGid => Sysno::GetGid,
            Request::MemInfo { .. } => Sysno::MemInfo,
            Request::TaskList { .. } => Sysno::TaskList,
            Request::Mkdir { .. } => Sysno::Mkdir,
            Request::Rmdir { .. } => Sysno::Rmdir,
            Request::Unlink { .. } => Sysno::Unlink,
            Request::Chmod { .. } => Sysno::Chmod,
            Request::Chown { .. } => Sysno::Chown,
            Request::Stat { .. } => Sysno::Stat,
            Request::Mount { .. } => Sysno::Mount,
            Request::Reboot { .. } => Sysno::Reboot,
            Request::SetHostname { .. } => Sysno::SetHostname,
            Request::GetHostname { .. } => Sysno::GetHostname,
            Request::Dmesg { .. } => Sysno::Dmesg,
            Request::Socket { .. } => Sysno::Socket,
            Request::Bind { .. } => Sysno::Bind,
            Request::Listen { .. } => Sysno::Listen,
            Request::Accept { .. } => Sysno::Accept,
            Request::Connect { .. } => Sysno::Connect,
            Request::SendTo { .. } => Sysno::SendTo,
            Request::RecvFrom { .. } => Sysno::RecvFrom,
            Request::GetPeerCred { .. } => Sysno::GetPeerCred,
            Request::Poll { .. } => Sysno::Poll,
            Request::SetNonblock { .. } => Sysno::SetNonblock,
        }
    }
}

#[cfg(test)]
mod tests;
