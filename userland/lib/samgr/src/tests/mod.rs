//! Host tests, mirroring upstream's xts suites (`distributed_schedule_lite/
//! system_ability_manager_posix`, see `conformance-checklist.md` §1) case by case where a case
//! applies to a Rust API: each test names its upstream case. Cases about NULL arguments become
//! the empty name where one exists, or are dropped where the type system rules them out.
//! Each test builds its own [`Samgr`] (upstream's suites share one process-wide instance).

mod boot;
mod broadcast;
mod common;
mod feature;
mod feature_api;
mod iunknown;
mod lend;
mod seams;
mod send;
mod service;
mod taskpool;

use crate::{
    Api, Feature, IUnknown, Identity, Request, Response, Samgr, Service, TaskConfig, TaskType,
    send_response,
};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

/// How long a test waits for something that should happen.
pub const WAIT: Duration = Duration::from_secs(5);

/// Fixture configs, as upstream's.
pub fn cfg(priority: i16, queue: u16, flags: TaskType) -> TaskConfig {
    TaskConfig::new(crate::task::LEVEL_HIGH, priority, 0x800, queue, flags)
}

/// What a fixture saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Init,
    Message,
    Stop,
}

#[derive(Clone, Debug)]
pub struct Event {
    pub who: String,
    pub kind: Kind,
    pub msg_id: i16,
    pub data: Vec<u8>,
    pub thread: ThreadId,
}

/// A shared event log with a wait.
#[derive(Clone, Default)]
pub struct Recorder(Arc<(Mutex<Vec<Event>>, Condvar)>);

impl Recorder {
    pub fn record(&self, who: &str, kind: Kind, msg_id: i16, data: &[u8]) {
        self.0.0.lock().unwrap().push(Event {
            who: who.into(),
            kind,
            msg_id,
            data: data.to_vec(),
            thread: std::thread::current().id(),
        });
        self.0.1.notify_all();
    }

    pub fn events(&self) -> Vec<Event> {
        self.0.0.lock().unwrap().clone()
    }

    /// Waits until `pred` holds for the log.
    pub fn wait(&self, pred: impl Fn(&[Event]) -> bool) -> bool {
        let guard = self.0.0.lock().unwrap();
        let (_guard, result) = self
            .0
            .1
            .wait_timeout_while(guard, WAIT, |events| !pred(events))
            .unwrap();
        !result.timed_out()
    }

    pub fn count(&self, who: &str, kind: Kind) -> usize {
        self.events()
            .iter()
            .filter(|e| e.who == who && e.kind == kind)
            .count()
    }

    pub fn wait_count(&self, who: &str, kind: Kind, n: usize) -> bool {
        self.wait(|events| {
            events
                .iter()
                .filter(|e| e.who == who && e.kind == kind)
                .count()
                >= n
        })
    }
}

/// A test service: records its lifecycle; answers `MSG_CON` requests with `reply` if set.
pub struct Svc {
    pub name: String,
    pub config: TaskConfig,
    pub rec: Recorder,
    pub identity: Mutex<Option<Identity>>,
    pub reply: Option<&'static [u8]>,
}

impl Svc {
    pub fn new(name: &str, config: TaskConfig, rec: &Recorder) -> Arc<Svc> {
        Arc::new(Svc {
            name: name.into(),
            config,
            rec: rec.clone(),
            identity: Mutex::new(None),
            reply: None,
        })
    }

    pub fn identity(&self) -> Identity {
        self.identity.lock().unwrap().clone().expect("initialised")
    }
}

impl Service for Svc {
    fn name(&self) -> &str {
        &self.name
    }

    fn initialize(&self, identity: Identity) -> bool {
        *self.identity.lock().unwrap() = Some(identity);
        self.rec.record(&self.name, Kind::Init, 0, &[]);
        true
    }

    fn message_handle(&self, request: &mut Request) -> bool {
        let data = request.data.as_bytes().unwrap_or(&[]).to_vec();
        if let Some(reply) = self.reply
            && request.wants_response()
        {
            send_response(request, Response::bytes(reply)).unwrap();
        }
        self.rec
            .record(&self.name, Kind::Message, request.msg_id, &data);
        true
    }

    fn task_config(&self) -> TaskConfig {
        self.config
    }
}

/// A test feature, like [`Svc`].
pub struct Feat {
    pub name: String,
    pub rec: Recorder,
    pub identity: Mutex<Option<Identity>>,
    pub reply: Option<&'static [u8]>,
}

impl Feat {
    pub fn new(name: &str, rec: &Recorder) -> Arc<Feat> {
        Arc::new(Feat {
            name: name.into(),
            rec: rec.clone(),
            identity: Mutex::new(None),
            reply: None,
        })
    }

    pub fn replying(name: &str, rec: &Recorder, reply: &'static [u8]) -> Arc<Feat> {
        Arc::new(Feat {
            name: name.into(),
            rec: rec.clone(),
            identity: Mutex::new(None),
            reply: Some(reply),
        })
    }

    pub fn identity(&self) -> Identity {
        self.identity.lock().unwrap().clone().expect("initialised")
    }
}

impl Feature for Feat {
    fn name(&self) -> &str {
        &self.name
    }

    fn on_initialize(&self, _parent: &dyn Service, identity: Identity) {
        *self.identity.lock().unwrap() = Some(identity);
        self.rec.record(&self.name, Kind::Init, 0, &[]);
    }

    fn on_stop(&self, _identity: Identity) {
        self.rec.record(&self.name, Kind::Stop, 0, &[]);
    }

    fn on_message(&self, request: &mut Request) -> bool {
        let data = request.data.as_bytes().unwrap_or(&[]).to_vec();
        if let Some(reply) = self.reply
            && request.wants_response()
        {
            send_response(request, Response::bytes(reply)).unwrap();
        }
        self.rec
            .record(&self.name, Kind::Message, request.msg_id, &data);
        true
    }
}

/// A test API: `sync_call` like upstream's fixtures (payload id 0 → true, -1 → false).
pub struct TestApi {
    pub ver: u16,
    pub calls: std::sync::atomic::AtomicUsize,
}

impl TestApi {
    pub fn api(ver: u16) -> Api {
        Api::new(TestApi {
            ver,
            calls: Default::default(),
        })
    }

    pub fn sync_call(&self, id: i32) -> bool {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        id == 0
    }
}

impl IUnknown for TestApi {
    fn version(&self) -> u16 {
        self.ver
    }
}

/// Registers and bootstraps `services`, waiting until all are initialised.
pub fn boot(samgr: &Samgr) {
    samgr.bootstrap();
    assert!(samgr.wait_initialized(WAIT), "services initialised");
}
