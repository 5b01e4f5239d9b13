//! System call numbers and the argument structures they take.
//!
//! Convention: `svc #0`, number in x8, arguments in x0..x5, result in x0 (`-errno` on
//! failure). Strings and arrays cross as (pointer, length) pairs, never NUL-scanned.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

numbered_enum! {
    /// A system call number.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Sysno: usize {
        /// `exit(status)`: ends the whole process.
        Exit = 1,
        /// `thread_exit(code)`: ends the calling thread (the process when it was the last).
        ThreadExit = 2,
        /// `spawn(&SpawnRequest) -> pid`: starts a program in a new process.
        Spawn = 3,
        /// `execve(&SpawnRequest)`: replaces the calling process's program.
        Execve = 4,
        /// `wait(pid, &mut status, options) -> pid`: reaps a child (pid -1: any child).
        Wait = 5,
        /// `kill(pid, signal)`.
        Kill = 6,
        /// `getpid() -> pid`.
        GetPid = 7,
        /// `getppid() -> pid`.
        GetPpid = 8,
        /// `gettid() -> tid`.
        GetTid = 9,
        /// `thread_create(entry, arg, stack_top, priority) -> tid`.
        ThreadCreate = 10,
        /// `thread_join(tid) -> exit code`.
        ThreadJoin = 11,
        /// `futex(addr, op, value, timeout_ns) -> woken count or 0`.
        Futex = 12,
        /// `sched_yield()`.
        SchedYield = 13,
        /// `sched_setparam(tid, priority, policy)` (tid 0 = caller).
        SchedSetParam = 14,
        /// `sched_getparam(tid) -> priority | policy << 8`.
        SchedGetParam = 15,
        /// `nanosleep(ns)`.
        Nanosleep = 16,
        /// `clock_gettime(clock) -> ns`.
        ClockGettime = 17,
        /// `mmap(addr, len, prot, flags, fd, offset) -> addr`.
        Mmap = 20,
        /// `munmap(addr, len)`.
        Munmap = 21,
        /// `mprotect(addr, len, prot)`.
        Mprotect = 22,
        /// `open(path, path_len, flags, mode) -> fd`.
        Open = 30,
        /// `close(fd)`.
        Close = 31,
        /// `read(fd, buf, len) -> count`.
        Read = 32,
        /// `write(fd, buf, len) -> count`.
        Write = 33,
        /// `ioctl(fd, cmd, arg) -> value`.
        Ioctl = 34,
        /// `fstat(fd, &mut Stat)`.
        Fstat = 35,
        /// `getdents(fd, buf, len) -> bytes`: packed [`Dirent`] records.
        Getdents = 36,
        /// `lseek(fd, offset, whence) -> position`.
        Lseek = 37,
        /// `dup(fd) -> fd`.
        Dup = 38,
        /// `getuid() -> uid`.
        GetUid = 50,
        /// `getgid() -> gid`.
        GetGid = 51,
        /// `meminfo(&mut MemInfo)`: memory statistics.
        MemInfo = 60,
        /// `tasklist(buf, max) -> count`: one [`TaskInfo`] per thread, for `ps`.
        TaskList = 61,
        /// `mkdir(path, path_len, mode)`.
        Mkdir = 70,
        /// `rmdir(path, path_len)`.
        Rmdir = 71,
        /// `unlink(path, path_len)`.
        Unlink = 72,
        /// `chmod(path, path_len, mode)`.
        Chmod = 73,
        /// `chown(path, path_len, uid, gid)` (`u32::MAX` keeps that id).
        Chown = 74,
        /// `stat(path, path_len, &mut Stat)`.
        Stat = 75,
        /// `mount(&MountRequest)`: `tmpfs`/`ramfs` on an existing directory; others ENODEV.
        Mount = 76,
        /// `reboot(mode)`: [`REBOOT_POWER_OFF`] or [`REBOOT_RESTART`]; uid 0 only.
        Reboot = 80,
        /// `sethostname(name, len)`; uid 0 only.
        SetHostname = 81,
        /// `gethostname(buf, len) -> length`.
        GetHostname = 82,
        /// `dmesg(buf, len) -> length`: the newest kernel log bytes that fit.
        Dmesg = 83,
        /// `socket(domain, type) -> fd` (see [`crate::socket`]).
        Socket = 90,
        /// `bind(fd, path, path_len)`.
        Bind = 91,
        /// `listen(fd, backlog)`.
        Listen = 92,
        /// `accept(fd, flags) -> fd`: flags [`crate::socket::SOCK_CLOEXEC`] and/or
        /// [`crate::socket::SOCK_NONBLOCK`] (without it the new socket inherits the listener's mode).
        Accept = 93,
        /// `connect(fd, path, path_len)`.
        Connect = 94,
        /// `sendto(fd, buf, len, flags, path, path_len)`: path 0 = the connected peer.
        SendTo = 95,
        /// `recvfrom(fd, buf, len, flags, &mut Ucred) -> length` (credentials pointer may be 0).
        RecvFrom = 96,
        /// `getpeercred(fd, &mut Ucred)`: who is at the other end of a connection.
        GetPeerCred = 97,
        /// `poll(fds, nfds, timeout_ms) -> ready count` (timeout -1 = forever).
        Poll = 98,
        /// `set_nonblock(fd, on)`.
        SetNonblock = 99,
    }
}

/// `reboot` mode: power off.
pub const REBOOT_POWER_OFF: usize = 0;
/// `reboot` mode: restart the machine.
pub const REBOOT_RESTART: usize = 1;
/// The control channel of init: each write is one message (at most
/// [`INITCTL_MAX_MESSAGE`] bytes), each read returns one whole message.
pub const INITCTL_PATH: &str = "/dev/initctl";
/// Largest `/dev/initctl` message.
pub const INITCTL_MAX_MESSAGE: usize = 256;

/// Longest host name.
pub const MAX_HOSTNAME: usize = 64;

/// What `mount` mounts.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct MountRequest {
    /// Source (device path; ignored for tmpfs).
    pub source: UserStr,
    /// Directory to mount on.
    pub target: UserStr,
    /// Filesystem type, e.g. `tmpfs`, `vfat`.
    pub fstype: UserStr,
    /// Options string, e.g. `rw,umask=000`.
    pub options: UserStr,
}

impl TryFrom<usize> for Sysno {
    type Error = ();

    fn try_from(value: usize) -> Result<Self, ()> {
        Sysno::from_raw(value).ok_or(())
    }
}

/// A string or byte buffer passed by (pointer, length).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct UserStr {
    /// User address of the first byte.
    pub ptr: usize,
    /// Length in bytes.
    pub len: usize,
}

/// Most argv or envp entries a spawn accepts.
pub const MAX_ARGS: usize = 64;
/// Most bytes of all argv and envp strings together.
pub const MAX_ARG_BYTES: usize = 32 * 1024;
/// Most open descriptors per process.
pub const MAX_FDS: usize = 64;

/// Longest path accepted anywhere.
pub const MAX_PATH: usize = 256;

/// What `spawn`/`execve` start.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct SpawnRequest {
    /// Path of the executable.
    pub path: UserStr,
    /// User address of `argc` [`UserStr`] entries.
    pub argv: usize,
    /// Number of argv entries.
    pub argc: usize,
    /// User address of `envc` [`UserStr`] entries (`KEY=value`).
    pub envp: usize,
    /// Number of envp entries.
    pub envc: usize,
    /// [`SPAWN_SET_IDS`] | [`SPAWN_SET_PRIORITY`].
    pub flags: u32,
    /// New real and effective uid (with `SPAWN_SET_IDS`; only uid 0 may change ids).
    pub uid: u32,
    /// New gid (with `SPAWN_SET_IDS`).
    pub gid: u32,
    /// Priority of the main thread (with `SPAWN_SET_PRIORITY`; 10..=31).
    pub priority: u32,
}

/// `SpawnRequest::flags`: apply `uid`/`gid`.
pub const SPAWN_SET_IDS: u32 = 1;
/// `SpawnRequest::flags`: apply `priority`.
pub const SPAWN_SET_PRIORITY: u32 = 2;

/// `wait` option: return 0 at once if no child has exited.
pub const WNOHANG: usize = 1;

/// Signals the kernel delivers (default actions only: terminate).
pub mod signal {
    /// Illegal instruction.
    pub const SIGILL: u32 = 4;
    /// Bus error (alignment).
    pub const SIGBUS: u32 = 7;
    /// Kill (cannot be caught).
    pub const SIGKILL: u32 = 9;
    /// Segmentation fault.
    pub const SIGSEGV: u32 = 11;
    /// Termination request.
    pub const SIGTERM: u32 = 15;
}

/// Wait status encoding, as on Linux: exit code in bits 8..16, or the killing signal in 0..7.
pub mod wait_status {
    /// Status of a process that called exit(code).
    pub const fn exited(code: u8) -> u32 {
        (code as u32) << 8
    }
    /// Status of a process killed by `signal`.
    pub const fn signaled(signal: u32) -> u32 {
        signal & 0x7F
    }
    /// The exit code, if the process exited normally.
    pub const fn exit_code(status: u32) -> Option<u8> {
        if status & 0x7F == 0 {
            Some((status >> 8) as u8)
        } else {
            None
        }
    }
    /// The killing signal, if a signal ended the process.
    pub const fn term_signal(status: u32) -> Option<u32> {
        if status & 0x7F != 0 {
            Some(status & 0x7F)
        } else {
            None
        }
    }
}

/// `futex` operations.
pub mod futex {
    /// Sleep while `*addr == value` (timeout 0 = forever).
    pub const WAIT: usize = 0;
    /// Wake up to `value` sleepers.
    pub const WAKE: usize = 1;
}

/// Scheduling policies (Linux values).
pub mod sched {
    /// First in, first out: runs until it blocks, yields or is preempted.
    pub const SCHED_FIFO: u32 = 1;
    /// Round robin among equal priorities, with a time slice.
    pub const SCHED_RR: u32 = 2;
    /// Highest priority a user thread may have (0 is the highest overall).
    pub const USER_PRIORITY_MIN: u32 = 10;
    /// Lowest priority.
    pub const PRIORITY_LOWEST: u32 = 31;
    /// Default priority of a user thread (LiteOS-A's default task priority).
    pub const DEFAULT_USER_PRIORITY: u32 = 10;
}

/// Clocks for `clock_gettime`.
pub mod clock {
    /// Wall-clock time since the Unix epoch (here: since boot; no RTC).
    pub const REALTIME: usize = 0;
    /// Monotonic time since boot.
    pub const MONOTONIC: usize = 1;
}

/// `mmap`/`mprotect` protections and flags (Linux values).
pub mod mman {
    /// Readable.
    pub const PROT_READ: usize = 1;
    /// Writable.
    pub const PROT_WRITE: usize = 2;
    /// Executable.
    pub const PROT_EXEC: usize = 4;
    /// Changes are private to the process.
    pub const MAP_PRIVATE: usize = 0x02;
    /// Changes are shared (for device mappings).
    pub const MAP_SHARED: usize = 0x01;
    /// Place exactly at `addr`.
    pub const MAP_FIXED: usize = 0x10;
    /// Not backed by a file: zero-filled.
    pub const MAP_ANONYMOUS: usize = 0x20;
}

/// `open` flags (Linux values).
pub mod open_flags {
    /// Read only.
    pub const O_RDONLY: usize = 0;
    /// Write only.
    pub const O_WRONLY: usize = 1;
    /// Read and write.
    pub const O_RDWR: usize = 2;
    /// Mask of the access mode bits.
    pub const O_ACCMODE: usize = 3;
    /// Create if missing.
    pub const O_CREAT: usize = 0o100;
    /// Fail if it exists (with O_CREAT).
    pub const O_EXCL: usize = 0o200;
    /// Truncate to zero length.
    pub const O_TRUNC: usize = 0o1000;
    /// Writes go to the end.
    pub const O_APPEND: usize = 0o2000;
    /// Non-blocking I/O.
    pub const O_NONBLOCK: usize = 0o4000;
    /// Must be a directory.
    pub const O_DIRECTORY: usize = 0o200000;
    /// Close on exec.
    pub const O_CLOEXEC: usize = 0o2000000;
}

/// File kinds in [`Stat::mode`] (S_IFMT bits).
pub mod file_type {
    /// Mask of the type bits.
    pub const S_IFMT: u32 = 0o170000;
    /// Directory.
    pub const S_IFDIR: u32 = 0o040000;
    /// Character device.
    pub const S_IFCHR: u32 = 0o020000;
    /// Regular file.
    pub const S_IFREG: u32 = 0o100000;
    /// Socket.
    pub const S_IFSOCK: u32 = 0o140000;
}

/// File status.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Stat {
    /// Inode number.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Type and permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Link count.
    pub nlink: u32,
}

/// Header of one directory entry in a `getdents` buffer; `name_len` bytes of name follow,
/// and the next record starts at the next multiple of 8 after `reclen`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Dirent {
    /// Inode number.
    pub ino: u64,
    /// Bytes of this record, header and name and padding.
    pub reclen: u16,
    /// Type bits (`S_IFMT` >> 12).
    pub kind: u8,
    /// Bytes of name after the header.
    pub name_len: u8,
    /// Reserved, zero.
    pub reserved: u32,
}

/// Memory statistics (`meminfo`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct MemInfo {
    /// Page frames the kernel manages.
    pub total_frames: u64,
    /// Page frames free now.
    pub free_frames: u64,
    /// Kernel heap bytes in use.
    pub heap_used: u64,
    /// Kernel heap bytes free.
    pub heap_free: u64,
}

/// One thread as `tasklist` reports it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct TaskInfo {
    /// Process id (0 = kernel thread).
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// Thread id.
    pub tid: u32,
    /// Owner uid.
    pub uid: u32,
    /// Effective priority (0 highest).
    pub priority: u8,
    /// `sched::SCHED_FIFO` or `SCHED_RR`.
    pub policy: u8,
    /// One of [`task_state`].
    pub state: u8,
    /// Reserved, zero.
    pub reserved: u8,
    /// Thread (program) name, NUL-padded.
    pub name: [u8; 16],
}

/// `TaskInfo::state` values.
pub mod task_state {
    /// On the CPU.
    pub const RUNNING: u8 = 0;
    /// Waiting for the CPU.
    pub const READY: u8 = 1;
    /// Sleeping or waiting.
    pub const BLOCKED: u8 = 2;
    /// Finished, not yet reaped.
    pub const ZOMBIE: u8 = 3;
}

/// `lseek` whence values.
pub mod seek {
    /// From the start.
    pub const SET: usize = 0;
    /// From the current position.
    pub const CUR: usize = 1;
    /// From the end.
    pub const END: usize = 2;
}

/// Auxiliary vector keys placed on a new program's stack (Linux values).
pub mod auxv {
    /// End of vector.
    pub const AT_NULL: usize = 0;
    /// Program headers address.
    pub const AT_PHDR: usize = 3;
    /// Size of one program header.
    pub const AT_PHENT: usize = 4;
    /// Number of program headers.
    pub const AT_PHNUM: usize = 5;
    /// Page size.
    pub const AT_PAGESZ: usize = 6;
    /// Entry point.
    pub const AT_ENTRY: usize = 9;
    /// Real uid.
    pub const AT_UID: usize = 11;
    /// Real gid.
    pub const AT_GID: usize = 13;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sysno_round_trips_and_nothing_else_decodes() {
        for &sysno in Sysno::ALL {
            assert_eq!(Sysno::try_from(sysno as usize), Ok(sysno));
        }
        let decoded = (0..1000usize)
            .filter_map(|n| Sysno::try_from(n).ok())
            .inspect(|s| assert!(Sysno::ALL.contains(s)))
            .count();
        assert_eq!(decoded, Sysno::ALL.len());
        assert_eq!(Sysno::ALL.len(), 54);
        assert_eq!(Sysno::try_from(33), Ok(Sysno::Write));
        assert!(Sysno::try_from(0).is_err());
        assert!(Sysno::try_from(usize::MAX).is_err());
    }

    #[test]
    fn wait_status_encodes_like_linux() {
        assert_eq!(wait_status::exited(3), 0x300);
        assert_eq!(wait_status::exit_code(0x300), Some(3));
        assert_eq!(wait_status::term_signal(0x300), None);
        assert_eq!(wait_status::signaled(signal::SIGSEGV), 11);
        assert_eq!(wait_status::term_signal(11), Some(11));
        assert_eq!(wait_status::exit_code(11), None);
    }

    #[test]
    fn struct_layouts_are_fixed() {
        assert_eq!(core::mem::size_of::<UserStr>(), 16);
        assert_eq!(core::mem::size_of::<SpawnRequest>(), 64);
        assert_eq!(core::mem::size_of::<Stat>(), 32);
        assert_eq!(core::mem::size_of::<Dirent>(), 16);
        assert_eq!(core::mem::size_of::<TaskInfo>(), 36);
    }
}
