//! Path operations (mkdir, rmdir, unlink, chmod, chown, stat, mount) and system calls about
//! the machine (reboot, host name, kernel log).

use crate::fs;
use crate::mm::uaccess;
use crate::proc;
use crate::sync::IrqSafeMutex;
use abi::syscall::{
    MAX_HOSTNAME, MAX_PATH, MountRequest, REBOOT_POWER_OFF, REBOOT_RESTART, UserStr,
};
use abi::{Errno, Sysno};
use alloc::string::String;
use kcore::vfs::NodeKind;
use log::{info, warn};

static HOSTNAME: IrqSafeMutex<String> = IrqSafeMutex::new(String::new());

fn path(ptr: usize, len: usize) -> Result<String, Errno> {
    uaccess::read_string(UserStr { ptr, len }, MAX_PATH)
}

pub fn handle(sysno: Sysno, args: [usize; 6]) -> Result<usize, Errno> {
    let cred = proc::current_cred();
    match sysno {
        Sysno::Mkdir => {
            let path = path(args[0], args[1])?;
            fs::with_vfs(|vfs| vfs.mkdir(&path, args[2] as u32 & 0o7777, cred)).map(|_| 0)
        }
        Sysno::Rmdir => {
            let path = path(args[0], args[1])?;
            fs::with_vfs(|vfs| vfs.rmdir(&path, cred)).map(|()| 0)
        }
        Sysno::Unlink => {
            let path = path(args[0], args[1])?;
            fs::with_vfs(|vfs| vfs.unlink(&path, cred)).map(|()| 0)
        }
        Sysno::Chmod => {
            let path = path(args[0], args[1])?;
            fs::with_vfs(|vfs| vfs.chmod(&path, args[2] as u32 & 0o7777, cred)).map(|()| 0)
        }
        Sysno::Chown => {
            let path = path(args[0], args[1])?;
            fs::with_vfs(|vfs| vfs.chown(&path, args[2] as u32, args[3] as u32, cred)).map(|()| 0)
        }
        Sysno::Stat => {
            let path = path(args[0], args[1])?;
            let stat =
                fs::with_vfs(|vfs| vfs.lookup_as(&path, cred).and_then(|ino| vfs.stat(ino)))?;
            uaccess::write_struct(args[2], &stat).map(|()| 0)
        }
        Sysno::Mount => mount(args[0]),
        Sysno::Reboot => reboot(args[0]),
        Sysno::SetHostname => {
            if cred.uid != 0 {
                return Err(Errno::EPERM);
            }
            let name = uaccess::read_string(
                UserStr {
                    ptr: args[0],
                    len: args[1],
                },
                MAX_HOSTNAME,
            )?;
            *HOSTNAME.lock() = name;
            Ok(0)
        }
        Sysno::GetHostname => {
            let name = HOSTNAME.lock().clone();
            let n = name.len().min(args[1]);
            uaccess::write_bytes(args[0], &name.as_bytes()[..n])?;
            Ok(name.len())
        }
        Sysno::Dmesg => {
            let log = crate::console::recent_log(args[1].min(64 * 1024));
            uaccess::write_bytes(args[0], &log)?;
            Ok(log.len())
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// Everything lives in RAM, so `tmpfs`/`ramfs` mounts only need an existing directory.
fn mount(request: usize) -> Result<usize, Errno> {
    let request: MountRequest = uaccess::read_struct(request)?;
    let target = uaccess::read_string(request.target, MAX_PATH)?;
    let fstype = uaccess::read_string(request.fstype, 32)?;
    if proc::current_cred().uid != 0 {
        return Err(Errno::EPERM);
    }
    let kind = fs::with_vfs(|vfs| vfs.lookup(&target).and_then(|ino| vfs.kind(ino)))?;
    if kind != NodeKind::Dir {
        return Err(Errno::ENOTDIR);
    }
    match fstype.as_str() {
        "tmpfs" | "ramfs" => {
            info!(target: "fs", "mounted {fstype} on {target}");
            Ok(0)
        }
        _ => {
            warn!(target: "fs", "mount of {fstype} on {target}: no such filesystem here");
            Err(Errno::ENODEV)
        }
    }
}

fn reboot(mode: usize) -> Result<usize, Errno> {
    if proc::current_cred().uid != 0 {
        return Err(Errno::EPERM);
    }
    let pid = crate::sched::current_pid();
    match mode {
        REBOOT_POWER_OFF => {
            warn!(target: "kernel", "power off requested by pid {pid}");
            crate::power::power_off()
        }
        REBOOT_RESTART => {
            warn!(target: "kernel", "restart requested by pid {pid}");
            crate::power::reboot()
        }
        _ => Err(Errno::EINVAL),
    }
}
