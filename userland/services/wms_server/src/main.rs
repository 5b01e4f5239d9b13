//! `/bin/wms_server`: the window manager process of seed 001. It runs three services:
//! Broadcast (no default API; its feature "Provider and subscriber" is in-process pub/sub and
//! not exported), WMS and IMS (default APIs with `SERVER_PROXY_VER`, so the endpoint gets two
//! routers, starts its boss thread with the first, registers with samgr and then registers
//! both). See the crate's `lib.rs` for the protocol.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use abi::liteipc::SvcIdentity;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use samgr::broadcast::{self, Consumer, PubSubInterface, Topic};
use samgr::client::send_oneway_to;
use samgr::endpoint::{Endpoint, EndpointKind};
use samgr::ipc::{IpcReader, IpcWriter};
use samgr::os::Mutex;
use samgr::task::{LEVEL_HIGH, PRI_NORMAL};
use samgr::{
    Api, CallHandler, Error, Identity, Origin, Request, Samgr, Service, TaskConfig, TaskType,
};
use wms_server::{IMS_SERVICE, TOPIC_FOCUS, WMS_SERVICE, Windows, ims, wms};

/// Frame period of PRESENT.
const FRAME: Duration = Duration::from_millis(16);
/// Most frames one PRESENT waits.
const MAX_PRESENT_FRAMES: u32 = 250;

struct PlainService(&'static str);

impl Service for PlainService {
    fn name(&self) -> &str {
        self.0
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

/// IMS's service object: subscribes IMS to focus changes when it initialises.
struct ImsService(Arc<ImsApi>);

impl Service for ImsService {
    fn name(&self) -> &str {
        IMS_SERVICE
    }
    fn initialize(&self, identity: Identity) -> bool {
        *self.0.identity.lock() = identity;
        let Some(pubsub) = PubSubInterface::get(Samgr::instance()) else {
            log::error!("wms_server: IMS: no Broadcast service");
            return false;
        };
        let _ = pubsub.add_topic(TOPIC_FOCUS);
        if let Err(e) = pubsub.subscribe(TOPIC_FOCUS, self.0.clone()) {
            log::error!("wms_server: IMS: subscribe to focus changes: {e}");
        }
        true
    }
    fn message_handle(&self, _request: &mut Request) -> bool {
        false
    }
    fn task_config(&self) -> TaskConfig {
        TaskConfig::new(LEVEL_HIGH, PRI_NORMAL, 0x1000, 20, TaskType::Single)
    }
}

/// The WMS interface.
struct WmsApi {
    windows: Mutex<Windows>,
    frame: AtomicU64,
}

impl WmsApi {
    fn publish_focus(&self) {
        let (window, owner) = self.windows.lock().focused().unwrap_or((0, 0));
        let mut data = [0u8; 8];
        data[..4].copy_from_slice(&window.to_le_bytes());
        data[4..].copy_from_slice(&owner.to_le_bytes());
        if let Some(pubsub) = PubSubInterface::get(Samgr::instance()) {
            pubsub.publish(TOPIC_FOCUS, &data);
        }
    }
}

impl CallHandler for WmsApi {
    fn handle(
        &self,
        code: u32,
        o: &Origin,
        r: &mut dyn IpcReader,
        w: &mut dyn IpcWriter,
    ) -> Result<(), Error> {
        let (pid, uid) = (o.pid, o.uid);
        let focus_changes = matches!(code, wms::CREATE | wms::DESTROY | wms::FOCUS);
        match code {
            wms::CREATE => {
                let (x, y, ww, h) = (r.pop_i32()?, r.pop_i32()?, r.pop_u32()?, r.pop_u32()?);
                let title = r.pop_string()?;
                let id = self.windows.lock().create(pid, x, y, ww, h, title)?;
                log::info!(
                    "wms_server: window {id} \"{title}\" created for pid {pid} at ({x},{y}) {ww}x{h}"
                );
                w.push_u32(id)?;
            }
            wms::DESTROY => self.windows.lock().destroy(r.pop_u32()?, pid, uid)?,
            wms::MOVE => {
                let (id, x, y) = (r.pop_u32()?, r.pop_i32()?, r.pop_i32()?);
                self.windows.lock().move_to(id, x, y, pid, uid)?;
            }
            wms::RESIZE => {
                let (id, ww, h) = (r.pop_u32()?, r.pop_u32()?, r.pop_u32()?);
                self.windows.lock().resize(id, ww, h, pid, uid)?;
            }
            wms::RAISE | wms::LOWER => {
                self.windows
                    .lock()
                    .restack(r.pop_u32()?, code == wms::RAISE, pid, uid)?;
            }
            wms::FOCUS => self.windows.lock().focus(r.pop_u32()?, pid, uid)?,
            wms::LIST => {
                let list = self.windows.lock().list();
                w.push_u32(list.len() as u32)?;
                for window in &list {
                    window.write(w)?;
                }
            }
            wms::PRESENT => {
                let frames = r.pop_u32()?.min(MAX_PRESENT_FRAMES);
                ulib::thread::sleep(FRAME * frames);
                let frame =
                    self.frame.fetch_add(u64::from(frames), Ordering::Relaxed) + u64::from(frames);
                w.push_u64(frame)?;
            }
            _ => return Err(Error::Invalid),
        }
        if focus_changes {
            self.publish_focus();
        }
        Ok(())
    }

    /// Table updates and look-ups (a focus change is published without waiting); only
    /// PRESENT waits.
    fn is_quick(&self, code: u32) -> bool {
        code != wms::PRESENT
    }
}

samgr::exported_interface!(WmsApi);

/// The IMS interface and its focus consumer.
struct ImsApi {
    identity: Mutex<Identity>,
    focus: Mutex<Option<(u32, u32)>>,
    listeners: Mutex<Vec<(u32, SvcIdentity)>>,
    sequence: AtomicU64,
}

impl CallHandler for ImsApi {
    fn handle(
        &self,
        code: u32,
        o: &Origin,
        r: &mut dyn IpcReader,
        w: &mut dyn IpcWriter,
    ) -> Result<(), Error> {
        match code {
            ims::REGISTER_LISTENER => {
                let listener = r.pop_svc()?;
                let mut listeners = self.listeners.lock();
                listeners.retain(|(pid, _)| *pid != o.pid);
                listeners.push((o.pid, listener));
                log::info!(
                    "wms_server: IMS listener of pid {} at handle {}",
                    o.pid,
                    listener.handle
                );
                Ok(())
            }
            ims::INJECT_KEY => {
                let (keycode, down) = (r.pop_u32()?, r.pop_bool()?);
                let (window, owner) = (*self.focus.lock()).ok_or(Error::NoService)?;
                let listener = self
                    .listeners
                    .lock()
                    .iter()
                    .find(|(pid, _)| *pid == owner)
                    .map(|(_, l)| *l)
                    .ok_or(Error::NoService)?;
                let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
                let sent = send_oneway_to(listener, ims::EVENT_KEY, |e| {
                    e.push_u32(window)?;
                    e.push_u32(keycode)?;
                    e.push_bool(down)?;
                    e.push_u64(sequence)
                });
                if let Err(e) = sent {
                    log::warn!("wms_server: IMS: listener of pid {owner} gone ({e})");
                    self.listeners.lock().retain(|(pid, _)| *pid != owner);
                    return Err(Error::NoService);
                }
                w.push_u32(window)?;
                w.push_u32(owner)?;
                Ok(())
            }
            _ => Err(Error::Invalid),
        }
    }

    /// Table updates, and key events sent one-way (a send never waits).
    fn is_quick(&self, _code: u32) -> bool {
        true
    }
}

impl Consumer for ImsApi {
    fn identity(&self) -> Option<Identity> {
        Some(self.identity.lock().clone())
    }

    fn notify(&self, _topic: Topic, request: &Request) {
        let Some(&[a, b, c, d, e, f, g, h]) = request
            .data
            .as_bytes()
            .and_then(|bytes| bytes.get(..8))
            .and_then(|bytes| <&[u8; 8]>::try_from(bytes).ok())
        else {
            return;
        };
        let window = u32::from_le_bytes([a, b, c, d]);
        let owner = u32::from_le_bytes([e, f, g, h]);
        *self.focus.lock() = (window != 0).then_some((window, owner));
    }
}

samgr::exported_interface!(ImsApi);

fn main() -> i32 {
    samgr::console::init_logger("wms_server", log::LevelFilter::Info);
    if let Err(e) = Endpoint::install(EndpointKind::Client) {
        log::error!("wms_server: no endpoint: {e}");
        return 1;
    }
    let wms = Arc::new(WmsApi {
        windows: Mutex::new(Windows::new()),
        frame: AtomicU64::new(0),
    });
    let ims = Arc::new(ImsApi {
        identity: Mutex::new(Identity::invalid()),
        focus: Mutex::new(None),
        listeners: Mutex::new(Vec::new()),
        sequence: AtomicU64::new(0),
    });
    samgr::console::serve("wms_server", |samgr| {
        broadcast::install(samgr)?;
        samgr.register_service(Arc::new(PlainService(WMS_SERVICE)))?;
        samgr.register_default_feature_api(WMS_SERVICE, Api::from_arc(wms))?;
        samgr.register_service(Arc::new(ImsService(ims.clone())))?;
        samgr.register_default_feature_api(IMS_SERVICE, Api::from_arc(ims))
    })
}

ulib::entry!(main);
