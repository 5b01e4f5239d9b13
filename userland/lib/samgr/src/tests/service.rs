//! ServiceTest (serviceName101).

use super::*;
use crate::task::PRI_ABOVE_NORMAL;
use crate::{DEFAULT_VERSION, Error};

fn svc(rec: &Recorder) -> Arc<Svc> {
    Svc::new(
        "serviceName101",
        cfg(PRI_ABOVE_NORMAL, 20, TaskType::Shared),
        rec,
    )
}

#[test]
fn register_service_succeeds() {
    // RegisterService0010
    let samgr = Samgr::new();
    assert_eq!(samgr.register_service(svc(&Recorder::default())), Ok(()));
}

#[test]
fn register_service_with_bad_name_fails() {
    // RegisterService0020 (NULL service → an empty or over-long name)
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let cfg = cfg(PRI_ABOVE_NORMAL, 20, TaskType::Shared);
    assert_eq!(
        samgr.register_service(Svc::new("", cfg, &rec)),
        Err(Error::Invalid)
    );
    assert_eq!(
        samgr.register_service(Svc::new("sixteen_bytes_xx", cfg, &rec)),
        Err(Error::Invalid)
    );
    assert!(
        samgr
            .register_service(Svc::new("fifteen_bytes_x", cfg, &rec))
            .is_ok()
    );
}

#[test]
fn register_service_twice_fails() {
    // RegisterService0030
    let samgr = Samgr::new();
    let rec = Recorder::default();
    samgr.register_service(svc(&rec)).unwrap();
    assert_eq!(samgr.register_service(svc(&rec)), Err(Error::Failure));
}

#[test]
fn unregister_service_returns_it() {
    // UnregisterService0010
    let samgr = Samgr::new();
    samgr.register_service(svc(&Recorder::default())).unwrap();
    let service = samgr.unregister_service("serviceName101").unwrap();
    assert_eq!(service.name(), "serviceName101");
    assert!(samgr.identity("serviceName101", None).is_none());
}

#[test]
fn unregister_service_empty_name_fails() {
    // UnregisterService0020
    let samgr = Samgr::new();
    assert!(samgr.unregister_service("").is_err());
}

#[test]
fn unregister_unknown_service_fails() {
    // UnregisterService0030
    let samgr = Samgr::new();
    assert_eq!(
        samgr.unregister_service("noSuchService").err(),
        Some(Error::NoService)
    );
}

#[test]
fn unregister_service_with_default_api_fails() {
    // UnregisterService0040
    let samgr = Samgr::new();
    samgr.register_service(svc(&Recorder::default())).unwrap();
    samgr
        .register_default_feature_api("serviceName101", TestApi::api(DEFAULT_VERSION))
        .unwrap();
    assert_eq!(
        samgr.unregister_service("serviceName101").err(),
        Some(Error::Busy)
    );
    samgr
        .unregister_default_feature_api("serviceName101")
        .unwrap();
    assert!(samgr.unregister_service("serviceName101").is_ok());
}

#[test]
fn unregister_service_with_feature_fails() {
    // UnregisterService0050
    let samgr = Samgr::new();
    let rec = Recorder::default();
    samgr.register_service(svc(&rec)).unwrap();
    samgr
        .register_feature("serviceName101", Feat::new("featureName101", &rec))
        .unwrap();
    assert_eq!(
        samgr.unregister_service("serviceName101").err(),
        Some(Error::Busy)
    );
    samgr
        .unregister_feature("serviceName101", "featureName101")
        .unwrap();
    assert!(samgr.unregister_service("serviceName101").is_ok());
}

#[test]
fn register_unregister_service_10240_times() {
    // UnregisterService0060
    let samgr = Samgr::new();
    let rec = Recorder::default();
    for _ in 0..10240 {
        assert!(samgr.register_service(svc(&rec)).is_ok());
        assert!(samgr.unregister_service("serviceName101").is_ok());
    }
    assert!(samgr.services().is_empty());
}

#[test]
fn bootstrap_again_while_running_is_harmless() {
    // Bootstrap0010
    let samgr = Samgr::new();
    let rec = Recorder::default();
    samgr.register_service(svc(&rec)).unwrap();
    boot(&samgr);
    samgr.bootstrap();
    samgr.bootstrap();
    assert!(samgr.wait_initialized(WAIT));
    assert_eq!(rec.count("serviceName101", Kind::Init), 1);
    assert!(std::ptr::eq(Samgr::instance(), Samgr::instance()));
}

#[test]
fn service_limit_is_enforced() {
    // MAX_SERVICE_NUM (our limit, the server store's size)
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let cfg = cfg(PRI_ABOVE_NORMAL, 20, TaskType::NoTask);
    for i in 0..crate::MAX_SERVICE_NUM {
        samgr
            .register_service(Svc::new(&format!("s{i}"), cfg, &rec))
            .unwrap();
    }
    assert_eq!(
        samgr.register_service(Svc::new("one_more", cfg, &rec)),
        Err(Error::NoMemory)
    );
}
