//! Thread creation glue: a mapped stack with a guard page, the boxed closure passed as the
//! entry argument, and an assembly trampoline that runs it and calls `thread_exit`.

use super::mapping::{Mapping, PAGE_SIZE};
use super::{Errno, Sysno, syscall};
use abi::syscall::mman::{PROT_READ, PROT_WRITE};
use alloc::boxed::Box;

/// Usable stack of each thread.
pub const STACK_SIZE: usize = 256 * 1024;
/// Inaccessible pages under the stack: an overflow faults instead of corrupting memory.
const GUARD_SIZE: usize = PAGE_SIZE;

/// What a new thread runs.
pub(crate) type ThreadMain = Box<dyn FnOnce() -> i32 + Send + 'static>;

#[cfg(target_os = "none")]
core::arch::global_asm!(
    ".section .text.ulib_thread_entry, \"ax\"",
    ".global ulib_thread_entry",
    ".type ulib_thread_entry, %function",
    "ulib_thread_entry:",
    "    mov x29, #0",
    "    mov x30, #0",
    // x0 = the boxed closure; returns the exit code in x0.
    "    bl {run}",
    "    mov x8, #{thread_exit}",
    "    svc #0",
    "    brk #1",
    ".size ulib_thread_entry, . - ulib_thread_entry",
    run = sym run_thread,
    thread_exit = const Sysno::ThreadExit as usize,
);

#[cfg(target_os = "none")]
unsafe extern "C" {
    /// The trampoline above; never called from Rust, only its address is taken.
    fn ulib_thread_entry();
}

/// Address of the entry trampoline.
#[cfg(target_os = "none")]
fn entry_address() -> usize {
    ulib_thread_entry as *const () as usize
}

#[cfg(not(target_os = "none"))]
fn entry_address() -> usize {
    0
}

/// Runs the closure `spawn` boxed; its result becomes the `thread_exit` code.
#[cfg_attr(
    not(target_os = "none"),
    allow(dead_code, reason = "reached only from the target trampoline")
)]
extern "C" fn run_thread(arg: usize) -> usize {
    // SAFETY: `arg` is the pointer `spawn` made with `Box::into_raw` and handed to exactly
    // this one thread; ownership comes back here once.
    let main = unsafe { Box::from_raw(arg as *mut ThreadMain) };
    main() as u32 as usize
}

/// A running thread and its stack, which lives until the thread is joined.
#[derive(Debug)]
pub(crate) struct RawThread {
    tid: usize,
    stack: Option<Mapping>,
}

impl RawThread {
    /// Kernel thread id.
    pub fn tid(&self) -> usize {
        self.tid
    }

    /// Waits for the thread to end; frees its stack; returns its exit code.
    pub fn join(mut self) -> Result<i32, Errno> {
        let code = super::thread_join(self.tid)?;
        // The thread has exited: nothing runs on the stack any more.
        drop(self.stack.take());
        Ok(code as u32 as i32)
    }
}

impl Drop for RawThread {
    fn drop(&mut self) {
        // Not joined: the thread may still be running on its stack, which must stay mapped.
        if let Some(stack) = self.stack.take() {
            stack.leak();
        }
    }
}

/// Starts `main` in a new thread of this process at `priority`.
pub(crate) fn spawn(main: ThreadMain, priority: u32) -> Result<RawThread, Errno> {
    let mut stack = Mapping::new(GUARD_SIZE + STACK_SIZE, PROT_READ | PROT_WRITE)?;
    stack.protect(0, GUARD_SIZE, crate::mem::PROT_NONE)?;
    let stack_top = stack.addr() + stack.len();
    let arg = Box::into_raw(Box::new(main)) as usize;
    // SAFETY: the entry is the trampoline, which takes ownership of `arg` and ends with
    // thread_exit; the stack is a fresh mapping nothing else references, kept mapped by
    // the returned RawThread until join (or forever when it is dropped unjoined).
    let ret = unsafe {
        syscall(
            Sysno::ThreadCreate as usize,
            [entry_address(), arg, stack_top, priority as usize, 0, 0],
        )
    };
    match Errno::decode(ret) {
        Ok(tid) => Ok(RawThread {
            tid,
            stack: Some(stack),
        }),
        Err(errno) => {
            // SAFETY: no thread was created, so `arg` is still ours to reclaim, once.
            drop(unsafe { Box::from_raw(arg as *mut ThreadMain) });
            Err(errno)
        }
    }
}
