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
mod state;

pub use death::{on_process_exit, on_thread_exit};

use crate::mm::frame::Frame;
use crate::mm::uaccess::{self, UserPtr};
use crate::proc::{self, Perms};
use crate::sched::{self, Tid, WakeReason};
use crate::time;
use abi::Errno;
use abi::liteipc::*;
use abi::syscall::mman;
use kcore::PAGE_SIZE;
use pool::Pool;
use state::{CMS_READY, Caller, Cms, ProcIpc, STATE, gen_handle, no_cms};

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
    let space = proc::current_space().ok_or(Errno::EINVAL)?;
    {
        let state = STATE.lock();
        let process = state.procs.get(pid).ok_or(Errno::EBADF)?;
        if process.pool.is_some() {
            return Err(Errno::EEXIST);
        }
    }
    let pages = (len as usize).div_ceil(PAGE_SIZE);
    // Owned frames: on failure they are freed with the vector.
    let frames = (0..pages)
        .map(|_| Frame::alloc_zeroed().ok_or(Errno::ENOMEM))
        .collect::<Result<alloc::vec::Vec<Frame>, Errno>>()?;
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
        IPC_GET_VERSION => uaccess::write(
            UserPtr::new(arg as u64),
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
    let content_ptr = UserPtr::<CmsCmdContent>::new(arg as u64);
    let mut content = uaccess::read(content_ptr)?;
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
            uaccess::write(content_ptr, &content).map(|()| 0)
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
