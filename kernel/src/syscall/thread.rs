//! Thread, scheduling, time and memory system calls.

use crate::proc::{self, Perms};
use crate::sched::{self, Policy, Priority, Tid, WakeReason};
use crate::time;
use abi::syscall::{clock, mman};
use abi::{Errno, Sysno};

pub fn handle(sysno: Sysno, args: [usize; 6]) -> Result<usize, Errno> {
    match sysno {
        Sysno::GetTid => Ok(sched::current().0 as usize),
        Sysno::ThreadCreate => {
            let priority = Priority::for_user(args[3] as u32).map_err(|_| Errno::EINVAL)?;
            proc::create_thread(args[0] as u64, args[1] as u64, args[2] as u64, priority)
                .map(|t| t.0 as usize)
        }
        Sysno::ThreadJoin => join(args[0]),
        Sysno::Futex => crate::ipc::futex::futex(args[0], args[1], args[2] as u32, args[3] as u64),
        Sysno::SchedYield => {
            sched::yield_now();
            Ok(0)
        }
        Sysno::SchedSetParam => set_param(args[0], args[1], args[2]),
        Sysno::SchedGetParam => {
            let tid = target_thread(args[0])?;
            let (priority, policy) = sched::get_param(tid)?;
            Ok(priority.get() as usize | (policy.to_abi() as usize) << 8)
        }
        Sysno::Nanosleep => {
            let deadline = time::now().saturating_add(time::ns_to_ticks(args[0] as u64));
            match sched::sleep_until(deadline) {
                WakeReason::Interrupted => Err(Errno::EINTR),
                _ => Ok(0),
            }
        }
        Sysno::ClockGettime => match args[0] {
            clock::REALTIME | clock::MONOTONIC => Ok(time::ticks_to_ns(time::now()) as usize),
            _ => Err(Errno::EINVAL),
        },
        _ => Err(Errno::ENOSYS),
    }
}

/// A thread of the calling process (0 = the caller); others are ESRCH.
fn target_thread(raw: usize) -> Result<Tid, Errno> {
    if raw == 0 {
        return Ok(sched::current());
    }
    let tid = Tid(u32::try_from(raw).map_err(|_| Errno::ESRCH)?);
    if sched::thread_pid(tid) != Some(sched::current_pid()) {
        return Err(Errno::ESRCH);
    }
    Ok(tid)
}

fn join(raw: usize) -> Result<usize, Errno> {
    let tid = Tid(u32::try_from(raw).map_err(|_| Errno::ESRCH)?);
    sched::join(tid).map(|code| code as u32 as usize)
}

fn set_param(raw_tid: usize, priority: usize, policy: usize) -> Result<usize, Errno> {
    let tid = target_thread(raw_tid)?;
    let priority = Priority::for_user(u32::try_from(priority).map_err(|_| Errno::EINVAL)?)
        .map_err(|e| match e {
            kcore::sched::PriorityError::KernelOnly => Errno::EPERM,
            kcore::sched::PriorityError::OutOfRange => Errno::EINVAL,
        })?;
    let policy =
        Policy::from_abi(u32::try_from(policy).map_err(|_| Errno::EINVAL)?).ok_or(Errno::EINVAL)?;
    sched::set_param(tid, priority, policy)?;
    sched::preempt_if_needed();
    Ok(0)
}

pub fn memory(sysno: Sysno, args: [usize; 6]) -> Result<usize, Errno> {
    let space = sched::current_space().ok_or(Errno::EINVAL)?;
    let len = args[1] as u64;
    match sysno {
        Sysno::Mmap => {
            let (addr, prot, flags, fd) = (args[0] as u64, args[2], args[3], args[4] as isize);
            if fd >= 0 && flags & mman::MAP_ANONYMOUS == 0 {
                return crate::syscall::file::mmap_device(fd as usize, len, prot, flags);
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
        Sysno::Munmap => space.unmap(args[0] as u64, len).map(|()| 0),
        Sysno::Mprotect => space
            .protect(args[0] as u64, len, Perms::from_prot(args[2]))
            .map(|()| 0),
        _ => Err(Errno::ENOSYS),
    }
}
