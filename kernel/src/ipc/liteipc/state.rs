//! LiteIPC's state: the service manager, the handle table, per-process pools and access
//! rights, per-thread message queues and waits, all behind one lock.

use super::pool::Pool;
use crate::proc::Pid;
use crate::sched::{self, Tid, WaitQueue, WakeReason};
use crate::sync::IrqSafeMutex;
use crate::time;
use abi::Errno;
use abi::liteipc::*;
use alloc::collections::VecDeque;
use kcore::idmap::IdMap;
use log::warn;

/// The service manager.
#[derive(Clone, Copy, Debug)]
pub(super) struct Cms {
    pub(super) pid: Pid,
    pub(super) max_msg_size: usize,
}

/// A registered service handle: messages to it go to `tid`.
#[derive(Clone, Copy, Debug)]
pub(super) struct HandleEntry {
    pub(super) tid: Tid,
    pub(super) pid: Pid,
}

/// Per-process IPC state (created by `open`).
pub(super) struct ProcIpc {
    pub(super) pool: Option<Pool>,
    pub(super) ipc_thread: Option<Tid>,
    /// The process's credentials, stamped on every message it sends (they never change
    /// after spawn, exec included), kept here so a send needs no process-table lookup.
    pub(super) uid: u32,
    pub(super) gid: u32,
    /// Bit h set: the process may send to handle h.
    pub(super) access: [u64; MAX_HANDLES / 64],
}

impl ProcIpc {
    pub(super) fn can_reach(&self, handle: u32) -> bool {
        let h = handle as usize;
        h < MAX_HANDLES && self.access[h / 64] & (1 << (h % 64)) != 0
    }

    pub(super) fn grant(&mut self, handle: u32) {
        let h = handle as usize;
        if h < MAX_HANDLES {
            self.access[h / 64] |= 1 << (h % 64);
        }
    }

    pub(super) fn revoke(&mut self, handle: u32) {
        let h = handle as usize;
        if h < MAX_HANDLES {
            self.access[h / 64] &= !(1 << (h % 64));
        }
    }
}

/// A message waiting in a pool for its receiving thread.
#[derive(Clone, Copy, Debug)]
pub(super) struct Queued {
    pub(super) offset: usize,
    pub(super) msg_type: u32,
    pub(super) timestamp: u64,
}

/// The reply a thread waits for after a request.
#[derive(Clone, Copy, Debug)]
pub(super) struct Awaiting {
    pub(super) timestamp: u64,
    pub(super) server_pid: Pid,
    pub(super) handle: u32,
}

/// Per-thread IPC state.
pub(super) struct TaskIpc {
    pub(super) pid: Pid,
    pub(super) queue: VecDeque<Queued>,
    /// The thread sleeps in a LiteIPC receive (only the thread itself waits for its
    /// messages, so a flag replaces a wait queue: no allocation per wait).
    pub(super) waiting: bool,
    pub(super) awaiting: Option<Awaiting>,
    /// The awaited server died or sent MT_FAILED_REPLY.
    pub(super) reply_failed: bool,
}

pub(super) struct State {
    pub(super) cms: Option<Cms>,
    pub(super) handles: [Option<HandleEntry>; MAX_HANDLES],
    /// By pid.
    pub(super) procs: IdMap<ProcIpc>,
    /// By tid.
    pub(super) tasks: IdMap<TaskIpc>,
    pub(super) last_timestamp: u64,
}

pub(super) static STATE: IrqSafeMutex<State> = IrqSafeMutex::new(State {
    cms: None,
    handles: [None; MAX_HANDLES],
    procs: IdMap::new(),
    tasks: IdMap::new(),
    last_timestamp: 0,
});
/// Where IPC_WAIT_CMS sleeps.
pub(super) static CMS_READY: WaitQueue = WaitQueue::new();

impl TaskIpc {
    /// Wakes thread `tid` (this task) if it sleeps in a receive; `handoff` when the waker
    /// blocks right after (see [`sched::wake_handoff`]).
    pub(super) fn wake(&mut self, tid: Tid, handoff: bool) {
        if core::mem::take(&mut self.waiting) {
            if handoff {
                sched::wake_handoff(tid);
            } else {
                sched::wake(tid, WakeReason::Woken);
            }
        }
    }
}

impl State {
    #[inline]
    pub(super) fn task(&mut self, tid: Tid, pid: Pid) -> &mut TaskIpc {
        self.tasks.get_or_insert_with(tid.0, || TaskIpc {
            pid,
            queue: VecDeque::new(),
            waiting: false,
            awaiting: None,
            reply_failed: false,
        })
    }

    pub(super) fn next_timestamp(&mut self) -> u64 {
        self.last_timestamp = time::now().max(self.last_timestamp + 1);
        self.last_timestamp
    }

    /// The thread and process messages to `handle` go to.
    pub(super) fn resolve(&self, handle: u32) -> Option<HandleEntry> {
        if handle == 0 {
            let cms = self.cms?;
            let tid = self.procs.get(cms.pid)?.ipc_thread?;
            return Some(HandleEntry { tid, pid: cms.pid });
        }
        *self.handles.get(handle as usize)?
    }

    pub(super) fn cms_ready(&self) -> bool {
        self.cms.is_some_and(|c| {
            self.procs
                .get(c.pid)
                .is_some_and(|p| p.ipc_thread.is_some())
        })
    }

    /// Queues the message at `offset` of `tid`'s pool and wakes the thread.
    pub(super) fn enqueue(&mut self, tid: Tid, pid: Pid, queued: Queued) {
        self.enqueue_from(tid, pid, queued, false);
    }

    /// Queues a message; `sender_blocks_next` hands the CPU straight to the receiver when
    /// the sender is about to wait (a synchronous call or reply-then-receive).
    pub(super) fn enqueue_from(
        &mut self,
        tid: Tid,
        pid: Pid,
        queued: Queued,
        sender_blocks_next: bool,
    ) {
        let task = self.task(tid, pid);
        task.queue.push_back(queued);
        task.wake(tid, sender_blocks_next);
        if !sender_blocks_next {
            crate::fs::poll::notify();
        }
    }

    /// Frees a block of `pid`'s pool on the kernel's behalf.
    pub(super) fn release(&mut self, pid: Pid, offset: usize) {
        if let Some(pool) = self.procs.get_mut(pid).and_then(|p| p.pool.as_mut()) {
            let _ = pool.alloc.release(offset);
        }
    }
}

/// Who is calling.
#[derive(Clone, Copy, Debug)]
pub(super) struct Caller {
    pub(super) pid: Pid,
    pub(super) tid: Tid,
    pub(super) uid: u32,
    pub(super) gid: u32,
}

pub(super) fn no_cms() -> Errno {
    warn!(target: "liteipc", "ServiceManager not set");
    Errno::EINVAL
}

/// A handle for `tid` (its existing one if it has one).
pub(super) fn gen_handle(state: &mut State, tid: Tid, pid: Pid) -> Result<u32, Errno> {
    if let Some(h) = state
        .handles
        .iter()
        .position(|e| e.is_some_and(|e| e.tid == tid))
    {
        return Ok(h as u32);
    }
    let free = state
        .handles
        .iter()
        .skip(1)
        .position(Option::is_none)
        .ok_or(Errno::ENOSPC)?
        + 1;
    state.handles[free] = Some(HandleEntry { tid, pid });
    Ok(free as u32)
}
