//! File system calls: open, read, write, close, fstat, getdents, lseek, dup, ioctl.

use crate::fs;
use crate::mm::uaccess::{self, UserPtr, UserSlice};
use crate::proc;
use abi::Errno;
use abi::syscall::{MAX_PATH, Stat, open_flags};
use kcore::syscall::Fd;

/// Largest single read or write (larger requests are shortened, as POSIX allows).
const MAX_IO: usize = 64 * 1024;

pub(super) fn open(path: UserSlice, flags: usize, mode: u32) -> Result<usize, Errno> {
    let path = uaccess::read_string(path, MAX_PATH)?;
    let file = fs::open(&path, flags, mode, proc::current_cred())?;
    if file.is_device(fs::DEV_LITEIPC) {
        crate::ipc::liteipc::open();
    }
    fs::install(file, flags & open_flags::O_CLOEXEC != 0)
}

pub(super) fn close(fd: Fd) -> Result<usize, Errno> {
    proc::with_fds(|fds| fds.close(fd.0))?.map(|_| 0)
}

pub(super) fn read(fd: Fd, buf: UserSlice) -> Result<usize, Errno> {
    let file = fs::file(fd.0)?;
    let buf = buf.truncated(MAX_IO);
    let mut bounce = alloc::vec![0; buf.len()];
    let n = fs::read(&file, &mut bounce)?;
    if let Err(e) = uaccess::write_bytes(buf, &bounce[..n]) {
        fs::unread(&file, n); // nothing reached the caller: keep the data for the next read
        return Err(e);
    }
    Ok(n)
}

pub(super) fn write(fd: Fd, buf: UserSlice) -> Result<usize, Errno> {
    let file = fs::file(fd.0)?;
    let data = uaccess::read_bytes(buf.truncated(MAX_IO), MAX_IO, Errno::EINVAL)?;
    fs::write(&file, &data)
}

pub(super) fn fstat(fd: Fd, out: UserPtr<Stat>) -> Result<usize, Errno> {
    let stat = fs::fstat(&*fs::file(fd.0)?)?;
    uaccess::write(out, &stat).map(|()| 0)
}

pub(super) fn getdents(fd: Fd, buf: UserSlice) -> Result<usize, Errno> {
    let buf = buf.truncated(MAX_IO);
    let records = fs::getdents(&*fs::file(fd.0)?, buf.len())?;
    uaccess::write_bytes(buf, &records)?;
    Ok(records.len())
}

pub(super) fn lseek(fd: Fd, offset: i64, whence: usize) -> Result<usize, Errno> {
    fs::lseek(&*fs::file(fd.0)?, offset, whence).map(|p| p as usize)
}

pub(super) fn dup(fd: Fd) -> Result<usize, Errno> {
    let file = fs::file(fd.0)?;
    fs::install(file, false)
}

pub(super) fn ioctl(fd: Fd, cmd: usize, arg: usize) -> Result<usize, Errno> {
    if fs::fd_is_device(fd.0, fs::DEV_LITEIPC)? {
        crate::ipc::liteipc::ioctl(cmd, arg)
    } else {
        Err(Errno::ENOTTY)
    }
}

/// `mmap` of a device file descriptor.
pub(super) fn mmap_device(fd: Fd, len: u64, prot: usize, flags: usize) -> Result<usize, Errno> {
    if fs::file(fd.0)?.is_device(fs::DEV_LITEIPC) {
        crate::ipc::liteipc::mmap(len, prot, flags)
    } else {
        Err(Errno::ENODEV)
    }
}
