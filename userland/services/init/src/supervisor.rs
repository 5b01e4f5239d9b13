//! Service supervision, as startup_init_lite does it (openharmony-facts.md section 3):
//! start a service with its argv, ids, priority and a clean environment; when it exits,
//! restart it unless it is `once` or was stopped on purpose; the 4th unexpected exit within
//! [`CRASH_WINDOW`] stops the restarts; `importance` != 0, or a `critical` service exiting
//! `crashes` times within its window, stops every service and reboots the machine. Those
//! decisions are [`init::policy`]'s; this module carries them out (processes, signals,
//! messages, the reboot).
//!
//! The table lives behind one futex [`Mutex`]: the main thread reaps children (blocking
//! `wait`) and the control thread handles `/dev/initctl` requests. A service is spawned and
//! its pid recorded under the lock, so the reaper, which takes the lock after `wait`
//! returns, always finds the pid it reaped.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use init::policy::{CRASH_LIMIT, CRASH_WINDOW, Exit, Lifecycle, RebootCause, Start, Stop};
use initcfg::Service;
use ulib::process::{self, ExitStatus, Pid, SpawnOptions, signal};
use ulib::sync::{Condvar, Mutex};
use ulib::system::{self, REBOOT_POWER_OFF, REBOOT_RESTART};
use ulib::{Errno, fs, println, thread};

pub use init::policy::Origin;

/// How long services get after SIGTERM before SIGKILL when the machine goes down.
pub const STOP_GRACE: Duration = Duration::from_secs(3);
/// The environment every service starts with, before `export`s.
pub const BASE_ENV: [(&str, &str); 1] = [("PATH", "/bin")];

/// One service and what init knows about it.
#[derive(Debug)]
struct Entry {
    service: Service,
    pid: Option<Pid>,
    life: Lifecycle,
}

/// Why and how the machine goes down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// PSCI reset.
    Restart,
    /// PSCI power off.
    PowerOff,
}

/// Everything the two threads share.
#[derive(Debug)]
struct Table {
    services: Vec<Entry>,
    /// `export`ed variables, in order (a later export of the same key replaces it).
    env: Vec<(String, String)>,
    shutdown: Option<Shutdown>,
    /// Bumped on every spawn, so the reaper knows a child may exist again.
    generation: u64,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    services: Vec::new(),
    env: Vec::new(),
    shutdown: None,
    generation: 0,
});
static CHANGED: Condvar = Condvar::new();

/// Installs the services of the configuration.
pub fn install(services: Vec<Service>) {
    let mut table = TABLE.lock();
    table.services = services
        .into_iter()
        .map(|service| Entry {
            service,
            pid: None,
            life: Lifecycle::new(),
        })
        .collect();
}

/// `export KEY VALUE`.
pub fn export(key: &str, value: &str) {
    let mut table = TABLE.lock();
    table.env.retain(|(k, _)| k != key);
    table.env.push((key.into(), value.into()));
}

/// The environment services and `exec`ed programs get.
pub fn service_env() -> Vec<String> {
    environment(&TABLE.lock())
}

/// The environment services get: `PATH=/bin`, then the exports.
fn environment(table: &Table) -> Vec<String> {
    let mut env: Vec<(String, String)> = BASE_ENV
        .iter()
        .filter(|(k, _)| !table.env.iter().any(|(e, _)| e == k))
        .map(|(k, v)| (String::from(*k), String::from(*v)))
        .collect();
    env.extend(table.env.iter().cloned());
    env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// Starts service `name`.
pub fn start(name: &str, origin: Origin) {
    let mut table = TABLE.lock();
    let Some(index) = table.services.iter().position(|e| e.service.name == name) else {
        println!("init: start {name}: no such service; ignored");
        return;
    };
    if table.shutdown.is_some() {
        println!("init: start {name}: shutting down; ignored");
        return;
    }
    let entry = &mut table.services[index];
    match entry.life.start(&entry.service, origin) {
        Start::Spawn => spawn_locked(&mut table, index),
        Start::AlreadyRunning => println!(
            "init: start {name}: already running (pid {})",
            pid_text(entry.pid)
        ),
        Start::Disabled => println!("init: service {name} is disabled; not started by the jobs"),
        Start::OnDemand => {
            println!("init: service {name} is ondemand (not supported); not started")
        }
    }
}

/// Spawns entry `index`; logs and marks it failed if that is impossible.
fn spawn_locked(table: &mut Table, index: usize) {
    let env = environment(table);
    let env: Vec<&str> = env.iter().map(String::as_str).collect();
    let Some(entry) = table.services.get_mut(index) else {
        return;
    };
    let service = &entry.service;
    let (program, args) = match service.path.split_first() {
        Some((program, args)) => (program.as_str(), args),
        None => return,
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let options = SpawnOptions {
        uid: Some(service.uid),
        gid: Some(service.gid),
        priority: Some(service.priority),
    };
    match process::spawn(program, &args, &env, options) {
        Ok(pid) => {
            entry.life.spawned();
            entry.pid = Some(pid);
            println!(
                "init: service {} started (pid {pid}, uid {}, priority {})",
                service.name, service.uid, service.priority
            );
            for path in &service.writepid {
                if let Err(e) = fs::write(path, format!("{pid}\n").as_bytes()) {
                    println!("init: service {}: writepid {path}: {e:?}", service.name);
                }
            }
            table.generation += 1;
            CHANGED.notify_all();
        }
        Err(e) => {
            entry.life.spawn_failed();
            entry.pid = None;
            println!(
                "init: cannot start service {}: {program}: {e:?}; skipped",
                service.name
            );
        }
    }
}

/// Stops service `name` on purpose (SIGTERM; it is not restarted).
pub fn stop(name: &str) {
    let mut table = TABLE.lock();
    let Some(entry) = table.services.iter_mut().find(|e| e.service.name == name) else {
        println!("init: stop {name}: no such service; ignored");
        return;
    };
    match (entry.life.stop(entry.pid.is_some()), entry.pid) {
        (Stop::Terminate, Some(pid)) => {
            println!("init: stopping service {name} (pid {pid})");
            if let Err(e) = process::kill(pid, signal::SIGTERM) {
                println!("init: stop {name}: kill: {e:?}");
            }
        }
        _ => println!("init: stop {name}: not running"),
    }
}

/// Prints the service table (the shell's `services`).
pub fn print_status() {
    let table = TABLE.lock();
    println!(
        "init: {:<16} {:>5} {:<9} RESTARTS",
        "SERVICE", "PID", "STATE"
    );
    for e in &table.services {
        println!(
            "init: {:<16} {:>5} {:<9} {}",
            e.service.name,
            pid_text(e.pid),
            e.life.state().name(),
            e.life.restarts()
        );
    }
}

fn pid_text(pid: Option<Pid>) -> String {
    pid.map_or_else(|| String::from("-"), |p| format!("{p}"))
}

/// Stops every service and then restarts or powers off the machine; `why` is logged.
pub fn shut_down(kind: Shutdown, why: &str) {
    let mut table = TABLE.lock();
    if table.shutdown.is_some() {
        return;
    }
    table.shutdown = Some(kind);
    let verb = match kind {
        Shutdown::Restart => "rebooting",
        Shutdown::PowerOff => "powering off",
    };
    println!("init: {verb}: {why}");
    for e in table.services.iter_mut().filter(|e| e.pid.is_some()) {
        e.life.shutting_down();
        if let Some(pid) = e.pid {
            println!("init: stopping service {} (pid {pid})", e.service.name);
            let _ = process::kill(pid, signal::SIGTERM);
        }
    }
    CHANGED.notify_all();
    drop(table);
    // SIGKILL whatever has not gone after the grace period. A sleeping thread, not a poll.
    let killer = move || {
        thread::sleep(STOP_GRACE);
        let table = TABLE.lock();
        for e in table.services.iter().filter(|e| e.pid.is_some()) {
            if let Some(pid) = e.pid {
                println!("init: service {} ignored SIGTERM; SIGKILL", e.service.name);
                let _ = process::kill(pid, signal::SIGKILL);
            }
        }
        0
    };
    let priority = thread::current_priority().unwrap_or(thread::USER_PRIORITY_MIN);
    if let Err(e) = thread::spawn(killer, priority) {
        println!("init: cannot start the stop timer: {e:?}");
    }
}

/// The main thread's loop: reap children forever; returns only to bring the machine down.
pub fn supervise() -> ! {
    loop {
        let generation = {
            let table = TABLE.lock();
            if let Some(kind) = table.shutdown
                && table.services.iter().all(|e| e.pid.is_none())
            {
                drop(table);
                finish_shutdown(kind);
            }
            table.generation
        };
        match process::wait_any() {
            Ok((pid, status)) => reaped(pid, status),
            Err(e) => {
                if e != Errno::ECHILD {
                    println!("init: wait failed: {e:?}");
                }
                // No children: sleep until a spawn or a shutdown request changes that.
                let table = TABLE.lock();
                let _table = CHANGED.wait_while(table, |t| {
                    t.generation == generation && t.shutdown.is_none()
                });
            }
        }
    }
}

fn finish_shutdown(kind: Shutdown) -> ! {
    println!("init: all services stopped");
    let mode = match kind {
        Shutdown::Restart => REBOOT_RESTART,
        Shutdown::PowerOff => REBOOT_POWER_OFF,
    };
    let e = system::reboot(mode);
    println!("init: reboot failed: {e:?}; exiting (the kernel powers off)");
    process::exit(1)
}

/// A child ended: update its service, restart it, or bring the machine down, as the
/// policy decides.
fn reaped(pid: Pid, status: ExitStatus) {
    let mut table = TABLE.lock();
    let shutting_down = table.shutdown.is_some();
    let Some(index) = table.services.iter().position(|e| e.pid == Some(pid)) else {
        println!("init: reaped orphan pid {pid}: {status}");
        return;
    };
    let entry = &mut table.services[index];
    entry.pid = None;
    let name = entry.service.name.clone();
    match entry
        .life
        .exited(&entry.service, ulib::time::now(), shutting_down)
    {
        Exit::Stopped => {
            println!("init: service {name} stopped ({status})");
            CHANGED.notify_all();
        }
        Exit::Reboot(cause) => {
            let why = match cause {
                RebootCause::Importance(importance) => {
                    format!("{name} (importance {importance}) died: {status}")
                }
                RebootCause::Critical { exits, window_s } => {
                    format!("{name} (critical) died: {status}; {exits} exits within {window_s} s")
                }
            };
            drop(table);
            shut_down(Shutdown::Restart, &why);
        }
        Exit::Done => println!("init: service {name} {status} (once: not restarted)"),
        Exit::GiveUp { crashes } => println!(
            "init: service {name} {status}; {crashes} exits within {} s, not restarting it",
            CRASH_WINDOW.as_secs()
        ),
        Exit::Restart { crash } => {
            println!(
                "init: service {name} {status}; restart {crash} of {}",
                CRASH_LIMIT - 1
            );
            spawn_locked(&mut table, index);
        }
    }
}
