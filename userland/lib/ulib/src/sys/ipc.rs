//! LiteIPC glue (`/dev/lite_ipc`, `abi::liteipc`): the receive pool mapping, the
//! send/receive/free ioctl, and safe, borrow-checked access to received messages.
//!
//! The pool is mapped read-only in this process; the kernel writes each message into it
//! once and never touches it again until the process frees it with `BUFF_FREE`. So a
//! message may be read in place for exactly as long as it is *delivered and not freed*.
//! This module is what makes that rule hold for safe code:
//!
//! - A [`Delivered`] is created only from the pool address the kernel itself returned for
//!   a `RECV` made here ([`IpcPool::transfer`]); it borrows the pool, and its slices borrow
//!   it, so they cannot outlive it. Dropping it frees the message (or it is handed back to
//!   the kernel inside the next [`IpcPool::transfer`], e.g. a reply with `BUFF_FREE`; a
//!   small dropped message is freed with the next transfer that frees nothing else).
//! - Slices are handed out only for the parts of a message the kernel wrote for it: the
//!   header, the data, the offsets and each `OBJ_PTR` buffer the message declares, and
//!   only inside the pool. Never the whole pool: free parts of it change under our feet.
//! - The generic [`super::ioctl`] refuses `IPC_SEND_RECV_MSG`; raw calls (for tests with
//!   forged messages) go through [`send_recv_raw`], which refuses to free an address that a
//!   live [`Delivered`] owns, or anything at all while a safe `RECV` is in flight (the
//!   kernel may be placing a message at that address for a `Delivered` about to exist).
//!
//! Everything the kernel *reads* (the `IpcMsg` to send, its data, offsets and `OBJ_PTR`
//! buffers) is harmless whatever the pointers say: a bad one only makes it return EFAULT.

use super::{Errno, Sysno, call, call3};
use crate::sync::Mutex;
use abi::liteipc::{
    BUFF_FREE, IPC_SEND_RECV_MSG, IpcContent, IpcMsg, RECV, SEND, SpecialObj, obj_type,
};
use abi::syscall::mman::{MAP_FIXED, MAP_PRIVATE, PROT_READ};
use alloc::vec::Vec;
use zerocopy::FromBytes;

/// Messages of this process that safe code may be reading, and how many safe `RECV`s are
/// in progress. One per process, like the pool.
struct LiveSet {
    /// Pool addresses of live [`Delivered`] messages (a multiset: an address freed by one
    /// thread may be delivered again to another before the first removes its entry).
    addrs: Vec<usize>,
    /// Safe `RECV`s between their ioctl and the registration of what they received.
    receiving: usize,
    /// A dropped message whose `BUFF_FREE` is deferred: `(fd, addr)`. It is handed back
    /// to the kernel inside the next [`IpcPool::transfer`] on that fd that frees nothing
    /// else (which saves a syscall per reply), or by [`send_recv_raw`], or when the pool is
    /// dropped. Its address stays in `addrs` until the kernel has freed it, so a raw free
    /// cannot free it early (and the kernel cannot deliver it again meanwhile). Only small
    /// messages without special objects are deferred, one at a time, so the pool never
    /// runs low because of it.
    pending: Option<(usize, usize)>,
}

static LIVE: Mutex<LiveSet> = Mutex::new(LiveSet {
    addrs: Vec::new(),
    receiving: 0,
    pending: None,
});

/// The largest message data (bytes) whose free may be deferred.
const DEFER_MAX_DATA: u32 = 512;

/// Removes one entry for `addr` from the live set.
fn forget_live(live: &mut LiveSet, addr: usize) {
    if let Some(i) = live.addrs.iter().position(|&a| a == addr) {
        live.addrs.swap_remove(i);
    }
}

/// Frees the deferred message now, if there is one (and, with `fd`, if it came from
/// that fd). Called with the live set locked, so nothing else frees or registers
/// meanwhile.
fn flush_pending(live: &mut LiveSet, fd: Option<usize>) {
    let Some((pfd, addr)) = live.pending else {
        return;
    };
    if fd.is_some_and(|fd| fd != pfd) {
        return;
    }
    live.pending = None;
    let mut content = IpcContent {
        flag: BUFF_FREE,
        buff_to_free: addr as u64,
        ..IpcContent::default()
    };
    // A failure means the kernel no longer holds the message; nothing to undo.
    let _ = send_recv_call(pfd, &mut content);
    forget_live(live, addr);
}

/// `ioctl(fd, IPC_SEND_RECV_MSG, &mut content)`: the kernel reads `content` and what it
/// points at, and writes only `content.in_msg`.
fn send_recv_call(fd: usize, content: &mut IpcContent) -> Result<usize, Errno> {
    call3(
        Sysno::Ioctl,
        fd,
        IPC_SEND_RECV_MSG,
        core::ptr::from_mut(content) as usize,
    )
}

/// `IPC_SEND_RECV_MSG` with any `content` (forged messages, bad pointers, bogus frees),
/// for tests and tools. The kernel only reads what the pointers name, so that part is
/// harmless; a `BUFF_FREE` is refused with EBUSY (without calling) when it could free a
/// message safe code is reading: the address belongs to a live [`Delivered`], or a safe
/// `RECV` of this process is in progress. Messages received here are not tracked: free
/// them with another raw call.
pub fn send_recv_raw(fd: usize, content: &mut IpcContent) -> Result<usize, Errno> {
    // Held across the call, so no safe RECV can start (and be handed this address) while
    // the kernel processes the free.
    let mut live = LIVE.lock();
    // A deferred free happens first, so raw calls see the pool as safe code left it (and a
    // raw double free of a dropped message fails as it always did).
    flush_pending(&mut live, None);
    if content.flag & BUFF_FREE == 0 {
        drop(live);
        return send_recv_call(fd, content);
    }
    let addr = usize::try_from(content.buff_to_free).unwrap_or(usize::MAX);
    if live.receiving > 0 || live.addrs.contains(&addr) {
        return Err(Errno::EBUSY);
    }
    let result = send_recv_call(fd, content);
    drop(live);
    result
}

/// The LiteIPC receive pool of this process: `mmap` of the device, read-only. It stays
/// mapped for the rest of the process's life (the kernel keeps the process's IPC state
/// until exit, and a second mmap is refused), so dropping this only forgets it (after freeing a
/// message whose free was deferred).
#[derive(Debug)]
pub struct IpcPool {
    fd: usize,
    addr: usize,
    len: usize,
}

impl IpcPool {
    /// `mmap(0, len, prot, flags, fd, 0)` of the LiteIPC device open as `fd` (which must
    /// stay open while the pool is used: frees go through it). The arguments are passed as
    /// given (so tests can check that the kernel refuses bad ones), except that MAP_FIXED
    /// is refused here with EINVAL: it could replace memory of ours.
    pub fn map(fd: usize, len: usize, prot: usize, flags: usize) -> Result<IpcPool, Errno> {
        if flags & MAP_FIXED != 0 {
            return Err(Errno::EINVAL);
        }
        let addr = call(Sysno::Mmap, [0, len, prot, flags, fd, 0])?;
        let len = len
            .checked_next_multiple_of(super::mapping::PAGE_SIZE)
            .ok_or(Errno::EINVAL)?;
        Ok(IpcPool { fd, addr, len })
    }

    /// The usual mapping: `len` bytes, `PROT_READ`, `MAP_PRIVATE`.
    pub fn map_default(fd: usize, len: usize) -> Result<IpcPool, Errno> {
        IpcPool::map(fd, len, PROT_READ, MAP_PRIVATE)
    }

    /// Start address of the pool.
    pub fn addr(&self) -> usize {
        self.addr
    }

    /// Length in bytes (whole pages).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a pool has at least one page.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `mprotect` of the whole pool, for tests that the kernel refuses to make it writable
    /// or executable. `&mut self`: no message of the pool is being read meanwhile.
    pub fn protect(&mut self, prot: usize) -> Result<(), Errno> {
        call(Sysno::Mprotect, [self.addr, self.len, prot, 0, 0, 0]).map(drop)
    }

    /// The device fd.
    pub fn fd(&self) -> usize {
        self.fd
    }

    /// True when `[addr, addr+len)` lies inside the pool.
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        let (start, end) = (self.addr as u64, (self.addr + self.len) as u64);
        addr >= start && addr.checked_add(len).is_some_and(|e| e <= end)
    }

    /// The pool bytes `[addr, addr+len)`, for [`Delivered`] only (which checks that the
    /// range is part of its message).
    fn slice(&self, addr: u64, len: u64) -> Option<&[u8]> {
        if !self.contains(addr, len) {
            return None;
        }
        if len == 0 {
            return Some(&[]);
        }
        // The header slice is kept inside the `Delivered` that owns the message, which frees
        // it only when dropped or forgotten and never reads the header after.
        // SAFETY: the range lies inside the pool, mapped readable for the process's life;
        // callers ask only for parts of a delivered, unfreed message, which the kernel does
        // not write again until it is freed, and the slice borrows the `Delivered` that
        // frees it, so the slice ends first.
        Some(unsafe { core::slice::from_raw_parts(addr as usize as *const u8, len as usize) })
    }

    /// One `IPC_SEND_RECV_MSG`: sends `send` if given, returns `free` to the kernel if
    /// given (even when the send fails, as the kernel does), then receives if `recv`.
    /// Returns the received message. `free` counts as freed after the call whatever the
    /// result: the kernel frees a valid buffer even when the send fails.
    pub fn transfer(
        &self,
        send: Option<&IpcMsg>,
        free: Option<Delivered<'_>>,
        recv: bool,
    ) -> Result<Option<Delivered<'_>>, Errno> {
        let mut content = IpcContent::default();
        if let Some(msg) = send {
            content.flag |= SEND;
            content.out_msg = core::ptr::from_ref(msg) as u64;
        }
        let freed = free.map(|d| {
            let addr = d.addr();
            core::mem::forget(d);
            addr
        });
        let mut live = LIVE.lock();
        // With nothing else to free, hand back the deferred message (the kernel frees it
        // before it sends or receives anything, even when the send fails).
        let freed = freed.or_else(|| match live.pending {
            Some((fd, addr)) if fd == self.fd => {
                live.pending = None;
                Some(addr)
            }
            _ => None,
        });
        if let Some(addr) = freed {
            content.flag |= BUFF_FREE;
            content.buff_to_free = addr as u64;
        }
        if recv {
            content.flag |= RECV;
            live.receiving += 1;
            // While a safe RECV is in progress no raw free can happen, and the kernel frees
            // before it receives: the freed address needs no protection past this point
            // (and must not look live while this thread waits, maybe for a long time).
            if let Some(addr) = freed {
                forget_live(&mut live, addr);
            }
        }
        drop(live);
        let result = send_recv_call(self.fd, &mut content);
        let mut live = LIVE.lock();
        if let Some(addr) = freed
            && !recv
        {
            forget_live(&mut live, addr);
        }
        if !recv {
            return result.map(|_| None);
        }
        live.receiving -= 1;
        result?;
        let addr = usize::try_from(content.in_msg).map_err(|_| Errno::EFAULT)?;
        let header = self
            .slice(content.in_msg, size_of::<IpcMsg>() as u64)
            .and_then(|bytes| IpcMsg::ref_from_bytes(bytes).ok())
            // A kernel bug: nothing (aligned) in our pool to read or free.
            .ok_or(Errno::EFAULT)?;
        live.addrs.push(addr);
        Ok(Some(Delivered { pool: self, header }))
    }
}

/// A message the kernel delivered into this process's pool, readable in place until it is
/// dropped (which frees it with `BUFF_FREE`) or passed as `free` to
/// [`IpcPool::transfer`].
///
/// Two words: the header is read in place too (it starts the message, so its address is the
/// message's), which keeps messages cheap to move around.
#[derive(Debug)]
pub struct Delivered<'p> {
    pool: &'p IpcPool,
    /// The header in the pool: part of the message, so the rule of the module covers it.
    header: &'p IpcMsg,
}

impl<'p> Delivered<'p> {
    /// Pool address of the message (what `BUFF_FREE` takes).
    pub fn addr(&self) -> usize {
        core::ptr::from_ref(self.header) as usize
    }

    /// The header as the kernel wrote it.
    pub fn header(&self) -> &IpcMsg {
        self.header
    }

    /// The pool this message is in.
    pub fn pool(&self) -> &'p IpcPool {
        self.pool
    }

    /// The message data; empty if the header points outside the pool.
    pub fn data(&self) -> &[u8] {
        self.pool
            .slice(self.header.data, u64::from(self.header.data_size))
            .unwrap_or_default()
    }

    /// The raw offsets array (`sp_obj_num` little-endian u64); empty if it is outside
    /// the pool.
    pub fn offsets(&self) -> &[u8] {
        u64::from(self.header.sp_obj_num)
            .checked_mul(8)
            .and_then(|len| self.pool.slice(self.header.offsets, len))
            .unwrap_or_default()
    }

    /// The special object at byte `offset` of the data, if it fits.
    fn object_at(&self, offset: u64) -> Option<SpecialObj> {
        let start = usize::try_from(offset).ok()?;
        let bytes = self
            .data()
            .get(start..start.checked_add(size_of::<SpecialObj>())?)?;
        SpecialObj::read_from_bytes(bytes).ok()
    }

    /// The contents of `OBJ_PTR` buffer (`size`, `addr`), if this message declares such
    /// an object (at one of its offsets) and the buffer lies in the pool.
    pub fn ptr_buffer(&self, addr: u64, size: u32) -> Option<&[u8]> {
        let declared = self
            .offsets()
            .chunks_exact(8)
            .filter_map(|c| <[u8; 8]>::try_from(c).ok())
            .filter_map(|raw| self.object_at(u64::from_le_bytes(raw)))
            .any(|obj| obj.obj_type == obj_type::OBJ_PTR && obj.as_ptr() == (size, addr));
        if !declared {
            return None;
        }
        self.pool.slice(addr, u64::from(size))
    }
}

impl Drop for Delivered<'_> {
    fn drop(&mut self) {
        let addr = self.addr();
        let small = self.header.sp_obj_num == 0 && self.header.data_size <= DEFER_MAX_DATA;
        if small {
            let mut live = LIVE.lock();
            if live.pending.is_none() {
                // Freed with the next transfer; its entry in `addrs` stays until then.
                live.pending = Some((self.pool.fd, addr));
                return;
            }
        }
        let mut content = IpcContent {
            flag: BUFF_FREE,
            buff_to_free: addr as u64,
            ..IpcContent::default()
        };
        // A failure means the kernel no longer holds the message; nothing to undo.
        let _ = send_recv_call(self.pool.fd, &mut content);
        forget_live(&mut LIVE.lock(), addr);
    }
}

impl Drop for IpcPool {
    /// Frees the deferred message of this pool's fd, if any (the pool itself stays mapped).
    fn drop(&mut self) {
        flush_pending(&mut LIVE.lock(), Some(self.fd));
    }
}

/// Number of live [`Delivered`] messages of this process (for leak checks in tests); a
/// dropped message whose free is deferred is not live.
pub fn live_messages() -> usize {
    let live = LIVE.lock();
    live.addrs.len() - usize::from(live.pending.is_some())
}
