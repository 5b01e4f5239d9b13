//! The scheduler's state and its one decision: which thread runs next. The run queue
//! (kcore's 32-priority bitmap queue), the timer deadlines, the running thread, FP ownership
//! and the switch itself, all behind one lock taken with IRQs masked.

use super::thread::{Thread, ThreadState, WakeReason, space_id};
use crate::arch::context::{self, Context};
use crate::arch::{cpu, timer};
use crate::mm::user_table;
use crate::sync::IrqSafeMutex;
use crate::time;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use kcore::idmap::IdMap;
use kcore::sched::{Pid, Priority, RunQueue, Tid};
use kcore::timer_queue::TimerQueue;

/// Default round-robin time slice (LiteOS-A: up to 20 ms).
pub const DEFAULT_SLICE_NS: u64 = 20_000_000;

static SLICE_NS: AtomicU64 = AtomicU64::new(DEFAULT_SLICE_NS);
/// [`SLICE_NS`] in counter ticks (0: not computed yet), so a switch needs no division.
static SLICE_TICKS: AtomicU64 = AtomicU64::new(0);
pub(super) static SCHED: IrqSafeMutex<Scheduler> = IrqSafeMutex::new(Scheduler::new());

/// How the running thread gives up the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Requeue {
    /// Back of its priority's queue (yield, end of slice).
    Back,
    /// Front of its queue (preempted by a higher priority: it keeps its turn).
    Front,
    /// Not at all: it blocked or died.
    No,
}

pub(super) struct Scheduler {
    /// By tid (`IdMap`: O(1), looked up on every switch and wake-up).
    pub(super) threads: IdMap<Box<Thread>>,
    pub(super) run_queue: RunQueue,
    pub(super) current: Tid,
    pub(super) idle: Option<Tid>,
    pub(super) timers: TimerQueue<Tid>,
    pub(super) next_tid: u32,
    pub(super) fp_owner: Option<Tid>,
    /// Exit codes of finished threads nobody joined yet, with their process.
    pub(super) exit_codes: BTreeMap<Tid, (Pid, i32)>,
    pub(super) need_resched: bool,
    /// A thread woken by a synchronous IPC whose sender is about to block: it runs next if
    /// it is among the most urgent ready threads (direct hand-off, no run-queue round trip).
    pub(super) handoff: Option<Tid>,
    /// Threads marked dead and not reaped yet (reaping scans only when there are some).
    pub(super) dead: usize,
    /// Address of the address space installed in TTBR0 (0: the kernel's empty table). It is
    /// always the running thread's, which keeps it alive, so equal addresses mean the same
    /// space and the switch can skip re-installing it.
    pub(super) active_space: usize,
}

impl Scheduler {
    pub(super) const fn new() -> Self {
        Scheduler {
            threads: IdMap::new(),
            run_queue: RunQueue::new(),
            current: Tid(0),
            idle: None,
            timers: TimerQueue::new(),
            next_tid: 1,
            fp_owner: None,
            exit_codes: BTreeMap::new(),
            need_resched: false,
            handoff: None,
            dead: 0,
            active_space: 0,
        }
    }

    pub(super) fn alloc_tid(&mut self) -> Tid {
        loop {
            let tid = Tid(self.next_tid);
            self.next_tid = self.next_tid.checked_add(1).unwrap_or(1);
            if !self.threads.contains_key(tid.0)
                && !self.exit_codes.contains_key(&tid)
                && tid.0 != 0
            {
                return tid;
            }
        }
    }

    pub(super) fn current_thread(&mut self) -> &mut Thread {
        let current = self.current;
        self.threads
            .get_mut(current.0)
            .expect("invariant: the running thread is registered")
    }

    pub(super) fn make_ready(&mut self, tid: Tid, front: bool) {
        let Some(thread) = self.threads.get_mut(tid.0) else {
            return;
        };
        thread.state = ThreadState::Ready;
        if front {
            self.run_queue.push_front(tid, thread.priority);
        } else {
            self.run_queue.push_back(tid, thread.priority);
        }
        let current_priority = self.threads.get(self.current.0).map(|t| t.priority);
        if current_priority.is_none_or(|p| self.run_queue.should_preempt(p))
            || Some(self.current) == self.idle
        {
            self.need_resched = true;
        }
    }

    pub(super) fn wake(&mut self, tid: Tid, reason: WakeReason) -> bool {
        let Some(thread) = self.threads.get_mut(tid.0) else {
            return false;
        };
        if thread.state != ThreadState::Blocked {
            return false;
        }
        thread.wake_reason = reason;
        // The thread's timer stays queued (see `Thread::timer`): a thread woken by IPC
        // usually waits again soon with a later deadline and reuses it.
        self.make_ready(tid, false);
        true
    }

    /// Picks the next thread and prepares the switch; `None` if the current one goes on.
    pub(super) fn switch(&mut self, requeue: Requeue) -> Option<(*mut Context, *const Context)> {
        self.need_resched = false;
        let prev = self.current;
        let idle = self.idle;
        let prev_state = self.current_thread().state;
        if prev_state == ThreadState::Running && Some(prev) != idle {
            match requeue {
                Requeue::Back => self.make_ready(prev, false),
                Requeue::Front => self.make_ready(prev, true),
                Requeue::No => {}
            }
        }
        let next = match self
            .take_handoff()
            .or_else(|| self.run_queue.pop_highest().map(|(tid, _)| tid))
        {
            Some(tid) => tid,
            None if prev_state == ThreadState::Running && requeue == Requeue::No => prev,
            None => idle.unwrap_or(prev),
        };
        if next == prev {
            self.current_thread().state = ThreadState::Running;
            self.program_timer();
            return None;
        }
        self.prepare_next(next);
        let prev_ctx = &raw mut self.threads.get_mut(prev.0)?.context;
        let next_ctx = &raw const self.threads.get(next.0)?.context;
        Some((prev_ctx, next_ctx))
    }

    /// The hand-off thread, taken out of the run queue, if priorities allow it to run now.
    pub(super) fn take_handoff(&mut self) -> Option<Tid> {
        let tid = self.handoff.take()?;
        let thread = self
            .threads
            .get(tid.0)
            .filter(|t| t.state == ThreadState::Ready)?;
        let priority = thread.priority;
        let most_urgent = self
            .run_queue
            .highest_priority()
            .is_none_or(|top| priority <= top);
        (most_urgent && self.run_queue.remove(tid, priority)).then_some(tid)
    }

    /// Address space, FP ownership, slice and bookkeeping for the thread about to run.
    pub(super) fn prepare_next(&mut self, next: Tid) {
        self.current = next;
        let slice = slice_ticks();
        let fp_owner = self.fp_owner;
        let active_space = self.active_space;
        let thread = self.current_thread();
        thread.state = ThreadState::Running;
        thread.slice_end = time::now() + slice;
        let space = thread.space.as_ref().map_or(0, space_id);
        if space != active_space {
            match &thread.space {
                Some(space) => space.activate(),
                None => user_table::deactivate(),
            }
        }
        let needs_fp = thread.fp.is_some() && fp_owner != Some(next);
        self.active_space = space;
        if needs_fp {
            self.swap_fp_state(next);
        }
        self.program_timer();
    }

    /// Lazy FP switch: save the registers for their owner, load the next thread's.
    pub(super) fn swap_fp_state(&mut self, next: Tid) {
        if let Some(owner) = self.fp_owner.and_then(|t| self.threads.get_mut(t.0))
            && let Some(state) = owner.fp.as_deref_mut()
        {
            context::fp_save(state);
        }
        if let Some(state) = self.threads.get(next.0).and_then(|t| t.fp.as_deref()) {
            context::fp_restore(state);
        }
        self.fp_owner = Some(next);
    }

    /// Programs the one-shot timer for the earliest of: the next timer event, the end of
    /// the running RR thread's slice (only if someone shares its priority and the switch
    /// it calls for is not already pending: re-arming a passed deadline would keep the
    /// level-triggered timer interrupt asserted).
    pub(super) fn program_timer(&mut self) {
        let mut deadline = self.timers.next_deadline();
        if let Some(thread) = self.threads.get(self.current.0) {
            let shares_cpu = self
                .run_queue
                .slice_expired_should_switch(thread.priority, thread.policy);
            if shares_cpu && !self.need_resched && Some(self.current) != self.idle {
                deadline = Some(deadline.map_or(thread.slice_end, |d| d.min(thread.slice_end)));
            }
        }
        match deadline {
            Some(deadline) => timer::set_deadline(deadline),
            None => timer::stop(),
        }
    }

    pub(super) fn on_timer(&mut self) {
        let now = time::now();
        while let Some((fired, tid)) = self.timers.pop_expired(now) {
            let Some(thread) = self.threads.get_mut(tid.0) else {
                continue;
            };
            if thread.timer.is_some_and(|t| t.deadline() == fired) {
                thread.timer = None;
            }
            if thread.state != ThreadState::Blocked {
                continue; // woken before its deadline: a stale entry
            }
            match thread.deadline {
                Some(deadline) if deadline <= now => {
                    self.wake(tid, WakeReason::TimedOut);
                }
                Some(deadline) if thread.timer.is_none() => {
                    // An entry kept from an earlier wait fired early: re-arm for this one.
                    thread.timer = Some(self.timers.insert(deadline, tid));
                }
                _ => {}
            }
        }
        let current = self.current;
        if let Some(thread) = self.threads.get(current.0)
            && now >= thread.slice_end
            && self
                .run_queue
                .slice_expired_should_switch(thread.priority, thread.policy)
        {
            self.need_resched = true;
        }
        self.program_timer();
    }

    #[expect(
        clippy::vec_box,
        reason = "threads stay boxed: their contexts must not move while registered"
    )]
    pub(super) fn take_dead(&mut self) -> Vec<Box<Thread>> {
        if self.dead == 0 {
            return Vec::new();
        }
        let current = self.current;
        let dead: Vec<Tid> = self
            .threads
            .values()
            .filter(|t| t.state == ThreadState::Dead && t.tid != current)
            .map(|t| t.tid)
            .collect();
        let reaped: Vec<Box<Thread>> = dead
            .iter()
            .filter_map(|tid| self.threads.remove(tid.0))
            .collect();
        self.dead -= reaped.len();
        reaped
    }
}

/// Performs a switch prepared under the lock; returns when this thread runs again.
pub(super) fn run_switch(prepared: Option<(*mut Context, *const Context)>) {
    if let Some((prev, next)) = prepared {
        // SAFETY: IRQs are masked (callers hold an IrqState); both contexts belong to
        // registered threads whose boxes stay put until they are reaped after a switch.
        #[allow(unsafe_code, reason = "the context switch")]
        unsafe {
            context::switch_context(prev, next)
        };
        finish_switch();
    }
}

/// Runs on the incoming thread after every switch: frees threads that died.
pub(super) fn finish_switch() {
    let dead = SCHED.lock().take_dead();
    drop(dead); // kernel stacks and address spaces are released outside the scheduler lock
}

pub(super) fn reschedule(requeue: Requeue) {
    let irq = cpu::irq_save_disable();
    let prepared = SCHED.lock().switch(requeue);
    run_switch(prepared);
    cpu::irq_restore(irq);
}

pub(super) fn requeue_after_priority_change(s: &mut Scheduler, tid: Tid, old: Priority) {
    let Some(thread) = s.threads.get(tid.0) else {
        return;
    };
    let (state, new) = (thread.state, thread.priority);
    if state == ThreadState::Ready && s.run_queue.remove(tid, old) {
        s.make_ready(tid, false);
    } else if state == ThreadState::Running && s.run_queue.should_preempt(new) {
        s.need_resched = true;
    }
}

/// Sets the round-robin time slice.
pub fn set_slice_ns(ns: u64) {
    SLICE_NS.store(ns.max(1_000_000), Ordering::Relaxed);
    SLICE_TICKS.store(0, Ordering::Relaxed);
}

/// The time slice in counter ticks, converted once per [`set_slice_ns`].
pub(super) fn slice_ticks() -> u64 {
    match SLICE_TICKS.load(Ordering::Relaxed) {
        0 => {
            let ticks = time::ns_to_ticks(SLICE_NS.load(Ordering::Relaxed));
            SLICE_TICKS.store(ticks, Ordering::Relaxed);
            ticks
        }
        ticks => ticks,
    }
}
