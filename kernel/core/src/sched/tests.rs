//! Host tests for priorities, policies and the run queue.

use std::vec::Vec;

use super::*;

fn p(value: u8) -> Priority {
    Priority::new(value).expect("test priority in range")
}

/// Checks the bitmap invariant from the outside of the type's own `debug_assert!`, so the
/// tests fail on a broken bitmap even in release-mode test runs.
fn assert_bitmap(rq: &RunQueue) {
    for (level, queue) in rq.queues.iter().enumerate() {
        let bit = rq.ready & (1 << level) != 0;
        assert_eq!(
            bit,
            !queue.is_empty(),
            "bit {level} of ready {:#010x} disagrees with queue length {}",
            rq.ready,
            queue.len()
        );
    }
    assert_eq!(rq.is_empty(), rq.queues.iter().all(VecDeque::is_empty));
}

fn drain(rq: &mut RunQueue) -> Vec<(u32, u8)> {
    let mut out = Vec::new();
    while let Some((tid, prio)) = rq.pop_highest() {
        assert_bitmap(rq);
        out.push((tid.0, prio.get()));
    }
    out
}

#[test]
fn priority_new_accepts_only_0_to_31() {
    assert_eq!(Priority::new(0), Some(Priority::HIGHEST));
    assert_eq!(Priority::new(31), Some(Priority::LOWEST));
    assert_eq!(Priority::new(32), None);
    assert_eq!(Priority::new(u8::MAX), None);
    assert_eq!(Priority::USER_HIGHEST.get(), 10);
    assert!(
        Priority::HIGHEST < Priority::LOWEST,
        "numeric order: 0 sorts first"
    );
}

#[test]
fn is_user_starts_at_10() {
    assert!(!p(0).is_user());
    assert!(!p(9).is_user());
    assert!(p(10).is_user());
    assert!(p(31).is_user());
}

#[test]
fn for_user_boundaries() {
    assert_eq!(Priority::for_user(0), Err(PriorityError::KernelOnly));
    assert_eq!(Priority::for_user(9), Err(PriorityError::KernelOnly));
    assert_eq!(Priority::for_user(10), Ok(p(10)));
    assert_eq!(Priority::for_user(31), Ok(p(31)));
    assert_eq!(Priority::for_user(32), Err(PriorityError::OutOfRange));
    assert_eq!(Priority::for_user(256), Err(PriorityError::OutOfRange));
    assert_eq!(
        Priority::for_user(266),
        Err(PriorityError::OutOfRange),
        "266 as u8 is 10"
    );
    assert_eq!(Priority::for_user(u32::MAX), Err(PriorityError::OutOfRange));
}

#[test]
fn policy_abi_round_trip() {
    assert_eq!(Policy::from_abi(1), Some(Policy::Fifo));
    assert_eq!(Policy::from_abi(2), Some(Policy::RoundRobin));
    assert_eq!(Policy::from_abi(0), None, "SCHED_OTHER is not supported");
    assert_eq!(Policy::from_abi(3), None);
    assert_eq!(Policy::from_abi(u32::MAX), None);
    for policy in [Policy::Fifo, Policy::RoundRobin] {
        assert_eq!(Policy::from_abi(policy.to_abi()), Some(policy));
    }
}

#[test]
fn empty_queue() {
    let mut rq = RunQueue::new();
    assert!(rq.is_empty());
    assert_eq!(rq.len(), 0);
    assert_eq!(rq.highest_priority(), None);
    assert_eq!(rq.pop_highest(), None);
    assert!(!rq.remove(Tid(1), p(10)));
    assert!(!rq.should_preempt(Priority::LOWEST));
    assert!(!rq.slice_expired_should_switch(Priority::LOWEST, Policy::RoundRobin));
    assert_bitmap(&rq);
}

#[test]
fn pops_by_priority_whatever_the_insertion_order() {
    let orders: [[u8; 3]; 6] = [
        [10, 20, 30],
        [10, 30, 20],
        [20, 10, 30],
        [20, 30, 10],
        [30, 10, 20],
        [30, 20, 10],
    ];
    for order in orders {
        let mut rq = RunQueue::new();
        for prio in order {
            rq.push_back(Tid(u32::from(prio)), p(prio));
            assert_bitmap(&rq);
        }
        assert_eq!(rq.highest_priority(), Some(p(10)));
        assert_eq!(
            drain(&mut rq),
            [(10, 10), (20, 20), (30, 30)],
            "order {order:?}"
        );
    }
}

#[test]
fn extreme_levels_pop_in_order() {
    let mut rq = RunQueue::new();
    rq.push_back(Tid(31), Priority::LOWEST);
    rq.push_back(Tid(0), Priority::HIGHEST);
    assert_eq!(rq.ready, 1 | 1 << 31);
    assert_eq!(drain(&mut rq), [(0, 0), (31, 31)]);
}

#[test]
fn fifo_within_a_priority() {
    let mut rq = RunQueue::new();
    for tid in 1..=4 {
        rq.push_back(Tid(tid), p(15));
    }
    assert_eq!(rq.len(), 4);
    assert_eq!(drain(&mut rq), [(1, 15), (2, 15), (3, 15), (4, 15)]);
}

#[test]
fn push_front_runs_next_within_its_level_only() {
    let mut rq = RunQueue::new();
    rq.push_back(Tid(1), p(12));
    rq.push_back(Tid(2), p(12));
    rq.push_back(Tid(9), p(11));
    // A preempted thread at 12 goes before the others at 12, but not before 11.
    rq.push_front(Tid(3), p(12));
    assert_bitmap(&rq);
    assert_eq!(drain(&mut rq), [(9, 11), (3, 12), (1, 12), (2, 12)]);
}

#[test]
fn push_front_on_empty_level_sets_its_bit() {
    let mut rq = RunQueue::new();
    rq.push_front(Tid(7), p(20));
    assert_eq!(rq.ready, 1 << 20);
    assert!(rq.contains(Tid(7), p(20)));
    assert!(
        !rq.contains(Tid(7), p(21)),
        "contains looks only at the given level"
    );
}

#[test]
fn remove_from_middle_keeps_order_and_bit() {
    let mut rq = RunQueue::new();
    for tid in 1..=3 {
        rq.push_back(Tid(tid), p(14));
    }
    assert!(rq.remove(Tid(2), p(14)));
    assert_bitmap(&rq);
    assert_eq!(rq.ready, 1 << 14, "level still has threads");
    assert!(!rq.contains(Tid(2), p(14)));
    assert!(!rq.remove(Tid(2), p(14)), "second remove finds nothing");
    assert_eq!(drain(&mut rq), [(1, 14), (3, 14)]);
}

#[test]
fn remove_last_of_level_clears_its_bit() {
    let mut rq = RunQueue::new();
    rq.push_back(Tid(1), p(14));
    rq.push_back(Tid(2), p(25));
    assert!(rq.remove(Tid(1), p(14)));
    assert_bitmap(&rq);
    assert_eq!(rq.ready, 1 << 25);
    assert_eq!(rq.highest_priority(), Some(p(25)));
    assert!(rq.remove(Tid(2), p(25)));
    assert!(rq.is_empty());
    assert_eq!(rq.ready, 0);
}

#[test]
fn remove_at_wrong_level_changes_nothing() {
    let mut rq = RunQueue::new();
    rq.push_back(Tid(1), p(14));
    assert!(!rq.remove(Tid(1), p(15)));
    assert_eq!(rq.ready, 1 << 14);
    assert_eq!(rq.len(), 1);
}

#[test]
fn should_preempt_truth_table() {
    // (ready priority, running priority, expected)
    let cases = [
        (10, 20, true),  // higher ready: preempt
        (20, 20, false), // equal: wait for the slice
        (30, 20, false), // lower: never
        (0, 1, true),    // top kernel priority
        (0, 0, false),   // nothing is above 0
        (30, 31, true),  // lowest running
        (31, 31, false), // idle-level tie
        (9, 10, true),   // kernel thread preempts user
        (10, 9, false),  // user never preempts kernel
    ];
    for (ready, running, expected) in cases {
        let mut rq = RunQueue::new();
        rq.push_back(Tid(1), p(ready));
        assert_eq!(
            rq.should_preempt(p(running)),
            expected,
            "ready at {ready}, running at {running}"
        );
    }
}

#[test]
fn should_preempt_sees_any_higher_level() {
    let mut rq = RunQueue::new();
    rq.push_back(Tid(1), p(25));
    rq.push_back(Tid(2), p(5));
    for running in 0..=31u8 {
        assert_eq!(
            rq.should_preempt(p(running)),
            running > 5,
            "running at {running}"
        );
    }
}

#[test]
fn slice_rule_round_robin() {
    let cases = [
        (None, false),     // alone: keep running
        (Some(20), true),  // equal priority waiting: take turns
        (Some(19), true),  // higher waiting (normally preempted already)
        (Some(21), false), // only lower: keep running
    ];
    for (ready, expected) in cases {
        let mut rq = RunQueue::new();
        if let Some(prio) = ready {
            rq.push_back(Tid(1), p(prio));
        }
        assert_eq!(
            rq.slice_expired_should_switch(p(20), Policy::RoundRobin),
            expected,
            "ready at {ready:?}"
        );
    }
}

#[test]
fn slice_rule_round_robin_at_extremes() {
    let mut rq = RunQueue::new();
    rq.push_back(Tid(1), Priority::LOWEST);
    assert!(rq.slice_expired_should_switch(Priority::LOWEST, Policy::RoundRobin));
    assert!(!rq.slice_expired_should_switch(p(30), Policy::RoundRobin));
    let mut rq = RunQueue::new();
    rq.push_back(Tid(1), Priority::HIGHEST);
    assert!(rq.slice_expired_should_switch(Priority::HIGHEST, Policy::RoundRobin));
}

#[test]
fn fifo_never_switches_on_slice() {
    let mut rq = RunQueue::new();
    rq.push_back(Tid(1), p(20));
    rq.push_back(Tid(2), p(10));
    for running in [10, 20, 31] {
        assert!(!rq.slice_expired_should_switch(p(running), Policy::Fifo));
    }
}

#[test]
fn round_robin_rotation_via_push_back() {
    // The kernel's slice path: pop the next, push the expired one at the back.
    let mut rq = RunQueue::new();
    rq.push_back(Tid(2), p(20));
    rq.push_back(Tid(3), p(20));
    let mut running = (Tid(1), p(20));
    let mut ran = Vec::new();
    for _ in 0..6 {
        assert!(rq.slice_expired_should_switch(running.1, Policy::RoundRobin));
        rq.push_back(running.0, running.1);
        running = rq.pop_highest().expect("others are ready");
        ran.push(running.0.0);
    }
    assert_eq!(ran, [2, 3, 1, 2, 3, 1]);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "queued twice")]
fn double_push_is_caught_in_debug() {
    let mut rq = RunQueue::new();
    rq.push_back(Tid(1), p(10));
    rq.push_back(Tid(1), p(11));
}

use crate::test_rng::XorShift;

/// Naive reference: one list of (tid, prio) in global arrival order, with pushed-front
/// entries placed before every other entry of their level.
#[derive(Default)]
struct Model(Vec<(Tid, Priority)>);

impl Model {
    fn push_back(&mut self, tid: Tid, prio: Priority) {
        self.0.push((tid, prio));
    }

    fn push_front(&mut self, tid: Tid, prio: Priority) {
        self.0.insert(0, (tid, prio));
    }

    fn pop_highest(&mut self) -> Option<(Tid, Priority)> {
        let best = self.0.iter().map(|&(_, prio)| prio).min()?;
        let pos = self.0.iter().position(|&(_, prio)| prio == best)?;
        Some(self.0.remove(pos))
    }

    fn remove(&mut self, tid: Tid, prio: Priority) -> bool {
        match self.0.iter().position(|&e| e == (tid, prio)) {
            Some(pos) => {
                self.0.remove(pos);
                true
            }
            None => false,
        }
    }

    fn highest(&self) -> Option<Priority> {
        self.0.iter().map(|&(_, prio)| prio).min()
    }
}

#[test]
fn randomized_against_naive_model() {
    for seed in 1..=20u64 {
        let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut rq = RunQueue::new();
        let mut model = Model::default();
        let mut next_tid = 0u32;
        for step in 0..2_000 {
            // Few levels at a time make ties and emptied levels common.
            let prio = p([0, 9, 10, 11, 20, 31][rng.below(6) as usize]);
            match rng.below(10) {
                0..=3 => {
                    next_tid += 1;
                    rq.push_back(Tid(next_tid), prio);
                    model.push_back(Tid(next_tid), prio);
                }
                4 => {
                    next_tid += 1;
                    rq.push_front(Tid(next_tid), prio);
                    model.push_front(Tid(next_tid), prio);
                }
                5..=7 => assert_eq!(
                    rq.pop_highest(),
                    model.pop_highest(),
                    "seed {seed} step {step}"
                ),
                _ => {
                    // Remove a queued thread (at its level or a wrong one) or an unknown tid.
                    let (tid, level) = match model.0.len() {
                        0 => (Tid(u32::MAX), prio),
                        n => model.0[rng.below(n as u64) as usize],
                    };
                    let level = if rng.below(4) == 0 { prio } else { level };
                    assert_eq!(
                        rq.remove(tid, level),
                        model.remove(tid, level),
                        "seed {seed} step {step}"
                    );
                }
            }
            assert_bitmap(&rq);
            assert_eq!(rq.len(), model.0.len());
            assert_eq!(rq.highest_priority(), model.highest());
            let running = p(rng.below(32) as u8);
            let higher = model.0.iter().any(|&(_, q)| q < running);
            let same_or_higher = model.0.iter().any(|&(_, q)| q <= running);
            assert_eq!(rq.should_preempt(running), higher);
            assert_eq!(
                rq.slice_expired_should_switch(running, Policy::RoundRobin),
                same_or_higher
            );
            for &(tid, q) in &model.0 {
                assert!(rq.contains(tid, q));
            }
        }
    }
}
