//! Process tests: ids, argv/env passing, exit codes, wait (blocking and WNOHANG), kill,
//! and that spawn/exit cycles give every frame back.

use crate::child::{CHILD_ARGS, CHILD_ENV};
use alloc::format;
use alloc::string::String;
use ulib::check::{Context, TestResult};
use ulib::mem::meminfo;
use ulib::process::{self, ExitStatus, Pid, SpawnOptions, signal};
use ulib::{Errno, thread};
use ulib::{ensure, ensure_eq};

/// Spawns `path args` and waits for it.
pub fn run(path: &str, args: &[&str]) -> Result<ExitStatus, String> {
    let pid = process::spawn(path, args, &[], SpawnOptions::default()).context("spawn")?;
    process::wait(pid).context("wait")
}

/// Spawns `/bin/utest <mode> <args>`.
fn spawn_helper(args: &[&str]) -> Result<Pid, String> {
    process::spawn("/bin/utest", args, &[], SpawnOptions::default())
        .context("spawn /bin/utest helper")
}

/// Pid, ppid, tid, uid and gid are available and consistent.
pub fn ids() -> TestResult {
    let pid = process::getpid();
    ensure!(pid.as_raw() > 0, "getpid returned {pid}");
    ensure!(process::getppid() != pid, "getppid == getpid");
    ensure!(thread::current().as_raw() > 0, "gettid returned 0");
    ensure!(process::getuid() != u32::MAX, "getuid failed");
    ensure!(process::getgid() != u32::MAX, "getgid failed");
    Ok(())
}

/// Argv and envp given to spawn arrive in the child unchanged.
pub fn args_and_env_reach_child() -> TestResult {
    let env = format!("{}={}", CHILD_ENV.0, CHILD_ENV.1);
    let args = ["child-args", CHILD_ARGS[0], CHILD_ARGS[1]];
    let pid = process::spawn(
        "/bin/utest",
        &args,
        &["OTHER=1", &env],
        SpawnOptions::default(),
    )
    .context("spawn")?;
    let status = process::wait(pid).context("wait")?;
    ensure_eq!(status.code(), Some(0));
    Ok(())
}

/// A child's exit code comes back through wait.
pub fn exit_code() -> TestResult {
    let status = run("/bin/utest", &["child-exit", "42"])?;
    ensure_eq!(status.code(), Some(42));
    ensure_eq!(status.signal(), None);
    Ok(())
}

/// WNOHANG wait of a running child returns nothing; the blocking wait reaps it once.
pub fn try_wait_running_child() -> TestResult {
    let pid = spawn_helper(&["child-sleep", "100"])?;
    let early = process::try_wait(pid).context("try_wait");
    let status = process::wait(pid).context("wait")?;
    ensure_eq!(early?, None);
    ensure_eq!(status.code(), Some(0));
    ensure_eq!(process::try_wait(pid), Err(Errno::ECHILD));
    Ok(())
}

fn kill_with(sig: u32) -> TestResult {
    let pid = spawn_helper(&["child-sleep", "5000"])?;
    let exists = process::kill(pid, 0);
    let killed = process::kill(pid, sig);
    let status = process::wait(pid).context("wait")?;
    ensure_eq!(exists, Ok(()));
    ensure_eq!(killed, Ok(()));
    ensure_eq!(status.signal(), Some(sig));
    ensure_eq!(process::kill(pid, 0), Err(Errno::ESRCH));
    Ok(())
}

/// SIGTERM ends a sleeping child and wait reports the signal.
pub fn kill_sigterm() -> TestResult {
    kill_with(signal::SIGTERM)
}

/// SIGKILL ends a sleeping child and wait reports the signal.
pub fn kill_sigkill() -> TestResult {
    kill_with(signal::SIGKILL)
}

/// Spawn/exit cycles measured.
const CYCLES: u32 = 200;
/// Cycles first, so lazily grown kernel tables are at their steady size.
const WARM_UP: u32 = 5;

/// 200 spawn/exit/wait cycles leave exactly as many free frames as before.
pub fn spawn_exit_cycles_keep_frames() -> TestResult {
    for _ in 0..WARM_UP {
        ensure_eq!(run("/bin/true", &[])?.code(), Some(0));
    }
    let before = meminfo().context("meminfo")?;
    ensure!(
        before.total_frames > 0 && before.free_frames < before.total_frames,
        "meminfo {before:?}"
    );
    for i in 0..CYCLES {
        let status = run("/bin/true", &[])?;
        ensure!(status.success(), "cycle {i}: /bin/true {status}");
    }
    let after = meminfo().context("meminfo")?;
    ensure_eq!(after.free_frames, before.free_frames);
    Ok(())
}
