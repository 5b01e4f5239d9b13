//! The machine: task list (for `ps`), memory statistics, host name, kernel log, reboot.

use crate::sys;
use abi::Errno;
use abi::syscall::{MemInfo, TaskInfo};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

pub use abi::syscall::{REBOOT_POWER_OFF, REBOOT_RESTART, task_state};

/// Entries asked for first; doubled while the kernel fills the whole buffer.
const FIRST_TASK_BATCH: usize = 64;
/// Most entries ever asked for.
const MAX_TASKS: usize = 4096;

/// Every thread in the system, as `tasklist` reports them.
pub fn tasks() -> Result<Vec<TaskInfo>, Errno> {
    let mut capacity = FIRST_TASK_BATCH;
    loop {
        let mut buf = vec![TaskInfo::default(); capacity];
        let n = sys::tasklist(&mut buf)?;
        if n < capacity || capacity >= MAX_TASKS {
            buf.truncate(n);
            return Ok(buf);
        }
        capacity *= 2;
    }
}

/// The name in a [`TaskInfo`] (NUL padding removed).
pub fn task_name(info: &TaskInfo) -> String {
    let end = info
        .name
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(info.name.len());
    String::from_utf8_lossy(info.name.get(..end).unwrap_or_default()).into_owned()
}

/// Memory statistics.
pub fn meminfo() -> Result<MemInfo, Errno> {
    let mut info = MemInfo::default();
    sys::meminfo(&mut info)?;
    Ok(info)
}

/// The host name.
pub fn hostname() -> Result<String, Errno> {
    let mut buf = [0u8; abi::syscall::MAX_HOSTNAME];
    let n = sys::gethostname(&mut buf)?.min(buf.len());
    Ok(String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned())
}

/// Sets the host name (uid 0 only).
pub fn set_hostname(name: &str) -> Result<(), Errno> {
    sys::sethostname(name.as_bytes()).map(drop)
}

/// The newest kernel log bytes, at most `max`.
pub fn dmesg(max: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; max];
    let n = sys::dmesg(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// Restarts ([`REBOOT_RESTART`]) or powers off ([`REBOOT_POWER_OFF`]) the machine; returns
/// only on failure (uid 0 only).
pub fn reboot(mode: usize) -> Errno {
    match sys::reboot(mode) {
        Ok(_) => Errno::EINVAL,
        Err(e) => e,
    }
}
