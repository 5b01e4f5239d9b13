//! `/bin/sensor_service`: the service "SensorService" with the feature "SensorFeature",
//! whose API is exported (one router). Subscriptions are served by a thread each, which
//! sends readings at the requested rate (a sleep between samples is the rate, not a poll)
//! and stops when done, cancelled, or when the subscriber's handle dies (the endpoint's
//! death notification) or refuses the message. See the crate's `lib.rs` for the protocol.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use abi::liteipc::SvcIdentity;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use core::time::Duration;
use samgr::client::send_oneway_to;
use samgr::endpoint::{Endpoint, EndpointKind};
use samgr::ipc::{IpcReader, IpcWriter};
use samgr::os::Mutex;
use samgr::task::{LEVEL_HIGH, PRI_NORMAL};
use samgr::{
    Api, CallHandler, Error, Feature, Identity, Origin, Request, Service, TaskConfig, TaskType,
};
use sensor_service::*;

struct SensorSvc;

impl Service for SensorSvc {
    fn name(&self) -> &str {
        SENSOR_SERVICE
    }
    fn initialize(&self, _identity: Identity) -> bool {
        true
    }
    fn message_handle(&self, _request: &mut Request) -> bool {
        false
    }
    fn task_config(&self) -> TaskConfig {
        TaskConfig::new(LEVEL_HIGH, PRI_NORMAL, 0x1000, 20, TaskType::Single)
    }
}

struct SensorFeatureImpl;

impl Feature for SensorFeatureImpl {
    fn name(&self) -> &str {
        SENSOR_FEATURE
    }
    fn on_initialize(&self, _parent: &dyn Service, _identity: Identity) {}
    fn on_stop(&self, _identity: Identity) {}
    fn on_message(&self, _request: &mut Request) -> bool {
        false
    }
}

struct Subscription {
    id: u32,
    to: SvcIdentity,
    cancelled: Arc<AtomicBool>,
}

/// The feature's API.
struct SensorApi {
    counters: [AtomicU64; SENSORS.len()],
    subscriptions: Arc<Mutex<Vec<Subscription>>>,
    next: AtomicU32,
}

fn sensor(id: u32) -> Result<&'static Sensor, Error> {
    SENSORS.iter().find(|s| s.id == id).ok_or(Error::NoService)
}

impl SensorApi {
    fn subscribe(&self, origin: &Origin, r: &mut dyn IpcReader) -> Result<u32, Error> {
        let sensor = *sensor(r.pop_u32()?)?;
        let count = r.pop_u32()?;
        let interval = r.pop_u32()?;
        let to = r.pop_svc()?;
        if count == 0 || count > MAX_COUNT || interval < MIN_INTERVAL_MS {
            return Err(Error::Invalid);
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let cancelled = Arc::new(AtomicBool::new(false));
        {
            let mut subs = self.subscriptions.lock();
            if subs.len() >= MAX_SUBSCRIPTIONS {
                return Err(Error::NoMemory);
            }
            subs.push(Subscription {
                id,
                to,
                cancelled: cancelled.clone(),
            });
        }
        log::info!(
            "sensor_service: subscription {id} of pid {}: {count} {} reading(s) every {interval} ms",
            origin.pid,
            sensor.name
        );
        let subscriptions = self.subscriptions.clone();
        let spawned = ulib::thread::spawn(
            move || {
                let mut sent = 0;
                for n in 0..u64::from(count) {
                    if cancelled.load(Ordering::Acquire) {
                        break;
                    }
                    let reading = sensor.sample(n);
                    let result = send_oneway_to(to, SENSOR_DATA, |w| {
                        w.push_u32(id)?;
                        reading.write(w)
                    });
                    if let Err(e) = result {
                        log::warn!("sensor_service: subscription {id}: subscriber gone ({e})");
                        break;
                    }
                    sent += 1;
                    if n + 1 < u64::from(count) {
                        ulib::thread::sleep(Duration::from_millis(u64::from(interval)));
                    }
                }
                subscriptions.lock().retain(|s| s.id != id);
                log::info!("sensor_service: subscription {id} ended after {sent} reading(s)");
                0
            },
            samgr::task::os_priority(PRI_NORMAL),
        );
        if spawned.is_err() {
            self.subscriptions.lock().retain(|s| s.id != id);
            return Err(Error::NoMemory);
        }
        Ok(id)
    }

    /// A handle died: cancel the subscriptions that send to it.
    fn on_death(&self, handle: u32) {
        for sub in self
            .subscriptions
            .lock()
            .iter()
            .filter(|s| s.to.handle == handle)
        {
            sub.cancelled.store(true, Ordering::Release);
        }
    }
}

impl CallHandler for SensorApi {
    fn handle(
        &self,
        code: u32,
        o: &Origin,
        r: &mut dyn IpcReader,
        w: &mut dyn IpcWriter,
    ) -> Result<(), Error> {
        match code {
            LIST => {
                w.push_u32(SENSORS.len() as u32)?;
                for s in &SENSORS {
                    w.push_u32(s.id)?;
                    w.push_string(s.name)?;
                    w.push_u32(s.kind)?;
                    w.push_u32(s.max_rate_hz)?;
                }
            }
            READ => {
                let s = sensor(r.pop_u32()?)?;
                let n = self.counters[s.id as usize].fetch_add(1, Ordering::Relaxed);
                s.sample(n).write(w)?;
            }
            SUBSCRIBE => w.push_u32(self.subscribe(o, r)?)?,
            UNSUBSCRIBE => {
                let id = r.pop_u32()?;
                let subs = self.subscriptions.lock();
                let sub = subs.iter().find(|s| s.id == id).ok_or(Error::NoService)?;
                sub.cancelled.store(true, Ordering::Release);
            }
            _ => return Err(Error::Invalid),
        }
        Ok(())
    }

    /// Readings are computed, subscriptions recorded (their readings come from a thread of
    /// their own): nothing waits.
    fn is_quick(&self, _code: u32) -> bool {
        true
    }
}

samgr::exported_interface!(SensorApi);

fn main() -> i32 {
    samgr::console::init_logger("sensor_service", log::LevelFilter::Info);
    let endpoint = match Endpoint::install(EndpointKind::Client) {
        Ok(ep) => ep,
        Err(e) => {
            log::error!("sensor_service: no endpoint: {e}");
            return 1;
        }
    };
    let api = Arc::new(SensorApi {
        counters: [AtomicU64::new(0), AtomicU64::new(0)],
        subscriptions: Arc::new(Mutex::new(Vec::new())),
        next: AtomicU32::new(0),
    });
    let watcher = api.clone();
    endpoint.on_handle_death(move |handle| watcher.on_death(handle));
    samgr::console::serve("sensor_service", |samgr| {
        samgr.register_service(Arc::new(SensorSvc))?;
        samgr.register_feature(SENSOR_SERVICE, Arc::new(SensorFeatureImpl))?;
        samgr.register_feature_api(SENSOR_SERVICE, Some(SENSOR_FEATURE), Api::from_arc(api))
    })
}

ulib::entry!(main);
