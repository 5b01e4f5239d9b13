//! Path operations (mkdir, rmdir, unlink, chmod, chown, stat, mount) and system calls about
//! the machine (reboot, host name, kernel log, memory statistics).

use crate::fs;
use crate::mm::uaccess::{self, UserPtr, UserSlice};
use crate::proc;
use crate::sync::IrqSafeMutex;
use abi::Errno;
use abi::syscall::{MAX_HOSTNAME, MAX_PATH, MemInfo, MountRequest, Stat};
use alloc::string::String;
use kcore::syscall::RebootMode;
use log::warn;

static HOSTNAME: IrqSafeMutex<String> = IrqSafeMutex::new(String::new());

/// Longest `mount` filesystem type name.
const MAX_FSTYPE: usize = 32;
/// Most kernel log bytes one `dmesg` returns.
const MAX_DMESG: usize = 64 * 1024;

fn path(slice: UserSlice) -> Result<String, Errno> {
    uaccess::read_string(slice, MAX_PATH)
}

/// Permission bits of a mode argument (the file type bits are not the caller's to set).
fn permissions(mode: u32) -> u32 {
    mode & 0o7777
}

pub(super) fn mkdir(at: UserSlice, mode: u32) -> Result<usize, Errno> {
    let (path, cred) = (path(at)?, proc::current_cred());
    fs::with_vfs(|vfs| vfs.mkdir(&path, permissions(mode), cred)).map(|_| 0)
}

pub(super) fn rmdir(at: UserSlice) -> Result<usize, Errno> {
    let (path, cred) = (path(at)?, proc::current_cred());
    fs::with_vfs(|vfs| vfs.rmdir(&path, cred)).map(|()| 0)
}

pub(super) fn unlink(at: UserSlice) -> Result<usize, Errno> {
    let (path, cred) = (path(at)?, proc::current_cred());
    fs::with_vfs(|vfs| vfs.unlink(&path, cred)).map(|()| 0)
}

pub(super) fn chmod(at: UserSlice, mode: u32) -> Result<usize, Errno> {
    let (path, cred) = (path(at)?, proc::current_cred());
    fs::with_vfs(|vfs| vfs.chmod(&path, permissions(mode), cred)).map(|()| 0)
}

pub(super) fn chown(at: UserSlice, uid: u32, gid: u32) -> Result<usize, Errno> {
    let (path, cred) = (path(at)?, proc::current_cred());
    fs::with_vfs(|vfs| vfs.chown(&path, uid, gid, cred)).map(|()| 0)
}

pub(super) fn stat(at: UserSlice, out: UserPtr<Stat>) -> Result<usize, Errno> {
    let (path, cred) = (path(at)?, proc::current_cred());
    let stat = fs::with_vfs(|vfs| vfs.lookup_as(&path, cred).and_then(|ino| vfs.stat(ino)))?;
    uaccess::write(out, &stat).map(|()| 0)
}

pub(super) fn mount(at: UserPtr<MountRequest>) -> Result<usize, Errno> {
    let request = uaccess::read(at)?;
    let target = uaccess::read_string(uaccess::user_str(request.target)?, MAX_PATH)?;
    let fstype = uaccess::read_string(uaccess::user_str(request.fstype)?, MAX_FSTYPE)?;
    fs::mount(&target, &fstype, proc::current_cred()).map(|()| 0)
}

pub(super) fn reboot(mode: RebootMode) -> Result<usize, Errno> {
    if proc::current_cred().uid != 0 {
        return Err(Errno::EPERM);
    }
    let pid = crate::sched::current_pid();
    match mode {
        RebootMode::PowerOff => {
            warn!(target: "kernel", "power off requested by pid {pid}");
            crate::power::power_off()
        }
        RebootMode::Restart => {
            warn!(target: "kernel", "restart requested by pid {pid}");
            crate::power::reboot()
        }
    }
}

pub(super) fn set_hostname(name: UserSlice) -> Result<usize, Errno> {
    if proc::current_cred().uid != 0 {
        return Err(Errno::EPERM);
    }
    *HOSTNAME.lock() = uaccess::read_string(name, MAX_HOSTNAME)?;
    Ok(0)
}

pub(super) fn get_hostname(buf: UserSlice) -> Result<usize, Errno> {
    let name = HOSTNAME.lock().clone();
    let n = name.len().min(buf.len());
    uaccess::write_bytes(buf, &name.as_bytes()[..n])?;
    Ok(name.len())
}

pub(super) fn dmesg(buf: UserSlice) -> Result<usize, Errno> {
    let log = crate::console::recent_log(buf.len().min(MAX_DMESG));
    uaccess::write_bytes(buf, &log)?;
    Ok(log.len())
}

pub(super) fn meminfo(out: UserPtr<MemInfo>) -> Result<usize, Errno> {
    let (free, total) = crate::mm::frame::stats();
    let (heap_used, heap_free) = crate::mm::heap::stats();
    let info = MemInfo {
        total_frames: total as u64,
        free_frames: free as u64,
        heap_used: heap_used as u64,
        heap_free: heap_free as u64,
    };
    uaccess::write(out, &info).map(|()| 0)
}
