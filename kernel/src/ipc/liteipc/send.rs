//! SEND: validate a message, place it in the receiver's pool with one copy from the
//! sender's memory, translate its special objects, and queue it on the receiving thread.

use super::state::{Awaiting, Caller, HandleEntry, Queued, State, gen_handle};
use crate::mm::uaccess::{self, UserPtr, UserSlice};
use crate::proc;
use abi::Errno;
use abi::liteipc::*;
use alloc::vec::Vec;
use zerocopy::IntoBytes;

const HEADER: usize = size_of::<IpcMsg>();
const OBJ: usize = size_of::<SpecialObj>();

/// Where a message goes and what it will occupy.
struct Plan {
    to: HandleEntry,
    data_at: usize,
    offsets_at: usize,
    ptrs_at: usize,
    total: usize,
}

/// A message read from the sender's memory and checked on its own, not yet addressed.
#[derive(Default)]
pub(super) struct Outgoing {
    msg: IpcMsg,
    offsets: Vec<u64>,
    objects: Vec<SpecialObj>,
    ptr_bytes: usize,
}

/// Reads and checks the message at user address `msg_addr` into `out` (no side effects).
/// Filled in place: the header is copied once, straight from user memory.
pub(super) fn read(out: &mut Outgoing, msg_addr: u64) -> Result<(), Errno> {
    uaccess::read_into(UserPtr::new(msg_addr), &mut out.msg)?;
    let msg = &out.msg;
    let data_size = msg.data_size as usize;
    let count = msg.sp_obj_num as usize;
    if !matches!(
        msg.msg_type,
        msg_type::MT_REQUEST | msg_type::MT_REPLY | msg_type::MT_FAILED_REPLY
    ) || data_size > MAX_DATA_SIZE
        || count > MAX_SP_OBJ_NUM
        || msg.flag > msg_flag::LITEIPC_FLAG_ONEWAY
    {
        return Err(Errno::EINVAL);
    }
    if count == 0 {
        // The common case: no special objects, nothing to read or allocate (the empty
        // offsets array is still range-checked, as a zero-length read of it would be).
        crate::arch::usercopy::copy_from_user(&mut [], msg.offsets).map_err(|_| Errno::EFAULT)?;
        out.offsets.clear();
        out.objects.clear();
        out.ptr_bytes = 0;
        return Ok(());
    }
    let offsets = read_offsets(msg, count)?;
    let objects: Vec<SpecialObj> = offsets
        .iter()
        .map(|&off| {
            let at = msg.data.checked_add(off).ok_or(Errno::EFAULT)?;
            uaccess::read(UserPtr::<SpecialObj>::new(at))
        })
        .collect::<Result<_, _>>()?;
    let ptr_bytes: usize = objects
        .iter()
        .filter(|o| o.obj_type == obj_type::OBJ_PTR)
        .map(|o| (o.as_ptr().0 as usize).next_multiple_of(16))
        .sum();
    out.offsets = offsets;
    out.objects = objects;
    out.ptr_bytes = ptr_bytes;
    Ok(())
}

/// Sends a message [`read`] from the caller; returns what the caller must wait for (a reply
/// to its request) if anything.
pub(super) fn send(
    state: &mut State,
    caller: Caller,
    out: &Outgoing,
    receive_next: bool,
) -> Result<Option<Awaiting>, Errno> {
    let Outgoing {
        msg,
        offsets,
        objects,
        ptr_bytes,
    } = out;
    let (data_size, count) = (msg.data_size as usize, msg.sp_obj_num as usize);
    let to = target(state, caller, msg)?;
    let data_at = HEADER;
    let offsets_at = data_at + data_size.next_multiple_of(8);
    let ptrs_at = (offsets_at + 8 * count).next_multiple_of(16);
    let plan = Plan {
        to,
        data_at,
        offsets_at,
        ptrs_at,
        total: ptrs_at + ptr_bytes,
    };
    if msg.target.handle == 0 && msg.msg_type == msg_type::MT_REQUEST {
        // Upstream counts header + data + offsets + buffers, without our alignment padding.
        let limit = state.cms.map_or(0, |c| c.max_msg_size);
        let ptr_sizes: usize = objects
            .iter()
            .filter(|o| o.obj_type == obj_type::OBJ_PTR)
            .map(|o| o.as_ptr().0 as usize)
            .sum();
        if HEADER + data_size + 8 * count + ptr_sizes > limit {
            return Err(Errno::EINVAL);
        }
    }
    deliver(state, caller, msg, offsets, objects, &plan, receive_next)
}

fn read_offsets(msg: &IpcMsg, count: usize) -> Result<Vec<u64>, Errno> {
    let offsets = UserSlice::new(msg.offsets, (count * 8) as u64)?;
    let bytes = uaccess::read_bytes(offsets, MAX_SP_OBJ_NUM * 8, Errno::EINVAL)?;
    let offsets: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect();
    let data_size = u64::from(msg.data_size);
    if offsets.iter().any(|&off| {
        off.checked_add(OBJ as u64)
            .is_none_or(|end| end > data_size)
    }) {
        return Err(Errno::EINVAL);
    }
    Ok(offsets)
}

/// The receiving thread of a request (with access checks) or of a reply (which must answer
/// a request its target is still waiting for).
fn target(state: &mut State, caller: Caller, msg: &IpcMsg) -> Result<HandleEntry, Errno> {
    let handle = msg.target.handle;
    if msg.msg_type == msg_type::MT_REQUEST {
        let to = state.resolve(handle).ok_or(Errno::EINVAL)?;
        let allowed = handle == 0
            || to.pid == caller.pid
            || state
                .procs
                .get(caller.pid)
                .is_some_and(|p| p.can_reach(handle));
        return if allowed { Ok(to) } else { Err(Errno::EACCES) };
    }
    let tid = crate::sched::Tid(handle);
    let task = state.tasks.get(tid.0).ok_or(Errno::ETIME)?;
    match task.awaiting {
        Some(a) if a.timestamp == msg.timestamp && a.server_pid == caller.pid => {
            Ok(HandleEntry { tid, pid: task.pid })
        }
        Some(a) if a.server_pid == caller.pid => Err(Errno::EINVAL), // mismatched: dropped
        _ => Err(Errno::ETIME),                                      // the caller gave up
    }
}

/// Copies the message into the receiver's pool and queues it.
fn deliver(
    state: &mut State,
    caller: Caller,
    msg: &IpcMsg,
    offsets: &[u64],
    objects: &[SpecialObj],
    plan: &Plan,
    receive_next: bool,
) -> Result<Option<Awaiting>, Errno> {
    let receiver = state.procs.get_mut(plan.to.pid).ok_or(Errno::EINVAL)?;
    let pool = receiver.pool.as_mut().ok_or(Errno::EINVAL)?;
    let block = pool.alloc.alloc(plan.total).ok_or(Errno::ENOMEM)?;
    let pool_va = pool.user_va;
    let copied = pool.copy_from_user(block + plan.data_at, msg.data, msg.data_size as usize);
    let written = copied.and_then(|()| pool.write(block + plan.offsets_at, offsets.as_bytes()));
    let result = written.and_then(|()| {
        if objects.is_empty() {
            Ok(()) // the common case: nothing to translate, nothing to allocate
        } else {
            translate_objects(state, caller, offsets, objects, plan, block)
        }
    });
    if let Err(e) = result {
        state.release(plan.to.pid, block);
        return Err(e);
    }
    let timestamp = if msg.msg_type == msg_type::MT_REQUEST {
        state.next_timestamp()
    } else {
        msg.timestamp
    };
    // A whole copy, then the kernel's fields (an aligned copy the compiler open-codes).
    let mut header = *msg;
    header.timestamp = timestamp;
    header.data = pool_va + (block + plan.data_at) as u64;
    header.offsets = pool_va + (block + plan.offsets_at) as u64;
    header.process_id = caller.pid;
    header.task_id = caller.tid.0;
    header.user_id = caller.uid;
    header.gid = caller.gid;
    header.reserved0 = 0;
    header.reserved1 = 0;
    let pool = state
        .procs
        .get(plan.to.pid)
        .and_then(|p| p.pool.as_ref())
        .ok_or(Errno::EINVAL)?;
    pool.write(block, header.as_bytes())?;
    if msg.msg_type != msg_type::MT_REQUEST
        && let Some(task) = state.tasks.get_mut(plan.to.tid.0)
    {
        task.awaiting = None; // answered: a second reply is late
    }
    let queued = Queued {
        offset: block,
        msg_type: msg.msg_type,
        timestamp,
    };
    state.enqueue_from(plan.to.tid, plan.to.pid, queued, receive_next);
    let wants_reply =
        msg.msg_type == msg_type::MT_REQUEST && msg.flag == msg_flag::LITEIPC_FLAG_DEFAULT;
    Ok(wants_reply.then_some(Awaiting {
        timestamp,
        server_pid: plan.to.pid,
        handle: msg.target.handle,
    }))
}

/// Copies OBJ_PTR buffers into the pool, duplicates OBJ_FDs, grants OBJ_SVC access, and
/// writes each rewritten object over its place in the pool's copy of the data. Everything
/// that can fail without side effects runs first; fd duplications and grants come last and
/// are undone if one of them fails, so a message that is not delivered leaves nothing behind.
fn translate_objects(
    state: &mut State,
    caller: Caller,
    offsets: &[u64],
    objects: &[SpecialObj],
    plan: &Plan,
    block: usize,
) -> Result<(), Errno> {
    let mut rewritten = Vec::with_capacity(objects.len());
    let mut ptr_at = plan.ptrs_at;
    for obj in objects {
        rewritten.push(match obj.obj_type {
            obj_type::OBJ_PTR => {
                let (size, addr) = obj.as_ptr();
                let pool = receiver_pool(state, plan)?;
                pool.copy_from_user(block + ptr_at, addr, size as usize)?;
                let pool_addr = pool.user_va + (block + ptr_at) as u64;
                ptr_at += (size as usize).next_multiple_of(16);
                SpecialObj::ptr(size, pool_addr)
            }
            obj_type::OBJ_FD => {
                proc::fd_exists(caller.pid, obj.as_fd() as usize)?;
                *obj
            }
            obj_type::OBJ_SVC => {
                check_service(state, caller, obj.as_svc())?;
                *obj
            }
            _ => return Err(Errno::EINVAL),
        });
    }
    apply_side_effects(state, caller, plan, &mut rewritten)?;
    let pool = receiver_pool(state, plan)?;
    for (&off, obj) in offsets.iter().zip(&rewritten) {
        pool.write(block + plan.data_at + off as usize, obj.as_bytes())?;
    }
    Ok(())
}

fn receiver_pool<'s>(state: &'s State, plan: &Plan) -> Result<&'s super::pool::Pool, Errno> {
    state
        .procs
        .get(plan.to.pid)
        .and_then(|p| p.pool.as_ref())
        .ok_or(Errno::EINVAL)
}

/// Duplicates fds and grants services for the receiver; on failure undoes what it did.
fn apply_side_effects(
    state: &mut State,
    caller: Caller,
    plan: &Plan,
    objects: &mut [SpecialObj],
) -> Result<(), Errno> {
    let mut new_fds = Vec::new();
    let mut new_grants = Vec::new();
    let mut result = Ok(());
    for obj in objects.iter_mut() {
        let step = match obj.obj_type {
            obj_type::OBJ_FD => proc::dup_fd_into(caller.pid, obj.as_fd() as usize, plan.to.pid)
                .map(|fd| {
                    new_fds.push(fd);
                    *obj = SpecialObj::fd(fd as u32);
                }),
            obj_type::OBJ_SVC => {
                pass_service(state, caller, obj.as_svc(), plan.to.pid).map(|(svc, granted)| {
                    if granted {
                        new_grants.push(svc.handle);
                    }
                    *obj = SpecialObj::svc(svc);
                })
            }
            _ => Ok(()),
        };
        if let Err(e) = step {
            result = Err(e);
            break;
        }
    }
    if result.is_err() {
        new_fds
            .into_iter()
            .for_each(|fd| proc::close_fd_of(plan.to.pid, fd));
        if let Some(receiver) = state.procs.get_mut(plan.to.pid) {
            new_grants.into_iter().for_each(|h| receiver.revoke(h));
        }
    }
    result
}

/// Whether the caller may pass `svc` on (handle u32::MAX with token 1 asks for a new handle
/// for the sending thread, which it may always do).
fn check_service(state: &State, caller: Caller, svc: SvcIdentity) -> Result<(), Errno> {
    if svc.handle == u32::MAX && svc.token == 1 {
        return Ok(());
    }
    let entry = state.resolve(svc.handle).ok_or(Errno::EINVAL)?;
    let may = entry.pid == caller.pid
        || svc.handle == 0
        || state
            .procs
            .get(caller.pid)
            .is_some_and(|p| p.can_reach(svc.handle));
    if may { Ok(()) } else { Err(Errno::EACCES) }
}

/// An OBJ_SVC: the receiver may reach the service from now on. Returns the identity as the
/// receiver sees it and whether the grant is new.
fn pass_service(
    state: &mut State,
    caller: Caller,
    mut svc: SvcIdentity,
    receiver: u32,
) -> Result<(SvcIdentity, bool), Errno> {
    check_service(state, caller, svc)?;
    if svc.handle == u32::MAX && svc.token == 1 {
        svc.handle = gen_handle(state, caller.tid, caller.pid)?;
    }
    let process = state.procs.get_mut(receiver).ok_or(Errno::EINVAL)?;
    let granted = !process.can_reach(svc.handle);
    process.grant(svc.handle);
    Ok((svc, granted))
}
