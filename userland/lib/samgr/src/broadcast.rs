//! The Broadcast service (upstream `communication/broadcast`; seeds 001/002): service
//! "Broadcast" with one feature, "Provider and subscriber", whose API ([`PubSubInterface`],
//! version [`DEFAULT_VERSION`], not exported) keeps topics and their consumers.
//!
//! - [`PubSubInterface::add_topic`]: a new topic; `Failure` if it exists.
//! - [`PubSubInterface::subscribe`]: `Failure` for an unknown topic, `AlreadySubscribed`
//!   (`EC_ALREADY_SUBSCRIBED`) for a consumer [`Consumer::equal`] to one already there.
//! - [`PubSubInterface::unsubscribe`] / [`PubSubInterface::modify_consumer`]: return the
//!   consumer removed / replaced, `None` if topic or consumer is unknown.
//! - [`PubSubInterface::publish`]: true iff the topic exists, has consumers, the data is not
//!   empty and every delivery was queued. A consumer with an [`Consumer::identity`] is notified
//!   on that identity's thread (a direct request); the others on the Broadcast thread (one
//!   shared request to the feature). The data is shared, not copied per consumer. (Upstream
//!   reports an empty payload as a failure too, having no shared reference to return.)

use crate::errno::Error;
use crate::exchange::{send_shared_direct_request, send_shared_request};
use crate::iunknown::{Api, DEFAULT_VERSION, IUnknown};
use crate::message::{Identity, Request, Response, handler};
use crate::os::Mutex;
use crate::samgr::Samgr;
use crate::service::{Feature, Service};
use crate::task::{LEVEL_HIGH, PRI_ABOVE_NORMAL, TaskConfig, TaskType};
use alloc::sync::Arc;
use alloc::vec::Vec;

/// The service name.
pub const BROADCAST_SERVICE: &str = "Broadcast";
/// The feature name.
pub const PUB_SUB_FEATURE: &str = "Provider and subscriber";
/// Message id of a publication sent to the feature.
pub const MSG_PUBLISH: i16 = 1;
/// Queue length of the Broadcast pool.
pub const BROADCAST_QUEUE_SIZE: u16 = 40;

/// A topic (upstream `Topic`, a `uint32`).
pub type Topic = u32;

/// A subscriber's callback object (upstream `Consumer`).
pub trait Consumer: Send + Sync {
    /// The identity whose thread runs [`Consumer::notify`]; `None`: the Broadcast thread.
    fn identity(&self) -> Option<Identity> {
        None
    }

    /// A publication of `topic`; `request.data` holds the bytes.
    fn notify(&self, topic: Topic, request: &Request);

    /// Whether `other` is the same consumer (default: the same object).
    fn equal(&self, other: &dyn Consumer) -> bool {
        core::ptr::addr_eq(self as *const Self, other as *const dyn Consumer)
    }
}

struct Relation {
    topic: Topic,
    consumers: Vec<Arc<dyn Consumer>>,
}

/// The "Provider and subscriber" feature (upstream `PubSubFeature`).
pub struct PubSubFeature {
    identity: Mutex<Identity>,
    relations: Mutex<Vec<Relation>>,
}

impl PubSubFeature {
    fn new() -> PubSubFeature {
        PubSubFeature {
            identity: Mutex::new(Identity::invalid()),
            relations: Mutex::new(Vec::new()),
        }
    }

    /// The consumers of `topic`, if it exists.
    fn consumers(&self, topic: Topic) -> Option<Vec<Arc<dyn Consumer>>> {
        self.relations
            .lock()
            .iter()
            .find(|r| r.topic == topic)
            .map(|r| r.consumers.clone())
    }
}

impl Feature for PubSubFeature {
    fn name(&self) -> &str {
        PUB_SUB_FEATURE
    }

    fn on_initialize(&self, _parent: &dyn Service, identity: Identity) {
        *self.identity.lock() = identity;
    }

    fn on_stop(&self, _identity: Identity) {}

    fn on_message(&self, request: &mut Request) -> bool {
        if request.msg_id != MSG_PUBLISH {
            return true;
        }
        let topic = request.msg_value;
        let Some(consumers) = self.consumers(topic) else {
            return false;
        };
        for consumer in consumers.iter().filter(|c| c.identity().is_none()) {
            consumer.notify(topic, request);
        }
        true
    }
}

/// The Broadcast service itself (upstream `BroadcastService`): no default API, no messages.
pub struct BroadcastService;

impl Service for BroadcastService {
    fn name(&self) -> &str {
        BROADCAST_SERVICE
    }

    fn initialize(&self, _identity: Identity) -> bool {
        true
    }

    fn message_handle(&self, _request: &mut Request) -> bool {
        true
    }

    fn task_config(&self) -> TaskConfig {
        TaskConfig::new(
            LEVEL_HIGH,
            PRI_ABOVE_NORMAL,
            0x800,
            BROADCAST_QUEUE_SIZE,
            TaskType::Specified,
        )
    }
}

/// The feature's API (upstream `PubSubInterface`: `subscriber` + `provider`).
pub struct PubSubInterface {
    feature: Arc<PubSubFeature>,
}

impl IUnknown for PubSubInterface {
    fn version(&self) -> u16 {
        DEFAULT_VERSION
    }
}

impl PubSubInterface {
    /// The API registered in `samgr` (`GetFeatureApi` + `QueryInterface(DEFAULT_VERSION)`).
    pub fn get(samgr: &Samgr) -> Option<Arc<PubSubInterface>> {
        samgr
            .get_feature_api(BROADCAST_SERVICE, Some(PUB_SUB_FEATURE))?
            .query::<PubSubInterface>(DEFAULT_VERSION)
            .ok()
    }

    /// `AddTopic`.
    pub fn add_topic(&self, topic: Topic) -> Result<(), Error> {
        let mut relations = self.feature.relations.lock();
        if relations.iter().any(|r| r.topic == topic) {
            return Err(Error::Failure);
        }
        relations.push(Relation {
            topic,
            consumers: Vec::new(),
        });
        Ok(())
    }

    /// `Subscribe`.
    pub fn subscribe(&self, topic: Topic, consumer: Arc<dyn Consumer>) -> Result<(), Error> {
        let mut relations = self.feature.relations.lock();
        let relation = relations
            .iter_mut()
            .find(|r| r.topic == topic)
            .ok_or(Error::Failure)?;
        if relation.consumers.iter().any(|c| c.equal(&*consumer)) {
            return Err(Error::AlreadySubscribed);
        }
        relation.consumers.push(consumer);
        Ok(())
    }

    /// `ModifyConsumer`: replaces the consumer equal to `old` with `new`, returning it.
    pub fn modify_consumer(
        &self,
        topic: Topic,
        old: &dyn Consumer,
        new: Arc<dyn Consumer>,
    ) -> Option<Arc<dyn Consumer>> {
        let mut relations = self.feature.relations.lock();
        let relation = relations.iter_mut().find(|r| r.topic == topic)?;
        let slot = relation.consumers.iter_mut().find(|c| c.equal(old))?;
        Some(core::mem::replace(slot, new))
    }

    /// `Unsubscribe`: removes the consumer equal to `consumer`, returning it.
    pub fn unsubscribe(&self, topic: Topic, consumer: &dyn Consumer) -> Option<Arc<dyn Consumer>> {
        let mut relations = self.feature.relations.lock();
        let relation = relations.iter_mut().find(|r| r.topic == topic)?;
        let index = relation.consumers.iter().position(|c| c.equal(consumer))?;
        Some(relation.consumers.remove(index))
    }

    /// `Publish`.
    pub fn publish(&self, topic: Topic, data: &[u8]) -> bool {
        let Some(consumers) = self.feature.consumers(topic) else {
            return false;
        };
        if consumers.is_empty() || data.is_empty() {
            return false;
        }
        let request = Request::new(MSG_PUBLISH, topic).with_bytes(data);
        let mut via_feature = false;
        for consumer in consumers {
            let Some(identity) = consumer.identity() else {
                via_feature = true;
                continue;
            };
            let notify = handler(move |request, _| consumer.notify(topic, request));
            if send_shared_direct_request(&identity, &request, Response::default(), notify).is_err()
            {
                return false;
            }
        }
        if via_feature {
            let feature = self.feature.identity.lock().clone();
            return send_shared_request(&feature, &request, None).is_ok();
        }
        true
    }
}

/// Registers the Broadcast service, its feature and the feature's API in `samgr` (upstream's
/// `SYS_SERVICE_INIT`/`SYS_FEATURE_INIT` constructors); call before bootstrapping.
pub fn install(samgr: &Samgr) -> Result<Arc<PubSubInterface>, Error> {
    samgr.register_service(Arc::new(BroadcastService))?;
    let feature = Arc::new(PubSubFeature::new());
    samgr.register_feature(BROADCAST_SERVICE, feature.clone())?;
    let api = Arc::new(PubSubInterface { feature });
    samgr.register_feature_api(
        BROADCAST_SERVICE,
        Some(PUB_SUB_FEATURE),
        Api::from_arc(api.clone()),
    )?;
    Ok(api)
}
