//! SendRequestTest, SendResponseTest, SendShareRequestTest, plus the queue bound and MSG_EXIT.

use super::*;
use crate::errno::Error;
use crate::task::{PRI_ABOVE_NORMAL, PRI_NORMAL};
use crate::{
    DEFAULT_VERSION, Data, Handler, current_queue, handler, send_request, send_response,
    send_response_by_identity, send_shared_direct_request, send_shared_request,
};
use std::sync::mpsc;

/// A feature whose `on_message` runs a closure (and records the message).
pub struct FnFeat {
    name: String,
    rec: Recorder,
    f: Box<dyn Fn(&mut Request) + Send + Sync>,
    identity: Mutex<Option<Identity>>,
}

impl FnFeat {
    fn new(
        name: &str,
        rec: &Recorder,
        f: impl Fn(&mut Request) + Send + Sync + 'static,
    ) -> Arc<FnFeat> {
        Arc::new(FnFeat {
            name: name.into(),
            rec: rec.clone(),
            f: Box::new(f),
            identity: Mutex::new(None),
        })
    }

    fn identity(&self) -> Identity {
        self.identity.lock().unwrap().clone().unwrap()
    }
}

impl Feature for FnFeat {
    fn name(&self) -> &str {
        &self.name
    }
    fn on_initialize(&self, _parent: &dyn Service, identity: Identity) {
        *self.identity.lock().unwrap() = Some(identity);
    }
    fn on_stop(&self, _identity: Identity) {}
    fn on_message(&self, request: &mut Request) -> bool {
        let data = request.data.as_bytes().unwrap_or(&[]).to_vec();
        (self.f)(request);
        self.rec
            .record(&self.name, Kind::Message, request.msg_id, &data);
        true
    }
}

const YES: &[u8] = b"Yes, you did!";

struct SendFixture {
    _samgr: Samgr,
    rec: Recorder,
    s_feature: Arc<Feat>,
    t_feature: Arc<Feat>,
}

fn send_fixture() -> SendFixture {
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let config = cfg(PRI_ABOVE_NORMAL, 20, TaskType::Shared);
    samgr
        .register_service(Svc::new("s_service", config, &rec))
        .unwrap();
    samgr
        .register_service(Svc::new("t_service", config, &rec))
        .unwrap();
    let s_feature = Feat::new("s_feature", &rec);
    let t_feature = Feat::replying("t_feature", &rec, YES);
    samgr
        .register_feature("s_service", s_feature.clone())
        .unwrap();
    samgr
        .register_feature("t_service", t_feature.clone())
        .unwrap();
    boot(&samgr);
    SendFixture {
        _samgr: samgr,
        rec,
        s_feature,
        t_feature,
    }
}

#[test]
fn sync_call_through_api() {
    // SendRequestTest SyncCall0010
    let samgr = Samgr::new();
    samgr
        .register_service(Svc::new(
            "s_service",
            cfg(PRI_NORMAL, 20, TaskType::Shared),
            &Recorder::default(),
        ))
        .unwrap();
    samgr
        .register_default_feature_api("s_service", TestApi::api(DEFAULT_VERSION))
        .unwrap();
    let api = samgr
        .get_default_feature_api("s_service")
        .unwrap()
        .query::<TestApi>(DEFAULT_VERSION)
        .unwrap();
    assert!(api.sync_call(0));
    assert!(!api.sync_call(-1));
}

#[test]
fn send_request_to_feature_runs_once_with_data() {
    // SendRequestTest SendRequest0010
    let f = send_fixture();
    let request = Request::new(1, 0).with_bytes(b"I want to call you!");
    assert_eq!(send_request(&f.t_feature.identity(), request, None), Ok(()));
    assert!(f.rec.wait_count("t_feature", Kind::Message, 1));
    let got = f
        .rec
        .events()
        .into_iter()
        .find(|e| e.kind == Kind::Message)
        .unwrap();
    assert_eq!(
        (got.msg_id, got.data.as_slice()),
        (1, &b"I want to call you!"[..])
    );
    assert_eq!(f.rec.count("t_feature", Kind::Message), 1);
}

#[test]
fn send_request_to_own_identity() {
    // SendRequestTest SendRequest0020
    let f = send_fixture();
    let id = f.s_feature.identity();
    assert!(send_request(&id, Request::new(2, 0).with_bytes(b"self"), None).is_ok());
    assert!(f.rec.wait_count("s_feature", Kind::Message, 1));
    assert_eq!(
        f.rec
            .events()
            .iter()
            .find(|e| e.kind == Kind::Message)
            .unwrap()
            .data,
        b"self"
    );
}

#[test]
fn send_request_to_invalid_identity_fails() {
    // SendRequestTest SendRequest0030 / 0050
    let _f = send_fixture();
    let bad = Identity {
        service_id: -1,
        feature_id: -200,
        queue_id: None,
    };
    assert_eq!(
        send_request(&bad, Request::new(0, 0), None),
        Err(Error::Invalid)
    );
    assert!(send_request(&Identity::invalid(), Request::new(0, 0), None).is_err());
}

#[test]
fn send_request_with_empty_string() {
    // SendRequestTest SendRequest0040: "" (len 1, the NUL)
    let f = send_fixture();
    assert!(
        send_request(
            &f.t_feature.identity(),
            Request::new(4, 0).with_bytes(b"\0"),
            None
        )
        .is_ok()
    );
    assert!(f.rec.wait_count("t_feature", Kind::Message, 1));
    assert_eq!(
        f.rec
            .events()
            .iter()
            .find(|e| e.kind == Kind::Message)
            .unwrap()
            .data,
        b"\0"
    );
}

#[test]
fn send_request_without_data_then_with() {
    // SendRequestTest SendRequest0060
    let f = send_fixture();
    let id = f.t_feature.identity();
    assert!(send_request(&id, Request::new(6, 0), None).is_ok());
    assert!(send_request(&id, Request::new(6, 1).with_bytes(b"x"), None).is_ok());
    assert!(f.rec.wait_count("t_feature", Kind::Message, 2));
}

/// (msg id, request bytes, response bytes) seen by a response handler.
type Seen = (i16, Vec<u8>, Vec<u8>);

fn reply_channel() -> (Handler, mpsc::Receiver<Seen>) {
    let (tx, rx) = mpsc::channel();
    let h = handler(move |req, resp| {
        let _ = tx.send((
            req.msg_id,
            req.data.as_bytes().unwrap_or(&[]).to_vec(),
            resp.data.as_bytes().unwrap_or(&[]).to_vec(),
        ));
    });
    (h, rx)
}

#[test]
fn send_request_with_handler_gets_response() {
    // SendRequestTest SendRequest0070
    let f = send_fixture();
    let (h, rx) = reply_channel();
    let request = Request::new(7, 0).with_bytes(b"I want to call you!");
    assert!(send_request(&f.t_feature.identity(), request, Some(h)).is_ok());
    let (msg_id, req, resp) = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(
        (msg_id, req.as_slice(), resp.as_slice()),
        (7, &b"I want to call you!"[..], YES)
    );
}

#[test]
fn send_request_with_handler_1024_times() {
    // SendRequestTest SendRequest0080
    let f = send_fixture();
    for i in 0..1024 {
        let (h, rx) = reply_channel();
        assert_eq!(
            send_request(
                &f.t_feature.identity(),
                Request::new(8, i).with_bytes(b"req"),
                Some(h)
            ),
            Ok(())
        );
        assert_eq!(rx.recv_timeout(WAIT).unwrap().2, YES);
    }
}

#[test]
fn send_request_without_bytes_with_handler_1024_times() {
    // SendRequestTest SendRequest0090: len 0, the payload passed by reference (an object here)
    let f = send_fixture();
    for i in 0..1024u32 {
        let (tx, rx) = mpsc::channel();
        let h = handler(move |req: &Request, _: &Response| {
            let _ = tx.send(*req.data.as_object::<u32>().unwrap());
        });
        let request = Request::new(9, 0).with_data(Data::object(i));
        assert_eq!(request.len(), 0);
        assert!(send_request(&f.t_feature.identity(), request, Some(h)).is_ok());
        assert_eq!(rx.recv_timeout(WAIT).unwrap(), i);
    }
}

/// serviceName601 + default API, featureName602 (plain), featureName603 (answers with a
/// `send_response` result recorded in `results`).
struct ResponseFixture {
    samgr: Samgr,
    rec: Recorder,
    f602: Arc<Feat>,
    f603: Arc<FnFeat>,
    results: mpsc::Receiver<Result<(), Error>>,
}

fn response_fixture() -> ResponseFixture {
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let config = cfg(PRI_ABOVE_NORMAL, 20, TaskType::Shared);
    samgr
        .register_service(Svc::new("serviceName601", config, &rec))
        .unwrap();
    samgr
        .register_default_feature_api("serviceName601", TestApi::api(DEFAULT_VERSION))
        .unwrap();
    let f602 = Feat::new("featureName602", &rec);
    let (tx, results) = mpsc::channel();
    let tx = Mutex::new(tx);
    let f603 = FnFeat::new("featureName603", &rec, move |req| {
        let result = send_response(req, Response::bytes(YES));
        let _ = tx.lock().unwrap().send(result);
    });
    samgr
        .register_feature("serviceName601", f602.clone())
        .unwrap();
    samgr
        .register_feature("serviceName601", f603.clone())
        .unwrap();
    boot(&samgr);
    ResponseFixture {
        samgr,
        rec,
        f602,
        f603,
        results,
    }
}

#[test]
fn send_response_reaches_sender_thread() {
    // SendResponseTest SendResponse0010: 602 → 603 with a handler; the response comes back
    // to 602's queue and its handler runs on 602's thread
    let f = response_fixture();
    let (tx, rx) = mpsc::channel();
    let target = f.f603.identity();
    let from_602 = handler(move |_, _| {
        let my_queue = current_queue();
        let tx = tx.clone();
        let on_reply = handler(move |_, resp| {
            let _ = tx.send((resp.data.as_bytes().unwrap().to_vec(), current_queue()));
        });
        assert!(send_request(&target, Request::new(1, 0), Some(on_reply)).is_ok());
        assert!(my_queue.is_some());
    });
    send_shared_direct_request(
        &f.f602.identity(),
        &Request::default(),
        Response::default(),
        from_602,
    )
    .unwrap();
    assert_eq!(f.results.recv_timeout(WAIT).unwrap(), Ok(()));
    let (reply, queue) = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(reply, YES);
    assert_eq!(queue, f.f602.identity().queue_id);
    let _ = &f.samgr;
}

#[test]
fn send_response_without_handler_is_invalid() {
    // SendResponseTest SendResponse0020: MSG_NON cannot be answered (EC_INVALID)
    let f = response_fixture();
    assert!(send_request(&f.f603.identity(), Request::new(2, 0), None).is_ok());
    assert_eq!(f.results.recv_timeout(WAIT).unwrap(), Err(Error::Invalid));
    assert_eq!(Error::Invalid.code(), crate::errno::EC_INVALID);
}

#[test]
fn send_response_to_itself() {
    // SendResponseTest SendResponse0030: 603 sends to itself with a handler
    let f = response_fixture();
    let (tx, rx) = mpsc::channel();
    let me = f.f603.identity();
    let kick = handler(move |_, _| {
        let on_reply = handler(move |_, resp| {
            let _ = tx.send(resp.data.as_bytes().unwrap().to_vec());
        });
        assert!(send_request(&me, Request::new(3, 0), Some(on_reply)).is_ok());
    });
    send_shared_direct_request(
        &f.f603.identity(),
        &Request::default(),
        Response::default(),
        kick,
    )
    .unwrap();
    assert_eq!(f.results.recv_timeout(WAIT).unwrap(), Ok(()));
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), YES);
    assert!(f.rec.wait_count("featureName603", Kind::Message, 1));
}

#[test]
fn send_response_by_identity_without_handler_fails() {
    // SendResponseTest SendResponseByIdentity0020
    let mut request = Request::new(1, 0);
    assert_eq!(
        send_response_by_identity(&Identity::invalid(), &mut request, Response::default()),
        Err(Error::Invalid)
    );
}

#[test]
fn send_response_by_identity_goes_to_that_queue() {
    // SAMGR_SendResponseByIdentity: the handler runs on the named identity's thread
    let samgr = Samgr::new();
    let rec = Recorder::default();
    samgr
        .register_service(Svc::new(
            "fwd_a",
            cfg(PRI_NORMAL, 5, TaskType::Single),
            &rec,
        ))
        .unwrap();
    samgr
        .register_service(Svc::new(
            "fwd_b",
            cfg(PRI_NORMAL, 5, TaskType::Single),
            &rec,
        ))
        .unwrap();
    let (res_tx, res_rx) = mpsc::channel();
    let res_tx = Mutex::new(res_tx);
    let b_id = Arc::new(Mutex::new(None::<Identity>));
    let b_for_a = b_id.clone();
    let fa = FnFeat::new("fa", &rec, move |req| {
        let target = b_for_a.lock().unwrap().clone().unwrap();
        let _ = res_tx.lock().unwrap().send(send_response_by_identity(
            &target,
            req,
            Response::bytes(b"fw"),
        ));
    });
    samgr.register_feature("fwd_a", fa.clone()).unwrap();
    let fb = Feat::new("fb", &rec);
    samgr.register_feature("fwd_b", fb.clone()).unwrap();
    boot(&samgr);
    *b_id.lock().unwrap() = Some(fb.identity());
    let (tx, rx) = mpsc::channel();
    let h = handler(move |_, resp| {
        let _ = tx.send((resp.data.as_bytes().unwrap().to_vec(), current_queue()));
    });
    send_request(&fa.identity(), Request::new(1, 0), Some(h)).unwrap();
    assert_eq!(res_rx.recv_timeout(WAIT).unwrap(), Ok(()));
    let (data, queue) = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(data, b"fw");
    assert_eq!(queue, fb.identity().queue_id);
}

fn share_fixture() -> (Samgr, Recorder, Arc<Feat>, Arc<Feat>) {
    let samgr = Samgr::new();
    let rec = Recorder::default();
    samgr
        .register_service(Svc::new(
            "S_sendShareReq",
            cfg(PRI_ABOVE_NORMAL, 20, TaskType::Shared),
            &rec,
        ))
        .unwrap();
    samgr
        .register_default_feature_api("S_sendShareReq", TestApi::api(DEFAULT_VERSION))
        .unwrap();
    let f02 = Feat::new("feature02", &rec);
    let f03 = Feat::replying("feature03", &rec, YES);
    samgr
        .register_feature("S_sendShareReq", f02.clone())
        .unwrap();
    samgr
        .register_feature("S_sendShareReq", f03.clone())
        .unwrap();
    boot(&samgr);
    (samgr, rec, f02, f03)
}

#[test]
fn send_shared_request_runs_on_message_once() {
    // SendShareRequestTest SendSharedRequest0010
    let (_samgr, rec, _f02, f03) = share_fixture();
    let (h, rx) = reply_channel();
    let request = Request::new(1, 0).with_bytes(b"shared");
    assert!(send_shared_request(&f03.identity(), &request, Some(h)).is_ok());
    assert_eq!(rx.recv_timeout(WAIT).unwrap().2, YES);
    assert!(rec.wait_count("feature03", Kind::Message, 1));
    assert_eq!(rec.count("feature03", Kind::Message), 1);
}

#[test]
fn send_shared_direct_request_runs_handler_not_on_message() {
    // SendShareRequestTest SendSharedDirectRequest0010
    let (_samgr, rec, _f02, f03) = share_fixture();
    let (tx, rx) = mpsc::channel();
    let h = handler(move |req, resp| {
        let _ = tx.send((
            req.msg_id,
            resp.data.as_bytes().unwrap().to_vec(),
            current_queue(),
        ));
    });
    let request = Request::new(5, 0).with_bytes(b"direct");
    assert_eq!(
        send_shared_direct_request(&f03.identity(), &request, Response::bytes(b"resp"), h),
        Ok(())
    );
    let (msg_id, resp, queue) = rx.recv_timeout(WAIT).unwrap();
    assert_eq!((msg_id, resp.as_slice()), (5, &b"resp"[..]));
    assert_eq!(queue, f03.identity().queue_id);
    assert_eq!(rec.count("feature03", Kind::Message), 0);
}

#[test]
fn shared_data_is_freed_with_the_last_holder() {
    // Exchange::sharedRef: one copy for all targets, freed when the last exchange is done
    let (_samgr, rec, f02, f03) = share_fixture();
    let bytes: Arc<[u8]> = Arc::from(&b"one copy"[..]);
    let request = Request::new(1, 0).with_data(Data::Bytes(bytes.clone()));
    send_shared_request(&f02.identity(), &request, None).unwrap();
    send_shared_request(&f03.identity(), &request, None).unwrap();
    drop(request);
    assert!(rec.wait_count("feature02", Kind::Message, 1));
    assert!(rec.wait_count("feature03", Kind::Message, 1));
    // Both exchanges are dropped right after their handlers return; a direct request queued
    // behind them on the same pool thread runs after that.
    let (tx, rx) = mpsc::channel();
    send_shared_direct_request(
        &f03.identity(),
        &Request::default(),
        Response::default(),
        handler(move |_, _| {
            let _ = tx.send(());
        }),
    )
    .unwrap();
    rx.recv_timeout(WAIT).unwrap();
    assert_eq!(Arc::strong_count(&bytes), 1);
}

#[test]
fn full_queue_fails_without_blocking() {
    // QUEUE_Put never waits: a full queue gives EC_BUSBUSY to the sender.
    let samgr = Samgr::new();
    let rec = Recorder::default();
    samgr
        .register_service(Svc::new("busy", cfg(PRI_NORMAL, 2, TaskType::Single), &rec))
        .unwrap();
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let gate_rx = Mutex::new(gate_rx);
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let started_tx = Mutex::new(started_tx);
    let blocker = FnFeat::new("blocker", &rec, move |req| {
        if req.msg_id == 0 {
            let _ = started_tx.lock().unwrap().send(());
            let _ = gate_rx.lock().unwrap().recv();
        }
    });
    samgr.register_feature("busy", blocker.clone()).unwrap();
    boot(&samgr);
    let id = blocker.identity();
    send_request(&id, Request::new(0, 0), None).unwrap();
    started_rx.recv_timeout(WAIT).unwrap(); // the pool thread is now stuck in msg 0
    assert!(send_request(&id, Request::new(1, 0), None).is_ok());
    assert!(send_request(&id, Request::new(2, 0), None).is_ok());
    assert_eq!(
        send_request(&id, Request::new(3, 0), None),
        Err(Error::BusBusy)
    );
    assert_eq!(Error::BusBusy.code(), crate::errno::EC_BUSBUSY);
    let refused = send_shared_direct_request(
        &id,
        &Request::default(),
        Response::default(),
        handler(|_, _| {}),
    );
    assert_eq!(refused, Err(Error::BusBusy));
    gate_tx.send(()).unwrap();
    assert!(rec.wait_count("blocker", Kind::Message, 3));
    assert!(send_request(&id, Request::new(4, 0), None).is_ok());
    assert!(rec.wait_count("blocker", Kind::Message, 4));
}

#[test]
fn msg_exit_stops_the_pool_thread() {
    // SAMGR_ReleaseTaskPool: the last service leaving a pool sends MSG_EXIT to its thread.
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let svc = Svc::new("leaving", cfg(PRI_NORMAL, 4, TaskType::Single), &rec);
    samgr.register_service(svc.clone()).unwrap();
    boot(&samgr);
    let id = svc.identity();
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    send_shared_direct_request(
        &id,
        &Request::default(),
        Response::default(),
        handler(move |_, _| {
            let _ = tx.send(current_queue().is_some());
        }),
    )
    .unwrap();
    assert!(rx.recv_timeout(WAIT).unwrap());
    samgr.unregister_service("leaving").unwrap();
    // The thread has gone: a message behind MSG_EXIT is never run.
    send_shared_direct_request(
        &id,
        &Request::default(),
        Response::default(),
        handler(move |_, _| {
            let _ = tx2.send(true);
        }),
    )
    .unwrap();
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
}

#[test]
fn response_to_a_full_origin_runs_on_responder() {
    // SAMGR_SendResponse: if the origin's queue is full the handler runs on the responder.
    let mut request = Request::new(1, 0);
    let (tx, rx) = mpsc::channel();
    request.reply = Some(crate::message::Reply {
        handler: handler(move |_, _| {
            let _ = tx.send(std::thread::current().id());
        }),
        queue: Some(crate::message::QueueId::new(0)),
    });
    assert_eq!(send_response(&mut request, Response::default()), Ok(()));
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), std::thread::current().id());
    assert_eq!(
        send_response(&mut request, Response::default()),
        Err(Error::Invalid)
    );
}
