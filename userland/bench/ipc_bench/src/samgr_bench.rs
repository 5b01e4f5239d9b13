//! samgr benchmarks, with `foundation` as the CMS and `samgr_test_svc` as the server:
//!
//! - `samgr_lookup`: FEATURE/GET of ("samgr_test", default) from samgr at {0, 0, 0} — one
//!   LiteIPC round trip to foundation's boss thread, dispatched to the samgr service's
//!   thread, plus the `CMS_ADD_ACCESS` it does (what `get_remote` costs when not cached).
//!   Under the samgr endpoint's default flow control (burst 1500 per caller), so at most
//!   1100 lookups are made.
//! - `samgr_proxy_rt`: a client-proxy call (`GETPID`) round trip: transact to the service's
//!   endpoint, boss thread → token bucket → router → (a quick call, the service's task idle)
//!   HandleIpc on the boss thread in the task's place → invoke → reply with status, sent
//!   with the boss thread's next receive. The server runs with flow control lifted.
//! - `samgr_proxy_queued`: the same call declared slow (`GETPID_QUEUED`), so it takes the
//!   way every call took before quick calls: the service's task-pool queue, a wake-up of
//!   its thread, HandleIpc there, the reply from that thread.

use alloc::format;
use alloc::string::String;
use core::time::Duration;
use samgr::Error;
use samgr::client::{self, get_remote};
use samgr::remote::SaName;
use ulib::process::{self, SpawnOptions};
use ulib::{thread, time};

fn start(path: &str, args: &[&str], uid: u32) -> Result<process::Pid, String> {
    process::spawn(path, args, &[], SpawnOptions::as_user(uid))
        .map_err(|e| format!("spawn {path}: {e:?}"))
}

/// Runs the samgr benchmarks.
pub fn run() -> Result<(), String> {
    let foundation = start("/bin/foundation", &[], 7)?;
    let svc = start(
        "/bin/samgr_test_svc",
        &["--rate", "100000000", "--burst", "100000000"],
        0,
    )?;
    // Wait (bounded) until the server registered.
    let deadline = time::now() + Duration::from_secs(20);
    let proxy = loop {
        match get_remote(samgr_test_svc::SERVICE, None) {
            Ok(proxy) => break proxy,
            Err(Error::NoService) if time::now() < deadline => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(format!("lookup: {e}")),
        }
    };
    let name = SaName::new(samgr_test_svc::SERVICE, None);
    let mut lookup = || {
        client::get_feature(&name)
            .map(drop)
            .map_err(|_| abi::Errno::EIO)
    };
    crate::measure("samgr_lookup_warmup", 100, &mut lookup).map_err(crate::fail("lookup"))?;
    crate::measure("samgr_lookup", 1000, &mut lookup).map_err(crate::fail("lookup"))?;
    for (bench, code) in [
        ("samgr_proxy_rt", samgr_test_svc::GETPID),
        ("samgr_proxy_queued", samgr_test_svc::GETPID_QUEUED),
    ] {
        let mut call = || {
            proxy
                .invoke(code, |_| Ok(()), |r| r.pop_u32())
                .map(drop)
                .map_err(|_| abi::Errno::EIO)
        };
        crate::measure(&format!("{bench}_warmup"), 100, &mut call).map_err(crate::fail(bench))?;
        crate::measure(bench, 5000, &mut call).map_err(crate::fail(bench))?;
    }
    for pid in [svc, foundation] {
        let _ = process::kill(pid, process::signal::SIGKILL);
        let _ = process::wait(pid);
    }
    Ok(())
}
