//! `/dev/initctl`: a small queue of whole messages from the shell (or any root process) to
//! init, which reads them in a blocking loop. Writes keep their boundaries; a full queue
//! gives EAGAIN rather than blocking the sender.

use crate::sched::{WaitQueue, WakeReason};
use crate::sync::IrqSafeMutex;
use abi::Errno;
use abi::syscall::INITCTL_MAX_MESSAGE;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Messages queued before writers get EAGAIN.
const MAX_QUEUED: usize = 16;

static QUEUE: IrqSafeMutex<VecDeque<Vec<u8>>> = IrqSafeMutex::new(VecDeque::new());
static READERS: WaitQueue = WaitQueue::new();

/// Queues one message.
pub fn write(data: &[u8]) -> Result<usize, Errno> {
    if data.is_empty() || data.len() > INITCTL_MAX_MESSAGE {
        return Err(Errno::EMSGSIZE);
    }
    let mut queue = QUEUE.lock();
    if queue.len() >= MAX_QUEUED {
        return Err(Errno::EAGAIN);
    }
    queue.push_back(data.to_vec());
    drop(queue);
    READERS.wake_one();
    super::poll::notify();
    Ok(data.len())
}

/// Whether a read would not block.
pub fn has_message() -> bool {
    !QUEUE.lock().is_empty()
}

/// Takes the oldest message, sleeping until there is one (unless `nonblocking`).
pub fn read(buf: &mut [u8], nonblocking: bool) -> Result<usize, Errno> {
    loop {
        {
            let mut queue = QUEUE.lock();
            if let Some(message) = queue.front() {
                if message.len() > buf.len() {
                    return Err(Errno::EMSGSIZE);
                }
                let message = queue.pop_front().unwrap_or_default();
                buf[..message.len()].copy_from_slice(&message);
                return Ok(message.len());
            }
        }
        if nonblocking {
            return Err(Errno::EAGAIN);
        }
        if READERS.wait_while(None, || QUEUE.lock().is_empty()) == WakeReason::Interrupted {
            return Err(Errno::EINTR);
        }
    }
}
