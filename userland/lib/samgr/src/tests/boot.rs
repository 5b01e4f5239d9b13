//! BootStatus: system services, then application services, then DYNAMIC.

use super::*;
use crate::BootStatus;
use crate::task::PRI_NORMAL;

#[test]
fn boot_reaches_dynamic_through_app_stage() {
    let samgr = Samgr::new();
    let rec = Recorder::default();
    assert_eq!(samgr.status(), BootStatus::Sys);
    samgr
        .register_service(Svc::new("sys1", cfg(PRI_NORMAL, 4, TaskType::Single), &rec))
        .unwrap();
    let rec2 = rec.clone();
    samgr.on_system_services_ready(move |samgr| {
        assert_eq!(samgr.status(), BootStatus::App);
        assert_eq!(rec2.count("sys1", Kind::Init), 1);
        samgr
            .register_service(Svc::new(
                "app1",
                cfg(PRI_NORMAL, 4, TaskType::Single),
                &rec2,
            ))
            .unwrap();
    });
    samgr.bootstrap();
    assert!(samgr.wait_for_status(BootStatus::Dynamic, WAIT));
    assert!(samgr.wait_initialized(WAIT));
    let inits: Vec<String> = rec
        .events()
        .into_iter()
        .filter(|e| e.kind == Kind::Init)
        .map(|e| e.who)
        .collect();
    assert_eq!(inits, ["sys1", "app1"]);
}

#[test]
fn boot_without_services_reaches_dynamic() {
    let samgr = Samgr::new();
    samgr.bootstrap();
    assert!(samgr.wait_for_status(BootStatus::Dynamic, WAIT));
}

#[test]
fn late_service_needs_another_bootstrap() {
    let samgr = Samgr::new();
    let rec = Recorder::default();
    samgr.bootstrap();
    assert!(samgr.wait_for_status(BootStatus::Dynamic, WAIT));
    let late = Svc::new("late", cfg(PRI_NORMAL, 4, TaskType::Single), &rec);
    samgr.register_service(late.clone()).unwrap();
    assert!(!samgr.wait_initialized(Duration::from_millis(50)));
    samgr.bootstrap();
    assert!(samgr.wait_initialized(WAIT));
    assert_eq!(samgr.status(), BootStatus::Dynamic);
    assert_eq!(rec.count("late", Kind::Init), 1);
    assert_eq!(late.identity().service_id, 0);
}

#[test]
fn services_report_state_and_pools() {
    let samgr = Samgr::new();
    let rec = Recorder::default();
    samgr
        .register_service(Svc::new("info", cfg(PRI_NORMAL, 4, TaskType::Single), &rec))
        .unwrap();
    samgr
        .register_feature("info", Feat::new("f", &rec))
        .unwrap();
    let before = &samgr.services()[0];
    assert_eq!(
        (before.state, before.queue),
        (crate::ServiceState::Init, None)
    );
    boot(&samgr);
    let after = &samgr.services()[0];
    assert_eq!(after.state, crate::ServiceState::Idle);
    assert!(after.queue.is_some());
    assert_eq!(after.features, [(0, String::from("f"), false)]);
}

#[test]
fn dropping_the_last_handle_stops_pools() {
    // Inner's drop sends MSG_EXIT; a message queued after is never run.
    let samgr = Samgr::new();
    let rec = Recorder::default();
    let svc = Svc::new("gone", cfg(PRI_NORMAL, 4, TaskType::Single), &rec);
    samgr.register_service(svc.clone()).unwrap();
    boot(&samgr);
    let id = svc.identity();
    // Let the pool thread finish the bootstrap step that still holds the registry.
    let (tx, rx) = std::sync::mpsc::channel();
    let idle = tx.clone();
    crate::send_shared_direct_request(
        &id,
        &Request::default(),
        Response::default(),
        crate::handler(move |_, _| {
            let _ = idle.send(());
        }),
    )
    .unwrap();
    rx.recv_timeout(WAIT).unwrap();
    drop(samgr);
    crate::send_shared_direct_request(
        &id,
        &Request::default(),
        Response::default(),
        crate::handler(move |_, _| {
            let _ = tx.send(());
        }),
    )
    .unwrap();
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
}
