//! A process's receive pool: frames mapped read-only into the process and written by the
//! kernel through the frames' own handles. The process's address space keeps the frames
//! alive while they are mapped; they are freed when both the pool and the mapping are gone.

use crate::mm::frame::Frame;
use abi::Errno;
use alloc::sync::Arc;
use alloc::vec::Vec;
use kcore::PAGE_SIZE;
use kcore::ipc_pool::PoolAllocator;

/// A mapped pool.
pub struct Pool {
    /// Where the process sees it.
    pub user_va: u64,
    frames: Arc<[Frame]>,
    /// Which bytes hold messages.
    pub alloc: PoolAllocator,
}

impl Pool {
    /// A pool over `frames`, mapped at `user_va`.
    pub fn new(user_va: u64, frames: Vec<Frame>) -> Pool {
        let size = frames.len() * PAGE_SIZE;
        Pool {
            user_va,
            frames: frames.into(),
            alloc: PoolAllocator::new(size),
        }
    }

    /// The frames (to map them).
    pub fn frames(&self) -> &Arc<[Frame]> {
        &self.frames
    }

    /// Calls `f(frame, offset_in_frame, range_in_input)` for each page piece of
    /// [offset, offset + len).
    fn for_each_piece(
        &self,
        offset: usize,
        len: usize,
        mut f: impl FnMut(&Frame, usize, core::ops::Range<usize>) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let mut done = 0;
        while done < len {
            let at = offset + done;
            let frame = self.frames.get(at / PAGE_SIZE).ok_or(Errno::ENOMEM)?;
            let n = (len - done).min(PAGE_SIZE - at % PAGE_SIZE);
            f(frame, at % PAGE_SIZE, done..done + n)?;
            done += n;
        }
        Ok(())
    }

    /// Writes kernel bytes at `offset`.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<(), Errno> {
        self.for_each_piece(offset, data.len(), |frame, in_frame, range| {
            frame.write(in_frame, &data[range])
        })
    }

    /// Copies `len` bytes from user address `src` (of the calling process) straight into the
    /// pool at `offset`: the one copy a message takes.
    pub fn copy_from_user(&self, offset: usize, src: u64, len: usize) -> Result<(), Errno> {
        self.for_each_piece(offset, len, |frame, in_frame, range| {
            let from = src.checked_add(range.start as u64).ok_or(Errno::EFAULT)?;
            frame.copy_from_user(in_frame, from, range.len())
        })
    }

    /// The offset of a pool address, if it lies inside the pool.
    pub fn offset_of(&self, addr: u64) -> Option<usize> {
        let offset = addr.checked_sub(self.user_va)?;
        (offset < (self.frames.len() * PAGE_SIZE) as u64).then_some(offset as usize)
    }
}
