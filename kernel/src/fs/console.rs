//! `/dev/console`: output to the kernel console UART, input from its receive interrupt into
//! a ring buffer that readers sleep on (no polling).

use crate::sched::{WaitQueue, WakeReason};
use crate::sync::IrqSafeMutex;
use alloc::collections::VecDeque;

const INPUT_CAPACITY: usize = 4096;

static INPUT: IrqSafeMutex<VecDeque<u8>> = IrqSafeMutex::new(VecDeque::new());
static READERS: WaitQueue = WaitQueue::new();

/// The console UART's receive interrupt: buffer what arrived and wake readers.
pub fn on_uart_interrupt(_irq: u32) {
    let mut input = INPUT.lock();
    crate::console::take_input(&mut |byte| {
        if input.len() < INPUT_CAPACITY {
            input.push_back(byte);
        }
    });
    drop(input);
    READERS.wake_all();
    super::poll::notify();
}

/// Whether a read would not block.
pub fn has_input() -> bool {
    !INPUT.lock().is_empty()
}

/// Reads at least one byte (sleeping until input arrives) unless `nonblocking`.
pub fn read(buf: &mut [u8], nonblocking: bool) -> Result<usize, abi::Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    loop {
        {
            let mut input = INPUT.lock();
            if !input.is_empty() {
                let n = buf.len().min(input.len());
                for (slot, byte) in buf.iter_mut().zip(input.drain(..n)) {
                    *slot = byte;
                }
                return Ok(n);
            }
        }
        if nonblocking {
            return Err(abi::Errno::EAGAIN);
        }
        if READERS.wait_while(None, || INPUT.lock().is_empty()) == WakeReason::Interrupted {
            return Err(abi::Errno::EINTR);
        }
    }
}

/// Writes bytes to the console.
pub fn write(data: &[u8]) -> usize {
    crate::console::write_raw(data);
    data.len()
}
