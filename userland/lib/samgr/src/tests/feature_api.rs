//! FeatureApiTest (serviceName401 + featureName401 per case) and DefaultFeatureApiTest
//! (serviceName301 in SetUp).

use super::*;
use crate::task::PRI_ABOVE_NORMAL;
use crate::{DEFAULT_VERSION, Error};

const SERVICE: &str = "serviceName401";
const FEATURE: &str = "featureName401";
const DEF_SERVICE: &str = "serviceName301";

fn setup() -> Samgr {
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let config = cfg(PRI_ABOVE_NORMAL, 20, TaskType::Shared);
    samgr
        .register_service(Svc::new(SERVICE, config, &rec))
        .unwrap();
    samgr
        .register_feature(SERVICE, Feat::new(FEATURE, &rec))
        .unwrap();
    samgr
        .register_service(Svc::new(DEF_SERVICE, config, &rec))
        .unwrap();
    samgr
}

fn api() -> Api {
    TestApi::api(DEFAULT_VERSION)
}

#[test]
fn register_feature_api_succeeds() {
    // FeatureApiTest RegisterFeatureApi0010
    let samgr = setup();
    assert_eq!(
        samgr.register_feature_api(SERVICE, Some(FEATURE), api()),
        Ok(())
    );
}

#[test]
fn register_feature_api_bad_service_fails() {
    // FeatureApiTest RegisterFeatureApi0020
    let samgr = setup();
    assert!(
        samgr
            .register_feature_api("", Some(FEATURE), api())
            .is_err()
    );
}

#[test]
fn register_feature_api_empty_feature_fails() {
    // FeatureApiTest RegisterFeatureApi0030
    let samgr = setup();
    assert_eq!(
        samgr.register_feature_api(SERVICE, Some(""), api()),
        Err(Error::Invalid)
    );
}

#[test]
fn register_feature_api_without_feature_is_default_api() {
    // FeatureApiTest RegisterFeatureApi0050 (0040, a NULL API, cannot be expressed)
    let samgr = setup();
    let a = api();
    assert!(samgr.register_feature_api(SERVICE, None, a.clone()).is_ok());
    assert!(samgr.get_default_feature_api(SERVICE).unwrap().ptr_eq(&a));
}

#[test]
fn register_feature_api_unknown_service_fails() {
    // FeatureApiTest RegisterFeatureApi0060
    let samgr = setup();
    assert_eq!(
        samgr.register_feature_api("noSuchService", Some(FEATURE), api()),
        Err(Error::NoService)
    );
}

#[test]
fn register_feature_api_unknown_feature_fails() {
    // FeatureApiTest RegisterFeatureApi0070
    let samgr = setup();
    assert_eq!(
        samgr.register_feature_api(SERVICE, Some("noSuchFeature"), api()),
        Err(Error::NoService)
    );
}

#[test]
fn register_feature_api_twice_fails() {
    // FeatureApiTest RegisterFeatureApi0080
    let samgr = setup();
    samgr
        .register_feature_api(SERVICE, Some(FEATURE), api())
        .unwrap();
    assert_eq!(
        samgr.register_feature_api(SERVICE, Some(FEATURE), api()),
        Err(Error::Failure)
    );
}

#[test]
fn get_feature_api_returns_it() {
    // FeatureApiTest GetFeatureApi0010
    let samgr = setup();
    let a = api();
    samgr
        .register_feature_api(SERVICE, Some(FEATURE), a.clone())
        .unwrap();
    assert!(
        samgr
            .get_feature_api(SERVICE, Some(FEATURE))
            .unwrap()
            .ptr_eq(&a)
    );
}

#[test]
fn get_feature_api_bad_service_is_none() {
    // FeatureApiTest GetFeatureApi0020
    let samgr = setup();
    samgr
        .register_feature_api(SERVICE, Some(FEATURE), api())
        .unwrap();
    assert!(samgr.get_feature_api("", Some(FEATURE)).is_none());
}

#[test]
fn get_feature_api_without_feature_or_default_is_none() {
    // FeatureApiTest GetFeatureApi0030
    let samgr = setup();
    samgr
        .register_feature_api(SERVICE, Some(FEATURE), api())
        .unwrap();
    assert!(samgr.get_feature_api(SERVICE, None).is_none());
    assert!(samgr.get_feature_api(SERVICE, Some("")).is_none());
}

#[test]
fn get_feature_api_unknown_is_none() {
    // FeatureApiTest GetFeatureApi0040
    let samgr = setup();
    samgr
        .register_feature_api(SERVICE, Some(FEATURE), api())
        .unwrap();
    assert!(
        samgr
            .get_feature_api("noSuchService", Some(FEATURE))
            .is_none()
    );
    assert!(
        samgr
            .get_feature_api(SERVICE, Some("noSuchFeature"))
            .is_none()
    );
}

#[test]
fn get_feature_api_of_feature_without_api_is_none() {
    // FeatureApiTest GetFeatureApi0050
    let samgr = setup();
    assert!(samgr.get_feature_api(SERVICE, Some(FEATURE)).is_none());
}

#[test]
fn get_feature_api_twice_gives_same_object() {
    // FeatureApiTest GetFeatureApi0060
    let samgr = setup();
    samgr
        .register_feature_api(SERVICE, Some(FEATURE), api())
        .unwrap();
    let a = samgr.get_feature_api(SERVICE, Some(FEATURE)).unwrap();
    let b = samgr.get_feature_api(SERVICE, Some(FEATURE)).unwrap();
    assert!(a.ptr_eq(&b));
}

#[test]
fn unregister_feature_api_returns_it() {
    // FeatureApiTest UnregisterFeatureApi0010
    let samgr = setup();
    let a = api();
    samgr
        .register_feature_api(SERVICE, Some(FEATURE), a.clone())
        .unwrap();
    assert!(
        samgr
            .unregister_feature_api(SERVICE, Some(FEATURE))
            .unwrap()
            .ptr_eq(&a)
    );
    assert!(samgr.get_feature_api(SERVICE, Some(FEATURE)).is_none());
}

#[test]
fn unregister_feature_api_bad_service_fails() {
    // FeatureApiTest UnregisterFeatureApi0020
    let samgr = setup();
    samgr
        .register_feature_api(SERVICE, Some(FEATURE), api())
        .unwrap();
    assert!(samgr.unregister_feature_api("", Some(FEATURE)).is_err());
}

#[test]
fn unregister_feature_api_empty_feature_fails() {
    // FeatureApiTest UnregisterFeatureApi0030
    let samgr = setup();
    samgr
        .register_feature_api(SERVICE, Some(FEATURE), api())
        .unwrap();
    assert_eq!(
        samgr.unregister_feature_api(SERVICE, Some("")).err(),
        Some(Error::Invalid)
    );
}

#[test]
fn unregister_feature_api_unknown_service_fails() {
    // FeatureApiTest UnregisterFeatureApi0040
    let samgr = setup();
    assert!(
        samgr
            .unregister_feature_api("noSuchService", Some(FEATURE))
            .is_err()
    );
}

#[test]
fn unregister_feature_api_unknown_feature_fails() {
    // FeatureApiTest UnregisterFeatureApi0050
    let samgr = setup();
    assert!(
        samgr
            .unregister_feature_api(SERVICE, Some("noSuchFeature"))
            .is_err()
    );
}

#[test]
fn register_unregister_feature_api_10240_times() {
    // FeatureApiTest UnregisterFeatureApi0060
    let samgr = setup();
    let a = api();
    for _ in 0..10240 {
        assert!(
            samgr
                .register_feature_api(SERVICE, Some(FEATURE), a.clone())
                .is_ok()
        );
        assert!(samgr.unregister_feature_api(SERVICE, Some(FEATURE)).is_ok());
    }
    assert_eq!(a.ref_count(), 1);
}

#[test]
fn register_default_feature_api_succeeds() {
    // DefaultFeatureApiTest RegisterDefaultFeatureApi0010
    let samgr = setup();
    assert_eq!(
        samgr.register_default_feature_api(DEF_SERVICE, api()),
        Ok(())
    );
}

#[test]
fn register_default_feature_api_bad_service_fails() {
    // DefaultFeatureApiTest RegisterDefaultFeatureApi0020 / 0030 (0040, NULL API, n/a)
    let samgr = setup();
    assert!(samgr.register_default_feature_api("", api()).is_err());
    assert_eq!(
        samgr.register_default_feature_api("noSuchService", api()),
        Err(Error::NoService)
    );
}

#[test]
fn register_default_feature_api_twice_fails() {
    // DefaultFeatureApiTest RegisterDefaultFeatureApi0050
    let samgr = setup();
    samgr
        .register_default_feature_api(DEF_SERVICE, api())
        .unwrap();
    assert_eq!(
        samgr.register_default_feature_api(DEF_SERVICE, api()),
        Err(Error::Failure)
    );
}

#[test]
fn get_default_feature_api_returns_it() {
    // DefaultFeatureApiTest GetDefaultFeatureApi0010 / 0040 (same object twice)
    let samgr = setup();
    let a = api();
    samgr
        .register_default_feature_api(DEF_SERVICE, a.clone())
        .unwrap();
    let first = samgr.get_default_feature_api(DEF_SERVICE).unwrap();
    let second = samgr.get_default_feature_api(DEF_SERVICE).unwrap();
    assert!(first.ptr_eq(&a) && second.ptr_eq(&a));
}

#[test]
fn get_default_feature_api_unknown_is_none() {
    // DefaultFeatureApiTest GetDefaultFeatureApi0020 / 0030
    let samgr = setup();
    assert!(samgr.get_default_feature_api("").is_none());
    assert!(samgr.get_default_feature_api("noSuchService").is_none());
}

#[test]
fn unregister_default_feature_api_returns_it() {
    // DefaultFeatureApiTest UnregisterDefaultFeatureApi0010
    let samgr = setup();
    let a = api();
    samgr
        .register_default_feature_api(DEF_SERVICE, a.clone())
        .unwrap();
    assert!(
        samgr
            .unregister_default_feature_api(DEF_SERVICE)
            .unwrap()
            .ptr_eq(&a)
    );
}

#[test]
fn unregister_default_feature_api_unknown_fails() {
    // DefaultFeatureApiTest UnregisterDefaultFeatureApi0020 / 0030
    let samgr = setup();
    assert!(samgr.unregister_default_feature_api("").is_err());
    assert!(
        samgr
            .unregister_default_feature_api("noSuchService")
            .is_err()
    );
    assert!(samgr.unregister_default_feature_api(DEF_SERVICE).is_err());
}

#[test]
fn register_get_unregister_default_api_10240_times() {
    // DefaultFeatureApiTest UnregisterDefaultFeatureApi0040
    let samgr = setup();
    let a = api();
    for _ in 0..10240 {
        assert!(
            samgr
                .register_default_feature_api(DEF_SERVICE, a.clone())
                .is_ok()
        );
        assert!(samgr.get_default_feature_api(DEF_SERVICE).is_some());
        assert!(samgr.unregister_default_feature_api(DEF_SERVICE).is_ok());
        assert!(samgr.get_default_feature_api(DEF_SERVICE).is_none());
    }
}
