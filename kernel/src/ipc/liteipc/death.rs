//! Death: a thread that owned handles, or a whole process, goes away. Its queued messages
//! are freed, callers waiting for its replies fail with ENOENT, and every other process that
//! could reach a dead handle gets one MT_DEATH_NOTIFY on its IPC thread.

use super::state::{CMS_READY, Queued, STATE, State};
use crate::proc::Pid;
use crate::sched::Tid;
use abi::liteipc::*;
use alloc::vec::Vec;
use zerocopy::IntoBytes;

/// A thread ended.
pub fn on_thread_exit(tid: Tid) {
    let mut state = STATE.lock();
    if let Some(task) = state.tasks.remove(tid.0) {
        for queued in task.queue {
            state.release(task.pid, queued.offset);
        }
    }
    let owned: Vec<(u32, Pid)> = state
        .handles
        .iter()
        .enumerate()
        .filter_map(|(h, e)| e.filter(|e| e.tid == tid).map(|e| (h as u32, e.pid)))
        .collect();
    for (handle, owner) in owned {
        state.handles[handle as usize] = None;
        handle_died(&mut state, handle, owner);
    }
    for process in state.procs.values_mut() {
        if process.ipc_thread == Some(tid) {
            process.ipc_thread = None;
        }
    }
}

/// A process ended (after all its threads): its pool and state go.
pub fn on_process_exit(pid: Pid) {
    let mut state = STATE.lock();
    if state.cms.is_some_and(|c| c.pid == pid) {
        state.cms = None;
        handle_died(&mut state, 0, pid);
    }
    for (tid, task) in state.tasks.iter_mut() {
        if task.awaiting.is_some_and(|a| a.server_pid == pid) {
            task.reply_failed = true;
            task.wake(Tid(tid), false);
        }
    }
    let process = state.procs.remove(pid);
    drop(state);
    drop(process); // frees the pool's frames
    CMS_READY.wake_all();
}

/// Fails waiting callers of `handle` and notifies every other process that could reach it.
fn handle_died(state: &mut State, handle: u32, owner: Pid) {
    for (tid, task) in state.tasks.iter_mut() {
        if task.awaiting.is_some_and(|a| a.handle == handle) {
            task.reply_failed = true;
            task.wake(Tid(tid), false);
        }
    }
    let watchers: Vec<(Pid, Tid)> = state
        .procs
        .iter_mut()
        .filter(|(pid, p)| *pid != owner && (handle == 0 || p.can_reach(handle)))
        .filter_map(|(pid, p)| {
            p.revoke(handle);
            p.ipc_thread.map(|t| (pid, t))
        })
        .collect();
    for (pid, tid) in watchers {
        notify(state, pid, tid, handle);
    }
}

fn notify(state: &mut State, pid: Pid, tid: Tid, handle: u32) {
    let Some(pool) = state.procs.get_mut(pid).and_then(|p| p.pool.as_mut()) else {
        return;
    };
    let Some(block) = pool.alloc.alloc(size_of::<IpcMsg>()) else {
        log::warn!(target: "liteipc", "pid {pid}: pool full, death of handle {handle} not delivered");
        return;
    };
    let timestamp = state.next_timestamp();
    let msg = IpcMsg {
        msg_type: msg_type::MT_DEATH_NOTIFY,
        target: SvcIdentity {
            handle: 0,
            token: handle,
            cookie: 0,
        },
        timestamp,
        ..IpcMsg::default()
    };
    let pool = state.procs.get(pid).and_then(|p| p.pool.as_ref());
    if pool.is_some_and(|pool| pool.write(block, msg.as_bytes()).is_ok()) {
        state.enqueue(
            tid,
            pid,
            Queued {
                offset: block,
                msg_type: msg_type::MT_DEATH_NOTIFY,
                timestamp,
            },
        );
    }
}
