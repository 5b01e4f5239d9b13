//! LiteIPC glue (`/dev/lite_ipc`, `abi::liteipc`): the receive pool mapping, the
//! send/receive/free ioctl, and safe, borrow-checked access to received messages.
//!
//! The pool is mapped read-only in this process; the kernel writes each message into it
//! once and never touches it again until the process frees it with `BUFF_FREE`. So a
//! message may be read in place for exactly as long as it is *delivered and not freed*.
//! This module is what makes that rule hold for safe code:
//!
//! - A [`Delivered`] is created only from the pool address the kernel itself returned for
//!   a `RECV` made here ([`IpcPool::send_receive`]); it borrows the pool, and its slices
//!   borrow it, so they cannot outlive it. Dropping it frees the message (or it is handed
//!   back to the kernel inside the next transfer, e.g. a reply with `BUFF_FREE`; a small
//!   dropped message is freed with the next transfer that frees nothing else).
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
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use zerocopy::FromBytes;

// Which messages of this process safe code may be reading, kept with single atomic
// operations on the hot path (every transfer): the raw frees that must be refused are rare
// (tests and tools), so they do the expensive part.
//
// - `LIVE` (+ `SPILL` beyond its slots): pool addresses of live [`Delivered`] messages, a
//   multiset (an address freed by one thread may be delivered again to another before the
//   first removes its entry). An address is registered before its safe RECV counts as
//   finished and forgotten only once the kernel no longer holds it for us, or while a safe
//   RECV of ours is in progress (which keeps every raw free out anyway).
// - `RECEIVING`: safe RECVs between their ioctl and the registration of what they received.
// - `RAW_FREEING` + `RAW`: a raw `BUFF_FREE` in progress. It sets the flag, then checks that
//   no safe RECV is in progress and the address is not live; a safe RECV increments
//   `RECEIVING`, then checks the flag (both sequentially consistent, so at least one of the
//   two sees the other) and, if a raw free is under way, backs off and waits for it (the
//   `RAW` lock is held across the raw call).
// - `PENDING`: a dropped message whose `BUFF_FREE` is deferred, `fd << 48 | addr`, or 0. It
//   is handed back to the kernel inside the next transfer on that fd that frees nothing else
//   (which saves a system call per reply), or by [`send_recv_raw`], or when the pool is
//   dropped. Its address stays live until the kernel has freed it, so a raw free cannot free
//   it early (and the kernel cannot deliver it again meanwhile). Only small messages without
//   special objects are deferred, one at a time, so the pool never runs low because of it.

/// Slots of the live set; more live messages than this go to `SPILL`.
const SLOTS: usize = 16;
static LIVE: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static SPILL: Mutex<Vec<usize>> = Mutex::new(Vec::new());
static RECEIVING: AtomicUsize = AtomicUsize::new(0);
static RAW_FREEING: AtomicBool = AtomicBool::new(false);
static RAW: Mutex<()> = Mutex::new(());
static PENDING: AtomicU64 = AtomicU64::new(0);

/// The largest message data (bytes) whose free may be deferred.
const DEFER_MAX_DATA: u32 = 512;

/// Adds `addr` to the live set.
fn register_live(addr: usize) {
    for slot in &LIVE {
        if slot
            .compare_exchange(0, addr, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
    }
    SPILL.lock().push(addr);
}

/// Removes one entry for `addr` from the live set.
fn forget_live(addr: usize) {
    for slot in &LIVE {
        if slot.load(Ordering::Relaxed) == addr
            && slot
                .compare_exchange(addr, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            return;
        }
    }
    let mut spill = SPILL.lock();
    if let Some(i) = spill.iter().position(|&a| a == addr) {
        spill.swap_remove(i);
    }
}

/// Whether `addr` is in the live set (0, an empty slot's value, never is: no pool starts at 0).
fn is_live(addr: usize) -> bool {
    addr != 0
        && (LIVE.iter().any(|slot| slot.load(Ordering::Acquire) == addr)
            || SPILL.lock().contains(&addr))
}

/// Marks a safe RECV as in progress, after any raw free under way has finished.
fn begin_receive() {
    loop {
        RECEIVING.fetch_add(1, Ordering::SeqCst);
        if !RAW_FREEING.load(Ordering::SeqCst) {
            return;
        }
        RECEIVING.fetch_sub(1, Ordering::SeqCst);
        drop(RAW.lock());
    }
}

fn end_receive() {
    RECEIVING.fetch_sub(1, Ordering::SeqCst);
}

/// `PENDING`'s encoding of (fd, addr), if they fit.
fn pack(fd: usize, addr: usize) -> Option<u64> {
    let (fd, addr) = (u64::try_from(fd).ok()?, u64::try_from(addr).ok()?);
    (fd < 1 << 16 && addr != 0 && addr < 1 << 48).then_some(fd << 48 | addr)
}

fn unpack(pending: u64) -> (usize, usize) {
    (
        (pending >> 48) as usize,
        (pending & ((1 << 48) - 1)) as usize,
    )
}

/// `BUFF_FREE` of `addr` on `fd`, then forgets it. A failure means the kernel no longer
/// holds the message; nothing to undo.
fn free_now(fd: usize, addr: usize) {
    let mut content = IpcContent {
        flag: BUFF_FREE,
        buff_to_free: addr as u64,
        ..IpcContent::default()
    };
    let _ = send_recv_call(fd, &mut content);
    forget_live(addr);
}

/// Takes the deferred free for a transfer on `fd` to hand back; one of another fd is freed
/// now instead.
fn take_pending(fd: usize) -> Option<usize> {
    let pending = PENDING.swap(0, Ordering::AcqRel);
    if pending == 0 {
        return None;
    }
    let (pfd, addr) = unpack(pending);
    if pfd == fd {
        return Some(addr);
    }
    free_now(pfd, addr);
    None
}

/// Frees the deferred message now, if there is one (and, with `fd`, if it came from that
/// fd).
fn flush_pending(fd: Option<usize>) {
    let pending = PENDING.load(Ordering::Acquire);
    if pending == 0 || fd.is_some_and(|fd| fd != unpack(pending).0) {
        return;
    }
    if PENDING
        .compare_exchange(pending, 0, Ordering::AcqRel, Ordering::Relaxed)
        .is_ok()
    {
        let (pfd, addr) = unpack(pending);
        free_now(pfd, addr);
    }
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
    // Held across a freeing call, so no safe RECV can start (and be handed this address)
    // while the kernel processes the free.
    let raw = RAW.lock();
    // A deferred free happens first, so raw calls see the pool as safe code left it (and a
    // raw double free of a dropped message fails as it always did).
    flush_pending(None);
    if content.flag & BUFF_FREE == 0 {
        drop(raw);
        return send_recv_call(fd, content);
    }
    RAW_FREEING.store(true, Ordering::SeqCst);
    let addr = usize::try_from(content.buff_to_free).unwrap_or(usize::MAX);
    let result = if RECEIVING.load(Ordering::SeqCst) > 0 || is_live(addr) {
        Err(Errno::EBUSY)
    } else {
        send_recv_call(fd, content)
    };
    RAW_FREEING.store(false, Ordering::SeqCst);
    drop(raw);
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

    /// One `IPC_SEND_RECV_MSG` without receiving: sends `send` if given and returns
    /// `free` to the kernel if given (even when the send fails, as the kernel does). `free`
    /// counts as freed after the call whatever the result.
    pub fn send(&self, send: Option<&IpcMsg>, free: Option<Delivered<'_>>) -> Result<(), Errno> {
        let freed = self.to_free(free);
        let result = self.call(send, freed, 0);
        // Live until the kernel freed it: a raw free meanwhile must be refused.
        if let Some(addr) = freed {
            forget_live(addr);
        }
        result.map(drop)
    }

    /// One `IPC_SEND_RECV_MSG` that receives: as [`IpcPool::send`], then waits for and
    /// returns the next message (for a request sent here, its reply).
    pub fn send_receive(
        &self,
        send: Option<&IpcMsg>,
        free: Option<Delivered<'_>>,
    ) -> Result<Delivered<'_>, Errno> {
        let freed = self.to_free(free);
        begin_receive();
        // While a safe RECV is in progress no raw free can happen, and the kernel frees
        // before it receives: the freed address needs no protection past this point (and
        // must not look live while this thread waits, maybe for a long time).
        if let Some(addr) = freed {
            forget_live(addr);
        }
        let received = self
            .call(send, freed, RECV)
            .and_then(|in_msg| self.delivered(in_msg));
        if let Ok(message) = &received {
            register_live(message.addr());
        }
        end_receive();
        received
    }

    /// The address a transfer frees: `free`'s, or else the deferred one of this fd.
    fn to_free(&self, free: Option<Delivered<'_>>) -> Option<usize> {
        match free {
            Some(message) => {
                let addr = message.addr();
                core::mem::forget(message);
                Some(addr)
            }
            None => take_pending(self.fd),
        }
    }

    /// The ioctl: SEND `send`, BUFF_FREE `free`, and `recv` (RECV or 0); the received
    /// message's address.
    fn call(&self, send: Option<&IpcMsg>, free: Option<usize>, recv: u32) -> Result<u64, Errno> {
        let mut content = IpcContent {
            flag: recv
                | if send.is_some() { SEND } else { 0 }
                | if free.is_some() { BUFF_FREE } else { 0 },
            reserved: 0,
            out_msg: send.map_or(0, |msg| core::ptr::from_ref(msg) as u64),
            in_msg: 0,
            buff_to_free: free.map_or(0, |addr| addr as u64),
        };
        send_recv_call(self.fd, &mut content)?;
        Ok(content.in_msg)
    }

    /// The message the kernel says it delivered at `in_msg`, once its header, data and
    /// offsets are seen to lie in the pool (a kernel bug otherwise: EFAULT, nothing to free).
    fn delivered(&self, in_msg: u64) -> Result<Delivered<'_>, Errno> {
        let header = self
            .slice(in_msg, size_of::<IpcMsg>() as u64)
            .and_then(|bytes| IpcMsg::ref_from_bytes(bytes).ok())
            .ok_or(Errno::EFAULT)?;
        let data_ok = header.data_size == 0 || self.contains(header.data, header.data_size.into());
        let offsets_ok = header.sp_obj_num == 0
            || self.contains(header.offsets, u64::from(header.sp_obj_num) * 8);
        if !(data_ok && offsets_ok) {
            return Err(Errno::EFAULT);
        }
        Ok(Delivered { pool: self, header })
    }
}

/// A message the kernel delivered into this process's pool, readable in place until it is
/// dropped (which frees it with `BUFF_FREE`) or passed as `free` to [`IpcPool::send`] or
/// [`IpcPool::send_receive`].
///
/// Two words: the header is read in place too (it starts the message, so its address is the
/// message's), which keeps messages cheap to move around. Its data and offsets were checked
/// to lie in the pool when it was received, and the header cannot change while it is
/// delivered.
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

    /// `len` bytes at `addr`, a range [`IpcPool::delivered`] checked to lie in the pool.
    fn checked_part(&self, addr: u64, len: usize) -> &[u8] {
        if len == 0 {
            return &[];
        }
        // SAFETY: `IpcPool::delivered` made this message only after seeing this range (the
        // header's data or offsets, which cannot change while the message is delivered) lie
        // inside the pool, which stays mapped readable for the process's life and which the
        // kernel does not write again until the message is freed; the slice borrows `self`,
        // which frees it only when dropped.
        unsafe { core::slice::from_raw_parts(addr as usize as *const u8, len) }
    }

    /// The message data.
    pub fn data(&self) -> &[u8] {
        self.checked_part(self.header.data, self.header.data_size as usize)
    }

    /// The raw offsets array (`sp_obj_num` little-endian u64).
    pub fn offsets(&self) -> &[u8] {
        self.checked_part(self.header.offsets, self.header.sp_obj_num as usize * 8)
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
        if small
            && let Some(packed) = pack(self.pool.fd, addr)
            && PENDING
                .compare_exchange(0, packed, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            // Freed with the next transfer; it stays live until then.
            return;
        }
        free_now(self.pool.fd, addr);
    }
}

impl Drop for IpcPool {
    /// Frees the deferred message of this pool's fd, if any (the pool itself stays mapped).
    fn drop(&mut self) {
        flush_pending(Some(self.fd));
    }
}

/// Number of live [`Delivered`] messages of this process (for leak checks in tests); a
/// dropped message whose free is deferred is not live.
pub fn live_messages() -> usize {
    let slots = LIVE
        .iter()
        .filter(|slot| slot.load(Ordering::Acquire) != 0)
        .count();
    slots + SPILL.lock().len() - usize::from(PENDING.load(Ordering::Acquire) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test: the live set is process-wide. (On the host every system call fails with
    /// ENOSYS, so a raw free that was let through answers ENOSYS.)
    #[test]
    fn raw_frees_are_refused_exactly_while_they_could_hit_safe_code() {
        let raw_free = |addr: usize| {
            let mut content = IpcContent {
                flag: BUFF_FREE,
                buff_to_free: addr as u64,
                ..IpcContent::default()
            };
            send_recv_raw(3, &mut content)
        };
        // More live messages than slots: the rest spill, and all of them count.
        let addrs: Vec<usize> = (1..=SLOTS + 8).map(|i| 0x10_0000 + i * 0x100).collect();
        for &addr in &addrs {
            register_live(addr);
        }
        assert_eq!(live_messages(), addrs.len());
        for &addr in &addrs {
            assert_eq!(raw_free(addr), Err(Errno::EBUSY), "{addr:#x}");
        }
        assert_eq!(raw_free(0x20_0000), Err(Errno::ENOSYS));
        assert_eq!(raw_free(0), Err(Errno::ENOSYS));
        // A multiset: the same address twice needs two forgets.
        register_live(addrs[0]);
        for &addr in &addrs {
            forget_live(addr);
        }
        assert_eq!(raw_free(addrs[0]), Err(Errno::EBUSY));
        forget_live(addrs[0]);
        assert_eq!(live_messages(), 0);
        assert_eq!(raw_free(addrs[0]), Err(Errno::ENOSYS));
        // While a safe RECV is in progress, every raw free is refused; other raw calls pass.
        begin_receive();
        assert_eq!(raw_free(0x20_0000), Err(Errno::EBUSY));
        let mut send = IpcContent {
            flag: SEND,
            ..IpcContent::default()
        };
        assert_eq!(send_recv_raw(3, &mut send), Err(Errno::ENOSYS));
        end_receive();
        assert_eq!(raw_free(0x20_0000), Err(Errno::ENOSYS));
        // A safe RECV that starts during a raw free waits for it to end.
        let raw = RAW.lock();
        RAW_FREEING.store(true, Ordering::SeqCst);
        let receiver = std::thread::spawn(|| {
            begin_receive();
            let seen = RAW_FREEING.load(Ordering::SeqCst);
            end_receive();
            seen
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(
            RECEIVING.load(Ordering::SeqCst),
            0,
            "the receive did not back off"
        );
        RAW_FREEING.store(false, Ordering::SeqCst);
        drop(raw);
        assert!(
            !receiver.join().unwrap(),
            "the receive ran during a raw free"
        );
        // A deferred free is handed back by the next transfer on its fd, not another's.
        let packed = pack(3, 0x30_0000).unwrap();
        PENDING.store(packed, Ordering::SeqCst);
        assert_eq!(take_pending(3), Some(0x30_0000));
        assert_eq!(PENDING.load(Ordering::SeqCst), 0);
        assert_eq!(pack(1 << 16, 0x30_0000), None);
        assert_eq!(pack(3, 1 << 48), None);
        assert_eq!(unpack(packed), (3, 0x30_0000));
    }
}
