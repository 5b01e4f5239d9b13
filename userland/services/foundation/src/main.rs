//! `/bin/foundation`: the process that hosts the samgr server (upstream `foundation` runs
//! `samgr_server` among others). It registers the service "samgr" whose default API is the
//! [`SamgrServer`] and bootstraps; samgr exports that API, so the process's "samgr"
//! endpoint gets a router (token 0) and its boss thread, which makes the process the LiteIPC
//! CMS (`IPC_SET_CMS`, 256-byte limit; exits with status 4 if that fails, so init restarts it)
//! and its IPC thread (handle 0). Requests to {0, 0, 0} then reach the samgr service's
//! thread like any routed call. Endpoint deaths (the server watches every handle it hands out)
//! come back to the boss thread, which tells the server to drop that process's entries.
//!
//! The SysCap list comes from `/etc/system_capability.json`; a missing or broken file leaves
//! the table empty (logged).
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::sync::Arc;
use foundation::{SYSCAP_FILE, parse_syscaps};
use samgr::endpoint::{Endpoint, EndpointKind, context};
use samgr::server::{Cms, SamgrServer};
use samgr::syscap::SysCapTable;
use samgr::task::{LEVEL_HIGH, PRI_ABOVE_NORMAL};
use samgr::{Api, Error, Identity, Request, Service, TaskConfig, TaskType};

/// The kernel side of the server: `IPC_CMS_CMD` on this process's LiteIPC context.
struct KernelCms;

impl Cms for KernelCms {
    fn gen_handle(&self, tid: u32) -> Result<u32, Error> {
        context()?.gen_handle(tid).map_err(|e| {
            log::warn!("foundation: CMS_GEN_HANDLE for task {tid}: {e:?}");
            Error::Failure
        })
    }

    fn add_access(&self, tid: u32, handle: u32) -> Result<(), Error> {
        context()?.add_access(tid, handle).map_err(|e| {
            log::warn!("foundation: CMS_ADD_ACCESS {handle} for task {tid}: {e:?}");
            Error::Failure
        })
    }

    fn watch(&self, handle: u32) -> Result<(), Error> {
        // Reaching the handle is what makes its death notification come to us.
        self.add_access(ulib::thread::current().as_raw(), handle)
    }
}

/// The service "samgr" (upstream `g_server`'s service part): a single task of its own.
struct SamgrService;

impl Service for SamgrService {
    fn name(&self) -> &str {
        samgr::remote::SAMGR_SERVICE
    }

    fn initialize(&self, _identity: Identity) -> bool {
        true
    }

    fn message_handle(&self, _request: &mut Request) -> bool {
        false
    }

    fn task_config(&self) -> TaskConfig {
        TaskConfig::new(LEVEL_HIGH, PRI_ABOVE_NORMAL, 0x1000, 20, TaskType::Single)
    }
}

fn load_syscaps() -> SysCapTable {
    match ulib::fs::read(SYSCAP_FILE) {
        Ok(bytes) => match parse_syscaps(&bytes) {
            Ok((table, _)) => {
                log::info!(
                    "foundation: {} system capabilities from {SYSCAP_FILE}",
                    table.len()
                );
                table
            }
            Err(e) => {
                log::error!("foundation: {SYSCAP_FILE}: {e:?}");
                SysCapTable::new()
            }
        },
        Err(e) => {
            log::error!("foundation: cannot read {SYSCAP_FILE}: {e:?}");
            SysCapTable::new()
        }
    }
}

fn main() -> i32 {
    samgr::console::init_logger("foundation", log::LevelFilter::Info);
    let server = Arc::new(SamgrServer::new(Box::new(KernelCms), load_syscaps()));
    let endpoint = match Endpoint::install(EndpointKind::Samgr) {
        Ok(endpoint) => endpoint,
        Err(e) => {
            log::error!("foundation: no LiteIPC endpoint: {e}");
            return 1;
        }
    };
    let watcher = server.clone();
    endpoint.on_handle_death(move |handle| {
        watcher.on_endpoint_death(handle);
    });
    samgr::console::serve("foundation", |samgr| {
        samgr.register_service(Arc::new(SamgrService))?;
        samgr.register_default_feature_api(samgr::remote::SAMGR_SERVICE, Api::from_arc(server))
    })
}

ulib::entry!(main);
