//! The seams for the cross-process half: exported interfaces and their registry hook, the
//! HandleIpc path, token bucket, uid policies, SysCaps, the in-memory codec.

use super::*;
use crate::errno::{EC_INVALID, EC_NOSERVICE, EC_SUCCESS, Error};
use crate::ipc::IoError;
use crate::policy::{PolicyTrans, UID_SIZE, judge_policy, read_policies, write_policies};
use crate::remote::SaName;
use crate::syscap::{MAX_SYSCAP_NUM_PER_REPLY, SysCapTable};
use crate::task::PRI_NORMAL;
use crate::token_bucket::{BucketStatus, TokenBucket};
use crate::{
    CallHandler, DEFAULT_VERSION, IServerProxy, IpcReader, IpcWriter, MemIo, Origin,
    SERVER_IMPL_VER, SERVER_PROXY_VER, ServiceRegistry, current_queue, handler,
    send_shared_direct_request,
};
use abi::liteipc::SvcIdentity;
use std::sync::mpsc;

/// An exported interface: `invoke(1)` adds the two `i32`s of the request.
struct Adder;

impl IUnknown for Adder {
    fn version(&self) -> u16 {
        SERVER_IMPL_VER
    }
    fn server_proxy(&self) -> Option<&dyn IServerProxy> {
        Some(self)
    }
}

impl CallHandler for Adder {
    fn handle(
        &self,
        code: u32,
        origin: &Origin,
        request: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> Result<(), Error> {
        if code != 1 {
            return Err(Error::NoService);
        }
        let (a, b) = (request.pop_i32()?, request.pop_i32()?);
        reply.push_i32(a + b)?;
        reply.push_u32(origin.uid)?;
        Ok(())
    }
}

/// Records what samgr reports.
#[derive(Default)]
struct Registry {
    exported: Mutex<Vec<(SaName, Identity, Api)>>,
    unexported: Mutex<Vec<SaName>>,
}

impl ServiceRegistry for Registry {
    fn register_service_api(&self, name: &SaName, identity: &Identity, api: &Api) {
        self.exported
            .lock()
            .unwrap()
            .push((name.clone(), identity.clone(), api.clone()));
    }
    fn unregister_service_api(&self, name: &SaName, _api: &Api) {
        self.unexported.lock().unwrap().push(name.clone());
    }
    fn find_service_api(&self, service: &str, _feature: Option<&str>) -> Option<Api> {
        (service == "abilityms").then(|| TestApi::api(crate::CLIENT_PROXY_VER))
    }
}

fn exported_names(reg: &Registry) -> Vec<SaName> {
    reg.exported
        .lock()
        .unwrap()
        .iter()
        .map(|(n, _, _)| n.clone())
        .collect()
}

/// wms-like process: Broadcast (not exported), WMS and IMS (default APIs exported), and a
/// service with an exported feature.
fn process(samgr: &Samgr, rec: &Recorder) {
    crate::broadcast::install(samgr).unwrap();
    samgr
        .register_service(Svc::new("WMS", cfg(PRI_NORMAL, 8, TaskType::Single), rec))
        .unwrap();
    samgr
        .register_default_feature_api("WMS", Api::new(Adder))
        .unwrap();
    samgr
        .register_service(Svc::new(
            "IMS",
            cfg(PRI_NORMAL - 1, 8, TaskType::Single),
            rec,
        ))
        .unwrap();
    samgr
        .register_default_feature_api("IMS", Api::new(Adder))
        .unwrap();
    samgr
        .register_service(Svc::new(
            "sensor",
            cfg(PRI_NORMAL - 2, 8, TaskType::Single),
            rec,
        ))
        .unwrap();
    samgr
        .register_default_feature_api("sensor", TestApi::api(DEFAULT_VERSION))
        .unwrap();
    samgr
        .register_feature("sensor", Feat::new("local", rec))
        .unwrap();
    samgr
        .register_feature("sensor", Feat::new("remote", rec))
        .unwrap();
    samgr
        .register_feature_api("sensor", Some("local"), TestApi::api(DEFAULT_VERSION))
        .unwrap();
    samgr
        .register_feature_api("sensor", Some("remote"), Api::new(Adder))
        .unwrap();
}

#[test]
fn only_exported_interfaces_reach_the_registry_in_init_order() {
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let reg = Arc::new(Registry::default());
    samgr.set_service_registry(reg.clone());
    process(&samgr, &rec);
    boot(&samgr);
    assert_eq!(
        exported_names(&reg),
        [
            SaName::new("WMS", None),
            SaName::new("IMS", None),
            SaName::new("sensor", Some("remote"))
        ]
    );
    let exported = reg.exported.lock().unwrap();
    let (_, id, api) = &exported[2];
    assert_eq!((id.service_id, id.feature_id), (3, 1));
    assert!(api.server_proxy().is_some());
    assert!(exported.iter().all(|(n, _, _)| n.is_valid()));
}

#[test]
fn late_registry_gets_the_exports_replayed() {
    let samgr = Samgr::new();
    let rec = Recorder::default();
    process(&samgr, &rec);
    boot(&samgr);
    let reg = Arc::new(Registry::default());
    samgr.set_service_registry(reg.clone());
    assert_eq!(exported_names(&reg).len(), 3);
}

#[test]
fn api_registered_after_init_is_exported_and_unexported() {
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let reg = Arc::new(Registry::default());
    samgr.set_service_registry(reg.clone());
    samgr
        .register_service(Svc::new("late", cfg(PRI_NORMAL, 8, TaskType::Single), &rec))
        .unwrap();
    boot(&samgr);
    assert!(exported_names(&reg).is_empty());
    samgr
        .register_default_feature_api("late", Api::new(Adder))
        .unwrap();
    assert_eq!(exported_names(&reg), [SaName::new("late", None)]);
    samgr.unregister_default_feature_api("late").unwrap();
    assert_eq!(*reg.unexported.lock().unwrap(), [SaName::new("late", None)]);
}

#[test]
fn unknown_services_are_resolved_remotely() {
    // GetFeatureApi falls back to SAMGR_FindServiceApi (client proxies)
    let samgr = Samgr::new();
    assert!(
        samgr
            .get_feature_api("abilityms", Some("AmsFeature"))
            .is_none()
    );
    samgr.set_service_registry(Arc::new(Registry::default()));
    let proxy = samgr
        .get_feature_api("abilityms", Some("AmsFeature"))
        .unwrap();
    assert!(proxy.query_interface(crate::CLIENT_PROXY_VER).is_ok());
    assert!(proxy.server_proxy().is_none());
    assert!(samgr.get_feature_api("abilityms", Some("")).is_none());
}

#[test]
fn server_proxy_needs_the_version_bit() {
    struct Pretender;
    impl IUnknown for Pretender {
        fn server_proxy(&self) -> Option<&dyn IServerProxy> {
            None
        }
    }
    struct WrongVersion;
    impl IUnknown for WrongVersion {
        fn server_proxy(&self) -> Option<&dyn IServerProxy> {
            Some(&Adder)
        }
    }
    assert!(Api::new(Pretender).server_proxy().is_none());
    assert!(Api::new(WrongVersion).server_proxy().is_none());
    assert!(Api::new(Adder).query_interface(SERVER_PROXY_VER).is_ok());
}

#[test]
fn a_call_handler_is_a_server_proxy_answering_ec_codes() {
    let origin = Origin {
        uid: 5,
        ..Origin::default()
    };
    let call = |code: u32, args: &[i32]| {
        let mut request = MemIo::new();
        for &arg in args {
            request.push_i32(arg).unwrap();
        }
        let mut reply = MemIo::new();
        let status = Adder.invoke(code, &origin, &mut request, &mut reply);
        (status, reply)
    };
    let (status, mut reply) = call(1, &[2, 3]);
    assert_eq!(status, EC_SUCCESS);
    assert_eq!((reply.pop_i32(), reply.pop_u32()), (Ok(5), Ok(5)));
    // An `Err` becomes its code; a codec error is `Error::Invalid`.
    assert_eq!(call(2, &[2, 3]).0, EC_NOSERVICE);
    assert_eq!(call(1, &[2]).0, EC_INVALID);
}

#[test]
fn handle_ipc_runs_invoke_on_the_service_thread() {
    // Dispatch → SAMGR_SendSharedDirectRequest(router identity) → HandleIpc → Invoke
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let reg = Arc::new(Registry::default());
    samgr.set_service_registry(reg.clone());
    process(&samgr, &rec);
    boot(&samgr);
    let (name, router, api) = reg.exported.lock().unwrap()[0].clone();
    assert_eq!(name, SaName::new("WMS", None));
    let mut msg = MemIo::new();
    msg.push_i32(20).unwrap();
    msg.push_i32(22).unwrap();
    let origin = Origin {
        pid: 7,
        uid: 1000,
        gid: 1000,
        tid: 8,
    };
    let (tx, rx) = mpsc::channel();
    let handle_ipc = handler(move |request, _| {
        let mut req = msg;
        let mut reply = MemIo::new();
        let code =
            api.server_proxy()
                .unwrap()
                .invoke(request.msg_value, &origin, &mut req, &mut reply);
        let _ = tx.send((code, reply, current_queue()));
    });
    let request = Request::new(0, 1); // msg_id = router token, msg_value = IPC code
    send_shared_direct_request(&router, &request, Response::default(), handle_ipc).unwrap();
    let (code, mut reply, queue) = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(code, EC_SUCCESS);
    assert_eq!(reply.pop_i32(), Ok(42));
    assert_eq!(reply.pop_u32(), Ok(1000));
    assert_eq!(queue, router.queue_id);
    assert_eq!(rec.count("WMS", Kind::Message), 0);
}

#[test]
fn token_bucket_follows_upstream() {
    // TB_CheckMessage: 1000 tokens per ms refill, 1000 per message; from a full bucket the
    // first message is free, then busy at 1500 owed: bursts of 1500
    let mut bucket = TokenBucket::default();
    let now = 5_000;
    let accepted = (0..2000)
        .take_while(|_| bucket.check_message_at(now) == BucketStatus::Idle)
        .count();
    assert_eq!(accepted, 1500);
    assert_eq!(bucket.check_message_at(now), BucketStatus::Busy);
    // One millisecond later one message fits again, not two.
    assert_eq!(bucket.check_message_at(now + 1), BucketStatus::Idle);
    assert_eq!(bucket.check_message_at(now + 1), BucketStatus::Busy);
    // After a quiet second the bucket is full again.
    let later = now + 1 + 1500;
    let accepted = (0..2000)
        .take_while(|_| bucket.check_message_at(later) == BucketStatus::Idle)
        .count();
    assert_eq!(accepted, 1500);
    // Steady 1 message per ms is always accepted.
    let mut steady = TokenBucket::default();
    assert!((0..5000u64).all(|ms| steady.check_message_at(10_000 + ms) == BucketStatus::Idle));
    assert_eq!(TokenBucket::default().check_message(), BucketStatus::Idle);
}

#[test]
fn judge_policy_follows_upstream() {
    let mut fixed = [0; UID_SIZE];
    fixed[..2].copy_from_slice(&[1000, 2000]);
    let policies = [
        PolicyTrans::Range {
            uid_min: 10,
            uid_max: 20,
        },
        PolicyTrans::Fixed { uids: fixed },
        PolicyTrans::BundleName { uid: 3000 },
    ];
    assert!(judge_policy(10, &policies) && judge_policy(20, &policies));
    assert!(!judge_policy(21, &policies));
    assert!(judge_policy(2000, &policies));
    assert!(judge_policy(0, &policies)); // unused FIXED slots are 0, as upstream
    assert!(!judge_policy(3000, &policies)); // BUNDLENAME never admits in JudgePolicy
    assert!(!judge_policy(10, &[])); // no policy: no access
}

#[test]
fn policies_round_trip_and_are_capped() {
    let mut io = MemIo::new();
    let many = vec![
        PolicyTrans::Range {
            uid_min: 0,
            uid_max: 99
        };
        10
    ];
    write_policies(&many, &mut io).unwrap();
    let read = read_policies(&mut io).unwrap();
    assert_eq!(read.len(), crate::policy::MAX_POLICY_NUM);
    let mut io = MemIo::new();
    let some = [
        PolicyTrans::Fixed {
            uids: [5; UID_SIZE],
        },
        PolicyTrans::BundleName { uid: 9 },
        PolicyTrans::Unknown(77),
    ];
    write_policies(&some, &mut io).unwrap();
    assert_eq!(read_policies(&mut io).unwrap(), some);
    assert_eq!(io.remaining(), 0);
}

#[test]
fn syscap_table_pages_registered_names() {
    let mut table = SysCapTable::new();
    for i in 0..300 {
        table
            .add(&format!("SystemCapability.Test.{i}"), i % 2 == 0)
            .unwrap();
    }
    assert_eq!(
        table.add("SystemCapability.Test.0", true),
        Err(crate::Error::Failure)
    );
    assert_eq!(table.add("", true), Err(crate::Error::Invalid));
    assert_eq!(table.add(&"x".repeat(65), true), Err(crate::Error::Invalid));
    assert!(table.is_registered("SystemCapability.Test.0"));
    assert!(!table.is_registered("SystemCapability.Test.1"));
    table.register("SystemCapability.Test.1").unwrap();
    assert!(table.is_registered("SystemCapability.Test.1"));
    assert_eq!(
        table.register("SystemCapability.Nope"),
        Err(crate::Error::Failure)
    );
    let mut names = Vec::new();
    let mut start = 0;
    loop {
        let page = table.page(start);
        assert!(page.names.len() <= MAX_SYSCAP_NUM_PER_REPLY);
        names.extend(page.names);
        start = page.next;
        if page.is_end {
            break;
        }
    }
    assert_eq!(names.len(), 151);
}

#[test]
fn mem_io_round_trips_and_checks_bounds() {
    let mut io = MemIo::new();
    io.push_bool(true).unwrap();
    io.push_i32(-5).unwrap();
    io.push_u64(1 << 40).unwrap();
    io.push_string("samgr").unwrap();
    io.push_svc(SvcIdentity {
        handle: 1,
        token: 2,
        cookie: 3,
    })
    .unwrap();
    assert_eq!(io.pop_bool(), Ok(true));
    assert_eq!(io.pop_i32(), Ok(-5));
    assert_eq!(io.pop_u64(), Ok(1 << 40));
    assert_eq!(io.pop_string(), Ok("samgr"));
    assert_eq!(
        io.pop_svc(),
        Ok(SvcIdentity {
            handle: 1,
            token: 2,
            cookie: 3
        })
    );
    assert_eq!(io.pop_u32(), Err(IoError::Underflow));
    let mut small = MemIo::with_limit(6);
    assert_eq!(small.push_string("too long"), Err(IoError::Overflow));
    assert!(small.data().is_empty());
}
