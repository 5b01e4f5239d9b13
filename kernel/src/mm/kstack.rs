//! Kernel stacks with guard pages. Each stack sits at the top of a slot twice its size in
//! the kernel stack area; the lower half of the slot is never mapped, so running off the
//! stack faults, and the exception vectors recognise it (SP bit `KSTACK_SHIFT` clear).

use super::frame::Frame;
use super::paging;
use crate::arch::layout::{KSTACK_AREA_SIZE, KSTACK_BASE, KSTACK_SIZE};
use crate::arch::vectors::TrapFrame;
use crate::sync::IrqSafeMutex;
use kcore::pagetable::MapError;
use kcore::{PAGE_SIZE, VirtAddr};

const PAGE: u64 = PAGE_SIZE as u64;
const SLOT_SIZE: u64 = 2 * KSTACK_SIZE;
const MAX_STACKS: usize = 1024;
const _: () = assert!(MAX_STACKS as u64 * SLOT_SIZE <= KSTACK_AREA_SIZE);

static SLOTS: IrqSafeMutex<[u64; MAX_STACKS / 64]> = IrqSafeMutex::new([0; MAX_STACKS / 64]);

/// A mapped kernel stack; unmapped and freed on drop.
#[derive(Debug)]
pub struct KernelStack {
    slot: usize,
}

impl KernelStack {
    /// Allocates and maps a stack.
    pub fn new() -> Result<Self, MapError> {
        let slot = take_slot().ok_or(MapError::NoMemory)?;
        let stack = KernelStack { slot };
        let mut va = stack.bottom();
        while va < stack.top() {
            // On failure, dropping `stack` unmaps and frees what was mapped.
            let frame = Frame::alloc_zeroed().ok_or(MapError::NoMemory)?;
            paging::map_kernel_frame(VirtAddr(va), frame)?;
            va += PAGE;
        }
        Ok(stack)
    }

    /// Places `frame` at the top of the stack and returns where it is, for a new user
    /// thread's first return to EL0.
    pub fn push_trap_frame(&self, frame: TrapFrame) -> *mut TrapFrame {
        let at = (self.top() - core::mem::size_of::<TrapFrame>() as u64) as *mut TrapFrame;
        // SAFETY: the top of this stack is mapped RW, owned by this stack, unused (the thread
        // has not run), and 16-byte aligned; TrapFrame has no invariants.
        #[allow(unsafe_code, reason = "writes the initial frame onto a fresh stack")]
        unsafe {
            at.write(frame)
        };
        at
    }

    /// The initial stack pointer (one past the highest byte).
    pub fn top(&self) -> u64 {
        KSTACK_BASE + (self.slot as u64 + 1) * SLOT_SIZE
    }

    /// The lowest mapped byte.
    pub fn bottom(&self) -> u64 {
        self.top() - KSTACK_SIZE
    }

    /// The first byte of the unmapped guard below the stack.
    #[cfg_attr(not(test), expect(dead_code, reason = "only tests look at the guard"))]
    pub fn guard(&self) -> u64 {
        self.top() - SLOT_SIZE
    }
}

impl Drop for KernelStack {
    fn drop(&mut self) {
        let mut va = self.bottom();
        while va < self.top() {
            // The frame, if the page was mapped, is freed here.
            let _ = paging::unmap_kernel_frame(VirtAddr(va));
            va += PAGE;
        }
        release_slot(self.slot);
    }
}

fn take_slot() -> Option<usize> {
    let mut slots = SLOTS.lock();
    for (index, word) in slots.iter_mut().enumerate() {
        if *word != u64::MAX {
            let bit = (!*word).trailing_zeros() as usize;
            *word |= 1 << bit;
            return Some(index * 64 + bit);
        }
    }
    None
}

fn release_slot(slot: usize) {
    if let Some(word) = SLOTS.lock().get_mut(slot / 64) {
        *word &= !(1 << (slot % 64));
    }
}
