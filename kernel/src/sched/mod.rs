//! The scheduler: 32 priorities (0 highest), SCHED_RR with a time slice and SCHED_FIFO,
//! O(1) pick through kcore's bitmap run queue, and preemption as soon as a higher-priority
//! thread becomes ready (checked on every return from an interrupt or a system call).
//! Sleeps, timeouts and RR slices share one one-shot timer deadline.
//!
//! Single CPU. Kernel code runs with IRQs masked except in kernel threads' bodies and the
//! idle loop, so the scheduler lock is never contended by an interrupt on the same CPU.

mod thread;
mod wait;

pub use kcore::sched::{Policy, Priority, Tid};
pub use thread::{ThreadInfo, ThreadState, WakeReason};
pub use wait::WaitQueue;

use crate::arch::context::{self, Context};
use crate::arch::{cpu, timer};
use crate::mm::kstack::KernelStack;
use crate::proc::{AddressSpace, Pid};
use crate::sync::IrqSafeMutex;
use crate::time;
use abi::Errno;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use kcore::idmap::IdMap;
use kcore::sched::RunQueue;
use kcore::timer_queue::TimerQueue;
use thread::Thread;

/// Default round-robin time slice (LiteOS-A: up to 20 ms).
pub const DEFAULT_SLICE_NS: u64 = 20_000_000;
/// Longest thread name kept.
const MAX_NAME: usize = 15;

static SLICE_NS: AtomicU64 = AtomicU64::new(DEFAULT_SLICE_NS);
/// [`SLICE_NS`] in counter ticks (0: not computed yet), so a switch needs no division.
static SLICE_TICKS: AtomicU64 = AtomicU64::new(0);
static SCHED: IrqSafeMutex<Scheduler> = IrqSafeMutex::new(Scheduler::new());

/// How the running thread gives up the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Requeue {
    /// Back of its priority's queue (yield, end of slice).
    Back,
    /// Front of its queue (preempted by a higher priority: it keeps its turn).
    Front,
    /// Not at all: it blocked or died.
    No,
}

struct Scheduler {
    /// By tid (`IdMap`: O(1), looked up on every switch and wake-up).
    threads: IdMap<Box<Thread>>,
    run_queue: RunQueue,
    current: Tid,
    idle: Option<Tid>,
    timers: TimerQueue<Tid>,
    next_tid: u32,
    fp_owner: Option<Tid>,
    /// Exit codes of finished threads nobody joined yet, with their process.
    exit_codes: BTreeMap<Tid, (Pid, i32)>,
    need_resched: bool,
    /// Empty user table installed while kernel threads run.
    kernel_ttbr0: u64,
    /// A thread woken by a synchronous IPC whose sender is about to block: it runs next if
    /// it is among the most urgent ready threads (direct hand-off, no run-queue round trip).
    handoff: Option<Tid>,
    /// Threads marked dead and not reaped yet (reaping scans only when there are some).
    dead: usize,
    /// Address of the address space installed in TTBR0 (0: the kernel's empty table). It is
    /// always the running thread's, which keeps it alive, so equal addresses mean the same
    /// space and the switch can skip re-installing it.
    active_space: usize,
}

impl Scheduler {
    const fn new() -> Self {
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
            kernel_ttbr0: 0,
            handoff: None,
            dead: 0,
            active_space: 0,
        }
    }

    fn alloc_tid(&mut self) -> Tid {
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

    fn current_thread(&mut self) -> &mut Thread {
        let current = self.current;
        self.threads
            .get_mut(current.0)
            .expect("invariant: the running thread is registered")
    }

    fn make_ready(&mut self, tid: Tid, front: bool) {
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

    fn wake(&mut self, tid: Tid, reason: WakeReason) -> bool {
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
    fn switch(&mut self, requeue: Requeue) -> Option<(*mut Context, *const Context)> {
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
    fn take_handoff(&mut self) -> Option<Tid> {
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
    fn prepare_next(&mut self, next: Tid) {
        self.current = next;
        let slice = slice_ticks();
        let kernel_ttbr0 = self.kernel_ttbr0;
        let fp_owner = self.fp_owner;
        let active_space = self.active_space;
        let thread = self.current_thread();
        thread.state = ThreadState::Running;
        thread.slice_end = time::now() + slice;
        let space = thread.space.as_ref().map_or(0, |s| Arc::as_ptr(s) as usize);
        if space != active_space {
            match &thread.space {
                Some(space) => space.activate(),
                None => {
                    // SAFETY: the kernel's empty table: no user mapping is reachable.
                    #[allow(unsafe_code, reason = "TTBR0 switch")]
                    unsafe {
                        cpu::switch_user_table(kernel_ttbr0, 0)
                    }
                }
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
    fn swap_fp_state(&mut self, next: Tid) {
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
    fn program_timer(&mut self) {
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

    fn on_timer(&mut self) {
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
    fn take_dead(&mut self) -> Vec<Box<Thread>> {
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
fn run_switch(prepared: Option<(*mut Context, *const Context)>) {
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
fn finish_switch() {
    let dead = SCHED.lock().take_dead();
    drop(dead); // kernel stacks and address spaces are released outside the scheduler lock
}

/// First thing a new thread runs (before its entry point).
pub fn on_thread_start() {
    finish_switch();
}

fn reschedule(requeue: Requeue) {
    let irq = cpu::irq_save_disable();
    let prepared = SCHED.lock().switch(requeue);
    run_switch(prepared);
    cpu::irq_restore(irq);
}

/// Registers the running boot thread and creates the idle thread.
pub fn init(empty_user_table: u64) -> Result<(), Errno> {
    {
        let mut s = SCHED.lock();
        s.kernel_ttbr0 = empty_user_table;
        let tid = s.alloc_tid();
        let boot = new_thread(
            tid,
            0,
            "kmain",
            Priority::HIGHEST,
            Policy::RoundRobin,
            Context::default(),
            None,
        );
        s.threads.insert(tid.0, boot);
        s.current = tid;
        s.current_thread().state = ThreadState::Running;
    }
    let idle = spawn_kernel_thread("idle", Priority::LOWEST, Policy::Fifo, idle_loop, 0)?;
    let mut s = SCHED.lock();
    s.run_queue.remove(idle, Priority::LOWEST);
    s.idle = Some(idle);
    Ok(())
}

extern "C" fn idle_loop(_: usize) {
    loop {
        cpu::wait_for_interrupt();
    }
}

fn new_thread(
    tid: Tid,
    pid: Pid,
    name: &str,
    priority: Priority,
    policy: Policy,
    context: Context,
    kstack: Option<KernelStack>,
) -> Box<Thread> {
    Box::new(Thread {
        tid,
        pid,
        name: String::from(name.get(..MAX_NAME.min(name.len())).unwrap_or("thread")),
        state: ThreadState::Ready,
        priority,
        policy,
        context,
        fp: None,
        _kstack: kstack,
        space: None,
        timer: None,
        deadline: None,
        wake_reason: WakeReason::Woken,
        slice_end: 0,
        interrupted: false,
        joiners: Vec::new(),
    })
}

/// Starts a kernel thread running `entry(arg)`.
pub fn spawn_kernel_thread(
    name: &str,
    priority: Priority,
    policy: Policy,
    entry: extern "C" fn(usize),
    arg: usize,
) -> Result<Tid, Errno> {
    let kstack = KernelStack::new().map_err(|_| Errno::ENOMEM)?;
    let context = Context::new_kernel(kstack.top(), entry, arg);
    let mut s = SCHED.lock();
    let tid = s.alloc_tid();
    s.threads.insert(
        tid.0,
        new_thread(tid, 0, name, priority, policy, context, Some(kstack)),
    );
    s.make_ready(tid, false);
    Ok(tid)
}

/// What a new user thread starts with.
pub struct UserThreadStart {
    /// Owning process.
    pub pid: Pid,
    /// Its address space.
    pub space: Arc<AddressSpace>,
    /// Entry point.
    pub entry: u64,
    /// Initial user stack pointer.
    pub sp: u64,
    /// Value for x0.
    pub arg: u64,
    /// Initial TPIDR_EL0.
    pub tls: u64,
    /// Priority and policy.
    pub priority: Priority,
    /// Scheduling policy.
    pub policy: Policy,
}

/// Starts a user thread; it enters EL0 at `start.entry` when first scheduled.
pub fn spawn_user_thread(name: &str, start: UserThreadStart) -> Result<Tid, Errno> {
    let kstack = KernelStack::new().map_err(|_| Errno::ENOMEM)?;
    let frame = context::user_entry_frame(start.entry, start.sp, start.arg);
    let frame_ptr = kstack.push_trap_frame(frame);
    let context = Context::new_user(frame_ptr, start.tls);
    let mut s = SCHED.lock();
    let tid = s.alloc_tid();
    let mut thread = new_thread(
        tid,
        start.pid,
        name,
        start.priority,
        start.policy,
        context,
        Some(kstack),
    );
    thread.fp = Some(Box::default());
    thread.space = Some(start.space);
    s.threads.insert(tid.0, thread);
    s.make_ready(tid, false);
    Ok(tid)
}

/// Gives the running thread a new address space (after exec) and a clean FP state.
pub fn replace_current_space(space: Arc<AddressSpace>) {
    let old = {
        let mut s = SCHED.lock();
        let current = s.current;
        space.activate();
        s.active_space = Arc::as_ptr(&space) as usize;
        let thread = s.current_thread();
        let old = thread.space.replace(space);
        thread.fp = Some(Box::default());
        s.fp_owner = None;
        s.swap_fp_state(current); // load the fresh state: the old program's is gone
        old
    };
    drop(old); // may free the old address space: outside the scheduler lock
}

/// The running thread.
pub fn current() -> Tid {
    SCHED.lock().current
}

/// The running thread and its process, with one lock.
pub fn current_ids() -> (Tid, Pid) {
    let mut s = SCHED.lock();
    (s.current, s.current_thread().pid)
}

/// The running thread's process (0 for kernel threads).
pub fn current_pid() -> Pid {
    let mut s = SCHED.lock();
    s.current_thread().pid
}

/// The running thread's address space, if it is a user thread.
pub fn current_space() -> Option<Arc<AddressSpace>> {
    let mut s = SCHED.lock();
    s.current_thread().space.clone()
}

/// Gives the CPU to another ready thread of the same or higher priority.
pub fn yield_now() {
    reschedule(Requeue::Back);
}

/// Blocks the running thread until [`wake`] or the counter reaches `deadline`.
/// The caller must have IRQs masked since it checked the condition it waits for.
pub fn block_current(deadline: Option<u64>) -> WakeReason {
    let irq = cpu::irq_save_disable();
    let prepared = {
        let mut s = SCHED.lock();
        let current = s.current;
        if s.current_thread().interrupted {
            drop(s);
            cpu::irq_restore(irq);
            return WakeReason::Interrupted;
        }
        let s = &mut *s;
        let thread = s
            .threads
            .get_mut(current.0)
            .expect("invariant: the running thread is registered");
        if let Some(deadline) = deadline {
            // A queued entry that fires no later than this deadline is kept (it re-arms
            // when it fires early); otherwise the entry is replaced.
            match thread.timer {
                Some(timer) if timer.deadline() <= deadline => {}
                old => {
                    if let Some(timer) = old {
                        s.timers.cancel(timer);
                    }
                    thread.timer = Some(s.timers.insert(deadline, current));
                }
            }
        }
        thread.deadline = deadline;
        thread.state = ThreadState::Blocked;
        thread.wake_reason = WakeReason::Woken;
        s.switch(Requeue::No)
    };
    run_switch(prepared);
    let reason = SCHED.lock().current_thread().wake_reason;
    cpu::irq_restore(irq);
    reason
}

/// Makes a blocked thread ready; false if it was not blocked.
pub fn wake(tid: Tid, reason: WakeReason) -> bool {
    SCHED.lock().wake(tid, reason)
}

/// Like [`wake`], for a synchronous call whose caller blocks next: the woken thread is
/// switched to directly when the caller blocks, if no more urgent thread is ready.
pub fn wake_handoff(tid: Tid) -> bool {
    let mut s = SCHED.lock();
    let woken = s.wake(tid, WakeReason::Woken);
    if woken {
        s.handoff = Some(tid);
    }
    woken
}

/// Sleeps until the counter reaches `deadline` (early only if interrupted).
pub fn sleep_until(deadline: u64) -> WakeReason {
    let irq = cpu::irq_save_disable();
    let mut reason = WakeReason::TimedOut;
    while time::now() < deadline {
        reason = block_current(Some(deadline));
        if reason == WakeReason::Interrupted {
            break;
        }
    }
    cpu::irq_restore(irq);
    reason
}

/// Ends the running thread with `code`, waking its joiners.
pub fn exit_current(code: i32) -> ! {
    let _irq = cpu::irq_save_disable();
    let prepared = {
        let mut s = SCHED.lock();
        let current = s.current;
        if s.fp_owner == Some(current) {
            s.fp_owner = None;
        }
        s.dead += 1;
        let thread = s.current_thread();
        thread.state = ThreadState::Dead;
        let joiners = core::mem::take(&mut thread.joiners);
        if let Some(timer) = thread.timer.take() {
            s.timers.cancel(timer);
        }
        let pid = s.current_thread().pid;
        s.exit_codes.insert(current, (pid, code));
        for joiner in joiners {
            s.wake(joiner, WakeReason::Woken);
        }
        s.switch(Requeue::No)
    };
    run_switch(prepared);
    unreachable!("a dead thread was scheduled again");
}

/// Waits for thread `tid` of the caller's process to end (or finds it already ended) and
/// returns its exit code.
pub fn join(tid: Tid) -> Result<i32, Errno> {
    let irq = cpu::irq_save_disable();
    let result = loop {
        let mut s = SCHED.lock();
        let my_pid = s.current_thread().pid;
        if let Some(&(pid, code)) = s.exit_codes.get(&tid) {
            if pid != my_pid {
                break Err(Errno::ESRCH);
            }
            s.exit_codes.remove(&tid);
            break Ok(code);
        }
        let me = s.current;
        if tid == me {
            break Err(Errno::EDEADLK);
        }
        let Some(target) = s.threads.get_mut(tid.0).filter(|t| t.pid == my_pid) else {
            break Err(Errno::ESRCH);
        };
        target.joiners.push(me);
        drop(s);
        if block_current(None) == WakeReason::Interrupted {
            break Err(Errno::EINTR);
        }
    };
    cpu::irq_restore(irq);
    result
}

/// Forgets the exit code of a thread nobody will join (its process is gone).
pub fn discard_exit_code(tid: Tid) {
    SCHED.lock().exit_codes.remove(&tid);
}

/// Changes a thread's priority and policy. A thread that becomes ready at a higher
/// priority than the running one preempts it at the next return to user/IRQ exit.
pub fn set_param(tid: Tid, priority: Priority, policy: Policy) -> Result<(), Errno> {
    let mut s = SCHED.lock();
    let thread = s.threads.get_mut(tid.0).ok_or(Errno::ESRCH)?;
    let old = thread.priority;
    thread.priority = priority;
    thread.policy = policy;
    requeue_after_priority_change(&mut s, tid, old);
    Ok(())
}

fn requeue_after_priority_change(s: &mut Scheduler, tid: Tid, old: Priority) {
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

/// A thread's (priority, policy).
pub fn get_param(tid: Tid) -> Result<(Priority, Policy), Errno> {
    let s = SCHED.lock();
    let thread = s.threads.get(tid.0).ok_or(Errno::ESRCH)?;
    Ok((thread.priority, thread.policy))
}

/// The process a thread belongs to.
pub fn thread_pid(tid: Tid) -> Option<Pid> {
    SCHED.lock().threads.get(tid.0).map(|t| t.pid)
}

/// Marks a thread as having to leave (its process is dying) and wakes it if blocked.
pub fn interrupt(tid: Tid) {
    let mut s = SCHED.lock();
    if let Some(thread) = s.threads.get_mut(tid.0) {
        thread.interrupted = true;
        s.wake(tid, WakeReason::Interrupted);
    }
}

/// Whether the running thread has been told to leave.
pub fn current_interrupted() -> bool {
    let mut s = SCHED.lock();
    s.current_thread().interrupted
}

/// The timer interrupt: wake sleepers whose time came, end RR slices.
pub fn on_timer_interrupt(_irq: u32) {
    SCHED.lock().on_timer();
}

/// Called on the way out of every interrupt and system call: switch if a higher-priority
/// thread became ready or the running thread's slice ended.
pub fn preempt_if_needed() {
    let irq = cpu::irq_save_disable();
    let prepared = {
        let mut s = SCHED.lock();
        if !s.need_resched {
            None
        } else {
            let current = s.current;
            let priority = s.current_thread().priority;
            let preempted = s.run_queue.should_preempt(priority) && Some(current) != s.idle;
            s.switch(if preempted {
                Requeue::Front
            } else {
                Requeue::Back
            })
        }
    };
    run_switch(prepared);
    cpu::irq_restore(irq);
}

/// The way back to user mode: [`preempt_if_needed`], then whether the running thread has
/// been told to leave ([`current_interrupted`]); one lock when there is nothing to do.
pub fn preempt_and_check_interrupted() -> bool {
    {
        let mut s = SCHED.lock();
        if !s.need_resched {
            return s.current_thread().interrupted;
        }
    }
    preempt_if_needed();
    current_interrupted()
}

/// Sets the round-robin time slice.
pub fn set_slice_ns(ns: u64) {
    SLICE_NS.store(ns.max(1_000_000), Ordering::Relaxed);
    SLICE_TICKS.store(0, Ordering::Relaxed);
}

/// The time slice in counter ticks, converted once per [`set_slice_ns`].
fn slice_ticks() -> u64 {
    match SLICE_TICKS.load(Ordering::Relaxed) {
        0 => {
            let ticks = time::ns_to_ticks(SLICE_NS.load(Ordering::Relaxed));
            SLICE_TICKS.store(ticks, Ordering::Relaxed);
            ticks
        }
        ticks => ticks,
    }
}

/// Snapshots of every thread.
pub fn threads() -> Vec<ThreadInfo> {
    let mut infos: Vec<ThreadInfo> = SCHED.lock().threads.values().map(|t| t.info()).collect();
    infos.sort_unstable_by_key(|t| t.tid);
    infos
}
