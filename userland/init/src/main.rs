//! `/bin/init`, pid 1 (for now): starts `/bin/hello a b` and `/bin/utest` one after the
//! other, reports how each ended, reaps any orphans handed to it, and returns 0, after
//! which the kernel powers off. A fuller init (services, respawn) comes later.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use ulib::process::{self, Pid, SpawnOptions};
use ulib::{Errno, println};

/// Programs run in order, with their arguments.
const PROGRAMS: [(&str, &[&str]); 2] = [("/bin/hello", &["a", "b"]), ("/bin/utest", &[])];

/// Environment every child gets.
const ENV: [&str; 2] = ["PATH=/bin", "HOME=/"];

fn main() -> i32 {
    println!("init: started (pid {})", process::getpid());
    let mut failures = 0;
    for (path, args) in PROGRAMS {
        if !run(path, args) {
            failures += 1;
        }
    }
    reap_orphans();
    if failures > 0 {
        println!("init: {failures} program(s) failed");
    }
    println!("init: all done");
    0
}

/// Runs one program to completion; true when it exited with status 0.
fn run(path: &str, args: &[&str]) -> bool {
    let pid = match process::spawn(path, args, &ENV, SpawnOptions::default()) {
        Ok(pid) => pid,
        Err(e) => {
            println!("init: cannot spawn {path}: {e:?}");
            return false;
        }
    };
    match process::wait(pid) {
        Ok(status) => {
            println!("init: {path} {status}");
            status.success()
        }
        Err(e) => {
            println!("init: wait for {path} (pid {pid}) failed: {e:?}");
            false
        }
    }
}

/// Reaps every child that has already ended (orphans re-parented to init included),
/// until the kernel says there are no children left or none has ended yet.
fn reap_orphans() {
    loop {
        match process::try_wait_any() {
            Ok(Some((pid, status))) => report_orphan(pid, status),
            Ok(None) => {
                println!("init: children still running, not waiting for them");
                return;
            }
            Err(Errno::ECHILD) => return,
            Err(e) => {
                println!("init: wait failed: {e:?}");
                return;
            }
        }
    }
}

fn report_orphan(pid: Pid, status: process::ExitStatus) {
    println!("init: reaped orphan pid {pid}: {status}");
}

ulib::entry!(main);
