//! Taskpool suite: each kind of pool gets a "full check" (feature and default API calls work; a
//! request to the feature runs OnMessage once, to the service MessageHandle once), shared and
//! specified pools share a thread, and bootstrap initialises by priority, highest first.

use super::*;
use crate::task::{PRI_ABOVE_NORMAL, PRI_BELOW_NORMAL, PRI_BUTT, PRI_LOW, PRI_NORMAL, os_priority};
use crate::{DEFAULT_VERSION, send_request};

/// Registers `name` with a default API and feature "featureName501" with an API.
fn add(samgr: &Samgr, rec: &Recorder, name: &str, config: TaskConfig) -> (Arc<Svc>, Arc<Feat>) {
    let svc = Svc::new(name, config, rec);
    samgr.register_service(svc.clone()).unwrap();
    samgr
        .register_default_feature_api(name, TestApi::api(DEFAULT_VERSION))
        .unwrap();
    let feat = Feat::new(&format!("{name}_f"), rec);
    samgr.register_feature(name, feat.clone()).unwrap();
    samgr
        .register_feature_api(
            name,
            Some(&format!("{name}_f")),
            TestApi::api(DEFAULT_VERSION),
        )
        .unwrap();
    (svc, feat)
}

fn full_check(samgr: &Samgr, rec: &Recorder, svc: &Svc, feat: &Feat) {
    let name = svc.name.as_str();
    let api = samgr.get_default_feature_api(name).unwrap();
    assert!(api.query::<TestApi>(DEFAULT_VERSION).unwrap().sync_call(0));
    let fapi = samgr.get_feature_api(name, Some(&feat.name)).unwrap();
    assert!(fapi.query::<TestApi>(DEFAULT_VERSION).unwrap().sync_call(0));
    assert_eq!(
        send_request(&feat.identity(), Request::new(1, 0), None),
        Ok(())
    );
    assert_eq!(
        send_request(&svc.identity(), Request::new(2, 0), None),
        Ok(())
    );
    assert!(rec.wait_count(&feat.name, Kind::Message, 1));
    assert!(rec.wait_count(name, Kind::Message, 1));
    assert_eq!(rec.count(&feat.name, Kind::Message), 1);
    assert_eq!(rec.count(name, Kind::Message), 1);
}

fn thread_of(rec: &Recorder, who: &str) -> std::thread::ThreadId {
    rec.events()
        .into_iter()
        .find(|e| e.who == who && e.kind == Kind::Message)
        .unwrap()
        .thread
}

#[test]
fn no_task_service_initialises_and_answers_calls() {
    // NoTask0010
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let (svc, feat) = add(
        &samgr,
        &rec,
        "Service_NoTask",
        cfg(PRI_NORMAL, 20, TaskType::NoTask),
    );
    boot(&samgr);
    assert_eq!(rec.count("Service_NoTask", Kind::Init), 1);
    assert_eq!(rec.count(&feat.name, Kind::Init), 1);
    assert!(
        samgr
            .get_default_feature_api("Service_NoTask")
            .unwrap()
            .query::<TestApi>(DEFAULT_VERSION)
            .unwrap()
            .sync_call(0)
    );
    // No queue: it cannot receive messages.
    assert!(svc.identity().queue_id.is_none());
    assert!(send_request(&svc.identity(), Request::new(1, 0), None).is_err());
}

#[test]
fn shared_task_full_check_and_one_thread() {
    // SharedTask0010 / 0020 / 0030 / 0040: prio 24 and 25 share pool 24/8 = 3
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let (s1, f1) = add(
        &samgr,
        &rec,
        "SharedTask01",
        TaskConfig::new(0, 24, 1600, 20, TaskType::Shared),
    );
    let (s2, f2) = add(
        &samgr,
        &rec,
        "SharedTask02",
        TaskConfig::new(0, 25, 1600, 20, TaskType::Shared),
    );
    boot(&samgr);
    full_check(&samgr, &rec, &s1, &f1);
    full_check(&samgr, &rec, &s2, &f2);
    assert_eq!(
        thread_of(&rec, "SharedTask01"),
        thread_of(&rec, "SharedTask02")
    );
    assert_eq!(thread_of(&rec, &f1.name), thread_of(&rec, &f2.name));
    assert_eq!(s1.identity().queue_id, s2.identity().queue_id);
    let queue = s1.identity().queue_id.unwrap();
    assert_eq!(
        queue.queue().capacity(),
        usize::from(crate::task::SHARED_QUEUE_SIZE)
    );
}

#[test]
fn shared_pools_are_per_priority_class() {
    // SHARED pool = prio/8: 16 and 24 are different classes
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let (a, _) = add(
        &samgr,
        &rec,
        "classA",
        cfg(PRI_BELOW_NORMAL, 20, TaskType::Shared),
    );
    let (b, _) = add(
        &samgr,
        &rec,
        "classB",
        cfg(PRI_NORMAL, 20, TaskType::Shared),
    );
    boot(&samgr);
    assert_ne!(a.identity().queue_id, b.identity().queue_id);
}

#[test]
fn shared_pool_serves_at_most_15_services() {
    // MAX_REF_NUM: the 16th service of a class gets a fresh pool
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let svcs: Vec<Arc<Svc>> = (0..16)
        .map(|i| {
            let svc = Svc::new(
                &format!("many{i}"),
                cfg(PRI_NORMAL, 20, TaskType::Shared),
                &rec,
            );
            samgr.register_service(svc.clone()).unwrap();
            svc
        })
        .collect();
    boot(&samgr);
    let first = svcs[0].identity().queue_id;
    assert!(svcs[..15].iter().all(|s| s.identity().queue_id == first));
    assert_ne!(svcs[15].identity().queue_id, first);
}

#[test]
fn single_task_full_check() {
    // SingleTask0010..0040: SingleTS01..04 prio 10/16/24/32, queue 2
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let all: Vec<_> = [10, 16, 24, 32]
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            add(
                &samgr,
                &rec,
                &format!("SingleTS0{}", i + 1),
                TaskConfig::new(0, p, 1600, 2, TaskType::Single),
            )
        })
        .collect();
    boot(&samgr);
    for (svc, feat) in &all {
        full_check(&samgr, &rec, svc, feat);
        assert_eq!(svc.identity().queue_id.unwrap().queue().capacity(), 2);
    }
    let queues: std::collections::HashSet<u32> = all
        .iter()
        .map(|(s, _)| s.identity().queue_id.unwrap().serial())
        .collect();
    assert_eq!(queues.len(), 4);
}

#[test]
fn services_initialise_in_priority_order() {
    // SingleTask0050: Initialize order by priority, highest first: 04, 03, 02, 01
    let samgr = Samgr::new();
    let rec = Recorder::default();
    for (i, p) in [10, 16, 24, 32].iter().enumerate() {
        add(
            &samgr,
            &rec,
            &format!("SingleTS0{}", i + 1),
            TaskConfig::new(0, *p, 1600, 2, TaskType::Single),
        );
    }
    boot(&samgr);
    let order: Vec<String> = rec
        .events()
        .into_iter()
        .filter(|e| e.kind == Kind::Init && e.who.starts_with("SingleTS") && !e.who.ends_with("_f"))
        .map(|e| e.who)
        .collect();
    assert_eq!(
        order,
        ["SingleTS04", "SingleTS03", "SingleTS02", "SingleTS01"]
    );
}

#[test]
fn service_then_features_initialise_on_the_service_thread() {
    // DEFAULT_Initialize: Initialize, then each feature's OnInitialize, on the pool thread
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let svc = Svc::new("initOrder", cfg(PRI_NORMAL, 4, TaskType::Single), &rec);
    samgr.register_service(svc.clone()).unwrap();
    for f in ["fa", "fb"] {
        samgr
            .register_feature("initOrder", Feat::new(f, &rec))
            .unwrap();
    }
    boot(&samgr);
    let inits: Vec<Event> = rec
        .events()
        .into_iter()
        .filter(|e| e.kind == Kind::Init)
        .collect();
    let names: Vec<&str> = inits.iter().map(|e| e.who.as_str()).collect();
    assert_eq!(names, ["initOrder", "fa", "fb"]);
    assert!(inits.iter().all(|e| e.thread == inits[0].thread));
    assert_ne!(inits[0].thread, std::thread::current().id());
}

#[test]
fn specified_task_full_check_and_one_thread() {
    // SpecifiedTask0010 / 0020 / 0030: identical configs share one pool
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let config = cfg(PRI_NORMAL, 20, TaskType::Specified);
    let (s1, f1) = add(&samgr, &rec, "SpecifiedT01", config);
    let (s2, f2) = add(&samgr, &rec, "SpecifiedT02", config);
    boot(&samgr);
    full_check(&samgr, &rec, &s1, &f1);
    full_check(&samgr, &rec, &s2, &f2);
    assert_eq!(
        thread_of(&rec, "SpecifiedT01"),
        thread_of(&rec, "SpecifiedT02")
    );
    assert_eq!(s1.identity().queue_id, s2.identity().queue_id);
}

#[test]
fn specified_task_with_other_config_gets_own_pool() {
    // SPECIFIED joins only a byte-identical TaskConfig
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let (s1, _) = add(
        &samgr,
        &rec,
        "spec1",
        cfg(PRI_NORMAL, 20, TaskType::Specified),
    );
    let (s2, _) = add(
        &samgr,
        &rec,
        "spec2",
        cfg(PRI_NORMAL, 21, TaskType::Specified),
    );
    boot(&samgr);
    assert_ne!(s1.identity().queue_id, s2.identity().queue_id);
}

#[test]
fn out_of_range_priority_becomes_pri_low() {
    // AddTaskPool: bad priority → PRI_LOW
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let (a, _) = add(&samgr, &rec, "badPrio", cfg(PRI_BUTT, 20, TaskType::Shared));
    let (b, _) = add(&samgr, &rec, "lowPrio", cfg(PRI_LOW, 20, TaskType::Shared));
    boot(&samgr);
    assert_eq!(a.identity().queue_id, b.identity().queue_id);
    assert_eq!(
        TaskConfig::new(0, 3, 0, 1, TaskType::Single).effective_priority(),
        PRI_LOW
    );
}

#[test]
fn os_priority_mapping_is_monotonic() {
    // samgr 9..=38 (bigger = more urgent) → kernel 31..=10 (smaller = more urgent)
    assert_eq!(os_priority(PRI_LOW), 31);
    assert_eq!(os_priority(PRI_BUTT - 1), 10);
    assert_eq!(os_priority(PRI_BELOW_NORMAL), 26);
    assert_eq!(os_priority(PRI_NORMAL), 20);
    assert_eq!(os_priority(PRI_ABOVE_NORMAL), 14);
    assert_eq!(os_priority(PRI_BUTT), 31);
    assert_eq!(os_priority(-5), 31);
    for p in PRI_LOW..PRI_BUTT - 1 {
        assert!(os_priority(p + 1) <= os_priority(p));
        assert!((10..=31).contains(&os_priority(p)));
    }
}
