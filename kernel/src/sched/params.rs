//! Who is running, and thread parameters: ids, address space, priority and policy, and
//! snapshots for `ps`.

use super::scheduler::{SCHED, requeue_after_priority_change};
use super::thread::{SpaceHandle, ThreadInfo};
use abi::Errno;
use alloc::vec::Vec;
use kcore::sched::{Pid, Policy, Priority, Tid};

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
pub fn current_space() -> Option<SpaceHandle> {
    let mut s = SCHED.lock();
    s.current_thread().space.clone()
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

/// Snapshots of every thread.
pub fn threads() -> Vec<ThreadInfo> {
    let mut infos: Vec<ThreadInfo> = SCHED.lock().threads.values().map(|t| t.info()).collect();
    infos.sort_unstable_by_key(|t| t.tid);
    infos
}
