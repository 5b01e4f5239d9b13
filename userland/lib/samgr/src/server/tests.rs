//! Host tests of the samgr server with a fake CMS.

use super::*;
use crate::errno::{EC_INVALID, EC_NOSERVICE, EC_PERMISSION, EC_SUCCESS};
use crate::ipc::IServerProxy;
use crate::ipc::MemIo;
use crate::policy::read_policies;
use crate::protocol::{read_identity, write_header, write_name};
use alloc::sync::Arc;
use std::sync::Mutex as StdMutex;

#[derive(Default)]
struct FakeCms {
    next: StdMutex<u32>,
    access: StdMutex<Vec<(u32, u32)>>,
    watched: StdMutex<Vec<u32>>,
}

impl Cms for Arc<FakeCms> {
    fn gen_handle(&self, tid: u32) -> Result<u32, Error> {
        let _ = tid;
        let mut next = self.next.lock().unwrap();
        *next += 1;
        Ok(*next)
    }
    fn add_access(&self, tid: u32, handle: u32) -> Result<(), Error> {
        self.access.lock().unwrap().push((tid, handle));
        Ok(())
    }
    fn watch(&self, handle: u32) -> Result<(), Error> {
        self.watched.lock().unwrap().push(handle);
        Ok(())
    }
}

fn server() -> (SamgrServer, Arc<FakeCms>) {
    let cms = Arc::new(FakeCms::default());
    let mut caps = SysCapTable::new();
    caps.add("SystemCapability.Startup.SystemInfo", true)
        .unwrap();
    caps.add("SystemCapability.Sensors.Sensor", false).unwrap();
    (SamgrServer::new(Box::new(cms.clone()), caps), cms)
}

fn origin(pid: u32, uid: u32) -> Origin {
    Origin {
        pid,
        uid,
        gid: uid,
        tid: pid * 10,
    }
}

fn call(s: &SamgrServer, o: Origin, build: impl FnOnce(&mut MemIo)) -> (i32, MemIo) {
    let mut req = MemIo::new();
    build(&mut req);
    let mut reply = MemIo::new();
    let status = s.invoke(u32::MAX, &o, &mut req, &mut reply);
    (status, reply)
}

fn post(s: &SamgrServer, o: Origin) -> u32 {
    let (status, mut reply) = call(s, o, |r| write_header(r, RES_ENDPOINT, OP_POST).unwrap());
    assert_eq!(status, EC_SUCCESS);
    reply.pop_u32().unwrap()
}

fn put(s: &SamgrServer, o: Origin, name: &SaName, token: u32) -> (i32, MemIo) {
    call(s, o, |r| {
        write_header(r, RES_FEATURE, OP_PUT).unwrap();
        write_name(r, name).unwrap();
        r.push_u32(token).unwrap();
    })
}

fn get(s: &SamgrServer, o: Origin, name: &SaName) -> (i32, MemIo) {
    call(s, o, |r| {
        write_header(r, RES_FEATURE, OP_GET).unwrap();
        write_name(r, name).unwrap();
    })
}

#[test]
fn endpoint_post_gives_a_watched_handle() {
    let (s, cms) = server();
    let h = post(&s, origin(5, 0));
    assert_eq!(
        s.endpoints(),
        vec![EndpointRecord {
            pid: 5,
            uid: 0,
            handle: h
        }]
    );
    assert_eq!(*cms.watched.lock().unwrap(), vec![h]);
}

#[test]
fn put_needs_an_endpoint_and_valid_names() {
    let (s, _) = server();
    let wms = SaName::new("wms", None);
    assert_eq!(put(&s, origin(5, 0), &wms, 0).0, EC_NOSERVICE);
    let h = post(&s, origin(5, 0));
    assert_eq!(
        put(&s, origin(5, 1), &wms, 0).0,
        EC_NOSERVICE,
        "uid must match"
    );
    let long = SaName::new("a_name_that_is_too_long", None);
    assert_eq!(put(&s, origin(5, 0), &long, 0).0, EC_INVALID);
    let (status, mut reply) = put(&s, origin(5, 0), &wms, 1);
    assert_eq!(status, EC_SUCCESS);
    assert_eq!(
        read_identity(&mut reply).unwrap(),
        SvcIdentity {
            handle: h,
            token: 1,
            cookie: 0
        }
    );
    assert_eq!(read_policies(&mut reply).unwrap(), vec![DEFAULT_POLICY]);
}

#[test]
fn put_refuses_apps_samgr_and_taken_names() {
    let (s, _) = server();
    post(&s, origin(5, 0));
    post(&s, origin(6, 20000));
    post(&s, origin(7, 0));
    let name = SaName::new("ims", None);
    assert_eq!(put(&s, origin(6, 20000), &name, 0).0, EC_PERMISSION);
    assert_eq!(
        put(&s, origin(5, 0), &SaName::new("samgr", None), 0).0,
        EC_PERMISSION
    );
    assert_eq!(put(&s, origin(5, 0), &name, 0).0, EC_SUCCESS);
    assert_eq!(put(&s, origin(7, 0), &name, 0).0, EC_INVALID);
}

#[test]
fn get_grants_access_and_checks_communication() {
    let (s, cms) = server();
    let h = post(&s, origin(5, 0));
    let name = SaName::new("wms", None);
    assert_eq!(get(&s, origin(8, 0), &name).0, EC_NOSERVICE);
    put(&s, origin(5, 0), &name, 2);
    let (status, mut reply) = get(&s, origin(8, 0), &name);
    assert_eq!(status, EC_SUCCESS);
    assert_eq!(
        read_identity(&mut reply).unwrap(),
        SvcIdentity {
            handle: h,
            token: 2,
            cookie: 0
        }
    );
    assert_eq!(*cms.access.lock().unwrap(), vec![(80, h)]);
    put(&s, origin(5, 0), &SaName::new("samgr_sys", None), 3);
    assert_eq!(
        get(&s, origin(9, 20000), &SaName::new("samgr_sys", None)).0,
        EC_PERMISSION
    );
    assert_eq!(get(&s, origin(9, 20000), &name).0, EC_SUCCESS);
}

#[test]
fn get_matches_service_and_feature_exactly() {
    let (s, _) = server();
    post(&s, origin(5, 0));
    put(&s, origin(5, 0), &SaName::new("wms", None), 1);
    put(&s, origin(5, 0), &SaName::new("wms", Some("input")), 2);
    let token = |name: &SaName| {
        let (status, mut reply) = get(&s, origin(8, 0), name);
        (status == EC_SUCCESS).then(|| read_identity(&mut reply).unwrap().token)
    };
    assert_eq!(token(&SaName::new("wms", None)), Some(1));
    assert_eq!(token(&SaName::new("wms", Some("input"))), Some(2));
    for missing in [
        SaName::new("wms", Some("inpu")),
        SaName::new("wm", None),
        SaName::new("wmsx", Some("input")),
    ] {
        assert_eq!(
            get(&s, origin(8, 0), &missing).0,
            EC_NOSERVICE,
            "{missing:?}"
        );
    }
    for invalid in [
        SaName::new("", None),
        SaName::new("wms", Some("")),
        SaName::new("a_name_that_is_too_long", None),
        SaName::new("wms", Some("a_name_that_is_too_long")),
    ] {
        assert_eq!(get(&s, origin(8, 0), &invalid).0, EC_INVALID, "{invalid:?}");
    }
}

#[test]
fn secure_feature_gets_its_policy() {
    let (s, _) = server();
    post(&s, origin(5, 0));
    let (status, mut reply) = put(
        &s,
        origin(5, 0),
        &SaName::new("samgr_test", Some("secure")),
        1,
    );
    assert_eq!(status, EC_SUCCESS);
    read_identity(&mut reply).unwrap();
    let policies = read_policies(&mut reply).unwrap();
    assert!(crate::policy::judge_policy(0, &policies));
    assert!(!crate::policy::judge_policy(20000, &policies));
}

#[test]
fn death_removes_endpoint_and_features_and_frees_names() {
    let (s, _) = server();
    let h = post(&s, origin(5, 0));
    post(&s, origin(7, 0));
    let name = SaName::new("wms", None);
    put(&s, origin(5, 0), &name, 0);
    put(&s, origin(5, 0), &SaName::new("ims", None), 1);
    assert_eq!(s.on_endpoint_death(h), Some((5, 2)));
    assert_eq!(s.on_endpoint_death(h), None);
    assert!(s.features().is_empty());
    assert_eq!(get(&s, origin(8, 0), &name).0, EC_NOSERVICE);
    assert_eq!(put(&s, origin(7, 0), &name, 0).0, EC_SUCCESS);
}

#[test]
fn syscaps_for_system_uids_only_and_paged() {
    let (s, _) = server();
    let (status, mut reply) = call(&s, origin(5, 0), |r| {
        write_header(r, RES_SYSCAP, OP_GET).unwrap();
        r.push_string("SystemCapability.Sensors.Sensor").unwrap();
    });
    assert_eq!((status, reply.pop_bool()), (EC_SUCCESS, Ok(false)));
    let (status, _) = call(&s, origin(5, 0), |r| {
        write_header(r, RES_SYSCAP, OP_PUT).unwrap();
        r.push_string("SystemCapability.Sensors.Sensor").unwrap();
    });
    assert_eq!(status, EC_SUCCESS);
    let (status, mut reply) = call(&s, origin(5, 0), |r| {
        write_header(r, RES_SYSCAP, OP_ALL).unwrap();
        r.push_u32(0).unwrap();
    });
    assert_eq!(status, EC_SUCCESS);
    assert_eq!(reply.pop_u32(), Ok(2));
    let (status, _) = call(&s, origin(5, 20000), |r| {
        write_header(r, RES_SYSCAP, OP_ALL).unwrap();
        r.push_u32(0).unwrap();
    });
    assert_eq!(status, EC_PERMISSION);
}

#[test]
fn feature_all_pages_and_delete_is_owner_only() {
    let (s, _) = server();
    post(&s, origin(5, 0));
    post(&s, origin(6, 0));
    put(&s, origin(5, 0), &SaName::new("wms", None), 0);
    put(&s, origin(5, 0), &SaName::new("ims", None), 1);
    let (status, mut reply) = call(&s, origin(9, 0), |r| {
        write_header(r, RES_FEATURE, OP_ALL).unwrap();
        r.push_u32(0).unwrap();
    });
    assert_eq!(status, EC_SUCCESS);
    assert_eq!(reply.pop_u32(), Ok(2));
    let delete = |o| {
        call(&s, o, |r| {
            write_header(r, RES_FEATURE, OP_DELETE).unwrap();
            write_name(r, &SaName::new("ims", None)).unwrap();
        })
        .0
    };
    assert_eq!(delete(origin(6, 0)), EC_PERMISSION);
    assert_eq!(delete(origin(5, 0)), EC_SUCCESS);
    assert_eq!(s.features().len(), 1);
}
