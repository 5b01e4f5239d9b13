//! Host tests for the timer queue.

use std::vec::Vec;

use super::*;

fn drain(q: &mut TimerQueue<u32>, now: u64) -> Vec<(u64, u32)> {
    let mut out = Vec::new();
    while let Some(fired) = q.pop_expired(now) {
        out.push(fired);
    }
    out
}

#[test]
fn empty_queue() {
    let mut q = TimerQueue::<u32>::new();
    assert!(q.is_empty());
    assert_eq!(q.len(), 0);
    assert_eq!(q.next_deadline(), None);
    assert_eq!(q.pop_expired(u64::MAX), None);
}

#[test]
fn fires_in_deadline_order() {
    let mut q = TimerQueue::new();
    q.insert(300, 3);
    q.insert(100, 1);
    q.insert(200, 2);
    assert_eq!(q.len(), 3);
    assert_eq!(q.next_deadline(), Some(100));
    assert_eq!(drain(&mut q, 1_000), [(100, 1), (200, 2), (300, 3)]);
    assert!(q.is_empty());
}

#[test]
fn equal_deadlines_fire_in_insertion_order() {
    let mut q = TimerQueue::new();
    for item in [5, 1, 4, 2, 3] {
        q.insert(50, item);
    }
    q.insert(49, 0);
    assert_eq!(
        drain(&mut q, 50),
        [(49, 0), (50, 5), (50, 1), (50, 4), (50, 2), (50, 3)]
    );
}

#[test]
fn pop_expired_boundaries() {
    let mut q = TimerQueue::new();
    q.insert(100, 1);
    q.insert(101, 2);
    assert_eq!(q.pop_expired(0), None);
    assert_eq!(q.pop_expired(99), None, "one tick early");
    assert_eq!(q.pop_expired(100), Some((100, 1)), "deadline == now fires");
    assert_eq!(q.pop_expired(100), None, "the next one is a tick later");
    assert_eq!(q.next_deadline(), Some(101));
    assert_eq!(q.len(), 1);
    assert_eq!(q.pop_expired(101), Some((101, 2)));
}

#[test]
fn late_drain_takes_only_what_is_due() {
    let mut q = TimerQueue::new();
    for deadline in [10, 20, 30, 40] {
        q.insert(deadline, deadline as u32);
    }
    assert_eq!(drain(&mut q, 25), [(10, 10), (20, 20)]);
    assert_eq!(q.next_deadline(), Some(30));
}

#[test]
fn cancel_pending_and_fired() {
    let mut q = TimerQueue::new();
    let a = q.insert(10, 1);
    let b = q.insert(10, 2);
    let c = q.insert(20, 3);
    assert_eq!(a.deadline(), 10);
    assert_ne!(a, b, "same deadline, distinct ids");
    assert_eq!(q.cancel(b), Some(2));
    assert_eq!(q.cancel(b), None, "double cancel");
    assert_eq!(q.pop_expired(10), Some((10, 1)));
    assert_eq!(q.cancel(a), None, "cancel after it fired");
    assert_eq!(q.len(), 1);
    assert_eq!(q.cancel(c), Some(3));
    assert!(q.is_empty());
    assert_eq!(q.next_deadline(), None);
}

#[test]
fn cancel_earliest_moves_next_deadline() {
    let mut q = TimerQueue::new();
    let early = q.insert(5, 1);
    q.insert(9, 2);
    assert_eq!(q.next_deadline(), Some(5));
    q.cancel(early);
    assert_eq!(q.next_deadline(), Some(9));
}

#[test]
fn id_from_another_insert_at_same_deadline_does_not_cancel_the_new_one() {
    let mut q = TimerQueue::new();
    let old = q.insert(7, 1);
    assert_eq!(q.pop_expired(7), Some((7, 1)));
    let new = q.insert(7, 2);
    assert_eq!(q.cancel(old), None, "a stale id must not hit a later timer");
    assert_eq!(q.cancel(new), Some(2));
}

#[test]
fn u64_max_deadline() {
    let mut q = TimerQueue::new();
    let never = q.insert(u64::MAX, 9);
    q.insert(u64::MAX, 10);
    q.insert(u64::MAX - 1, 8);
    assert_eq!(q.next_deadline(), Some(u64::MAX - 1));
    assert_eq!(q.pop_expired(u64::MAX - 2), None);
    assert_eq!(q.pop_expired(u64::MAX - 1), Some((u64::MAX - 1, 8)));
    assert_eq!(q.pop_expired(u64::MAX - 1), None);
    assert_eq!(q.next_deadline(), Some(u64::MAX));
    assert_eq!(q.cancel(never), Some(9));
    assert_eq!(drain(&mut q, u64::MAX), [(u64::MAX, 10)]);
}

#[test]
fn zero_deadline_fires_at_zero() {
    let mut q = TimerQueue::new();
    q.insert(0, 1);
    assert_eq!(q.pop_expired(0), Some((0, 1)));
}

#[test]
fn owned_items_come_back_from_cancel_and_pop() {
    let mut q = TimerQueue::new();
    let id = q.insert(1, std::string::String::from("wake tid 4"));
    q.insert(2, std::string::String::from("slice end"));
    assert_eq!(q.cancel(id).as_deref(), Some("wake tid 4"));
    assert_eq!(
        q.pop_expired(2).map(|(_, s)| s).as_deref(),
        Some("slice end")
    );
}
