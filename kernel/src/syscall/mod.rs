//! The system call dispatcher: decodes the number and typed arguments, runs the handler,
//! and writes the result (or `-errno`) to x0. Unknown numbers get `ENOSYS`; bad pointers
//! `EFAULT`; nothing a user passes can panic the kernel.

mod file;
mod net;
mod process;
mod system;
mod thread;

use crate::arch::vectors::TrapFrame;
use crate::mm::uaccess;
use abi::{Errno, Sysno};

/// Handles the system call in `frame` and stores its result in x0.
pub fn dispatch(frame: &mut TrapFrame) {
    let result = handle(frame);
    frame.x[0] = match result {
        Ok(value) => value as u64,
        Err(errno) => errno.as_return() as u64,
    };
}

/// Fills `buf` with up to `max` [`abi::syscall::TaskInfo`] records; returns how many.
fn task_list(buf: usize, max: usize) -> Result<usize, Errno> {
    use abi::syscall::{TaskInfo, task_state};
    let processes = crate::proc::list();
    let mut written = 0;
    for thread in crate::sched::threads().into_iter().take(max) {
        let process = processes.iter().find(|p| p.pid == thread.pid);
        let mut name = [0u8; 16];
        let bytes = thread.name.as_bytes();
        name[..bytes.len().min(16)].copy_from_slice(&bytes[..bytes.len().min(16)]);
        let state = match thread.state {
            crate::sched::ThreadState::Running => task_state::RUNNING,
            crate::sched::ThreadState::Ready => task_state::READY,
            crate::sched::ThreadState::Blocked => task_state::BLOCKED,
            crate::sched::ThreadState::Dead => task_state::ZOMBIE,
        };
        let info = TaskInfo {
            pid: thread.pid,
            ppid: process.map_or(0, |p| p.ppid),
            tid: thread.tid.0,
            uid: process.map_or(0, |p| p.uid),
            priority: thread.priority.get(),
            policy: thread.policy.to_abi() as u8,
            state,
            reserved: 0,
            name,
        };
        uaccess::write_struct(buf + written * size_of::<TaskInfo>(), &info)?;
        written += 1;
    }
    Ok(written)
}

fn handle(frame: &mut TrapFrame) -> Result<usize, Errno> {
    let args: [usize; 6] = core::array::from_fn(|i| frame.x[i] as usize);
    let sysno = Sysno::try_from(frame.x[8] as usize).map_err(|()| Errno::ENOSYS)?;
    match sysno {
        Sysno::Exit
        | Sysno::ThreadExit
        | Sysno::Spawn
        | Sysno::Wait
        | Sysno::Kill
        | Sysno::GetPid
        | Sysno::GetPpid
        | Sysno::GetUid
        | Sysno::GetGid => process::handle(sysno, args),
        Sysno::Execve => process::execve(args[0], frame),
        Sysno::GetTid
        | Sysno::ThreadCreate
        | Sysno::ThreadJoin
        | Sysno::Futex
        | Sysno::SchedYield
        | Sysno::SchedSetParam
        | Sysno::SchedGetParam
        | Sysno::Nanosleep
        | Sysno::ClockGettime => thread::handle(sysno, args),
        Sysno::Mmap | Sysno::Munmap | Sysno::Mprotect => thread::memory(sysno, args),
        Sysno::MemInfo => {
            let (free, total) = crate::mm::frame::stats();
            let (heap_used, heap_free) = crate::mm::heap::stats();
            let info = abi::syscall::MemInfo {
                total_frames: total as u64,
                free_frames: free as u64,
                heap_used: heap_used as u64,
                heap_free: heap_free as u64,
            };
            uaccess::write_struct(args[0], &info).map(|()| 0)
        }
        Sysno::TaskList => task_list(args[0], args[1]),
        Sysno::Mkdir
        | Sysno::Rmdir
        | Sysno::Unlink
        | Sysno::Chmod
        | Sysno::Chown
        | Sysno::Stat
        | Sysno::Mount
        | Sysno::Reboot
        | Sysno::SetHostname
        | Sysno::GetHostname
        | Sysno::Dmesg => system::handle(sysno, args),
        Sysno::Socket
        | Sysno::Bind
        | Sysno::Listen
        | Sysno::Accept
        | Sysno::Connect
        | Sysno::SendTo
        | Sysno::RecvFrom
        | Sysno::GetPeerCred
        | Sysno::Poll
        | Sysno::SetNonblock => net::handle(sysno, args),
        Sysno::Open
        | Sysno::Close
        | Sysno::Read
        | Sysno::Write
        | Sysno::Ioctl
        | Sysno::Fstat
        | Sysno::Getdents
        | Sysno::Lseek
        | Sysno::Dup => file::handle(sysno, args),
    }
}
