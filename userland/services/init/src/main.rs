//! `/bin/init`, pid 1: OpenHarmony's startup_init_lite (openharmony-facts.md section 3).
//!
//! 1. Loads `/etc/init.cfg` (or the file named by `init.cfg=PATH` in the kernel command
//!    line, which the kernel passes as `BOOTARGS`). A file that cannot be read or is not
//!    JSON falls back to a built-in console shell; bad entries are logged and skipped.
//! 2. Starts the control thread on `/dev/initctl` (see [`control`]).
//! 3. Runs the jobs `pre-init`, `init`, `post-init` (see [`jobs`]).
//! 4. Supervises the services forever (see [`supervisor`]): pid 1 never exits, except
//!    to bring the machine down.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod config;
mod control;
mod jobs;
mod supervisor;

use ulib::{println, process, thread};

fn main() -> i32 {
    println!("init: started (pid {})", process::getpid());
    let config = config::load();
    supervisor::install(config.services.clone());
    let priority = thread::current_priority().unwrap_or(thread::USER_PRIORITY_MIN);
    if let Err(e) = control::spawn(priority) {
        println!("init: cannot start the control thread: {e:?}");
    }
    jobs::run_all(&config);
    println!("init: jobs done; supervising services");
    supervisor::supervise()
}

ulib::entry!(main);
