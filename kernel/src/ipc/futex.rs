//! Futexes: user-space locks sleep in the kernel keyed by (address space, address), so the
//! user runtime's Mutex/Condvar block instead of spinning.

use crate::mm::uaccess::{UserPtr, read_u32};
use crate::sched::{self, WaitQueue, WakeReason};
use crate::sync::IrqSafeMutex;
use crate::time;
use abi::Errno;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use kcore::syscall::FutexOp;

type Key = (usize, usize);

static QUEUES: IrqSafeMutex<BTreeMap<Key, Arc<WaitQueue>>> = IrqSafeMutex::new(BTreeMap::new());

fn key(addr: usize) -> Result<Key, Errno> {
    let space = sched::current_space().ok_or(Errno::EINVAL)?;
    Ok((sched::space_id(&space), addr))
}

/// `futex(addr, op)`: sleep on the word at `addr` while it holds a value, or wake its
/// sleepers.
pub fn futex(addr: u64, op: FutexOp) -> Result<usize, Errno> {
    let key = key(addr as usize)?;
    match op {
        FutexOp::Wait { value, timeout_ns } => {
            let irq = crate::arch::cpu::irq_save_disable();
            let result = wait(key, addr, value, timeout_ns);
            crate::arch::cpu::irq_restore(irq);
            result
        }
        FutexOp::Wake { count } => Ok(wake(key, count as usize)),
    }
}

fn wait(key: Key, addr: u64, expected: u32, timeout_ns: u64) -> Result<usize, Errno> {
    if read_u32(UserPtr::new(addr))? != expected {
        return Err(Errno::EAGAIN);
    }
    let queue = QUEUES
        .lock()
        .entry(key)
        .or_insert_with(|| Arc::new(WaitQueue::new()))
        .clone();
    let deadline =
        (timeout_ns != 0).then(|| time::now().saturating_add(time::ns_to_ticks(timeout_ns)));
    let reason = queue.wait(deadline);
    drop(queue);
    forget_if_idle(key);
    match reason {
        WakeReason::Woken => Ok(0),
        WakeReason::TimedOut => Err(Errno::ETIMEDOUT),
        WakeReason::Interrupted => Err(Errno::EINTR),
    }
}

fn wake(key: Key, count: usize) -> usize {
    let Some(queue) = QUEUES.lock().get(&key).cloned() else {
        return 0;
    };
    let mut woken = 0;
    while woken < count && queue.wake_one() {
        woken += 1;
    }
    drop(queue);
    forget_if_idle(key);
    woken
}

/// Drops a queue nobody waits on (only the table holds it).
fn forget_if_idle(key: Key) {
    let mut queues = QUEUES.lock();
    if queues
        .get(&key)
        .is_some_and(|q| Arc::strong_count(q) == 1 && q.is_empty())
    {
        queues.remove(&key);
    }
}
