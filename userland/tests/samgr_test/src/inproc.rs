//! In-process cases (upstream Taskpool, SendShareRequest, Broadcast, Service/Feature
//! register-unregister suites), each on a fresh [`Samgr`] so they do not disturb the
//! process-wide registry the remote cases use.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;
use samgr::broadcast::{self, Consumer, PubSubInterface, Topic};
use samgr::task::{LEVEL_HIGH, PRI_NORMAL};
use samgr::{
    Api, BootStatus, Data, Error, Feature, IUnknown, Identity, Request, Samgr, Service, TaskConfig,
    TaskType, send_request, send_shared_request,
};
use ulib::check::{Context, TestResult};
use ulib::ensure;
use ulib::sync::{Condvar, Mutex};

const WAIT: Duration = Duration::from_secs(5);

/// Events recorded by the services: (who, what, thread).
struct Log {
    events: Mutex<Vec<(String, &'static str, u32)>>,
    changed: Condvar,
}

impl Log {
    fn new() -> Arc<Log> {
        Arc::new(Log {
            events: Mutex::new(Vec::new()),
            changed: Condvar::new(),
        })
    }

    fn add(&self, who: &str, what: &'static str) {
        let tid = ulib::thread::current().as_raw();
        self.events.lock().push((String::from(who), what, tid));
        self.changed.notify_all();
    }

    /// Waits until `n` events of kind `what` are in.
    fn wait(&self, what: &str, n: usize) -> Vec<(String, u32)> {
        let mut events = self.events.lock();
        let deadline = ulib::time::now() + WAIT;
        loop {
            let found: Vec<(String, u32)> = events
                .iter()
                .filter(|e| e.1 == what)
                .map(|e| (e.0.clone(), e.2))
                .collect();
            if found.len() >= n || ulib::time::now() >= deadline {
                return found;
            }
            events = self
                .changed
                .wait_timeout(events, Duration::from_millis(100))
                .0;
        }
    }
}

struct TestService {
    name: String,
    config: TaskConfig,
    log: Arc<Log>,
}

impl Service for TestService {
    fn name(&self) -> &str {
        &self.name
    }
    fn initialize(&self, _identity: Identity) -> bool {
        self.log.add(&self.name, "init");
        true
    }
    fn message_handle(&self, _request: &mut Request) -> bool {
        self.log.add(&self.name, "msg");
        true
    }
    fn task_config(&self) -> TaskConfig {
        self.config
    }
}

struct TestFeature {
    name: &'static str,
    log: Arc<Log>,
    data: Mutex<Vec<usize>>,
}

impl Feature for TestFeature {
    fn name(&self) -> &str {
        self.name
    }
    fn on_initialize(&self, _parent: &dyn Service, _identity: Identity) {
        self.log.add(self.name, "finit");
    }
    fn on_stop(&self, _identity: Identity) {}
    fn on_message(&self, request: &mut Request) -> bool {
        if let Some(bytes) = request.data.as_bytes() {
            self.data.lock().push(bytes.as_ptr() as usize);
        }
        self.log.add(self.name, "fmsg");
        true
    }
}

struct Counter;
impl IUnknown for Counter {}

fn service(
    samgr: &Samgr,
    log: &Arc<Log>,
    name: &str,
    prio: i16,
    kind: TaskType,
    queue: u16,
) -> TestResult {
    samgr
        .register_service(Arc::new(TestService {
            name: String::from(name),
            config: TaskConfig::new(LEVEL_HIGH, prio, 0x800, queue, kind),
            log: log.clone(),
        }))
        .context(&format!("register {name}"))
}

/// Every pool kind and priority: initialised highest priority first, shared and specified
/// services on one thread each, singles on their own, NO_TASK without a thread.
pub fn taskpool_kinds_and_priority_order() -> TestResult {
    let samgr = Samgr::new();
    let log = Log::new();
    let services: &[(&str, i16, TaskType, u16)] = &[
        ("SingleTS01", 10, TaskType::Single, 2),
        ("SharedTask01", 24, TaskType::Shared, 20),
        ("SingleTS02", 16, TaskType::Single, 2),
        ("SpecifiedT01", PRI_NORMAL, TaskType::Specified, 20),
        ("SingleTS03", 24, TaskType::Single, 2),
        ("SharedTask02", 25, TaskType::Shared, 20),
        ("SpecifiedT02", PRI_NORMAL, TaskType::Specified, 20),
        ("SingleTS04", 32, TaskType::Single, 2),
        ("Service_NoTask", 24, TaskType::NoTask, 20),
    ];
    for &(name, prio, kind, queue) in services {
        service(&samgr, &log, name, prio, kind, queue)?;
    }
    samgr
        .register_default_feature_api("Service_NoTask", Api::new(Counter))
        .context("register_default_feature_api")?;
    samgr.bootstrap();
    ensure!(
        samgr.wait_for_status(BootStatus::Dynamic, WAIT),
        "not DYNAMIC: {:?}",
        samgr.status()
    );
    let inits = log.wait("init", services.len());
    let order: Vec<&str> = inits.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected: Vec<(&str, i16)> = services.iter().map(|s| (s.0, s.1)).collect();
    expected.sort_by_key(|&(_, p)| core::cmp::Reverse(p));
    let expected: Vec<&str> = expected.iter().map(|e| e.0).collect();
    ensure!(
        order == expected,
        "init order {order:?}, wanted {expected:?}"
    );
    ensure!(
        samgr.get_default_feature_api("Service_NoTask").is_some(),
        "NO_TASK service's API missing"
    );
    for &(name, _, kind, _) in services {
        if kind == TaskType::NoTask {
            continue;
        }
        let id = samgr
            .identity(name, None)
            .context(&format!("no identity for {name}"))?;
        send_request(&id, Request::new(1, 0), None).context(&format!("send to {name}"))?;
    }
    let msgs = log.wait("msg", services.len() - 1);
    ensure!(
        msgs.len() == services.len() - 1,
        "{} messages handled",
        msgs.len()
    );
    let thread_of = |n: &str| msgs.iter().find(|m| m.0 == n).map(|m| m.1);
    ensure!(
        thread_of("SharedTask01") == thread_of("SharedTask02"),
        "shared pool split"
    );
    ensure!(
        thread_of("SpecifiedT01") == thread_of("SpecifiedT02"),
        "specified pool split"
    );
    let singles: Vec<Option<u32>> = ["SingleTS01", "SingleTS02", "SingleTS03", "SingleTS04"]
        .iter()
        .map(|n| thread_of(n))
        .collect();
    for (i, a) in singles.iter().enumerate() {
        for b in &singles[i + 1..] {
            ensure!(a != b, "two single tasks share a thread");
        }
    }
    ensure!(
        samgr
            .identity("Service_NoTask", None)
            .is_some_and(|id| id.queue_id.is_none()),
        "NO_TASK service has a queue"
    );
    Ok(())
}

/// A shared request reaches two features with one copy of the data.
pub fn shared_request_reaches_every_feature() -> TestResult {
    let samgr = Samgr::new();
    let log = Log::new();
    service(&samgr, &log, "S_sendShareReq", 32, TaskType::Shared, 20)?;
    let features: Vec<Arc<TestFeature>> = ["feature02", "feature03"]
        .iter()
        .map(|&name| {
            Arc::new(TestFeature {
                name,
                log: log.clone(),
                data: Mutex::new(Vec::new()),
            })
        })
        .collect();
    for f in &features {
        samgr
            .register_feature("S_sendShareReq", f.clone())
            .context("register_feature")?;
    }
    samgr.bootstrap();
    ensure!(
        samgr.wait_for_status(BootStatus::Dynamic, WAIT),
        "not DYNAMIC"
    );
    let request = Request::new(1, 7).with_data(Data::bytes(b"shared payload"));
    for name in ["feature02", "feature03"] {
        let id = samgr
            .identity("S_sendShareReq", Some(name))
            .context("no identity")?;
        send_shared_request(&id, &request, None).context("send_shared_request")?;
    }
    let got = log.wait("fmsg", 2);
    ensure!(got.len() == 2, "{} features got it", got.len());
    let a = features[0].data.lock().clone();
    let b = features[1].data.lock().clone();
    ensure!(a.len() == 1 && a == b, "data not shared: {a:?} {b:?}");
    Ok(())
}

struct TopicConsumer {
    got: Mutex<Vec<(Topic, Vec<u8>)>>,
    changed: Condvar,
}

impl Consumer for TopicConsumer {
    fn notify(&self, topic: Topic, request: &Request) {
        let bytes = request.data.as_bytes().unwrap_or_default().to_vec();
        self.got.lock().push((topic, bytes));
        self.changed.notify_all();
    }
}

/// Broadcast: add a topic, subscribe, publish, unsubscribe.
pub fn broadcast_publish_subscribe() -> TestResult {
    let samgr = Samgr::new();
    broadcast::install(&samgr).context("install")?;
    samgr.bootstrap();
    ensure!(
        samgr.wait_for_status(BootStatus::Dynamic, WAIT),
        "not DYNAMIC"
    );
    let api = PubSubInterface::get(&samgr).context("no Broadcast API")?;
    let consumer = Arc::new(TopicConsumer {
        got: Mutex::new(Vec::new()),
        changed: Condvar::new(),
    });
    ensure!(
        !api.publish(0x10, b"early"),
        "publish to an unknown topic succeeded"
    );
    api.add_topic(0x10).context("add_topic")?;
    ensure!(
        api.add_topic(0x10) == Err(Error::Failure),
        "topic added twice"
    );
    api.subscribe(0x10, consumer.clone()).context("subscribe")?;
    ensure!(
        api.subscribe(0x10, consumer.clone()) == Err(Error::AlreadySubscribed),
        "subscribed twice"
    );
    ensure!(api.publish(0x10, b"hello"), "publish failed");
    let mut got = consumer.got.lock();
    let deadline = ulib::time::now() + WAIT;
    while got.is_empty() && ulib::time::now() < deadline {
        got = consumer
            .changed
            .wait_timeout(got, Duration::from_millis(100))
            .0;
    }
    ensure!(
        got.as_slice() == [(0x10, b"hello".to_vec())],
        "consumer got {:?}",
        *got
    );
    drop(got);
    ensure!(
        api.unsubscribe(0x10, &*consumer).is_some(),
        "unsubscribe failed"
    );
    Ok(())
}

/// Service/feature register and unregister rules (ServiceTest, FeatureTest).
pub fn service_feature_register_unregister() -> TestResult {
    let samgr = Samgr::new();
    let log = Log::new();
    service(
        &samgr,
        &log,
        "serviceName101",
        PRI_NORMAL,
        TaskType::Shared,
        20,
    )?;
    ensure!(
        service(
            &samgr,
            &log,
            "serviceName101",
            PRI_NORMAL,
            TaskType::Shared,
            20
        )
        .is_err(),
        "registered twice"
    );
    let feature = Arc::new(TestFeature {
        name: "featureName201",
        log: log.clone(),
        data: Mutex::new(Vec::new()),
    });
    samgr
        .register_feature("serviceName101", feature)
        .context("register_feature")?;
    samgr
        .register_feature_api("serviceName101", Some("featureName201"), Api::new(Counter))
        .context("register_feature_api")?;
    ensure!(
        matches!(samgr.unregister_service("serviceName101"), Err(Error::Busy)),
        "service with features unregistered"
    );
    ensure!(
        samgr
            .unregister_feature("serviceName101", "featureName201")
            .is_err(),
        "feature with an API unregistered"
    );
    samgr
        .unregister_feature_api("serviceName101", Some("featureName201"))
        .context("unregister_feature_api")?;
    samgr
        .unregister_feature("serviceName101", "featureName201")
        .context("unregister_feature")?;
    samgr
        .unregister_service("serviceName101")
        .context("unregister_service")?;
    ensure!(
        samgr.unregister_service("serviceName101").is_err(),
        "unregistered twice"
    );
    for _ in 0..256 {
        service(
            &samgr,
            &log,
            "serviceName102",
            PRI_NORMAL,
            TaskType::Shared,
            20,
        )?;
        samgr
            .unregister_service("serviceName102")
            .context("unregister_service")?;
    }
    Ok(())
}
