//! File system calls: open, read, write, close, fstat, getdents, lseek, dup, ioctl.

use crate::fs::{self, OpenFile};
use crate::mm::uaccess;
use crate::proc;
use abi::syscall::{MAX_PATH, UserStr, open_flags};
use abi::{Errno, Sysno};
use alloc::sync::Arc;

/// Largest single read or write (larger requests are shortened, as POSIX allows).
const MAX_IO: usize = 64 * 1024;

pub fn handle(sysno: Sysno, args: [usize; 6]) -> Result<usize, Errno> {
    match sysno {
        Sysno::Open => {
            let path = uaccess::read_string(
                UserStr {
                    ptr: args[0],
                    len: args[1],
                },
                MAX_PATH,
            )?;
            let flags = args[2];
            let file = fs::open(&path, flags, args[3] as u32, proc::current_cred())?;
            proc::with_fds(|fds| fds.insert(file, flags & open_flags::O_CLOEXEC != 0))?
        }
        Sysno::Close => proc::with_fds(|fds| fds.close(args[0]))?.map(|_| 0),
        Sysno::Read => {
            let file = get(args[0])?;
            let mut buf = alloc::vec![0; args[2].min(MAX_IO)];
            let n = fs::read(&file, &mut buf)?;
            if let Err(e) = uaccess::write_bytes(args[1], &buf[..n]) {
                fs::unread(&file, n); // nothing reached the caller: keep the data for the next read
                return Err(e);
            }
            Ok(n)
        }
        Sysno::Write => {
            let file = get(args[0])?;
            let data = uaccess::read_bytes(args[1], args[2].min(MAX_IO), MAX_IO, Errno::EINVAL)?;
            fs::write(&file, &data)
        }
        Sysno::Fstat => {
            let stat = fs::fstat(&*get(args[0])?)?;
            uaccess::write_struct(args[1], &stat).map(|()| 0)
        }
        Sysno::Getdents => {
            let records = fs::getdents(&*get(args[0])?, args[2].min(MAX_IO))?;
            uaccess::write_bytes(args[1], &records)?;
            Ok(records.len())
        }
        Sysno::Lseek => fs::lseek(&*get(args[0])?, args[1] as i64, args[2]).map(|p| p as usize),
        Sysno::Dup => {
            let file = get(args[0])?;
            proc::with_fds(|fds| fds.insert(file, false))?
        }
        Sysno::Ioctl => {
            if proc::with_fds(|fds| fds.is_device(args[0], fs::DEV_LITEIPC))?? {
                crate::ipc::liteipc::ioctl(args[1], args[2])
            } else {
                Err(Errno::ENOTTY)
            }
        }
        _ => Err(Errno::ENOSYS),
    }
}

pub(super) fn get(fd: usize) -> Result<Arc<OpenFile>, Errno> {
    proc::with_fds(|fds| fds.get(fd))?
}

/// `mmap` of a device file descriptor.
pub fn mmap_device(fd: usize, len: u64, prot: usize, flags: usize) -> Result<usize, Errno> {
    match &get(fd)?.object {
        fs::FileObject::Device(fs::DEV_LITEIPC) => crate::ipc::liteipc::mmap(len, prot, flags),
        _ => Err(Errno::ENODEV),
    }
}
