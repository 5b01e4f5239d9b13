//! BroadcastPublishTest and BroadcastSubscribeTest: the API from
//! GetFeatureApi("Broadcast", "Provider and subscriber") + QueryInterface(0x20).

use super::*;
use crate::broadcast::{
    self, BROADCAST_SERVICE, Consumer, PUB_SUB_FEATURE, PubSubInterface, Topic,
};
use crate::errno::Error;
use crate::task::PRI_NORMAL;
use std::sync::mpsc;

struct TestConsumer {
    tx: Mutex<mpsc::Sender<(Topic, Vec<u8>, std::thread::ThreadId)>>,
    identity: Option<Identity>,
}

impl Consumer for TestConsumer {
    fn identity(&self) -> Option<Identity> {
        self.identity.clone()
    }

    fn notify(&self, topic: Topic, request: &Request) {
        let data = request.data.as_bytes().unwrap_or(&[]).to_vec();
        let _ = self
            .tx
            .lock()
            .unwrap()
            .send((topic, data, std::thread::current().id()));
    }
}

type Inbox = mpsc::Receiver<(Topic, Vec<u8>, std::thread::ThreadId)>;

fn consumer() -> (Arc<TestConsumer>, Inbox) {
    let (tx, rx) = mpsc::channel();
    (
        Arc::new(TestConsumer {
            tx: Mutex::new(tx),
            identity: None,
        }),
        rx,
    )
}

fn setup() -> (Samgr, Arc<PubSubInterface>) {
    let samgr = Samgr::new();
    broadcast::install(&samgr).unwrap();
    let rec = Recorder::default();
    samgr
        .register_service(Svc::new(
            "S_broadcast1",
            cfg(PRI_NORMAL, 20, TaskType::Shared),
            &rec,
        ))
        .unwrap();
    boot(&samgr);
    let api = PubSubInterface::get(&samgr).expect("broadcast API, QI(0x20)");
    (samgr, api)
}

#[test]
fn broadcast_is_a_feature_api_not_exported() {
    // seed 001: Broadcast has no default API; its feature API is not a server proxy
    let (samgr, _api) = setup();
    assert!(samgr.get_default_feature_api(BROADCAST_SERVICE).is_none());
    let api = samgr
        .get_feature_api(BROADCAST_SERVICE, Some(PUB_SUB_FEATURE))
        .unwrap();
    assert!(api.query_interface(crate::DEFAULT_VERSION).is_ok());
    assert!(api.server_proxy().is_none());
}

#[test]
fn publish_reaches_all_subscribers() {
    // BroadcastPublishTest Publish0010 / 0060: topic 0, c1 + c2, 10 bytes
    let (_samgr, api) = setup();
    api.add_topic(0).unwrap();
    let (c1, rx1) = consumer();
    let (c2, rx2) = consumer();
    api.subscribe(0, c1).unwrap();
    api.subscribe(0, c2).unwrap();
    assert!(api.publish(0, b"0123456789"));
    for rx in [rx1, rx2] {
        let (topic, data, thread) = rx.recv_timeout(WAIT).unwrap();
        assert_eq!((topic, data.as_slice()), (0, &b"0123456789"[..]));
        assert_ne!(thread, std::thread::current().id());
    }
}

#[test]
fn publish_to_unknown_topic_fails() {
    // BroadcastPublishTest Publish0020
    let (_samgr, api) = setup();
    assert!(!api.publish(99, b"0123456789"));
}

#[test]
fn publish_partial_lengths() {
    // BroadcastPublishTest Publish0030: 9 then 10 bytes of the data
    let (_samgr, api) = setup();
    api.add_topic(0).unwrap();
    let (c1, rx) = consumer();
    api.subscribe(0, c1).unwrap();
    let data = b"0123456789";
    assert!(api.publish(0, &data[..9]));
    assert!(api.publish(0, &data[..10]));
    assert_eq!(rx.recv_timeout(WAIT).unwrap().1.len(), 9);
    assert_eq!(rx.recv_timeout(WAIT).unwrap().1.len(), 10);
}

#[test]
fn publish_empty_data_fails() {
    // BroadcastPublishTest Publish0040
    let (_samgr, api) = setup();
    api.add_topic(0).unwrap();
    api.subscribe(0, consumer().0).unwrap();
    assert!(!api.publish(0, b""));
}

#[test]
fn publish_without_consumers_fails() {
    // BroadcastPublishTest Publish0050 (0 consumers → F; with remaining ones → T)
    let (_samgr, api) = setup();
    api.add_topic(0).unwrap();
    assert!(!api.publish(0, b"data"));
    api.subscribe(0, consumer().0).unwrap();
    assert!(api.publish(0, b"data"));
}

#[test]
fn publish_flood_then_once_more() {
    // BroadcastPublishTest Publish0070: ×10240 to topic 70 (a full queue may refuse some),
    // wait for the consumer, once more → T
    let (_samgr, api) = setup();
    api.add_topic(70).unwrap();
    let (c, rx) = consumer();
    api.subscribe(70, c).unwrap();
    let sent = (0..10240).filter(|_| api.publish(70, b"flood")).count();
    assert!(sent > 0);
    for _ in 0..sent {
        rx.recv_timeout(WAIT).unwrap();
    }
    assert!(api.publish(70, b"again"));
    assert_eq!(rx.recv_timeout(WAIT).unwrap().1, b"again");
}

#[test]
fn consumer_with_identity_is_notified_on_its_thread() {
    // ImmediatelyPublish: a consumer with an identity gets a direct request on its thread
    let samgr = Samgr::new();
    broadcast::install(&samgr).unwrap();
    let rec = Recorder::default();
    let owner = Svc::new("S_broadcast2", cfg(PRI_NORMAL, 20, TaskType::Single), &rec);
    samgr.register_service(owner.clone()).unwrap();
    boot(&samgr);
    let api = PubSubInterface::get(&samgr).unwrap();
    let (tx, rx) = mpsc::channel();
    let c = Arc::new(TestConsumer {
        tx: Mutex::new(tx),
        identity: Some(owner.identity()),
    });
    api.add_topic(5).unwrap();
    api.subscribe(5, c).unwrap();
    let (tx_q, rx_q) = mpsc::channel();
    crate::send_shared_direct_request(
        &owner.identity(),
        &Request::default(),
        Response::default(),
        crate::handler(move |_, _| {
            let _ = tx_q.send(std::thread::current().id());
        }),
    )
    .unwrap();
    let owner_thread = rx_q.recv_timeout(WAIT).unwrap();
    assert!(api.publish(5, b"hi"));
    let (_, data, thread) = rx.recv_timeout(WAIT).unwrap();
    assert_eq!((data.as_slice(), thread), (&b"hi"[..], owner_thread));
}

#[test]
fn add_topic_succeeds() {
    // BroadcastSubscribeTest AddTopic0010
    let (_samgr, api) = setup();
    assert_eq!(api.add_topic(1), Ok(()));
}

#[test]
fn add_topic_twice_fails() {
    // BroadcastSubscribeTest AddTopic0020
    let (_samgr, api) = setup();
    api.add_topic(1).unwrap();
    assert_eq!(api.add_topic(1), Err(Error::Failure));
}

#[test]
fn subscribe_succeeds() {
    // BroadcastSubscribeTest Subscribe0010
    let (_samgr, api) = setup();
    api.add_topic(1).unwrap();
    assert_eq!(api.subscribe(1, consumer().0), Ok(()));
}

#[test]
fn subscribe_unknown_topic_fails() {
    // BroadcastSubscribeTest Subscribe0020 (0030, NULL consumer, n/a)
    let (_samgr, api) = setup();
    assert!(api.subscribe((-200i32) as Topic, consumer().0).is_err());
}

#[test]
fn subscribe_same_consumer_twice_fails() {
    // BroadcastSubscribeTest Subscribe0040
    let (_samgr, api) = setup();
    api.add_topic(1).unwrap();
    let (c, _rx) = consumer();
    api.subscribe(1, c.clone()).unwrap();
    assert_eq!(api.subscribe(1, c), Err(Error::AlreadySubscribed));
    assert_eq!(
        Error::AlreadySubscribed.code(),
        crate::errno::EC_ALREADY_SUBSCRIBED
    );
}

#[test]
fn unsubscribe_returns_the_consumer() {
    // BroadcastSubscribeTest Unsubscribe0010
    let (_samgr, api) = setup();
    api.add_topic(1).unwrap();
    let (c, _rx) = consumer();
    api.subscribe(1, c.clone()).unwrap();
    let old = api.unsubscribe(1, &*c).unwrap();
    assert!(old.equal(&*c));
    assert!(!api.publish(1, b"x"));
}

#[test]
fn unsubscribe_unknown_topic_is_none() {
    // BroadcastSubscribeTest Unsubscribe0020
    let (_samgr, api) = setup();
    assert!(api.unsubscribe(1, &*consumer().0).is_none());
}

#[test]
fn unsubscribe_never_subscribed_is_none() {
    // BroadcastSubscribeTest Unsubscribe0030
    let (_samgr, api) = setup();
    api.add_topic(1).unwrap();
    api.subscribe(1, consumer().0).unwrap();
    assert!(api.unsubscribe(1, &*consumer().0).is_none());
}

#[test]
fn subscribe_unsubscribe_10240_times() {
    // BroadcastSubscribeTest Unsubscribe0040
    let (_samgr, api) = setup();
    api.add_topic(1).unwrap();
    let (c, _rx) = consumer();
    for _ in 0..10240 {
        assert_eq!(api.subscribe(1, c.clone()), Ok(()));
        assert!(api.unsubscribe(1, &*c).is_some());
    }
    assert_eq!(Arc::strong_count(&c), 1);
}

#[test]
fn modify_consumer_returns_the_old_one() {
    // BroadcastSubscribeTest ModifyConsumer0010
    let (_samgr, api) = setup();
    api.add_topic(1).unwrap();
    let (c1, rx1) = consumer();
    let (c2, rx2) = consumer();
    api.subscribe(1, c1.clone()).unwrap();
    let old = api.modify_consumer(1, &*c1, c2).unwrap();
    assert!(old.equal(&*c1));
    assert!(api.publish(1, b"to c2"));
    assert_eq!(rx2.recv_timeout(WAIT).unwrap().1, b"to c2");
    assert!(rx1.try_recv().is_err());
}

#[test]
fn modify_consumer_unknown_is_none() {
    // BroadcastSubscribeTest ModifyConsumer0020 / 0030 / 0040
    let (_samgr, api) = setup();
    let (c1, _) = consumer();
    let (c2, _) = consumer();
    assert!(api.modify_consumer(1, &*c1, c2.clone()).is_none());
    api.add_topic(1).unwrap();
    assert!(api.modify_consumer(1, &*c1, c2).is_none());
}

#[test]
fn modify_consumer_to_itself() {
    // BroadcastSubscribeTest ModifyConsumer0050
    let (_samgr, api) = setup();
    api.add_topic(1).unwrap();
    let (c1, _) = consumer();
    api.subscribe(1, c1.clone()).unwrap();
    assert!(api.modify_consumer(1, &*c1, c1.clone()).is_some());
}
