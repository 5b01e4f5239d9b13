//! `/bin/samgr_demo`: an on-target smoke test of the in-process samgr. Registers a "pong"
//! service (default API + a feature answering requests), a "ping" service and the Broadcast
//! service in one process, bootstraps them (each on its own pool thread, by priority), then:
//! a request with a response handler from ping's thread to pong's feature (the response comes
//! back on ping's thread), a direct API call, a Broadcast publication, and a full queue
//! refusing a sender. Prints `samgr_demo: ok` when every check passed.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;
use samgr::broadcast::{self, Consumer, PubSubInterface, Topic};
use samgr::task::{LEVEL_HIGH, PRI_ABOVE_NORMAL, PRI_BELOW_NORMAL, PRI_NORMAL};
use samgr::{
    Api, BootStatus, DEFAULT_VERSION, Feature, IUnknown, Identity, Request, Response, Samgr,
    Service, TaskConfig, TaskType, current_queue, handler, send_request, send_response,
    send_shared_direct_request,
};
use ulib::sync::{Condvar, Mutex};
use ulib::{eprintln, println};

/// How long a check waits.
const WAIT: Duration = Duration::from_secs(5);

/// Prints samgr's log lines (`log` facade) on stderr.
struct Logger;

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("[{}] {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// A one-shot result slot a handler fills and the main thread waits for.
struct Slot<T> {
    value: Mutex<Option<T>>,
    ready: Condvar,
}

impl<T> Slot<T> {
    fn new() -> Arc<Slot<T>> {
        Arc::new(Slot {
            value: Mutex::new(None),
            ready: Condvar::new(),
        })
    }

    fn put(&self, value: T) {
        *self.value.lock() = Some(value);
        self.ready.notify_all();
    }

    fn take(&self) -> Option<T> {
        let mut value = self.value.lock();
        loop {
            if let Some(v) = value.take() {
                return Some(v);
            }
            let (guard, timed_out) = self.ready.wait_timeout(value, WAIT);
            value = guard;
            if timed_out && value.is_none() {
                return None;
            }
        }
    }
}

/// Init order, shared by the services.
static INITS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Svc {
    name: &'static str,
    config: TaskConfig,
    identity: Mutex<Option<Identity>>,
}

impl Svc {
    fn new(name: &'static str, priority: i16, queue: u16, flags: TaskType) -> Arc<Svc> {
        Arc::new(Svc {
            name,
            config: TaskConfig::new(LEVEL_HIGH, priority, 0x800, queue, flags),
            identity: Mutex::new(None),
        })
    }

    fn identity(&self) -> Option<Identity> {
        self.identity.lock().clone()
    }
}

impl Service for Svc {
    fn name(&self) -> &str {
        self.name
    }

    fn initialize(&self, identity: Identity) -> bool {
        *self.identity.lock() = Some(identity);
        INITS.lock().push(String::from(self.name));
        true
    }

    fn message_handle(&self, _request: &mut Request) -> bool {
        true
    }

    fn task_config(&self) -> TaskConfig {
        self.config
    }
}

/// pong's feature: answers "pong:<request>".
struct Echo {
    identity: Mutex<Option<Identity>>,
}

impl Feature for Echo {
    fn name(&self) -> &str {
        "echo"
    }

    fn on_initialize(&self, _parent: &dyn Service, identity: Identity) {
        *self.identity.lock() = Some(identity);
    }

    fn on_stop(&self, _identity: Identity) {}

    fn on_message(&self, request: &mut Request) -> bool {
        let mut reply = Vec::from(&b"pong:"[..]);
        reply.extend_from_slice(request.data.as_bytes().unwrap_or(&[]));
        send_response(request, Response::bytes(&reply)).is_ok()
    }
}

/// pong's default API.
struct Adder;

impl IUnknown for Adder {}

impl Adder {
    fn add(&self, a: i32, b: i32) -> i32 {
        a + b
    }
}

struct Listener {
    got: Arc<Slot<(Topic, Vec<u8>)>>,
}

impl Consumer for Listener {
    fn notify(&self, topic: Topic, request: &Request) {
        self.got
            .put((topic, request.data.as_bytes().unwrap_or(&[]).to_vec()));
    }
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        println!("samgr_demo: {what}: ok");
        Ok(())
    } else {
        Err(String::from(what))
    }
}

fn run() -> Result<(), String> {
    let samgr = Samgr::instance();
    let broadcast = broadcast::install(samgr).map_err(|e| alloc::format!("broadcast: {e}"))?;
    let ping = Svc::new("ping", PRI_BELOW_NORMAL, 8, TaskType::Single);
    let pong = Svc::new("pong", PRI_ABOVE_NORMAL, 8, TaskType::Single);
    let slow = Svc::new("slow", PRI_NORMAL, 1, TaskType::Single);
    let echo = Arc::new(Echo {
        identity: Mutex::new(None),
    });
    let reg = |r: Result<(), samgr::Error>| r.map_err(|e| alloc::format!("register: {e}"));
    reg(samgr.register_service(ping.clone()))?;
    reg(samgr.register_service(pong.clone()))?;
    reg(samgr.register_service(slow.clone()))?;
    reg(samgr.register_feature("pong", echo.clone()))?;
    reg(samgr.register_default_feature_api("pong", Api::new(Adder)))?;

    samgr.bootstrap();
    check(
        samgr.wait_for_status(BootStatus::Dynamic, WAIT) && samgr.wait_initialized(WAIT),
        "boot reaches DYNAMIC",
    )?;
    let order = INITS.lock().clone();
    check(
        order == ["pong", "slow", "ping"],
        "services initialised by priority",
    )?;

    // A request from ping's thread to pong's feature; the response returns to ping's queue.
    let (ping_id, echo_id) = match (ping.identity(), echo.identity.lock().clone()) {
        (Some(p), Some(e)) => (p, e),
        _ => return Err(String::from("identities")),
    };
    let answer = Slot::new();
    let slot = answer.clone();
    let target = echo_id.clone();
    let from_ping = handler(move |_, _| {
        let slot2 = slot.clone();
        let on_reply = handler(move |_, response| {
            let bytes = response.data.as_bytes().unwrap_or(&[]).to_vec();
            slot2.put((bytes, current_queue()));
        });
        if send_request(
            &target,
            Request::new(1, 0).with_bytes(b"ping"),
            Some(on_reply),
        )
        .is_err()
        {
            slot.put((Vec::new(), None));
        }
    });
    send_shared_direct_request(
        &ping_id,
        &Request::default(),
        Response::default(),
        from_ping,
    )
    .map_err(|e| alloc::format!("direct request: {e}"))?;
    let (reply, queue) = answer.take().ok_or("no response")?;
    check(
        reply == b"pong:ping" && queue == ping_id.queue_id,
        "request/response between two services",
    )?;

    // The default API, called directly.
    let adder = samgr
        .get_default_feature_api("pong")
        .and_then(|api| api.query::<Adder>(DEFAULT_VERSION).ok());
    check(
        adder.is_some_and(|a| a.add(40, 2) == 42),
        "default API call",
    )?;

    // Broadcast.
    let got = Slot::new();
    let subscribed = broadcast.add_topic(7).is_ok()
        && broadcast
            .subscribe(7, Arc::new(Listener { got: got.clone() }))
            .is_ok();
    let same_api = PubSubInterface::get(samgr).is_some();
    let published = broadcast.publish(7, b"hello");
    check(
        subscribed && same_api && published && got.take() == Some((7, Vec::from(&b"hello"[..]))),
        "broadcast publish/subscribe",
    )?;

    // A full queue refuses at once: block slow's thread, fill its one-slot queue.
    let slow_id = slow.identity().ok_or("slow identity")?;
    let gate = Slot::<()>::new();
    let entered = Slot::<()>::new();
    let (g, e) = (gate.clone(), entered.clone());
    let blocker = handler(move |_, _| {
        e.put(());
        let _ = g.take();
    });
    send_shared_direct_request(&slow_id, &Request::default(), Response::default(), blocker)
        .map_err(|e| alloc::format!("blocker: {e}"))?;
    let _ = entered.take();
    let first = send_request(&slow_id, Request::new(1, 0), None);
    let second = send_request(&slow_id, Request::new(2, 0), None);
    gate.put(());
    check(
        first.is_ok() && second == Err(samgr::Error::BusBusy),
        "full queue refuses the sender",
    )?;
    Ok(())
}

fn main() -> i32 {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Info);
    match run() {
        Ok(()) => {
            println!("samgr_demo: ok");
            0
        }
        Err(what) => {
            eprintln!("samgr_demo: FAILED {what}");
            1
        }
    }
}

ulib::entry!(main);
