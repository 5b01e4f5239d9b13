//! `/bin/shell`: the console shell of the `shell` service (OpenHarmony's `OHOS # ` prompt).
//!
//! Reads the console byte by byte (the read blocks on the UART receive interrupt; there is
//! no line discipline, so [`shell::line::Editor`] echoes and edits), then runs one of the
//! built-in commands. Service requests (`start`, `stop`, `services`, `reboot`, `poweroff`)
//! are messages to init on `/dev/initctl`; init answers on the console. Bad input only
//! ever produces a message.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use abi::syscall::{INITCTL_PATH, TaskInfo, sched, task_state};
use alloc::vec::Vec;
use shell::line::{Editor, Event};
use shell::{program_path, words};
use ulib::fs::{self, File, open_flags};
use ulib::process::{self, Pid, SpawnOptions, signal};
use ulib::{Errno, env, io, print, println, sys, system, time};

/// The prompt, as on OpenHarmony's LiteOS-A shell.
const PROMPT: &str = "OHOS # ";
/// Most kernel log bytes `dmesg` prints.
const DMESG_BYTES: usize = 16 * 1024;
/// Bytes per page frame.
const FRAME_KIB: u64 = 4;

fn main() -> i32 {
    println!("shell: ready; type `help`");
    let mut editor = Editor::new();
    print!("{PROMPT}");
    let mut buf = [0u8; 64];
    loop {
        let n = match sys::read(io::STDIN, &mut buf) {
            Ok(0) => return 0,
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(e) => {
                println!("shell: console read failed: {e:?}");
                return 1;
            }
        };
        for &byte in buf.get(..n).unwrap_or_default() {
            match editor.feed(byte) {
                Event::None => {}
                Event::Echo(bytes) => {
                    let _ = io::write_all(io::STDOUT, &bytes);
                }
                Event::Line(line) => {
                    print!("\r\n");
                    run_line(&line);
                    print!("{PROMPT}");
                }
                Event::Cancel => print!("^C\r\n{PROMPT}"),
            }
        }
    }
}

/// Runs one command line.
fn run_line(line: &str) {
    let words = words(line);
    let Some((&command, args)) = words.split_first() else {
        return;
    };
    match command {
        "help" => help(),
        "ps" => ps(),
        "free" => free(),
        "ls" => ls(args),
        "cat" => cat(args),
        "echo" => println!("{}", args.join(" ")),
        "kill" => kill(args),
        "start" | "stop" => match args {
            [name] => initctl(&alloc::format!("{command} {name}")),
            _ => println!("usage: {command} SERVICE"),
        },
        "services" => initctl("status"),
        "reboot" => initctl("reboot"),
        "poweroff" => initctl("poweroff"),
        "uptime" => uptime(),
        "dmesg" => dmesg(),
        "hostname" => match system::hostname() {
            Ok(name) => println!("{name}"),
            Err(e) => println!("hostname: {e:?}"),
        },
        "run" => run(args),
        _ => match PROGRAM_COMMANDS
            .iter()
            .find(|(name, _, _)| *name == command)
        {
            Some((_, program, _)) => run(&[&[*program][..], args].concat()),
            None => println!("shell: unknown command: {command}"),
        },
    }
}

/// Commands that run a program from /bin: (command, program, help text).
const PROGRAM_COMMANDS: [(&str, &str, &str); 3] = [
    (
        "samgr",
        "samgr_ctl",
        "samgr endpoints, services, features (`samgr syscap`: capabilities)",
    ),
    (
        "wms",
        "wms_ctl",
        "windows (`wms key CODE`: inject a key through IMS)",
    ),
    (
        "page",
        "page_ctl",
        "pages through pagemanagerd: `page open URI`, `page close ID`, `page list`",
    ),
];

fn help() {
    println!("commands:");
    for (name, what) in [
        ("help", "this list"),
        (
            "ps",
            "threads: pid, ppid, tid, priority, policy, state, uid, name",
        ),
        ("free", "memory use"),
        ("ls [-l] [PATH]", "list a directory (-l: mode, owner, size)"),
        ("cat FILE...", "print files"),
        ("echo TEXT...", "print the arguments"),
        ("kill [-9|-15] PID", "end a process (default SIGTERM)"),
        ("start SERVICE", "ask init to start a service"),
        ("stop SERVICE", "ask init to stop a service"),
        ("services", "ask init to print its service table"),
        ("uptime", "time since boot"),
        ("dmesg", "the kernel log"),
        ("hostname", "the host name"),
        (
            "run PROGRAM [ARGS]",
            "run a program (from /bin unless a path) and wait",
        ),
        (
            "reboot | poweroff",
            "ask init to stop the services and restart or power off",
        ),
    ] {
        println!("  {name:<20} {what}");
    }
    for (name, _, what) in PROGRAM_COMMANDS {
        println!("  {name:<20} {what}");
    }
}

fn state_name(state: u8) -> &'static str {
    match state {
        task_state::RUNNING => "running",
        task_state::READY => "ready",
        task_state::BLOCKED => "blocked",
        task_state::ZOMBIE => "zombie",
        _ => "?",
    }
}

fn policy_name(policy: u8) -> &'static str {
    match u32::from(policy) {
        sched::SCHED_FIFO => "FIFO",
        sched::SCHED_RR => "RR",
        _ => "?",
    }
}

fn ps() {
    let tasks: Vec<TaskInfo> = match system::tasks() {
        Ok(tasks) => tasks,
        Err(e) => return println!("ps: {e:?}"),
    };
    println!(
        "{:>5} {:>5} {:>5} {:>4} {:<6} {:<8} {:>5} NAME",
        "PID", "PPID", "TID", "PRI", "POLICY", "STATE", "UID"
    );
    for t in &tasks {
        println!(
            "{:>5} {:>5} {:>5} {:>4} {:<6} {:<8} {:>5} {}",
            t.pid,
            t.ppid,
            t.tid,
            t.priority,
            policy_name(t.policy),
            state_name(t.state),
            t.uid,
            system::task_name(t)
        );
    }
}

fn free() {
    match system::meminfo() {
        Ok(m) => {
            let total = m.total_frames * FRAME_KIB;
            let free = m.free_frames * FRAME_KIB;
            println!("{:<6} {:>10} {:>10} {:>10}", "", "total", "used", "free");
            println!(
                "{:<6} {:>9}K {:>9}K {:>9}K",
                "Mem:",
                total,
                total.saturating_sub(free),
                free
            );
            let heap = m.heap_used + m.heap_free;
            println!(
                "{:<6} {:>9}K {:>9}K {:>9}K",
                "Heap:",
                heap / 1024,
                m.heap_used / 1024,
                m.heap_free / 1024
            );
        }
        Err(e) => println!("free: {e:?}"),
    }
}

fn ls(args: &[&str]) {
    let long = args.contains(&"-l");
    let paths: Vec<&str> = args.iter().copied().filter(|a| *a != "-l").collect();
    let paths = if paths.is_empty() {
        alloc::vec!["/"]
    } else {
        paths
    };
    for path in paths {
        let meta = match fs::stat(path) {
            Ok(meta) => meta,
            Err(e) => {
                println!("ls: {path}: {e:?}");
                continue;
            }
        };
        if !meta.is_dir() {
            print_entry(path, path, long);
            continue;
        }
        match fs::read_dir(path) {
            Ok(mut entries) => {
                entries.retain(|e| e.name != "." && e.name != "..");
                entries.sort_by(|a, b| a.name.cmp(&b.name));
                for entry in entries {
                    let full = alloc::format!("{}/{}", path.trim_end_matches('/'), entry.name);
                    print_entry(&full, &entry.name, long);
                }
            }
            Err(e) => println!("ls: {path}: {e:?}"),
        }
    }
}

fn print_entry(full: &str, name: &str, long: bool) {
    if !long {
        return println!("{name}");
    }
    match fs::stat(full) {
        Ok(m) => println!(
            "{} {:>5} {:>5} {:>8} {name}",
            fs::mode_string(m.mode()),
            m.uid(),
            m.gid(),
            m.len()
        ),
        Err(e) => println!("?????????? {name}: {e:?}"),
    }
}

fn cat(args: &[&str]) {
    if args.is_empty() {
        return println!("usage: cat FILE...");
    }
    for path in args {
        if let Err(e) = cat_one(path) {
            println!("cat: {path}: {e:?}");
        }
    }
}

fn cat_one(path: &str) -> Result<(), Errno> {
    let mut file = File::open_with(path, open_flags::O_RDONLY, 0)?;
    if file.metadata()?.is_dir() {
        return Err(Errno::EISDIR);
    }
    let mut chunk = [0u8; 512];
    loop {
        match file.read(&mut chunk)? {
            0 => return Ok(()),
            n => io::write_all(io::STDOUT, chunk.get(..n).unwrap_or_default())?,
        }
    }
}

fn kill(args: &[&str]) {
    let (sig, pid) = match args {
        [pid] => (signal::SIGTERM, *pid),
        ["-9", pid] => (signal::SIGKILL, *pid),
        ["-15", pid] => (signal::SIGTERM, *pid),
        _ => return println!("usage: kill [-9|-15] PID"),
    };
    match pid.parse::<u32>() {
        Ok(raw) => {
            if let Err(e) = process::kill(Pid::from_raw(raw), sig) {
                println!("kill: {raw}: {e:?}");
            }
        }
        Err(_) => println!("kill: {pid:?} is not a pid"),
    }
}

/// Sends one request to init; its answer appears on the console.
fn initctl(message: &str) {
    let result = File::open_with(INITCTL_PATH, open_flags::O_WRONLY, 0)
        .and_then(|mut channel| channel.write(message.as_bytes()));
    if let Err(e) = result {
        println!("shell: cannot ask init ({INITCTL_PATH}): {e:?}");
    }
}

fn uptime() {
    let up = time::now();
    let secs = up.as_secs();
    println!(
        "up {}:{:02}:{:02}.{:03}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        up.subsec_millis()
    );
}

fn dmesg() {
    match system::dmesg(DMESG_BYTES) {
        Ok(log) => {
            let _ = io::write_all(io::STDOUT, &log);
        }
        Err(e) => println!("dmesg: {e:?}"),
    }
}

/// `run PROGRAM [ARGS]`: spawn with this shell's environment and wait.
fn run(args: &[&str]) {
    let Some((program, rest)) = args.split_first() else {
        return println!("usage: run PROGRAM [ARGS]");
    };
    let path = program_path(program);
    let env: Vec<&str> = env::vars_raw().collect();
    match process::spawn(&path, rest, &env, SpawnOptions::default()) {
        Ok(pid) => match process::wait(pid) {
            Ok(status) => println!("run: {path} (pid {pid}) {status}"),
            Err(e) => println!("run: wait for {pid}: {e:?}"),
        },
        Err(e) => println!("run: {path}: {e:?}"),
    }
}

ulib::entry!(main);
