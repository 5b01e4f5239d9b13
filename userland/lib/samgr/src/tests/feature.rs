//! FeatureTest (serviceName201 registered in SetUp).

use super::*;
use crate::task::PRI_ABOVE_NORMAL;
use crate::{DEFAULT_VERSION, Error, MAX_FEATURE_NUM};

const SERVICE: &str = "serviceName201";

fn setup() -> (Samgr, Recorder) {
    let samgr = Samgr::new();
    let rec = Recorder::default();
    samgr
        .register_service(Svc::new(
            SERVICE,
            cfg(PRI_ABOVE_NORMAL, 20, TaskType::Shared),
            &rec,
        ))
        .unwrap();
    (samgr, rec)
}

#[test]
fn register_feature_succeeds() {
    // RegisterFeature0010
    let (samgr, rec) = setup();
    assert_eq!(
        samgr.register_feature(SERVICE, Feat::new("featureName201", &rec)),
        Ok(())
    );
}

#[test]
fn register_feature_to_bad_service_fails() {
    // RegisterFeature0020 (service NULL → "")
    let (samgr, rec) = setup();
    assert!(
        samgr
            .register_feature("", Feat::new("featureName201", &rec))
            .is_err()
    );
}

#[test]
fn register_feature_with_empty_name_fails() {
    // RegisterFeature0030 (feature NULL → nameless)
    let (samgr, rec) = setup();
    assert_eq!(
        samgr.register_feature(SERVICE, Feat::new("", &rec)),
        Err(Error::Invalid)
    );
}

#[test]
fn register_feature_to_unknown_service_fails() {
    // RegisterFeature0040
    let (samgr, rec) = setup();
    assert_eq!(
        samgr.register_feature("noSuchService", Feat::new("featureName201", &rec)),
        Err(Error::NoService)
    );
}

#[test]
fn register_feature_twice_fails() {
    // RegisterFeature0050
    let (samgr, rec) = setup();
    samgr
        .register_feature(SERVICE, Feat::new("featureName201", &rec))
        .unwrap();
    assert_eq!(
        samgr.register_feature(SERVICE, Feat::new("featureName201", &rec)),
        Err(Error::Failure)
    );
}

#[test]
fn register_two_features_succeeds() {
    // RegisterFeature0060
    let (samgr, rec) = setup();
    assert!(
        samgr
            .register_feature(SERVICE, Feat::new("featureName201", &rec))
            .is_ok()
    );
    assert!(
        samgr
            .register_feature(SERVICE, Feat::new("featureName202", &rec))
            .is_ok()
    );
    let info = samgr.services();
    assert_eq!(info[0].features.len(), 2);
}

#[test]
fn feature_limit_is_enforced() {
    // MAX_FEATURE_NUM per service
    let (samgr, rec) = setup();
    for i in 0..MAX_FEATURE_NUM {
        samgr
            .register_feature(SERVICE, Feat::new(&format!("f{i}"), &rec))
            .unwrap();
    }
    assert_eq!(
        samgr.register_feature(SERVICE, Feat::new("more", &rec)),
        Err(Error::NoMemory)
    );
}

#[test]
fn unregister_feature_returns_it_and_stops_it() {
    // UnregisterFeature0010
    let (samgr, rec) = setup();
    samgr
        .register_feature(SERVICE, Feat::new("featureName201", &rec))
        .unwrap();
    let feature = samgr.unregister_feature(SERVICE, "featureName201").unwrap();
    assert_eq!(feature.name(), "featureName201");
    assert_eq!(rec.count("featureName201", Kind::Stop), 1);
}

#[test]
fn unregister_feature_of_bad_service_fails() {
    // UnregisterFeature0020
    let (samgr, rec) = setup();
    samgr
        .register_feature(SERVICE, Feat::new("featureName201", &rec))
        .unwrap();
    assert!(samgr.unregister_feature("", "featureName201").is_err());
}

#[test]
fn unregister_feature_with_bad_name_fails() {
    // UnregisterFeature0030
    let (samgr, _) = setup();
    assert!(samgr.unregister_feature(SERVICE, "").is_err());
}

#[test]
fn unregister_feature_of_unknown_service_fails() {
    // UnregisterFeature0040
    let (samgr, _) = setup();
    assert_eq!(
        samgr.unregister_feature("noSuchService", "f").err(),
        Some(Error::NoService)
    );
}

#[test]
fn unregister_unknown_feature_fails() {
    // UnregisterFeature0050
    let (samgr, _) = setup();
    assert_eq!(
        samgr.unregister_feature(SERVICE, "noSuchFeature").err(),
        Some(Error::NoService)
    );
}

#[test]
fn unregister_feature_with_api_fails() {
    // UnregisterFeature0060
    let (samgr, rec) = setup();
    samgr
        .register_feature(SERVICE, Feat::new("featureName201", &rec))
        .unwrap();
    samgr
        .register_feature_api(
            SERVICE,
            Some("featureName201"),
            TestApi::api(DEFAULT_VERSION),
        )
        .unwrap();
    assert_eq!(
        samgr.unregister_feature(SERVICE, "featureName201").err(),
        Some(Error::Busy)
    );
}

#[test]
fn register_unregister_feature_10240_times() {
    // UnregisterFeature0070
    let (samgr, rec) = setup();
    let feature = Feat::new("featureName201", &rec);
    for _ in 0..10240 {
        assert!(samgr.register_feature(SERVICE, feature.clone()).is_ok());
        assert!(samgr.unregister_feature(SERVICE, "featureName201").is_ok());
    }
    assert!(samgr.services()[0].features.is_empty());
}

#[test]
fn register_feature_after_initialisation_fails() {
    // upstream RegisterFeature: the service must still be SVC_INIT
    let (samgr, rec) = setup();
    boot(&samgr);
    assert_eq!(
        samgr.register_feature(SERVICE, Feat::new("late", &rec)),
        Err(Error::Busy)
    );
}
