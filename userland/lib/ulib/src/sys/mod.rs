//! The only home of `unsafe` in user space: the `svc #0` stub, and safe, typed wrappers
//! around each system call of the `abi` crate, returning `Result<usize, Errno>`.
//!
//! A wrapper is safe when the kernel can only read our memory through its arguments, or
//! writes only into a buffer the wrapper borrows mutably (`read`, `fstat`, `getdents`,
//! `wait`, `meminfo`). Calls that could break memory safety with arbitrary arguments
//! (`munmap`, `mprotect`, `thread_create`, `mmap` with `MAP_FIXED`) are reachable only
//! through owning types: [`Mapping`], and the thread glue in `thread`. Deliberately
//! invalid arguments for tests go through [`hostile`], which admits only addresses that
//! cannot be this process's memory.
//!
//! On the host (`cargo test`) every call fails with `ENOSYS`.

#![allow(
    unsafe_code,
    reason = "the user runtime's one unsafe module: svc, entry and memory glue"
)]

pub mod heap;
pub mod hostile;
pub mod ipc;
mod mapping;
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
mod mem;
pub mod net;
#[cfg(target_os = "none")]
mod start;
pub(crate) mod thread;

pub use mapping::Mapping;

use abi::syscall::{MemInfo, MountRequest, SpawnRequest, Stat, TaskInfo};
use abi::{Errno, Sysno};
use core::sync::atomic::AtomicU32;

/// Issues system call `sysno` with six arguments; returns x0 (`-errno` on failure).
///
/// # Safety
/// The arguments must not let the kernel write anywhere but memory the caller may
/// mutate for the call's duration, nor unmap or remap memory still in use.
#[cfg(target_os = "none")]
#[inline(always)]
unsafe fn syscall(sysno: usize, args: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: `svc #0` enters the kernel, which preserves every register but x0 and
    // touches only the memory the caller vouches for; memory is not `nomem`, so the
    // compiler assumes the kernel may read and write it.
    unsafe {
        core::arch::asm!(
            "svc #0",
            in("x8") sysno,
            inlateout("x0") args[0] => ret,
            in("x1") args[1],
            in("x2") args[2],
            in("x3") args[3],
            in("x4") args[4],
            in("x5") args[5],
            options(nostack),
        );
    }
    ret
}

/// Host stand-in: there is no kernel to call.
///
/// # Safety
/// Always safe; `unsafe` only to match the target signature.
#[cfg(not(target_os = "none"))]
unsafe fn syscall(_sysno: usize, _args: [usize; 6]) -> isize {
    Errno::ENOSYS.as_return()
}

/// A call whose arguments are all plain values or pointers the kernel only reads.
fn call(sysno: Sysno, args: [usize; 6]) -> Result<usize, Errno> {
    // SAFETY: callers pass only values and pointers to memory the kernel reads (never
    // writes), or buffers they hold `&mut` for the duration of the call.
    Errno::decode(unsafe { syscall(sysno as usize, args) })
}

fn call0(sysno: Sysno) -> Result<usize, Errno> {
    call(sysno, [0; 6])
}

fn call1(sysno: Sysno, a0: usize) -> Result<usize, Errno> {
    call(sysno, [a0, 0, 0, 0, 0, 0])
}

fn call2(sysno: Sysno, a0: usize, a1: usize) -> Result<usize, Errno> {
    call(sysno, [a0, a1, 0, 0, 0, 0])
}

fn call3(sysno: Sysno, a0: usize, a1: usize, a2: usize) -> Result<usize, Errno> {
    call(sysno, [a0, a1, a2, 0, 0, 0])
}

/// `exit(code)`: ends the whole process with status `code & 0xFF`, as POSIX's `exit` does
/// (the raw system call takes only 0..=255 and refuses anything else with EINVAL).
pub fn exit(code: i32) -> ! {
    let _ = call1(Sysno::Exit, (code & 0xFF) as usize);
    unreachable_after_exit()
}

/// `thread_exit(code)`: ends the calling thread (the process, if it was the last).
pub fn thread_exit(code: i32) -> ! {
    let _ = call1(Sysno::ThreadExit, code as u32 as usize);
    unreachable_after_exit()
}

/// The kernel never returns from exit; should it, stop here rather than run on.
#[cfg(target_os = "none")]
fn unreachable_after_exit() -> ! {
    loop {
        // SAFETY: `udf` only raises an undefined-instruction exception, which ends the process.
        unsafe { core::arch::asm!("udf #0", options(nomem, nostack)) };
    }
}

#[cfg(not(target_os = "none"))]
fn unreachable_after_exit() -> ! {
    panic!("exit on the host")
}

/// `spawn(&request) -> pid`. The kernel only reads `request` and the memory it names.
pub fn spawn(request: &SpawnRequest) -> Result<usize, Errno> {
    call1(Sysno::Spawn, core::ptr::from_ref(request) as usize)
}

/// `execve(&request)`: only returns on failure.
pub fn execve(request: &SpawnRequest) -> Result<usize, Errno> {
    call1(Sysno::Execve, core::ptr::from_ref(request) as usize)
}

/// `wait(pid, &mut status, options) -> pid` (pid -1: any child; 0 with `WNOHANG` if none exited).
pub fn wait(pid: isize, status: &mut u32, options: usize) -> Result<usize, Errno> {
    call3(
        Sysno::Wait,
        pid as usize,
        core::ptr::from_mut(status) as usize,
        options,
    )
}

/// `kill(pid, signal)` (signal 0 only checks that `pid` exists).
pub fn kill(pid: isize, signal: u32) -> Result<usize, Errno> {
    call2(Sysno::Kill, pid as usize, signal as usize)
}

/// `getpid()`.
pub fn getpid() -> Result<usize, Errno> {
    call0(Sysno::GetPid)
}

/// `getppid()`.
pub fn getppid() -> Result<usize, Errno> {
    call0(Sysno::GetPpid)
}

/// `gettid()`.
pub fn gettid() -> Result<usize, Errno> {
    call0(Sysno::GetTid)
}

/// `getuid()`.
pub fn getuid() -> Result<usize, Errno> {
    call0(Sysno::GetUid)
}

/// `getgid()`.
pub fn getgid() -> Result<usize, Errno> {
    call0(Sysno::GetGid)
}

/// `thread_join(tid) -> code` (the code as the thread passed it to `thread_exit`).
pub fn thread_join(tid: usize) -> Result<usize, Errno> {
    call1(Sysno::ThreadJoin, tid)
}

/// `futex(word, WAIT, expected, timeout_ns)`: sleeps while `*word == expected`
/// (timeout 0: no timeout). The kernel only reads the word.
pub fn futex_wait(word: &AtomicU32, expected: u32, timeout_ns: u64) -> Result<usize, Errno> {
    call(
        Sysno::Futex,
        [
            word.as_ptr() as usize,
            abi::syscall::futex::WAIT,
            expected as usize,
            timeout_ns as usize,
            0,
            0,
        ],
    )
}

/// `futex(word, WAKE, count)`: wakes up to `count` sleepers; returns how many woke.
pub fn futex_wake(word: &AtomicU32, count: u32) -> Result<usize, Errno> {
    call(
        Sysno::Futex,
        [
            word.as_ptr() as usize,
            abi::syscall::futex::WAKE,
            count as usize,
            0,
            0,
            0,
        ],
    )
}

/// `sched_yield()`.
pub fn sched_yield() -> Result<usize, Errno> {
    call0(Sysno::SchedYield)
}

/// `sched_setparam(tid, priority, policy)` (tid 0: the caller).
pub fn sched_setparam(tid: usize, priority: u32, policy: u32) -> Result<usize, Errno> {
    call3(
        Sysno::SchedSetParam,
        tid,
        priority as usize,
        policy as usize,
    )
}

/// `sched_getparam(tid) -> priority | policy << 8`.
pub fn sched_getparam(tid: usize) -> Result<usize, Errno> {
    call1(Sysno::SchedGetParam, tid)
}

/// `nanosleep(ns)`.
pub fn nanosleep(ns: u64) -> Result<usize, Errno> {
    call1(Sysno::Nanosleep, ns as usize)
}

/// `clock_gettime(clock) -> ns`.
pub fn clock_gettime(clock: usize) -> Result<usize, Errno> {
    call1(Sysno::ClockGettime, clock)
}

/// `open(path, flags, mode) -> fd`; the path crosses as (pointer, length).
pub fn open(path: &[u8], flags: usize, mode: u32) -> Result<usize, Errno> {
    call(
        Sysno::Open,
        [
            path.as_ptr() as usize,
            path.len(),
            flags,
            mode as usize,
            0,
            0,
        ],
    )
}

/// `close(fd)`.
pub fn close(fd: usize) -> Result<usize, Errno> {
    call1(Sysno::Close, fd)
}

/// `read(fd, buf) -> count`: the kernel writes at most `buf.len()` bytes into `buf`.
pub fn read(fd: usize, buf: &mut [u8]) -> Result<usize, Errno> {
    call3(Sysno::Read, fd, buf.as_mut_ptr() as usize, buf.len())
}

/// `write(fd, buf) -> count`.
pub fn write(fd: usize, buf: &[u8]) -> Result<usize, Errno> {
    call3(Sysno::Write, fd, buf.as_ptr() as usize, buf.len())
}

/// `ioctl(fd, cmd, &mut arg) -> value`, for commands whose argument is exactly a `T`.
///
/// LiteIPC's `IPC_SEND_RECV_MSG` is refused here (EINVAL, without calling): its
/// `BUFF_FREE` could free a message safe code is reading. Use [`ipc`] for it.
pub fn ioctl<T>(fd: usize, cmd: usize, arg: &mut T) -> Result<usize, Errno>
where
    T: zerocopy::FromBytes + zerocopy::IntoBytes,
{
    if cmd == abi::liteipc::IPC_SEND_RECV_MSG {
        return Err(Errno::EINVAL);
    }
    call3(Sysno::Ioctl, fd, cmd, core::ptr::from_mut(arg) as usize)
}

/// `ioctl(fd, cmd, value)` for commands that take their argument by value (LiteIPC's
/// `IPC_SET_CMS`, `IPC_SET_IPC_THREAD`, `IPC_WAIT_CMS`). Only commands whose `_IOC`
/// encoding says "no data transfer" (direction and size 0) are passed on: drivers of this
/// kernel encode every command that reads or writes user memory with a direction, so these
/// cannot touch our memory whatever `value` is. Others: EINVAL without calling.
pub fn ioctl_value(fd: usize, cmd: usize, value: usize) -> Result<usize, Errno> {
    /// Direction (bits 30..32) and size (bits 16..30) of an `_IOC` number.
    const IOC_DIR_AND_SIZE: usize = 0xFFFF_0000;
    if cmd & IOC_DIR_AND_SIZE != 0 || cmd > u32::MAX as usize {
        return Err(Errno::EINVAL);
    }
    call3(Sysno::Ioctl, fd, cmd, value)
}

/// `fstat(fd, &mut stat)`.
pub fn fstat(fd: usize, stat: &mut Stat) -> Result<usize, Errno> {
    call2(Sysno::Fstat, fd, core::ptr::from_mut(stat) as usize)
}

/// `getdents(fd, buf) -> bytes` of packed `Dirent` records (0 at the end).
pub fn getdents(fd: usize, buf: &mut [u8]) -> Result<usize, Errno> {
    call3(Sysno::Getdents, fd, buf.as_mut_ptr() as usize, buf.len())
}

/// `lseek(fd, offset, whence) -> position`.
pub fn lseek(fd: usize, offset: i64, whence: usize) -> Result<usize, Errno> {
    call3(Sysno::Lseek, fd, offset as usize, whence)
}

/// `dup(fd) -> fd`.
pub fn dup(fd: usize) -> Result<usize, Errno> {
    call1(Sysno::Dup, fd)
}

/// `meminfo(&mut info)`.
pub fn meminfo(info: &mut MemInfo) -> Result<usize, Errno> {
    call1(Sysno::MemInfo, core::ptr::from_mut(info) as usize)
}

/// `tasklist(buf, max) -> count`: the kernel writes at most `buf.len()` entries into `buf`.
pub fn tasklist(buf: &mut [TaskInfo]) -> Result<usize, Errno> {
    call2(Sysno::TaskList, buf.as_mut_ptr() as usize, buf.len())
}

/// `mkdir(path, mode)`.
pub fn mkdir(path: &[u8], mode: u32) -> Result<usize, Errno> {
    call3(
        Sysno::Mkdir,
        path.as_ptr() as usize,
        path.len(),
        mode as usize,
    )
}

/// `rmdir(path)`.
pub fn rmdir(path: &[u8]) -> Result<usize, Errno> {
    call2(Sysno::Rmdir, path.as_ptr() as usize, path.len())
}

/// `unlink(path)`.
pub fn unlink(path: &[u8]) -> Result<usize, Errno> {
    call2(Sysno::Unlink, path.as_ptr() as usize, path.len())
}

/// `chmod(path, mode)`.
pub fn chmod(path: &[u8], mode: u32) -> Result<usize, Errno> {
    call3(
        Sysno::Chmod,
        path.as_ptr() as usize,
        path.len(),
        mode as usize,
    )
}

/// `chown(path, uid, gid)` (`u32::MAX` keeps that id).
pub fn chown(path: &[u8], uid: u32, gid: u32) -> Result<usize, Errno> {
    call(
        Sysno::Chown,
        [
            path.as_ptr() as usize,
            path.len(),
            uid as usize,
            gid as usize,
            0,
            0,
        ],
    )
}

/// `stat(path, &mut stat)`.
pub fn stat(path: &[u8], stat: &mut Stat) -> Result<usize, Errno> {
    call3(
        Sysno::Stat,
        path.as_ptr() as usize,
        path.len(),
        core::ptr::from_mut(stat) as usize,
    )
}

/// `mount(&request)`: the kernel only reads the request and the strings it names.
pub fn mount(request: &MountRequest) -> Result<usize, Errno> {
    call1(Sysno::Mount, core::ptr::from_ref(request) as usize)
}

/// `reboot(mode)`: returns only on failure.
pub fn reboot(mode: usize) -> Result<usize, Errno> {
    call1(Sysno::Reboot, mode)
}

/// `sethostname(name)`.
pub fn sethostname(name: &[u8]) -> Result<usize, Errno> {
    call2(Sysno::SetHostname, name.as_ptr() as usize, name.len())
}

/// `gethostname(buf) -> full length`: the kernel writes at most `buf.len()` bytes.
pub fn gethostname(buf: &mut [u8]) -> Result<usize, Errno> {
    call2(Sysno::GetHostname, buf.as_mut_ptr() as usize, buf.len())
}

/// `dmesg(buf) -> length`: the kernel writes at most `buf.len()` bytes.
pub fn dmesg(buf: &mut [u8]) -> Result<usize, Errno> {
    call2(Sysno::Dmesg, buf.as_mut_ptr() as usize, buf.len())
}

/// `sysno` with all-zero arguments, for a number the ABI does not define (expects `ENOSYS`).
/// Returns `None` without calling when `sysno` is a defined call.
pub fn undefined_syscall(sysno: usize) -> Option<Result<usize, Errno>> {
    if Sysno::try_from(sysno).is_ok() {
        return None;
    }
    // SAFETY: the ABI defines no call with this number, so the kernel must refuse it
    // without touching memory; all arguments are zero.
    Some(Errno::decode(unsafe { syscall(sysno, [0; 6]) }))
}
