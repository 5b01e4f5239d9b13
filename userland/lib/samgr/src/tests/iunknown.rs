//! IUnknownTest (S_iunknown + F_iunknown, API version 0x20).

use super::*;
use crate::task::PRI_ABOVE_NORMAL;
use crate::{CLIENT_PROXY_VER, DEFAULT_VERSION, Error, OLD_VERSION, SERVER_IMPL_VER};

fn setup() -> Samgr {
    let samgr = Samgr::new();
    let rec = Recorder::default();
    samgr
        .register_service(Svc::new(
            "S_iunknown",
            cfg(PRI_ABOVE_NORMAL, 20, TaskType::Shared),
            &rec,
        ))
        .unwrap();
    samgr
        .register_feature("S_iunknown", Feat::new("F_iunknown", &rec))
        .unwrap();
    samgr
        .register_feature_api(
            "S_iunknown",
            Some("F_iunknown"),
            TestApi::api(DEFAULT_VERSION),
        )
        .unwrap();
    samgr
}

#[test]
fn get_iunknown_returns_the_api() {
    // GetIUnknown0010
    let samgr = setup();
    assert!(
        samgr
            .get_feature_api("S_iunknown", Some("F_iunknown"))
            .is_some()
    );
}

#[test]
fn get_object_gives_entry_with_version() {
    // GetObject0010: entry ver 0x20; its only reference is samgr's (+ ours)
    let samgr = setup();
    let api = samgr
        .get_feature_api("S_iunknown", Some("F_iunknown"))
        .unwrap();
    let object = api.downcast::<TestApi>().unwrap();
    assert_eq!(object.ver, DEFAULT_VERSION);
    assert_eq!(api.version(), DEFAULT_VERSION);
    drop(object);
    assert_eq!(api.ref_count(), 2);
}

#[test]
fn query_interface_default_version_adds_a_reference() {
    // QueryInterface0010: EC_SUCCESS; AddRef − Release = 1
    let samgr = setup();
    let api = samgr
        .get_feature_api("S_iunknown", Some("F_iunknown"))
        .unwrap();
    let before = api.ref_count();
    let queried = api.query_interface(DEFAULT_VERSION).unwrap();
    assert_eq!(api.ref_count(), before + 1);
    let typed = queried.query::<TestApi>(DEFAULT_VERSION).unwrap();
    assert!(typed.sync_call(0));
    drop(typed);
    drop(queried);
    assert_eq!(api.ref_count(), before);
}

#[test]
fn query_interface_unsupported_version_is_invalid() {
    // QueryInterface0020: QI(0x30) → EC_INVALID; LiteIPCFeatureTest 0030: a local server
    // entry (0xA0) does not answer CLIENT_PROXY_VER
    let samgr = setup();
    let api = samgr
        .get_feature_api("S_iunknown", Some("F_iunknown"))
        .unwrap();
    assert_eq!(api.query_interface(0x30).err(), Some(Error::Invalid));
    assert_eq!(
        api.query_interface(0x30).err().map(Error::code),
        Some(crate::errno::EC_INVALID)
    );
    assert!(
        TestApi::api(SERVER_IMPL_VER)
            .query_interface(CLIENT_PROXY_VER)
            .is_err()
    );
    assert!(
        TestApi::api(SERVER_IMPL_VER)
            .query_interface(DEFAULT_VERSION)
            .is_ok()
    );
}

#[test]
fn query_interface_old_version_on_bare_api() {
    // QueryInterface0030: a bare API (version 0) registered as feature API; QI(0) → ok.
    let samgr = setup();
    samgr
        .unregister_feature_api("S_iunknown", Some("F_iunknown"))
        .unwrap();
    samgr
        .register_feature_api("S_iunknown", Some("F_iunknown"), TestApi::api(OLD_VERSION))
        .unwrap();
    let api = samgr
        .get_feature_api("S_iunknown", Some("F_iunknown"))
        .unwrap();
    assert!(api.query_interface(OLD_VERSION).is_ok());
    assert!(api.query_interface(DEFAULT_VERSION).is_err());
    // Version 0 queries need an old or default entry.
    assert!(
        TestApi::api(DEFAULT_VERSION)
            .query_interface(OLD_VERSION)
            .is_ok()
    );
    assert!(TestApi::api(0x40).query_interface(OLD_VERSION).is_err());
}
