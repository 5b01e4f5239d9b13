//! Processes: spawn (posix_spawn-like: path, argv, envp, optional ids and priority), wait
//! with exit status decoding, kill, exit, ids.

use crate::sys;
use abi::Errno;
use abi::syscall::{
    SPAWN_SET_IDS, SPAWN_SET_PRIORITY, SpawnRequest, UserStr, WNOHANG, wait_status,
};
use alloc::vec::Vec;
use core::fmt;

pub use abi::syscall::signal;

/// A process id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pid(u32);

impl Pid {
    /// The pid with raw value `raw`.
    pub const fn from_raw(raw: u32) -> Pid {
        Pid(raw)
    }

    /// The raw value.
    pub const fn as_raw(self) -> u32 {
        self.0
    }

    fn from_ret(raw: usize) -> Pid {
        Pid(raw as u32)
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How a child ended: a wait status as on Linux.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus(u32);

impl ExitStatus {
    /// From a raw wait status.
    pub const fn from_raw(raw: u32) -> ExitStatus {
        ExitStatus(raw)
    }

    /// The raw wait status.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// The exit code, if the process called exit.
    pub const fn code(self) -> Option<u8> {
        wait_status::exit_code(self.0)
    }

    /// The killing signal, if a signal (e.g. a fault) ended the process.
    pub const fn signal(self) -> Option<u32> {
        wait_status::term_signal(self.0)
    }

    /// True for exit code 0.
    pub const fn success(self) -> bool {
        matches!(self.code(), Some(0))
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code(), self.signal()) {
            (Some(code), _) => write!(f, "exited with status {code}"),
            (None, Some(signal)) => write!(f, "killed by signal {signal}"),
            (None, None) => write!(f, "wait status {:#x}", self.0),
        }
    }
}

/// Optional attributes of a spawned process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpawnOptions {
    /// New uid (only uid 0 may change ids); the gid defaults to the caller's.
    pub uid: Option<u32>,
    /// New gid; the uid defaults to the caller's.
    pub gid: Option<u32>,
    /// Priority of the main thread (10..=31).
    pub priority: Option<u32>,
}

impl SpawnOptions {
    /// Runs the child as user and group `id` (the usual uid == gid of service accounts).
    pub fn as_user(id: u32) -> SpawnOptions {
        SpawnOptions {
            uid: Some(id),
            gid: Some(id),
            ..SpawnOptions::default()
        }
    }
}

fn user_str(s: &str) -> UserStr {
    UserStr {
        ptr: s.as_ptr() as usize,
        len: s.len(),
    }
}

fn request(
    path: &str,
    argv: &[UserStr],
    envp: &[UserStr],
    options: SpawnOptions,
) -> Result<SpawnRequest, Errno> {
    let mut request = SpawnRequest {
        path: user_str(path),
        argv: argv.as_ptr() as usize,
        argc: argv.len(),
        envp: envp.as_ptr() as usize,
        envc: envp.len(),
        ..SpawnRequest::default()
    };
    if options.uid.is_some() || options.gid.is_some() {
        request.flags |= SPAWN_SET_IDS;
        request.uid = options
            .uid
            .map_or_else(|| sys::getuid().map(|u| u as u32), Ok)?;
        request.gid = options
            .gid
            .map_or_else(|| sys::getgid().map(|g| g as u32), Ok)?;
    }
    if let Some(priority) = options.priority {
        request.flags |= SPAWN_SET_PRIORITY;
        request.priority = priority;
    }
    Ok(request)
}

/// Starts `path` in a new process with `argv[0] = path`, then `args`, and the
/// environment `env` (`KEY=value` strings).
pub fn spawn(path: &str, args: &[&str], env: &[&str], options: SpawnOptions) -> Result<Pid, Errno> {
    let argv: Vec<UserStr> = core::iter::once(path)
        .chain(args.iter().copied())
        .map(user_str)
        .collect();
    let envp: Vec<UserStr> = env.iter().copied().map(user_str).collect();
    let request = request(path, &argv, &envp, options)?;
    sys::spawn(&request).map(Pid::from_ret)
}

/// Replaces this program with `path` (argv and env as in [`spawn`]); returns only on failure.
pub fn exec(path: &str, args: &[&str], env: &[&str]) -> Errno {
    let argv: Vec<UserStr> = core::iter::once(path)
        .chain(args.iter().copied())
        .map(user_str)
        .collect();
    let envp: Vec<UserStr> = env.iter().copied().map(user_str).collect();
    match request(path, &argv, &envp, SpawnOptions::default()).and_then(|r| sys::execve(&r)) {
        Ok(_) => Errno::EINVAL,
        Err(e) => e,
    }
}

fn wait_raw(pid: isize, options: usize) -> Result<Option<(Pid, ExitStatus)>, Errno> {
    let mut status = 0u32;
    loop {
        match sys::wait(pid, &mut status, options) {
            Ok(0) => return Ok(None),
            Ok(raw) => return Ok(Some((Pid::from_ret(raw), ExitStatus(status)))),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Waits for child `pid` to end and reaps it.
pub fn wait(pid: Pid) -> Result<ExitStatus, Errno> {
    wait_raw(pid.0 as isize, 0)?
        .map(|(_, status)| status)
        .ok_or(Errno::ECHILD)
}

/// Reaps child `pid` if it has ended, without blocking.
pub fn try_wait(pid: Pid) -> Result<Option<ExitStatus>, Errno> {
    Ok(wait_raw(pid.0 as isize, WNOHANG)?.map(|(_, status)| status))
}

/// Waits for any child to end (ECHILD when there are none).
pub fn wait_any() -> Result<(Pid, ExitStatus), Errno> {
    wait_raw(-1, 0)?.ok_or(Errno::ECHILD)
}

/// Reaps any ended child without blocking (`None`: children exist but none has ended).
pub fn try_wait_any() -> Result<Option<(Pid, ExitStatus)>, Errno> {
    wait_raw(-1, WNOHANG)
}

/// Sends `signal` (`signal::SIGKILL`, `SIGTERM`, or 0 to test for existence) to `pid`.
pub fn kill(pid: Pid, signal: u32) -> Result<(), Errno> {
    sys::kill(pid.0 as isize, signal).map(drop)
}

/// Ends the process with status `code & 0xFF`.
pub fn exit(code: i32) -> ! {
    sys::exit(code)
}

/// This process's id.
pub fn getpid() -> Pid {
    sys::getpid().map_or(Pid(0), Pid::from_ret)
}

/// The parent's id.
pub fn getppid() -> Pid {
    sys::getppid().map_or(Pid(0), Pid::from_ret)
}

/// Real uid.
pub fn getuid() -> u32 {
    sys::getuid().map_or(u32::MAX, |u| u as u32)
}

/// Real gid.
pub fn getgid() -> u32 {
    sys::getgid().map_or(u32::MAX, |g| g as u32)
}

/// Exit status of a process that panicked (Rust's convention).
pub const PANIC_EXIT_STATUS: i32 = 101;
