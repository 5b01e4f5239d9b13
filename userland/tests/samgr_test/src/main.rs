//! `/bin/samgr_test`: the samgr suite on the target, modelled on the upstream conformance
//! suite (xts `system_ability_manager_posix`: LiteIPCClient/Feature/Service, Taskpool,
//! SendShareRequest, Broadcast). Booted as pid 1 (`-append "init=/bin/samgr_test"`), it
//! starts the processes it needs itself — `foundation` (uid 7, as init.cfg does),
//! `samgr_test_svc`, `wms_server`, `sensor_service` — and plays init when it kills and
//! restarts them. Each case prints `stest <name> ... ok` or `... FAILED <file:line why>` (the
//! shared runner of `ulib::check`), the run ends with `stest: N passed, M failed`; pid 1
//! exiting powers the machine off.
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
use ulib::check::{Case, Context, Runner, TestResult, fail};
use ulib::process::{self, Pid, SpawnOptions};
use ulib::{env, println, test_cases};

/// The in-process cases; they need nothing but this process.
const INPROC: &[Case] = test_cases![
    inproc::taskpool_kinds_and_priority_order,
    inproc::shared_request_reaches_every_feature,
    inproc::broadcast_publish_subscribe,
    inproc::service_feature_register_unregister,
];

/// The cross-process cases, in order, once [`remote::setup`] has started their processes.
const REMOTE: &[Case] = test_cases![
    remote::remote_api_lookup,
    remote::request_response_payloads,
    remote::quick_calls_keep_their_order,
    remote::oversize_request_ec_invalid,
    remote::export_register_unregister,
    remote::permission_denied_for_app_uid,
    remote::syscap_get_put_all,
    remote::flow_control_throttles_flooder,
    remote::wms_windows_input_sensor_demo,
    remote::kill_server_mid_call,
    remote::kill_wms_server_mid_call,
    remote::foundation_restart_reregisters,
];

/// Starts `path args` as `uid` (gid the same).
#[track_caller]
pub fn start(path: &str, args: &[&str], uid: u32) -> Result<Pid, String> {
    process::spawn(path, args, &[], SpawnOptions::as_user(uid)).context(&format!("spawn {path}"))
}

/// Kills `pid` and reaps it.
#[track_caller]
pub fn kill(pid: Pid) -> TestResult {
    process::kill(pid, process::signal::SIGKILL).context(&format!("kill {pid}"))?;
    process::wait(pid).context(&format!("wait {pid}"))?;
    Ok(())
}

/// The proxy of `service`/`feature` once samgr knows it (polls samgr, at most `secs`).
#[track_caller]
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
            Err(e) => return fail(format_args!("lookup {service}/{feature:?}: {e}")),
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
    let mut runner = Runner::new("stest");
    runner.run(&mut (), INPROC);
    match remote::setup() {
        Ok(()) => runner.run(&mut (), REMOTE),
        Err(why) => runner.record("remote::setup", Err(why)),
    }
    runner.finish()
}

ulib::entry!(main);
