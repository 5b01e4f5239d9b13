//! Lending an idle pool thread (what the endpoint's boss thread does to run a quick IPC call
//! in a service's place): only an idle pool with nothing queued lends, a lent thread runs
//! nothing until it is given back, what was queued meanwhile then runs in order, and the
//! borrower's current queue is the pool's.

use super::*;
use crate::message::QueueId;
use crate::task::PRI_NORMAL;
use crate::{current_queue, send_request};

/// A booted single-task service and its queue, once its thread waits for work.
fn idle_service(rec: &Recorder) -> (Samgr, Arc<Svc>, QueueId) {
    let samgr = Samgr::new();
    let svc = Svc::new("lender", cfg(PRI_NORMAL, 8, TaskType::Single), rec);
    samgr.register_service(svc.clone()).unwrap();
    boot(&samgr);
    let queue = svc.identity().queue_id.expect("a pool");
    // Initialisation ran on the pool thread; wait until it is back in `pop`.
    let deadline = std::time::Instant::now() + WAIT;
    while !queue.0.try_lend(0) {
        assert!(std::time::Instant::now() < deadline, "the pool never idled");
        std::thread::yield_now();
    }
    queue.0.give_back();
    (samgr, svc, queue)
}

#[test]
fn only_an_idle_pool_with_nothing_queued_lends_its_thread() {
    let rec = Recorder::default();
    let (_samgr, svc, queue) = idle_service(&rec);
    let me = crate::os::current_thread();
    assert!(queue.0.try_lend(me));
    assert!(!queue.0.try_lend(me + 1), "one thread lent twice");
    send_request(&svc.identity(), Request::new(1, 0), None).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        rec.count("lender", Kind::Message),
        0,
        "a lent thread ran a message"
    );
    queue.0.give_back();
    assert!(rec.wait_count("lender", Kind::Message, 1));
    let never_started = QueueId::new(4);
    assert!(
        !never_started.0.try_lend(me),
        "a pool without threads lent one"
    );
}

#[test]
fn messages_queued_during_a_loan_run_after_it_in_order() {
    let rec = Recorder::default();
    let (_samgr, svc, queue) = idle_service(&rec);
    assert!(queue.0.try_lend(crate::os::current_thread()));
    for id in 1..=5 {
        send_request(&svc.identity(), Request::new(id, 0), None).unwrap();
    }
    assert!(!queue.0.try_lend(7), "lent again with messages queued");
    queue.0.give_back();
    assert!(rec.wait_count("lender", Kind::Message, 5));
    let order: Vec<i16> = rec
        .events()
        .iter()
        .filter(|e| e.kind == Kind::Message)
        .map(|e| e.msg_id)
        .collect();
    assert_eq!(order, [1, 2, 3, 4, 5]);
}

#[test]
fn the_borrower_stands_in_the_pools_queue() {
    let rec = Recorder::default();
    let (_samgr, _svc, queue) = idle_service(&rec);
    assert_eq!(current_queue(), None);
    assert!(queue.0.try_lend(crate::os::current_thread()));
    assert_eq!(current_queue(), Some(queue.clone()));
    queue.0.give_back();
    assert_eq!(current_queue(), None);
}
