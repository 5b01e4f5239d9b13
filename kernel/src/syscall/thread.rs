//! Thread, scheduling, time and memory system calls.

use crate::proc::{self, Perms};
use crate::sched::{self, Policy, Priority, Tid, WakeReason};
use crate::time;
use abi::Errno;
use abi::syscall::mman;
use kcore::syscall::{Clock, Fd};

pub(super) fn create(entry: u64, arg: u64, stack_top: u64, priority: u32) -> Result<usize, Errno> {
    let priority = Priority::for_user(priority).map_err(|_| Errno::EINVAL)?;
    proc::create_thread(entry, arg, stack_top, priority).map(|t| t.0 as usize)
}

pub(super) fn yield_now() -> Result<usize, Errno> {
    sched::yield_now();
    Ok(0)
}

pub(super) fn nanosleep(ns: u64) -> Result<usize, Errno> {
    let deadline = time::now().saturating_add(time::ns_to_ticks(ns));
    match sched::sleep_until(deadline) {
        WakeReason::Interrupted => Err(Errno::EINTR),
        _ => Ok(0),
    }
}

/// Both clocks count from boot (there is no real-time clock).
pub(super) fn clock_gettime(clock: Clock) -> usize {
    match clock {
        Clock::Realtime | Clock::Monotonic => time::ticks_to_ns(time::now()) as usize,
    }
}

/// A thread of the calling process (0 = the caller); others are ESRCH.
fn target_thread(tid: u32) -> Result<Tid, Errno> {
    if tid == 0 {
        return Ok(sched::current());
    }
    let tid = Tid(tid);
    if sched::thread_pid(tid) != Some(sched::current_pid()) {
        return Err(Errno::ESRCH);
    }
    Ok(tid)
}

pub(super) fn join(tid: u32) -> Result<usize, Errno> {
    sched::join(Tid(tid)).map(|code| code as u32 as usize)
}

pub(super) fn set_param(tid: u32, priority: u32, policy: u32) -> Result<usize, Errno> {
    let tid = target_thread(tid)?;
    let priority = Priority::for_user(priority).map_err(|e| match e {
        kcore::sched::PriorityError::KernelOnly => Errno::EPERM,
        kcore::sched::PriorityError::OutOfRange => Errno::EINVAL,
    })?;
    let policy = Policy::from_abi(policy).ok_or(Errno::EINVAL)?;
    sched::set_param(tid, priority, policy)?;
    sched::preempt_if_needed();
    Ok(0)
}

pub(super) fn get_param(tid: u32) -> Result<usize, Errno> {
    let (priority, policy) = sched::get_param(target_thread(tid)?)?;
    Ok(priority.get() as usize | (policy.to_abi() as usize) << 8)
}

pub(super) fn mmap(
    addr: u64,
    len: u64,
    prot: usize,
    flags: usize,
    fd: Option<Fd>,
) -> Result<usize, Errno> {
    let space = proc::current_space().ok_or(Errno::EINVAL)?;
    if let Some(fd) = fd
        && flags & mman::MAP_ANONYMOUS == 0
    {
        return super::file::mmap_device(fd, len, prot, flags);
    }
    if flags & mman::MAP_ANONYMOUS == 0 || flags & mman::MAP_SHARED != 0 || len == 0 {
        return Err(Errno::EINVAL);
    }
    let len = len.checked_next_multiple_of(4096).ok_or(Errno::ENOMEM)?;
    let at = if flags & mman::MAP_FIXED != 0 {
        space.unmap(addr, len)?;
        addr
    } else {
        space.find_free(len).ok_or(Errno::ENOMEM)?
    };
    space.map_anonymous(at, len, Perms::from_prot(prot))?;
    Ok(at as usize)
}

pub(super) fn munmap(addr: u64, len: u64) -> Result<usize, Errno> {
    let space = proc::current_space().ok_or(Errno::EINVAL)?;
    space.unmap(addr, len).map(|()| 0)
}

pub(super) fn mprotect(addr: u64, len: u64, prot: usize) -> Result<usize, Errno> {
    let space = proc::current_space().ok_or(Errno::EINVAL)?;
    space.protect(addr, len, Perms::from_prot(prot)).map(|()| 0)
}
