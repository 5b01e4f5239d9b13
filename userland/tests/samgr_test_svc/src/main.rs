//! `/bin/samgr_test_svc [--rate R --burst B]`: exports three interfaces through samgr for the
//! system tests (see the crate's `lib.rs` for the codes): the default API of `samgr_test`
//! (echo, sleep, one-way flood target), its feature `secure` (samgr gives it a policy that
//! admits uids below 10000 only) and the default API of `samgr_sys` (apps may not look it
//! up). `--rate`/`--burst` set the endpoint's flow control (messages per second, burst).
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use samgr::endpoint::{Endpoint, EndpointKind};
use samgr::errno::{EC_INVALID, EC_SUCCESS};
use samgr::ipc::{IoError, IpcReader, IpcWriter};
use samgr::task::{LEVEL_HIGH, PRI_BELOW_NORMAL, PRI_NORMAL};
use samgr::{Api, Feature, IServerProxy, Identity, Origin, Request, Service, TaskConfig, TaskType};
use samgr_test_svc::*;

struct Plain {
    name: &'static str,
    priority: i16,
}

impl Service for Plain {
    fn name(&self) -> &str {
        self.name
    }
    fn initialize(&self, _identity: Identity) -> bool {
        true
    }
    fn message_handle(&self, _request: &mut Request) -> bool {
        false
    }
    fn task_config(&self) -> TaskConfig {
        TaskConfig::new(LEVEL_HIGH, self.priority, 0x1000, 64, TaskType::Single)
    }
}

struct SecureFeature;

impl Feature for SecureFeature {
    fn name(&self) -> &str {
        SECURE_FEATURE
    }
    fn on_initialize(&self, _parent: &dyn Service, _identity: Identity) {}
    fn on_stop(&self, _identity: Identity) {}
    fn on_message(&self, _request: &mut Request) -> bool {
        false
    }
}

/// The echo interface.
struct EchoApi {
    noops: AtomicU32,
    /// APPENDed values and the thread each ran on.
    log: ulib::sync::Mutex<Vec<(u32, u32)>>,
}

impl EchoApi {
    fn append(&self, request: &mut dyn IpcReader) -> Result<(), IoError> {
        let x = request.pop_u32()?;
        self.log.lock().push((x, ulib::thread::current().as_raw()));
        Ok(())
    }

    fn take_log(&self, reply: &mut dyn IpcWriter) -> Result<(), IoError> {
        let log = core::mem::take(&mut *self.log.lock());
        reply.push_u32(log.len() as u32)?;
        for (x, thread) in log {
            reply.push_u32(x)?;
            reply.push_u32(thread)?;
        }
        reply.push_u32(ulib::thread::current().as_raw())
    }
}

fn echo(request: &mut dyn IpcReader, reply: &mut dyn IpcWriter) -> Result<(), IoError> {
    let a = request.pop_u32()?;
    let s = request.pop_string()?.to_ascii_uppercase();
    let bytes = request.pop_flat_obj()?;
    let (sum, len) = (checksum(bytes), bytes.len() as u32);
    reply.push_u32(a.wrapping_mul(2))?;
    reply.push_string(&s)?;
    reply.push_u32(sum)?;
    reply.push_u32(len)
}

impl IServerProxy for EchoApi {
    fn invoke(
        &self,
        code: u32,
        _origin: &Origin,
        request: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> i32 {
        let result = match code {
            ECHO => echo(request, reply),
            SLEEP => request.pop_u32().and_then(|ms| {
                ulib::thread::sleep(Duration::from_millis(u64::from(ms.min(10_000))));
                reply.push_u32(ms)
            }),
            NOOP => {
                self.noops.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            GETPID | GETPID_QUEUED => reply.push_u32(ulib::process::getpid().as_raw()),
            COUNT => reply.push_u32(self.noops.load(Ordering::Relaxed)),
            APPEND | APPEND_SLOW => self.append(request),
            TAKE_LOG => self.take_log(reply),
            _ => Err(IoError::Malformed),
        };
        if result.is_ok() {
            EC_SUCCESS
        } else {
            EC_INVALID
        }
    }

    /// Everything but SLEEP, which waits on the service thread, and the calls declared
    /// slow to go through the queue (APPEND_SLOW, GETPID_QUEUED).
    fn is_quick(&self, code: u32) -> bool {
        !matches!(code, SLEEP | APPEND_SLOW | GETPID_QUEUED)
    }
}

samgr::exported_interface!(EchoApi);

/// The secure feature's and the system service's interface: answers a fixed string.
struct FixedApi(&'static str);

impl IServerProxy for FixedApi {
    fn invoke(
        &self,
        code: u32,
        _: &Origin,
        _: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> i32 {
        if code == SECRET && reply.push_string(self.0).is_ok() {
            EC_SUCCESS
        } else {
            EC_INVALID
        }
    }

    fn is_quick(&self, _code: u32) -> bool {
        true
    }
}

samgr::exported_interface!(FixedApi);

fn flag(name: &str) -> Option<i64> {
    let mut args = ulib::env::args();
    while let Some(arg) = args.next() {
        if arg == name {
            return args.next().and_then(|v| v.parse().ok());
        }
    }
    None
}

fn main() -> i32 {
    samgr::console::init_logger("samgr_test_svc", log::LevelFilter::Info);
    let endpoint = match Endpoint::install(EndpointKind::Client) {
        Ok(ep) => ep,
        Err(e) => {
            log::error!("samgr_test_svc: {e}");
            return 1;
        }
    };
    if let (Some(rate), Some(burst)) = (flag("--rate"), flag("--burst")) {
        endpoint.set_flow_control(rate, burst);
        log::info!("samgr_test_svc: flow control {rate}/s, burst {burst}");
    }
    samgr::console::serve("samgr_test_svc", |samgr| {
        samgr.register_service(Arc::new(Plain {
            name: SERVICE,
            priority: PRI_NORMAL,
        }))?;
        samgr.register_feature(SERVICE, Arc::new(SecureFeature))?;
        samgr.register_default_feature_api(
            SERVICE,
            Api::new(EchoApi {
                noops: AtomicU32::new(0),
                log: ulib::sync::Mutex::new(Vec::new()),
            }),
        )?;
        samgr.register_feature_api(SERVICE, Some(SECURE_FEATURE), Api::new(FixedApi("secret")))?;
        samgr.register_service(Arc::new(Plain {
            name: SYSTEM_SERVICE,
            priority: PRI_BELOW_NORMAL,
        }))?;
        samgr.register_default_feature_api(SYSTEM_SERVICE, Api::new(FixedApi("system")))
    })
}

ulib::entry!(main);
