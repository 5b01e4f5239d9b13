//! Service supervision, as startup_init_lite does it (openharmony-facts.md section 3):
//! start a service with its argv, ids, priority and a clean environment; when it exits,
//! restart it unless it is `once` or was stopped on purpose; the 4th unexpected exit within
//! [`CRASH_WINDOW`] stops the restarts; `importance` != 0, or a `critical` service exiting
//! `crashes` times within its window, stops every service and reboots the machine.
//!
//! The table lives behind one futex [`Mutex`]: the main thread reaps children (blocking
//! `wait`) and the control thread handles `/dev/initctl` requests. A service is spawned and
//! its pid recorded under the lock, so the reaper, which takes the lock after `wait`
//! returns, always finds the pid it reaped.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use initcfg::Service;
use ulib::process::{self, ExitStatus, Pid, SpawnOptions, signal};
use ulib::sync::{Condvar, Mutex};
use ulib::system::{self, REBOOT_POWER_OFF, REBOOT_RESTART};
use ulib::time::Instant;
use ulib::{Errno, fs, println, thread};

/// Window in which unexpected exits are counted (upstream `CRASH_TIME_LIMIT`).
pub const CRASH_WINDOW: Duration = Duration::from_secs(240);
/// Unexpected exits within the window that stop the restarts (upstream `CRASH_COUNT_LIMIT`).
pub const CRASH_LIMIT: usize = 4;
/// How long services get after SIGTERM before SIGKILL when the machine goes down.
pub const STOP_GRACE: Duration = Duration::from_secs(3);
/// The environment every service starts with, before `export`s.
pub const BASE_ENV: [(&str, &str); 1] = [("PATH", "/bin")];

/// Where a service is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Never started.
    Idle,
    /// Running with a pid.
    Running,
    /// SIGTERM sent on purpose; will not be restarted.
    Stopping,
    /// Stopped on purpose.
    Stopped,
    /// A `once` service that exited.
    Done,
    /// Gave up: crashed too often, or could not be started.
    Failed,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Running => "running",
            State::Stopping => "stopping",
            State::Stopped => "stopped",
            State::Done => "done",
            State::Failed => "failed",
        }
    }
}

/// One service and what init knows about it.
#[derive(Debug)]
struct Entry {
    service: Service,
    state: State,
    pid: Option<Pid>,
    /// Restarts after unexpected exits, since boot.
    restarts: u32,
    /// Times of unexpected exits within [`CRASH_WINDOW`].
    crashes: Vec<Instant>,
    /// Times of exits within the `critical` window.
    critical_exits: Vec<Instant>,
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

/// Who asked for a start: the jobs skip disabled services, a request does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A `start` command in a job.
    Job,
    /// `/dev/initctl` (the shell's `start`).
    Request,
}

/// Installs the services of the configuration.
pub fn install(services: Vec<Service>) {
    let mut table = TABLE.lock();
    table.services = services
        .into_iter()
        .map(|service| Entry {
            service,
            state: State::Idle,
            pid: None,
            restarts: 0,
            crashes: Vec::new(),
            critical_exits: Vec::new(),
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
    match entry.state {
        State::Running | State::Stopping => {
            println!(
                "init: start {name}: already running (pid {})",
                pid_text(entry.pid)
            );
            return;
        }
        _ if origin == Origin::Job && entry.service.disabled => {
            println!("init: service {name} is disabled; not started by the jobs");
            return;
        }
        _ if origin == Origin::Job && entry.service.ondemand => {
            println!("init: service {name} is ondemand (not supported); not started");
            return;
        }
        _ => {}
    }
    // An explicit start gives a failed service a fresh crash budget.
    entry.crashes.clear();
    spawn_locked(&mut table, index);
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
            entry.state = State::Running;
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
            entry.state = State::Failed;
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
    match (entry.state, entry.pid) {
        (State::Running, Some(pid)) => {
            entry.state = State::Stopping;
            println!("init: stopping service {name} (pid {pid})");
            if let Err(e) = process::kill(pid, signal::SIGTERM) {
                println!("init: stop {name}: kill: {e:?}");
            }
        }
        _ => {
            if entry.state != State::Stopping {
                entry.state = State::Stopped;
            }
            println!("init: stop {name}: not running");
        }
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
            e.state.name(),
            e.restarts
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
        e.state = State::Stopping;
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

/// A child ended: update its service, restart it, or bring the machine down.
fn reaped(pid: Pid, status: ExitStatus) {
    let mut table = TABLE.lock();
    let shutting_down = table.shutdown.is_some();
    let Some(index) = table.services.iter().position(|e| e.pid == Some(pid)) else {
        println!("init: reaped orphan pid {pid}: {status}");
        return;
    };
    let now = Instant::now();
    let entry = &mut table.services[index];
    entry.pid = None;
    let name = entry.service.name.clone();
    if entry.state == State::Stopping || shutting_down {
        entry.state = State::Stopped;
        println!("init: service {name} stopped ({status})");
        CHANGED.notify_all();
        return;
    }
    if entry.service.importance != 0 {
        entry.state = State::Failed;
        let why = format!(
            "{name} (importance {}) died: {status}",
            entry.service.importance
        );
        drop(table);
        shut_down(Shutdown::Restart, &why);
        return;
    }
    if let Some(critical) = entry.service.critical {
        let window = Duration::from_secs(critical.window_s.into());
        entry
            .critical_exits
            .retain(|t| now.duration_since(*t) < window);
        entry.critical_exits.push(now);
        if entry.critical_exits.len() >= critical.crashes as usize {
            entry.state = State::Failed;
            let why = format!(
                "{name} (critical) died: {status}; {} exits within {} s",
                entry.critical_exits.len(),
                critical.window_s
            );
            drop(table);
            shut_down(Shutdown::Restart, &why);
            return;
        }
    }
    if entry.service.once {
        entry.state = State::Done;
        println!("init: service {name} {status} (once: not restarted)");
        return;
    }
    entry
        .crashes
        .retain(|t| now.duration_since(*t) < CRASH_WINDOW);
    entry.crashes.push(now);
    let crashes = entry.crashes.len();
    if crashes >= CRASH_LIMIT {
        entry.state = State::Failed;
        println!(
            "init: service {name} {status}; {crashes} exits within {} s, not restarting it",
            CRASH_WINDOW.as_secs()
        );
        return;
    }
    entry.restarts += 1;
    println!(
        "init: service {name} {status}; restart {crashes} of {}",
        CRASH_LIMIT - 1
    );
    spawn_locked(&mut table, index);
}
