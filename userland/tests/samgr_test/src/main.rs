//! `/bin/samgr_test`: the samgr suite on the target, modelled on the upstream conformance
//! suite (xts `system_ability_manager_posix`: LiteIPCClient/Feature/Service, Taskpool,
//! SendShareRequest, Broadcast). Booted as pid 1 (`-append "init=/bin/samgr_test"`), it
//! starts the processes it needs itself — `foundation` (uid 7, as init.cfg does),
//! `samgr_test_svc`, `wms_server`, `sensor_service` — and plays init when it kills and
//! restarts them. Each case prints `stest <name> ... ok` or `... FAILED <why>`, the run ends
//! with `stest: N passed, M failed`; pid 1 exiting powers the machine off.
//!
//! Roles for its own children: `samgr_test app` (runs as uid 20000: policy refusals) and
//! `samgr_test flood` (floods `samgr_test_svc` until flow control refuses it).
//!
//! Waiting for another process's registration polls samgr every 20 ms (bounded): a test
//! helper, not part of any boot path (endpoints themselves never poll).
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod inproc;
mod remote;

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::time::Duration;
use samgr::Error;
use samgr::client::{RemoteProxy, get_remote};
use ulib::process::{self, Pid, SpawnOptions};
use ulib::{env, println};

/// A case's result.
pub type TestResult = Result<(), String>;

/// Fails the case with a message unless `cond`.
#[macro_export]
macro_rules! check {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(alloc::format!($($why)+));
        }
    };
}

struct Suite {
    passed: u32,
    failed: u32,
}

impl Suite {
    fn run(&mut self, name: &str, case: &dyn Fn() -> TestResult) {
        match case() {
            Ok(()) => {
                self.passed += 1;
                println!("stest {name} ... ok");
            }
            Err(why) => {
                self.failed += 1;
                println!("stest {name} ... FAILED {why}");
            }
        }
    }
}

/// Starts `path args` as `uid` (gid the same).
pub fn start(path: &str, args: &[&str], uid: u32) -> Result<Pid, String> {
    process::spawn(path, args, &[], SpawnOptions::as_user(uid))
        .map_err(|e| format!("spawn {path}: {e:?}"))
}

/// Kills `pid` and reaps it.
pub fn kill(pid: Pid) -> TestResult {
    process::kill(pid, process::signal::SIGKILL).map_err(|e| format!("kill {pid}: {e:?}"))?;
    process::wait(pid).map_err(|e| format!("wait {pid}: {e:?}"))?;
    Ok(())
}

/// The proxy of `service`/`feature` once samgr knows it (polls samgr, at most `secs`).
pub fn wait_remote(
    service: &str,
    feature: Option<&str>,
    secs: u64,
) -> Result<Arc<RemoteProxy>, String> {
    let deadline = ulib::time::now() + Duration::from_secs(secs);
    loop {
        match get_remote(service, feature) {
            Ok(proxy) => return Ok(proxy),
            Err(Error::NoService) if ulib::time::now() < deadline => {
                ulib::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(format!("lookup {service}/{feature:?}: {e}")),
        }
    }
}

fn main() -> i32 {
    samgr::console::init_logger("samgr_test", log::LevelFilter::Info);
    match env::arg(1) {
        Some("app") => return remote::app_role(),
        Some("flood") => return remote::flood_role(),
        Some(other) => {
            println!("samgr_test: unknown role {other}");
            return 2;
        }
        None => {}
    }
    let mut suite = Suite {
        passed: 0,
        failed: 0,
    };
    inproc::run_all(&mut |name, case| suite.run(name, case));
    remote::run_all(&mut |name, case| suite.run(name, case));
    println!("stest: {} passed, {} failed", suite.passed, suite.failed);
    i32::from(suite.failed != 0)
}

ulib::entry!(main);
