//! `/bin/samgr_ctl [syscap]`: asks samgr (ENDPOINT/ALL, FEATURE/ALL) and prints every
//! registered endpoint (owner pid, uid, handle, process name) and every registered
//! service/feature with the handle and token that reach it; `syscap` prints the registered
//! system capabilities instead. Run by the shell's `samgr` command.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use samgr::client;
use ulib::{println, system};

fn process_name(pid: u32) -> String {
    system::tasks()
        .ok()
        .and_then(|tasks| tasks.iter().find(|t| t.pid == pid).map(system::task_name))
        .unwrap_or_default()
}

fn main() -> i32 {
    if ulib::env::arg(1) == Some("syscap") {
        return match client::syscap_all() {
            Ok(caps) => {
                for cap in &caps {
                    println!("{cap}");
                }
                println!("{} system capabilities", caps.len());
                0
            }
            Err(e) => {
                println!("samgr: {e}");
                1
            }
        };
    }
    let (endpoints, features) = match (client::list_endpoints(), client::list_features()) {
        (Ok(e), Ok(f)) => (e, f),
        (Err(e), _) | (_, Err(e)) => {
            println!("samgr: cannot ask samgr: {e}");
            return 1;
        }
    };
    println!("ENDPOINT                  PID   UID  HANDLE  PROCESS");
    let cms = system::tasks().ok().and_then(|tasks| {
        tasks
            .iter()
            .find(|t| system::task_name(t) == "foundation")
            .map(|t| (t.pid, t.uid))
    });
    let (pid, uid) = cms.map_or((String::from("-"), String::from("-")), |(p, u)| {
        (alloc::format!("{p}"), alloc::format!("{u}"))
    });
    println!(
        "{:<24} {:>4} {:>5} {:>7}  {}",
        "samgr", pid, uid, 0, "foundation (CMS)"
    );
    for ep in &endpoints {
        println!(
            "{:<24} {:>4} {:>5} {:>7}  {}",
            "ipc client",
            ep.pid,
            ep.uid,
            ep.handle,
            process_name(ep.pid)
        );
    }
    println!();
    println!("SERVICE          FEATURE          HANDLE  TOKEN   PID   UID");
    for f in &features {
        println!(
            "{:<16} {:<16} {:>6} {:>6} {:>5} {:>5}",
            f.name.service,
            f.name.feature.as_deref().unwrap_or("-"),
            f.identity.handle,
            f.identity.token,
            f.pid,
            f.uid
        );
    }
    println!(
        "{} endpoint(s), {} feature(s)",
        endpoints.len(),
        features.len()
    );
    0
}

ulib::entry!(main);
