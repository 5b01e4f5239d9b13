//! `/bin/wms_demo`: a client of `wms_server` and `sensor_service` through samgr. It looks
//! WMS up, creates two windows, moves, resizes and restacks them, lists them; registers an
//! input listener with IMS (a callback router of its endpoint), focuses its window, injects a
//! key and receives the event; lists the sensors, reads one, subscribes to the accelerometer
//! and receives a few readings, checking each against the deterministic signal; cleans up,
//! prints `wms_demo: ok` and exits 0 (1 on any failure).
//!
//! If the services are not registered yet (started together by init) it asks samgr again
//! every 20 ms for at most 10 s.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;
use samgr::endpoint::Endpoint;
use samgr::errno::{EC_INVALID, EC_SUCCESS};
use samgr::ipc::{IpcReader, IpcWriter};
use samgr::{Error, IServerProxy, Origin};
use sensor_service::{Reading, SENSOR_DATA, SENSORS, SensorClient};
use ulib::println;
use ulib::sync::{Condvar, Mutex};
use wms_server::{ImsClient, WmsClient, ims};

/// Readings to receive.
const READINGS: u32 = 5;
/// How long to wait for notifications.
const WAIT: Duration = Duration::from_secs(5);

/// Where one-way notifications land (runs on the endpoint's boss thread).
struct Inbox<T> {
    items: Mutex<Vec<T>>,
    changed: Condvar,
    code: u32,
    parse: fn(&mut dyn IpcReader) -> Option<T>,
}

impl<T: Send> Inbox<T> {
    fn new(code: u32, parse: fn(&mut dyn IpcReader) -> Option<T>) -> Arc<Inbox<T>> {
        Arc::new(Inbox {
            items: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            code,
            parse,
        })
    }

    /// Waits for `n` items (at most [`WAIT`]).
    fn wait(&self, n: usize) -> Vec<T>
    where
        T: Clone,
    {
        let mut items = self.items.lock();
        let deadline = ulib::time::now() + WAIT;
        while items.len() < n && ulib::time::now() < deadline {
            items = self
                .changed
                .wait_timeout(items, Duration::from_millis(100))
                .0;
        }
        items.clone()
    }
}

impl<T: Send> IServerProxy for Inbox<T> {
    fn invoke(
        &self,
        code: u32,
        _origin: &Origin,
        request: &mut dyn IpcReader,
        _reply: &mut dyn IpcWriter,
    ) -> i32 {
        match (code == self.code).then(|| (self.parse)(request)).flatten() {
            Some(item) => {
                self.items.lock().push(item);
                self.changed.notify_all();
                EC_SUCCESS
            }
            None => EC_INVALID,
        }
    }
}

fn with_retry<T>(what: &str, mut f: impl FnMut() -> Result<T, Error>) -> Result<T, String> {
    let deadline = ulib::time::now() + Duration::from_secs(10);
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(Error::NoService) if ulib::time::now() < deadline => {
                ulib::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(format!("{what}: {e}")),
        }
    }
}

fn e(what: &'static str) -> impl Fn(Error) -> String {
    move |err| format!("{what}: {err}")
}

fn windows(wms: &WmsClient) -> Result<(), String> {
    let list = wms.list().map_err(e("list"))?;
    println!("wms_demo: {} window(s), top first:", list.len());
    for w in &list {
        println!(
            "wms_demo:   #{} \"{}\" pid {} at ({},{}) {}x{} z {}{}",
            w.id,
            w.title,
            w.owner,
            w.x,
            w.y,
            w.w,
            w.h,
            w.z,
            if w.focused { " focused" } else { "" }
        );
    }
    Ok(())
}

fn run() -> Result<(), String> {
    let endpoint = Endpoint::global().map_err(e("endpoint"))?;
    let wms = with_retry("lookup WMS", WmsClient::connect)?;
    let id = wms.0.identity();
    println!(
        "wms_demo: WMS found at handle {} token {}",
        id.handle, id.token
    );
    let main = wms.create(10, 20, 320, 240, "demo").map_err(e("create"))?;
    let other = wms
        .create(0, 0, 100, 100, "demo-2")
        .map_err(e("create 2"))?;
    println!("wms_demo: created windows {main} and {other}");
    wms.move_to(main, 100, 50).map_err(e("move"))?;
    wms.resize(main, 400, 300).map_err(e("resize"))?;
    wms.raise(main).map_err(e("raise"))?;
    wms.focus(main).map_err(e("focus"))?;
    windows(&wms)?;
    let list = wms.list().map_err(e("list"))?;
    let top = list.first().ok_or("no windows listed")?;
    if (top.id, top.x, top.y, top.w, top.h, top.focused) != (main, 100, 50, 400, 300, true) {
        return Err(format!("window {main} is not where it was put: {top:?}"));
    }

    let ims = with_retry("lookup IMS", ImsClient::connect)?;
    let keys = Inbox::new(ims::EVENT_KEY, |r| {
        Some((r.pop_u32().ok()?, r.pop_u32().ok()?, r.pop_bool().ok()?))
    });
    let listener = endpoint
        .add_callback("ims_listener", keys.clone())
        .map_err(e("listener"))?;
    ims.register_listener(listener)
        .map_err(e("register listener"))?;
    let routed = ims.inject_key(30, true).map_err(e("inject"))?;
    let got = keys.wait(1);
    println!(
        "wms_demo: key 30 routed to window {} (pid {}); received {:?}",
        routed.0, routed.1, got
    );
    if got.first() != Some(&(main, 30, true)) {
        return Err(format!("key event not received: {got:?}"));
    }

    let sensors = with_retry("lookup sensor", SensorClient::connect)?;
    for s in sensors.list().map_err(e("sensor list"))? {
        println!(
            "wms_demo: sensor {} {} kind {} up to {} Hz",
            s.id, s.name, s.kind, s.max_rate_hz
        );
    }
    let once = sensors.read(0).map_err(e("read"))?;
    println!(
        "wms_demo: accelerometer read: sample {} {:?}",
        once.sample, once.values
    );
    let readings = Inbox::new(SENSOR_DATA, |r| {
        Some((r.pop_u32().ok()?, Reading::read(r).ok()?))
    });
    let sink = endpoint
        .add_callback("sensor_cb", readings.clone())
        .map_err(e("callback"))?;
    let sub = sensors
        .subscribe(0, READINGS, 20, sink)
        .map_err(e("subscribe"))?;
    let got = readings.wait(READINGS as usize);
    for (s, r) in &got {
        println!(
            "wms_demo: subscription {s} reading {} {:?}",
            r.sample, r.values
        );
    }
    let expected: Vec<(u32, Reading)> = (0..u64::from(READINGS))
        .map(|n| (sub, SENSORS[0].sample(n)))
        .collect();
    if got != expected {
        return Err(format!("readings {got:?}, expected {expected:?}"));
    }

    wms.destroy(other).map_err(e("destroy"))?;
    wms.destroy(main).map_err(e("destroy"))?;
    Ok(())
}

fn main() -> i32 {
    samgr::console::init_logger("wms_demo", log::LevelFilter::Warn);
    match run() {
        Ok(()) => {
            println!("wms_demo: ok");
            0
        }
        Err(why) => {
            println!("wms_demo: FAILED {why}");
            1
        }
    }
}

ulib::entry!(main);
