//! IPC_SEND_RECV_MSG: validate the buffer to free, SEND, BUFF_FREE (even if SEND failed),
//! then RECV — upstream's order — and the receive side: the next message for the calling
//! thread, or the reply it waits for (5 s at most after a request).

use super::send;
use super::state::{Awaiting, Caller, STATE, State, no_cms};
use crate::arch::cpu;
use crate::mm::uaccess::{self, UserPtr};
use crate::sched::{self, WakeReason};
use crate::time;
use abi::Errno;
use abi::liteipc::*;

/// The ioctl. Everything up to the receive happens under one lock of the driver state.
pub(super) fn send_recv(caller: Caller, arg: usize) -> Result<usize, Errno> {
    let mut content = IpcContent::default();
    let content_ptr = UserPtr::<IpcContent>::new(arg as u64);
    uaccess::read_into(content_ptr, &mut content)?;
    // IRQs stay masked from the driver's checks to a possible sleep (see `receive`).
    let irq = cpu::irq_save_disable();
    let received = exchange(caller, &content);
    cpu::irq_restore(irq);
    if let Some(in_msg) = received? {
        content.in_msg = in_msg;
        uaccess::write(content_ptr, &content)?;
    }
    Ok(0)
}

/// SEND, BUFF_FREE and RECV as `content` asks, with IRQs masked by the caller; the pool
/// address of the received message, if RECV.
fn exchange(caller: Caller, content: &IpcContent) -> Result<Option<u64>, Errno> {
    let mut state = STATE.lock();
    // Sending needs a service manager (upstream's rule); freeing a buffer and receiving do
    // not, so a process can still return the death notice of a samgr that just died.
    if content.flag & SEND != 0 && state.cms.is_none() {
        return Err(send_without_cms(state, caller, content));
    }
    if content.flag & !(SEND | RECV | BUFF_FREE) != 0 || content.flag == 0 {
        return Err(Errno::EINVAL);
    }
    let to_free = if content.flag & BUFF_FREE != 0 {
        Some(check_free(&state, caller, content.buff_to_free)?)
    } else {
        None
    };
    let sent = if content.flag & SEND != 0 {
        let mut out = send::Outgoing::default();
        send::read(&mut out, content.out_msg)
            .and_then(|()| send::send(&mut state, caller, &out, content.flag & RECV != 0))
            .map(Some)
    } else {
        Ok(None)
    };
    if let Some(offset) = to_free {
        free(&mut state, caller, offset);
    }
    let awaiting = sent?.flatten();
    if let Some(awaiting) = awaiting {
        state.task(caller.tid, caller.pid).awaiting = Some(awaiting);
    }
    if content.flag & RECV == 0 {
        return Ok(None);
    }
    if let Some(found) = take_message(&mut state, caller, awaiting)? {
        return Ok(Some(found));
    }
    // Nothing yet: arm the wait under this same lock; IRQs stay masked (by the caller)
    // until the thread sleeps, so no wake-up falls in between and the queue needs no
    // second look before sleeping.
    state.task(caller.tid, caller.pid).waiting = true;
    drop(state);
    // The 5 s bound applies to waiting for a reply; a server that replied and now waits
    // for its next request may wait as long as it likes.
    let timeout = awaiting.map(|_| time::now() + time::ns_to_ticks(LITEIPC_TIMEOUT_MS * 1_000_000));
    receive(caller, awaiting, timeout).map(Some)
}

/// A send before there is a service manager fails, but a valid buffer to free is freed
/// all the same, as when any other send fails, so a process that hands a buffer back with
/// its next send never leaks it. Out of line: it is rare, and keeping it out of
/// `send_recv` keeps the syscall path short.
#[cold]
#[inline(never)]
fn send_without_cms(
    mut state: crate::sync::IrqSafeGuard<'_, State>,
    caller: Caller,
    content: &IpcContent,
) -> Errno {
    if content.flag & !(SEND | RECV | BUFF_FREE) == 0
        && content.flag & BUFF_FREE != 0
        && let Ok(offset) = check_free(&state, caller, content.buff_to_free)
    {
        free(&mut state, caller, offset);
    }
    drop(state);
    no_cms()
}

/// The pool offset of a buffer the caller may free (a delivered, unfreed message of its own).
fn check_free(state: &State, caller: Caller, addr: u64) -> Result<usize, Errno> {
    let pool = state
        .procs
        .get(caller.pid)
        .and_then(|p| p.pool.as_ref())
        .ok_or(Errno::EINVAL)?;
    let offset = pool.offset_of(addr).ok_or(Errno::EINVAL)?;
    pool.alloc
        .check_user_free(offset)
        .map_err(|_| Errno::EINVAL)?;
    Ok(offset)
}

fn free(state: &mut State, caller: Caller, offset: usize) {
    if let Some(pool) = state
        .procs
        .get_mut(caller.pid)
        .and_then(|p| p.pool.as_mut())
    {
        let _ = pool.alloc.user_free(offset);
    }
}

/// Sleeps until the caller's next message (or, when `awaiting`, its reply) arrives or
/// `deadline` passes; returns its pool address. The caller found nothing and marked the
/// thread waiting with IRQs masked ever since, so the first check is already done.
fn receive(
    caller: Caller,
    awaiting: Option<Awaiting>,
    deadline: Option<u64>,
) -> Result<u64, Errno> {
    // IRQs stay masked from each check to the sleep, so no wake-up falls in between.
    let irq = cpu::irq_save_disable();
    let mut skip_check = true;
    let result = loop {
        if !core::mem::take(&mut skip_check) {
            let mut state = STATE.lock();
            match take_message(&mut state, caller, awaiting) {
                Ok(None) => state.task(caller.tid, caller.pid).waiting = true,
                done => break done,
            }
        }
        let reason = sched::block_current(deadline);
        if reason == WakeReason::Woken {
            continue;
        }
        let mut state = STATE.lock();
        if reason == WakeReason::TimedOut {
            // Check once more: the reply may have come with the deadline.
            match take_message(&mut state, caller, awaiting) {
                Ok(None) => {}
                done => {
                    state.task(caller.tid, caller.pid).waiting = false;
                    break done;
                }
            }
        }
        let task = state.task(caller.tid, caller.pid);
        task.waiting = false;
        task.awaiting = None;
        break Err(if reason == WakeReason::TimedOut {
            Errno::ETIME
        } else {
            Errno::ERFKILL
        });
    };
    cpu::irq_restore(irq);
    result?.ok_or(Errno::EIO)
}

/// The message to hand over now, if any. Waiting for a reply, only the matching reply
/// counts (stale replies are freed); a failed reply ends the wait with ENOENT.
fn take_message(
    state: &mut State,
    caller: Caller,
    awaiting: Option<Awaiting>,
) -> Result<Option<u64>, Errno> {
    let task = state.task(caller.tid, caller.pid);
    let index = match awaiting {
        None => (!task.queue.is_empty()).then_some(0),
        Some(a) => {
            if task.reply_failed {
                task.reply_failed = false;
                task.awaiting = None;
                return Err(Errno::ENOENT);
            }
            task.queue
                .iter()
                .position(|q| q.msg_type != msg_type::MT_REQUEST && q.timestamp == a.timestamp)
        }
    };
    let Some(index) = index else { return Ok(None) };
    let Some(queued) = task.queue.remove(index) else {
        return Ok(None);
    };
    task.awaiting = None;
    let pool = state
        .procs
        .get_mut(caller.pid)
        .and_then(|p| p.pool.as_mut())
        .ok_or(Errno::EINVAL)?;
    if queued.msg_type == msg_type::MT_FAILED_REPLY {
        let _ = pool.alloc.release(queued.offset);
        return Err(Errno::ENOENT);
    }
    pool.alloc
        .mark_delivered(queued.offset)
        .map_err(|_| Errno::EINVAL)?;
    Ok(Some(pool.user_va + queued.offset as u64))
}
