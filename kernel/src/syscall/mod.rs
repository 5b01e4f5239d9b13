//! The system call dispatcher: decodes the number and typed arguments, runs the handler,
//! and writes the result (or `-errno`) to x0. Unknown numbers get `ENOSYS`; bad pointers
//! `EFAULT`; nothing a user passes can panic the kernel.

mod file;
mod process;
mod thread;
mod user;

pub use user::read_u32;

use crate::arch::vectors::TrapFrame;
use abi::{Errno, Sysno};

/// Handles the system call in `frame` and stores its result in x0.
pub fn dispatch(frame: &mut TrapFrame) {
    let result = handle(frame);
    frame.x[0] = match result {
        Ok(value) => value as u64,
        Err(errno) => errno.as_return() as u64,
    };
}

fn handle(frame: &mut TrapFrame) -> Result<usize, Errno> {
    let args: [usize; 6] = core::array::from_fn(|i| frame.x[i] as usize);
    let sysno = Sysno::try_from(frame.x[8] as usize).map_err(|()| Errno::ENOSYS)?;
    match sysno {
        Sysno::Exit | Sysno::ThreadExit | Sysno::Spawn | Sysno::Wait | Sysno::Kill | Sysno::GetPid | Sysno::GetPpid
        | Sysno::GetUid | Sysno::GetGid => process::handle(sysno, args),
        Sysno::Execve => process::execve(args[0], frame),
        Sysno::GetTid | Sysno::ThreadCreate | Sysno::ThreadJoin | Sysno::Futex | Sysno::SchedYield
        | Sysno::SchedSetParam | Sysno::SchedGetParam | Sysno::Nanosleep | Sysno::ClockGettime => thread::handle(sysno, args),
        Sysno::Mmap | Sysno::Munmap | Sysno::Mprotect => thread::memory(sysno, args),
        Sysno::MemInfo => {
            let (free, total) = crate::mm::frame::stats();
            let (heap_used, heap_free) = crate::mm::heap::stats();
            let info = abi::syscall::MemInfo { total_frames: total as u64, free_frames: free as u64, heap_used: heap_used as u64, heap_free: heap_free as u64 };
            user::write_struct(args[0], &info).map(|()| 0)
        }
        Sysno::Open | Sysno::Close | Sysno::Read | Sysno::Write | Sysno::Ioctl | Sysno::Fstat | Sysno::Getdents
        | Sysno::Lseek | Sysno::Dup => file::handle(sysno, args),
    }
}
