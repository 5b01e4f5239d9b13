//! LiteIPC: the `/dev/lite_ipc` driver (OpenHarmony LiteOS-A kernel/extended/liteipc, with
//! the contract in `abi::liteipc`).
//!
//! Each process maps a read-only receive pool; a message is copied once, from the sender's
//! memory straight into a block of the receiver's pool, and queued on the receiving thread.
//! Handle 0 is the service manager (CMS); it hands out handles for other threads and grants
//! access. Threads and processes that die take their handles, queued messages and pool
//! with them; callers waiting on them get an error and every process that could reach a
//! dead handle gets one death notification.

mod death;
mod pool;
mod recv;
mod send;

pub use death::{on_process_exit, on_thread_exit};

use crate::mm::uaccess;
use crate::proc::{self, Perms, Pid};
use crate::sched::{self, Tid, WaitQueue, WakeReason};
use crate::sync::IrqSafeMutex;
use crate::time;
use abi::Errno;
use abi::liteipc::*;
use abi::syscall::mman;
use alloc::collections::VecDeque;
use kcore::PAGE_SIZE;
use kcore::idmap::IdMap;
use log::warn;
use pool::Pool;

/// The service manager.
#[derive(Clone, Copy, Debug)]
struct Cms {
    pid: Pid,
    max_msg_size: usize,
}

/// A registered service handle: messages to it go to `tid`.
#[derive(Clone, Copy, Debug)]
struct HandleEntry {
    tid: Tid,
    pid: Pid,
}

/// Per-process IPC state (created by `open`).
struct ProcIpc {
    pool: Option<Pool>,
    ipc_thread: Option<Tid>,
    /// The process's credentials, stamped on every message it sends (they never change
    /// after spawn, exec included), kept here so a send needs no process-table lookup.
    uid: u32,
    gid: u32,
    /// Bit h set: the process may send to handle h.
    access: [u64; MAX_HANDLES / 64],
}

impl ProcIpc {
    fn can_reach(&self, handle: u32) -> bool {
        let h = handle as usize;
        h < MAX_HANDLES && self.access[h / 64] & (1 << (h % 64)) != 0
    }

    fn grant(&mut self, handle: u32) {
        let h = handle as usize;
        if h < MAX_HANDLES {
            self.access[h / 64] |= 1 << (h % 64);
        }
    }

    fn revoke(&mut self, handle: u32) {
        let h = handle as usize;
        if h < MAX_HANDLES {
            self.access[h / 64] &= !(1 << (h % 64));
        }
    }
}

/// A message waiting in a pool for its receiving thread.
#[derive(Clone, Copy, Debug)]
struct Queued {
    offset: usize,
    msg_type: u32,
    timestamp: u64,
}

/// The reply a thread waits for after a request.
#[derive(Clone, Copy, Debug)]
struct Awaiting {
    timestamp: u64,
    server_pid: Pid,
    handle: u32,
}

/// Per-thread IPC state.
struct TaskIpc {
    pid: Pid,
    queue: VecDeque<Queued>,
    /// The thread sleeps in a LiteIPC receive (only the thread itself waits for its
    /// messages, so a flag replaces a wait queue: no allocation per wait).
    waiting: bool,
    awaiting: Option<Awaiting>,
    /// The awaited server died or sent MT_FAILED_REPLY.
    reply_failed: bool,
}

struct State {
    cms: Option<Cms>,
    handles: [Option<HandleEntry>; MAX_HANDLES],
    /// By pid.
    procs: IdMap<ProcIpc>,
    /// By tid.
    tasks: IdMap<TaskIpc>,
    last_timestamp: u64,
}

static STATE: IrqSafeMutex<State> = IrqSafeMutex::new(State {
    cms: None,
    handles: [None; MAX_HANDLES],
    procs: IdMap::new(),
    tasks: IdMap::new(),
    last_timestamp: 0,
});
/// Where IPC_WAIT_CMS sleeps.
static CMS_READY: WaitQueue = WaitQueue::new();

impl TaskIpc {
    /// Wakes thread `tid` (this task) if it sleeps in a receive; `handoff` when the waker
    /// blocks right after (see [`sched::wake_handoff`]).
    fn wake(&mut self, tid: Tid, handoff: bool) {
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
    fn task(&mut self, tid: Tid, pid: Pid) -> &mut TaskIpc {
        self.tasks.get_or_insert_with(tid.0, || TaskIpc {
            pid,
            queue: VecDeque::new(),
            waiting: false,
            awaiting: None,
            reply_failed: false,
        })
    }

    fn next_timestamp(&mut self) -> u64 {
        self.last_timestamp = time::now().max(self.last_timestamp + 1);
        self.last_timestamp
    }

    /// The thread and process messages to `handle` go to.
    fn resolve(&self, handle: u32) -> Option<HandleEntry> {
        if handle == 0 {
            let cms = self.cms?;
            let tid = self.procs.get(cms.pid)?.ipc_thread?;
            return Some(HandleEntry { tid, pid: cms.pid });
        }
        *self.handles.get(handle as usize)?
    }

    fn cms_ready(&self) -> bool {
        self.cms.is_some_and(|c| {
            self.procs
                .get(c.pid)
                .is_some_and(|p| p.ipc_thread.is_some())
        })
    }

    /// Queues the message at `offset` of `tid`'s pool and wakes the thread.
    fn enqueue(&mut self, tid: Tid, pid: Pid, queued: Queued) {
        self.enqueue_from(tid, pid, queued, false);
    }

    /// Queues a message; `sender_blocks_next` hands the CPU straight to the receiver when
    /// the sender is about to wait (a synchronous call or reply-then-receive).
    fn enqueue_from(&mut self, tid: Tid, pid: Pid, queued: Queued, sender_blocks_next: bool) {
        let task = self.task(tid, pid);
        task.queue.push_back(queued);
        task.wake(tid, sender_blocks_next);
        if !sender_blocks_next {
            crate::fs::poll::notify();
        }
    }

    /// Frees a block of `pid`'s pool on the kernel's behalf.
    fn release(&mut self, pid: Pid, offset: usize) {
        if let Some(pool) = self.procs.get_mut(pid).and_then(|p| p.pool.as_mut()) {
            let _ = pool.alloc.release(offset);
        }
    }
}

/// Who is calling.
#[derive(Clone, Copy, Debug)]
struct Caller {
    pid: Pid,
    tid: Tid,
    uid: u32,
    gid: u32,
}

/// Whether thread `tid` has a LiteIPC message waiting (for `poll`).
pub fn has_message(tid: Tid) -> bool {
    STATE
        .lock()
        .tasks
        .get(tid.0)
        .is_some_and(|t| !t.queue.is_empty())
}

/// `open("/dev/lite_ipc")`: gives the calling process its IPC state.
pub fn open() {
    let pid = sched::current_pid();
    let cred = proc::cred(pid);
    STATE.lock().procs.get_or_insert_with(pid, || ProcIpc {
        pool: None,
        ipc_thread: None,
        uid: cred.uid,
        gid: cred.gid,
        access: [0; MAX_HANDLES / 64],
    });
}

/// `mmap` of the device: the receive pool, read-only and private, at most 256 KiB, once.
pub fn mmap(len: u64, prot: usize, flags: usize) -> Result<usize, Errno> {
    if prot != mman::PROT_READ
        || flags & mman::MAP_SHARED != 0
        || len == 0
        || len > MAX_POOL_SIZE as u64
    {
        return Err(Errno::EINVAL);
    }
    let pid = sched::current_pid();
    let space = sched::current_space().ok_or(Errno::EINVAL)?;
    {
        let state = STATE.lock();
        let process = state.procs.get(pid).ok_or(Errno::EBADF)?;
        if process.pool.is_some() {
            return Err(Errno::EEXIST);
        }
    }
    let pages = (len as usize).div_ceil(PAGE_SIZE);
    let mut frames = alloc::vec::Vec::with_capacity(pages);
    for _ in 0..pages {
        match crate::mm::frame::alloc_zeroed() {
            Some(frame) => frames.push(frame),
            None => {
                frames.into_iter().for_each(crate::mm::frame::free);
                return Err(Errno::ENOMEM);
            }
        }
    }
    let pool = Pool::new(0, frames);
    let va = space
        .find_free((pages * PAGE_SIZE) as u64)
        .ok_or(Errno::ENOMEM)?;
    space.map_shared(
        va,
        pool.frames(),
        Perms {
            read: true,
            write: false,
            exec: false,
        },
    )?;
    let mut pool = pool;
    pool.user_va = va;
    let mut state = STATE.lock();
    let process = state.procs.get_mut(pid).ok_or(Errno::EBADF)?;
    if process.pool.is_some() {
        drop(state);
        let _ = space.unmap(va, (pages * PAGE_SIZE) as u64); // lost a race: undo, then free
        return Err(Errno::EEXIST);
    }
    process.pool = Some(pool);
    Ok(va as usize)
}

/// `ioctl` on the device.
pub fn ioctl(cmd: usize, arg: usize) -> Result<usize, Errno> {
    let (tid, pid) = sched::current_ids();
    let caller = match STATE.lock().procs.get(pid) {
        Some(p) if p.pool.is_some() => Caller {
            pid,
            tid,
            uid: p.uid,
            gid: p.gid,
        },
        _ => return Err(Errno::ENOMEM), // upstream: nothing works before the pool is mapped
    };
    match cmd {
        IPC_SET_CMS => set_cms(caller, arg),
        IPC_CMS_CMD => cms_cmd(caller, arg),
        IPC_SET_IPC_THREAD => set_ipc_thread(caller),
        IPC_SEND_RECV_MSG => recv::send_recv(caller, arg),
        IPC_GET_VERSION => uaccess::write_struct(
            arg,
            &IpcVersion {
                driver_version: LITEIPC_VERSION,
            },
        )
        .map(|()| 0),
        IPC_WAIT_CMS => wait_cms(arg as u64),
        _ => Err(Errno::ENOTTY),
    }
}

fn set_cms(caller: Caller, max_msg_size: usize) -> Result<usize, Errno> {
    if max_msg_size < size_of::<IpcMsg>() {
        return Err(Errno::EINVAL);
    }
    let mut state = STATE.lock();
    if state.cms.is_some() {
        return Err(Errno::EEXIST);
    }
    state.cms = Some(Cms {
        pid: caller.pid,
        max_msg_size,
    });
    Ok(0)
}

fn no_cms() -> Errno {
    warn!(target: "liteipc", "ServiceManager not set");
    Errno::EINVAL
}

fn set_ipc_thread(caller: Caller) -> Result<usize, Errno> {
    let mut state = STATE.lock();
    if state.cms.is_none() {
        return Err(no_cms());
    }
    let process = state.procs.get_mut(caller.pid).ok_or(Errno::EBADF)?;
    process.ipc_thread = Some(caller.tid);
    let ready = state.cms_ready();
    drop(state);
    if ready {
        CMS_READY.wake_all();
    }
    Ok(caller.tid.0 as usize)
}

fn wait_cms(timeout_ms: u64) -> Result<usize, Errno> {
    let deadline = (timeout_ms != 0).then(|| {
        time::now().saturating_add(time::ns_to_ticks(timeout_ms.saturating_mul(1_000_000)))
    });
    match CMS_READY.wait_while(deadline, || !STATE.lock().cms_ready()) {
        WakeReason::Woken => Ok(0),
        WakeReason::TimedOut => Err(Errno::ETIME),
        WakeReason::Interrupted => Err(Errno::ERFKILL),
    }
}

fn cms_cmd(caller: Caller, arg: usize) -> Result<usize, Errno> {
    let mut content: CmsCmdContent = uaccess::read_struct(arg)?;
    let mut state = STATE.lock();
    let cms = state.cms.ok_or_else(no_cms)?;
    if cms.pid != caller.pid {
        return Err(Errno::EACCES);
    }
    match content.cmd {
        cms_cmd::CMS_GEN_HANDLE => {
            let tid = Tid(content.task_id);
            let pid = sched::thread_pid(tid).ok_or(Errno::EINVAL)?;
            content.service_handle = gen_handle(&mut state, tid, pid)?;
            drop(state);
            uaccess::write_struct(arg, &content).map(|()| 0)
        }
        cms_cmd::CMS_REMOVE_HANDLE => {
            let slot = state
                .handles
                .get_mut(content.service_handle as usize)
                .filter(|_| content.service_handle != 0);
            let slot = slot.ok_or(Errno::EINVAL)?;
            slot.take().ok_or(Errno::EINVAL).map(|_| 0)
        }
        cms_cmd::CMS_ADD_ACCESS => {
            let pid = sched::thread_pid(Tid(content.task_id)).ok_or(Errno::EINVAL)?;
            if state.resolve(content.service_handle).is_none() {
                return Err(Errno::EINVAL);
            }
            state
                .procs
                .get_mut(pid)
                .ok_or(Errno::EINVAL)?
                .grant(content.service_handle);
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// A handle for `tid` (its existing one if it has one).
fn gen_handle(state: &mut State, tid: Tid, pid: Pid) -> Result<u32, Errno> {
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
