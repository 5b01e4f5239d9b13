//! System calls with hostile arguments (null, kernel, overflowing, unaligned pointers; bad
//! fds and pids; unknown numbers; forbidden values) must fail with the right errno and
//! leave the process running.

use core::sync::atomic::AtomicU32;
use ulib::Errno;
use ulib::check::{Context, TestResult};
use ulib::fs::File;
use ulib::mem::{Mapping, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE};
use ulib::process::{self, Pid, SpawnOptions, signal};
use ulib::sys::{self, hostile, hostile::Foreign};
use ulib::thread;
use ulib::{ensure, ensure_eq};

/// A kernel address (the kernel image base).
const KERNEL_ADDR: usize = 0xFFFF_FFFF_8000_0000;

fn foreign(addr: usize, len: usize) -> Result<Foreign, alloc::string::String> {
    Foreign::new(addr, len).context("address is not foreign")
}

/// Write(1, NULL, 10) fails with EFAULT.
pub fn write_null() -> TestResult {
    ensure_eq!(hostile::write(1, foreign(0, 10)?), Err(Errno::EFAULT));
    Ok(())
}

/// Write from a kernel address fails with EFAULT.
pub fn write_kernel() -> TestResult {
    ensure_eq!(
        hostile::write(1, foreign(KERNEL_ADDR, 10)?),
        Err(Errno::EFAULT)
    );
    Ok(())
}

/// Write whose range wraps around the address space fails with EFAULT.
pub fn write_overflowing_len() -> TestResult {
    ensure_eq!(
        hostile::write(1, foreign(usize::MAX - 4, 100)?),
        Err(Errno::EFAULT)
    );
    Ok(())
}

/// Read into a kernel or null buffer fails with EFAULT and consumes nothing.
pub fn read_into_kernel() -> TestResult {
    // A file, not the console: a console read would block before checking the buffer.
    let mut file = File::open("/etc/hostname").context("open /etc/hostname")?;
    ensure_eq!(
        hostile::read(file.fd(), foreign(KERNEL_ADDR, 8)?),
        Err(Errno::EFAULT)
    );
    ensure_eq!(hostile::read(file.fd(), foreign(0, 8)?), Err(Errno::EFAULT));
    // The failed reads consumed nothing: the file position is still at the start.
    let mut buf = [0u8; 16];
    let n = file.read(&mut buf).context("read after EFAULT")?;
    ensure_eq!(buf.get(..n), Some(&b"ohos-rs\n"[..]));
    Ok(())
}

/// Open with a null or kernel path pointer fails with EFAULT.
pub fn open_bad_path() -> TestResult {
    ensure_eq!(hostile::open(foreign(0, 10)?, 0), Err(Errno::EFAULT));
    ensure_eq!(
        hostile::open(foreign(KERNEL_ADDR, 10)?, 0),
        Err(Errno::EFAULT)
    );
    Ok(())
}

/// Fstat into a kernel address fails with EFAULT.
pub fn fstat_bad_buffer() -> TestResult {
    let file = File::open("/etc/hostname").context("open /etc/hostname")?;
    ensure_eq!(
        hostile::fstat(file.fd(), foreign(KERNEL_ADDR, 32)?),
        Err(Errno::EFAULT)
    );
    Ok(())
}

/// Close/read/write of descriptors that are not open fail with EBADF.
pub fn bad_fds() -> TestResult {
    ensure_eq!(sys::close(999), Err(Errno::EBADF));
    let mut buf = [0u8; 4];
    ensure_eq!(sys::read(12345, &mut buf), Err(Errno::EBADF));
    ensure_eq!(sys::write(usize::MAX, &buf), Err(Errno::EBADF));
    Ok(())
}

/// Kill of a pid that does not exist fails with ESRCH.
pub fn kill_missing_pid() -> TestResult {
    ensure_eq!(
        process::kill(Pid::from_raw(99999), signal::SIGTERM),
        Err(Errno::ESRCH)
    );
    Ok(())
}

/// Wait for a pid that is not our child fails with ECHILD.
pub fn wait_not_a_child() -> TestResult {
    ensure_eq!(process::wait(Pid::from_raw(4242)), Err(Errno::ECHILD));
    Ok(())
}

/// Spawn of a missing executable fails with ENOENT.
pub fn spawn_missing_file() -> TestResult {
    let result = process::spawn("/bin/no-such-program", &[], &[], SpawnOptions::default());
    ensure_eq!(result, Err(Errno::ENOENT));
    Ok(())
}

/// Spawn with its request in kernel or null memory fails with EFAULT.
pub fn spawn_kernel_request() -> TestResult {
    ensure_eq!(
        hostile::spawn(foreign(KERNEL_ADDR, 64)?),
        Err(Errno::EFAULT)
    );
    ensure_eq!(hostile::spawn(foreign(0, 64)?), Err(Errno::EFAULT));
    Ok(())
}

/// Undefined syscall numbers fail with ENOSYS.
pub fn unknown_syscall() -> TestResult {
    ensure_eq!(sys::undefined_syscall(999), Some(Err(Errno::ENOSYS)));
    ensure_eq!(sys::undefined_syscall(usize::MAX), Some(Err(Errno::ENOSYS)));
    Ok(())
}

/// Kernel-only priorities are EPERM, out-of-range priorities and policies EINVAL; nothing changes.
pub fn sched_setparam_out_of_range() -> TestResult {
    let before = thread::current_param().context("sched_getparam")?;
    ensure_eq!(
        sys::sched_setparam(0, 5, abi::syscall::sched::SCHED_RR),
        Err(Errno::EPERM)
    );
    ensure_eq!(
        sys::sched_setparam(0, 40, abi::syscall::sched::SCHED_RR),
        Err(Errno::EINVAL)
    );
    ensure_eq!(sys::sched_setparam(0, 20, 7), Err(Errno::EINVAL));
    ensure_eq!(thread::current_param().context("sched_getparam")?, before);
    Ok(())
}

/// Futex on an unaligned word fails with EINVAL.
pub fn futex_unaligned() -> TestResult {
    let word = AtomicU32::new(0);
    // With a 1 ms timeout, a kernel that does not check alignment cannot hang the suite.
    ensure_eq!(
        hostile::futex_wait_at(&word, 1, 0, 1_000_000),
        Err(Errno::EINVAL)
    );
    ensure_eq!(
        hostile::futex_wait_at(&word, 2, 0, 1_000_000),
        Err(Errno::EINVAL)
    );
    Ok(())
}

/// A writable and executable mapping is refused (W^X).
pub fn mmap_write_exec() -> TestResult {
    let result = Mapping::new(PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
    ensure!(
        result.is_err(),
        "a W+X mapping was granted at {:#x}",
        result.as_ref().map_or(0, Mapping::addr)
    );
    Ok(())
}

/// Munmap of an unaligned address fails with EINVAL and unmaps nothing.
pub fn munmap_unaligned() -> TestResult {
    let mut mapping = Mapping::new(2 * PAGE_SIZE, PROT_READ | PROT_WRITE).context("mmap")?;
    ensure_eq!(
        hostile::munmap_unaligned(&mut mapping, 1),
        Some(Err(Errno::EINVAL))
    );
    ensure_eq!(
        hostile::munmap_unaligned(&mut mapping, PAGE_SIZE + 8),
        Some(Err(Errno::EINVAL))
    );
    // Still mapped and writable.
    mapping.as_mut_slice().fill(7);
    ensure!(
        mapping.as_slice().iter().all(|&b| b == 7),
        "mapping changed"
    );
    Ok(())
}
