//! Runs the jobs `pre-init`, `init`, `post-init` in order, executing each command for real
//! through the system calls (startup_init_lite's `DoCmd`). A failing command is logged and
//! the job goes on; nothing here stops init.

use crate::supervisor::{self, Origin, Shutdown};
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use initcfg::{Command, Config, JOB_ORDER, RebootKind, loadcfg};
use ulib::process::{self, SpawnOptions};
use ulib::{Errno, fs, println, system, thread};

/// Largest file `copy` copies.
const MAX_COPY_BYTES: u64 = 1024 * 1024;

/// Runs the three jobs in order.
pub fn run_all(config: &Config) {
    for name in JOB_ORDER {
        let Some(job) = config.job(name) else {
            println!("init: job {name}: not in the config");
            continue;
        };
        println!("init: job {name}: {} commands", job.commands.len());
        let failed = job.commands.iter().filter(|c| !run(name, c, true)).count();
        println!("init: job {name} done ({failed} failed)");
    }
}

/// Runs one command of job `job`; false (after logging why) when it failed or was skipped.
/// `loadcfg` is allowed only when `allow_loadcfg` (not from inside a loadcfg file).
fn run(job: &str, command: &Command, allow_loadcfg: bool) -> bool {
    match execute(command, allow_loadcfg) {
        Ok(()) => true,
        Err(why) => {
            println!("init: {job}: {}: {why}", describe(command));
            false
        }
    }
}

/// A command as it would be written, shortened for logs.
fn describe(command: &Command) -> String {
    match command {
        Command::Start(n) | Command::Stop(n) => alloc::format!("{} {n}", command.name()),
        Command::Mkdir { path, .. }
        | Command::Chmod { path, .. }
        | Command::Chown { path, .. }
        | Command::Write { path, .. }
        | Command::Rm(path)
        | Command::Rmdir(path)
        | Command::LoadCfg(path) => alloc::format!("{} {path}", command.name()),
        Command::Mount {
            fstype,
            source,
            target,
            ..
        } => alloc::format!("mount {fstype} {source} {target}"),
        Command::Copy { from, to } => alloc::format!("copy {from} {to}"),
        Command::Exec(argv) => alloc::format!("exec {}", argv.join(" ")),
        _ => String::from(command.name()),
    }
}

fn errno(e: Errno) -> String {
    alloc::format!("{e:?}")
}

fn execute(command: &Command, allow_loadcfg: bool) -> Result<(), String> {
    match command {
        Command::Start(name) => supervisor::start(name, Origin::Job),
        Command::Stop(name) => supervisor::stop(name),
        Command::Mkdir { path, mode, owner } => {
            match fs::create_dir(path, *mode) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(errno(e)),
            }
            if let Some((uid, gid)) = owner {
                fs::chown(path, Some(*uid), Some(*gid)).map_err(errno)?;
            }
        }
        Command::Chmod { mode, path } => fs::set_permissions(path, *mode).map_err(errno)?,
        Command::Chown { uid, gid, path } => {
            fs::chown(path, Some(*uid), Some(*gid)).map_err(errno)?;
        }
        Command::Mount {
            fstype,
            source,
            target,
            options,
        } => match fs::mount(source, target, fstype, options) {
            Ok(()) => {}
            Err(Errno::ENODEV) => {
                return Err(alloc::format!(
                    "warning: no {fstype} filesystem here (ENODEV)"
                ));
            }
            Err(e) => return Err(errno(e)),
        },
        Command::Export { key, value } => supervisor::export(key, value),
        Command::Write { path, content } => {
            fs::write(path, content.as_bytes()).map_err(errno)?;
        }
        Command::Rm(path) => fs::remove_file(path).map_err(errno)?,
        Command::Rmdir(path) => fs::remove_dir(path).map_err(errno)?,
        Command::Copy { from, to } => copy(from, to)?,
        Command::Sleep(secs) => thread::sleep(Duration::from_secs((*secs).into())),
        Command::Hostname(name) => system::set_hostname(name).map_err(errno)?,
        Command::Reboot(kind) => {
            let kind = match kind {
                RebootKind::Restart => Shutdown::Restart,
                RebootKind::PowerOff => Shutdown::PowerOff,
            };
            supervisor::shut_down(kind, "reboot command in the config");
        }
        Command::Exec(argv) => exec(argv)?,
        Command::LoadCfg(path) if allow_loadcfg => load_cfg(path)?,
        Command::LoadCfg(_) => return Err(String::from("nested loadcfg refused")),
        Command::Unsupported { name, .. } => {
            return Err(alloc::format!("unsupported command `{name}`; skipped"));
        }
    }
    Ok(())
}

fn copy(from: &str, to: &str) -> Result<(), String> {
    let meta = fs::stat(from).map_err(errno)?;
    if !meta.is_file() || meta.len() > MAX_COPY_BYTES {
        return Err(String::from("not a regular file of at most 1 MiB"));
    }
    let data = fs::read(from).map_err(errno)?;
    fs::write(to, &data).map_err(errno)
}

/// Runs a program with init's environment and waits for it.
fn exec(argv: &[String]) -> Result<(), String> {
    let (program, args) = argv.split_first().ok_or("empty exec")?;
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = supervisor::service_env();
    let env: Vec<&str> = env.iter().map(String::as_str).collect();
    let pid = process::spawn(program, &args, &env, SpawnOptions::default()).map_err(errno)?;
    let status = process::wait(pid).map_err(errno)?;
    println!("init: exec {program} (pid {pid}) {status}");
    if status.success() {
        Ok(())
    } else {
        Err(alloc::format!("{status}"))
    }
}

/// `loadcfg`: runs the commands of a whitelisted file, one per line.
fn load_cfg(path: &str) -> Result<(), String> {
    if !loadcfg::allowed(path) {
        return Err(String::from(
            "not a loadcfg file (only /etc/patch.cfg, /patch/fstab.cfg)",
        ));
    }
    let meta = match fs::stat(path) {
        Ok(meta) => meta,
        // Upstream: a missing patch file is not an error.
        Err(Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(errno(e)),
    };
    if meta.is_empty() || meta.len() > loadcfg::MAX_BYTES as u64 {
        return Err(alloc::format!(
            "size {} not in 1..={}",
            meta.len(),
            loadcfg::MAX_BYTES
        ));
    }
    let text = fs::read_to_string(path).map_err(errno)?;
    for (line, parsed) in loadcfg::parse(&text).into_iter().enumerate() {
        match parsed {
            Ok(command) => {
                run(path, &command, false);
            }
            Err(e) => println!("init: {path}: command #{line}: {e}; skipped"),
        }
    }
    Ok(())
}
