//! Making and ending threads: the boot and idle threads, kernel and user threads, exit,
//! join and exec's change of address space.

use super::blocking::block_current;
use super::scheduler::{Requeue, SCHED, finish_switch, run_switch};
use super::thread::{SpaceHandle, ThreadState, WakeReason, new_thread, space_id};
use crate::arch::context::{self, Context, ThreadHooks};
use crate::arch::cpu;
use crate::mm::kstack::KernelStack;
use abi::Errno;
use alloc::boxed::Box;
use kcore::sched::{Pid, Policy, Priority, Tid};

/// What every new thread runs around its own code.
const HOOKS: ThreadHooks = ThreadHooks {
    on_start: on_thread_start,
    on_kernel_return: kernel_thread_return,
};

/// First thing a new thread runs (before its entry point): frees threads that died.
extern "C" fn on_thread_start() {
    finish_switch();
}

/// A kernel thread's entry function returned: the thread ends with code 0.
extern "C" fn kernel_thread_return() -> ! {
    exit_current(0)
}

/// Registers the running boot thread and creates the idle thread.
pub fn init() -> Result<(), Errno> {
    {
        let mut s = SCHED.lock();
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

/// Starts a kernel thread running `entry(arg)`.
pub fn spawn_kernel_thread(
    name: &str,
    priority: Priority,
    policy: Policy,
    entry: extern "C" fn(usize),
    arg: usize,
) -> Result<Tid, Errno> {
    let kstack = KernelStack::new().map_err(|_| Errno::ENOMEM)?;
    let context = Context::new_kernel(kstack.top(), entry, arg, &HOOKS);
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
    pub space: SpaceHandle,
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
    let context = Context::new_user(frame_ptr, start.tls, &HOOKS);
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
pub fn replace_current_space(space: SpaceHandle) {
    let old = {
        let mut s = SCHED.lock();
        let current = s.current;
        space.activate();
        s.active_space = space_id(&space);
        let thread = s.current_thread();
        let old = thread.space.replace(space);
        thread.fp = Some(Box::default());
        s.fp_owner = None;
        s.swap_fp_state(current); // load the fresh state: the old program's is gone
        old
    };
    drop(old); // may free the old address space: outside the scheduler lock
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
