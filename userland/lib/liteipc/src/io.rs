//! `IpcIo`: the message codec, after upstream's IpcIo (communication_ipc lite serializer),
//! in Rust.
//!
//! Layout of the data, written by [`IpcIo`] and read back by [`IpcIoReader`]:
//! - every item starts at a 4-byte boundary and is padded with zeros to the next one, as
//!   upstream (`IPC_IO_ALIGN`);
//! - `bool`, `i8`, `u8`, `i16`, `u16` take a 4-byte slot (sign- or zero-extended, as
//!   upstream pushes them as int32); reading checks the value fits (a `bool` is 0 or 1);
//! - `i32`/`u32` 4 bytes, `i64`/`u64` 8 bytes, little endian (at 4-byte alignment);
//! - a string is a `u32` byte length, the UTF-8 bytes and a NUL; a flat object is a `u32`
//!   length and the bytes; a raw block is just the bytes (for fixed C-like layouts);
//! - special objects (`SpecialObj`, 24 bytes: `OBJ_SVC`, `OBJ_PTR`, `OBJ_FD`) start at an
//!   **8-byte** boundary (ours: upstream uses 4; 8 keeps the embedded u64 address aligned
//!   for any kernel reader) and their offsets are listed, in order, in the offsets array.
//!
//! Bounds: the data holds at most [`MAX_DATA_SIZE`] bytes and [`MAX_SP_OBJ_NUM`] objects;
//! a push beyond that fails with [`IpcIoError::Overflow`]/[`IpcIoError::TooManyObjects`]
//! and leaves the writer unchanged. Every read is bounds-checked: a malformed message
//! gives an error, never a panic (host-tested and fuzzed below).

use abi::liteipc::{MAX_DATA_SIZE, MAX_SP_OBJ_NUM, SpecialObj, SvcIdentity, obj_type};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::Cell;
use zerocopy::{FromBytes, IntoBytes};

/// Alignment of ordinary items.
const ALIGN: usize = 4;
/// Alignment of special objects.
const OBJ_ALIGN: usize = 8;
/// Bytes of a special object.
const OBJ_SIZE: usize = size_of::<SpecialObj>();
/// Data capacity reserved up front, so the data pointer is always a real allocation.
const INITIAL_CAPACITY: usize = 64;

/// Why a push or pop failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpcIoError {
    /// The data would exceed [`MAX_DATA_SIZE`] bytes.
    Overflow,
    /// The message would have more than [`MAX_SP_OBJ_NUM`] special objects.
    TooManyObjects,
    /// A read went past the end of the data.
    Truncated,
    /// A value is out of range for its type (bool not 0/1, narrow integer too wide, string
    /// without its NUL or not UTF-8).
    InvalidValue,
    /// No special object is listed at the current position.
    NotAnObject,
    /// The special object there has another type.
    WrongObjectType,
    /// An `OBJ_PTR` whose buffer is not part of the received message.
    BadBuffer,
}

/// Rounds `n` up to a multiple of `align` (a power of two); `None` on overflow.
fn align_up(n: usize, align: usize) -> Option<usize> {
    n.checked_add(align - 1).map(|v| v & !(align - 1))
}

/// A message being written: data, special-object offsets, and the `OBJ_PTR` buffers it
/// refers to (owned here, so their addresses stay valid until the message is sent).
#[derive(Debug)]
pub struct IpcIo {
    data: Vec<u8>,
    offsets: Vec<u64>,
    buffers: Vec<Box<[u8]>>,
}

/// One spare data buffer per process. A server builds a reply `IpcIo` per request and a
/// client a request per call; handing the buffer of a dropped one to the next saves a heap
/// allocation and free each time. Only small buffers are kept.
static SPARE: ulib::sync::Mutex<Vec<u8>> = ulib::sync::Mutex::new(Vec::new());

/// The largest buffer kept as [`SPARE`].
const SPARE_MAX: usize = 4096;

impl Drop for IpcIo {
    fn drop(&mut self) {
        if (INITIAL_CAPACITY..=SPARE_MAX).contains(&self.data.capacity())
            && let Some(mut spare) = SPARE.try_lock()
            && spare.capacity() == 0
        {
            self.data.clear();
            *spare = core::mem::take(&mut self.data);
        }
    }
}

impl Default for IpcIo {
    fn default() -> Self {
        Self::new()
    }
}

impl IpcIo {
    /// An empty message.
    pub fn new() -> IpcIo {
        let spare = SPARE
            .try_lock()
            .map(|mut spare| core::mem::take(&mut *spare));
        IpcIo {
            data: spare
                .filter(|v| v.capacity() >= INITIAL_CAPACITY)
                .unwrap_or_else(|| Vec::with_capacity(INITIAL_CAPACITY)),
            // No allocation until an object is pushed: with `sp_obj_num` 0 the kernel reads
            // nothing at the offsets pointer.
            offsets: Vec::new(),
            buffers: Vec::new(),
        }
    }

    /// Empties the message, keeping its allocations (for loops that send many).
    pub fn clear(&mut self) {
        self.data.clear();
        self.offsets.clear();
        self.buffers.clear();
    }

    /// The data bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Offsets of the special objects in the data.
    pub fn offsets(&self) -> &[u64] {
        &self.offsets
    }

    /// Appends a whole number of [`ALIGN`] units (an `i32` or `i64`), which needs no
    /// padding: the data always ends at an [`ALIGN`] boundary.
    fn put_units(&mut self, bytes: &[u8]) -> Result<(), IpcIoError> {
        debug_assert!(self.data.len().is_multiple_of(ALIGN) && bytes.len().is_multiple_of(ALIGN));
        if self.data.len() + bytes.len() > MAX_DATA_SIZE {
            return Err(IpcIoError::Overflow);
        }
        self.data.extend_from_slice(bytes);
        Ok(())
    }

    /// Appends `bytes` at `align`, padding before with zeros and after to [`ALIGN`].
    fn put(&mut self, align: usize, bytes: &[u8]) -> Result<usize, IpcIoError> {
        let start = align_up(self.data.len(), align).ok_or(IpcIoError::Overflow)?;
        let end = start
            .checked_add(bytes.len())
            .and_then(|e| align_up(e, ALIGN))
            .ok_or(IpcIoError::Overflow)?;
        if end > MAX_DATA_SIZE {
            return Err(IpcIoError::Overflow);
        }
        self.data.resize(start, 0);
        self.data.extend_from_slice(bytes);
        self.data.resize(end, 0);
        Ok(start)
    }

    /// Appends a length-prefixed block (and a NUL if `nul`): one bounds check for
    /// prefix and bytes together, so a failed push leaves nothing behind.
    fn put_prefixed(&mut self, bytes: &[u8], nul: bool) -> Result<(), IpcIoError> {
        let len = u32::try_from(bytes.len()).map_err(|_| IpcIoError::Overflow)?;
        let start = align_up(self.data.len(), ALIGN).ok_or(IpcIoError::Overflow)?;
        let end = start
            .checked_add(4 + usize::from(nul))
            .and_then(|e| e.checked_add(bytes.len()))
            .and_then(|e| align_up(e, ALIGN))
            .ok_or(IpcIoError::Overflow)?;
        if end > MAX_DATA_SIZE {
            return Err(IpcIoError::Overflow);
        }
        self.data.resize(start, 0);
        self.data.extend_from_slice(&len.to_le_bytes());
        self.data.extend_from_slice(bytes);
        self.data.resize(end, 0);
        Ok(())
    }

    /// Appends a special object and lists its offset.
    fn put_object(&mut self, obj: SpecialObj) -> Result<(), IpcIoError> {
        if self.offsets.len() >= MAX_SP_OBJ_NUM {
            return Err(IpcIoError::TooManyObjects);
        }
        let at = self.put(OBJ_ALIGN, obj.as_bytes())?;
        self.offsets.push(at as u64);
        Ok(())
    }

    /// Pushes a bool (4-byte slot, 0 or 1).
    pub fn push_bool(&mut self, value: bool) -> Result<(), IpcIoError> {
        self.push_u32(u32::from(value))
    }

    /// Pushes an i8 (4-byte slot).
    pub fn push_i8(&mut self, value: i8) -> Result<(), IpcIoError> {
        self.push_i32(i32::from(value))
    }

    /// Pushes a u8 (4-byte slot).
    pub fn push_u8(&mut self, value: u8) -> Result<(), IpcIoError> {
        self.push_u32(u32::from(value))
    }

    /// Pushes an i16 (4-byte slot).
    pub fn push_i16(&mut self, value: i16) -> Result<(), IpcIoError> {
        self.push_i32(i32::from(value))
    }

    /// Pushes a u16 (4-byte slot).
    pub fn push_u16(&mut self, value: u16) -> Result<(), IpcIoError> {
        self.push_u32(u32::from(value))
    }

    /// Pushes an i32.
    pub fn push_i32(&mut self, value: i32) -> Result<(), IpcIoError> {
        self.put_units(&value.to_le_bytes())
    }

    /// Pushes a u32.
    pub fn push_u32(&mut self, value: u32) -> Result<(), IpcIoError> {
        self.put_units(&value.to_le_bytes())
    }

    /// Pushes an i64 (8 bytes at 4-byte alignment).
    pub fn push_i64(&mut self, value: i64) -> Result<(), IpcIoError> {
        self.put_units(&value.to_le_bytes())
    }

    /// Pushes a u64 (8 bytes at 4-byte alignment).
    pub fn push_u64(&mut self, value: u64) -> Result<(), IpcIoError> {
        self.put_units(&value.to_le_bytes())
    }

    /// Pushes a string: u32 length, bytes, NUL.
    pub fn push_string(&mut self, value: &str) -> Result<(), IpcIoError> {
        self.put_prefixed(value.as_bytes(), true)
    }

    /// Pushes a flat object (plain bytes): u32 length, bytes.
    pub fn push_flat_obj(&mut self, bytes: &[u8]) -> Result<(), IpcIoError> {
        self.put_prefixed(bytes, false)
    }

    /// Appends `bytes` as they are (no length; padded to 4), for fixed layouts such as the
    /// demo CMS protocol's `{char name[31]; u32 len}`.
    pub fn push_raw(&mut self, bytes: &[u8]) -> Result<(), IpcIoError> {
        self.put(ALIGN, bytes).map(drop)
    }

    /// Pushes a service identity as an `OBJ_SVC` special object: the receiver gains access
    /// to `svc.handle` (`handle` `u32::MAX` with token 1: a new handle for the sending
    /// thread).
    pub fn push_svc(&mut self, svc: SvcIdentity) -> Result<(), IpcIoError> {
        self.put_object(SpecialObj::svc(svc))
    }

    /// Pushes a buffer as an `OBJ_PTR`: the kernel copies it into the receiver's pool. The
    /// bytes are copied here first and kept until this message is dropped.
    pub fn push_buffer(&mut self, bytes: &[u8]) -> Result<(), IpcIoError> {
        let size = u32::try_from(bytes.len()).map_err(|_| IpcIoError::Overflow)?;
        let owned: Box<[u8]> = bytes.into();
        // The heap block of a Box does not move when the Box is moved into the Vec.
        let addr = owned.as_ptr() as u64;
        self.put_object(SpecialObj::ptr(size, addr))?;
        self.buffers.push(owned);
        Ok(())
    }

    /// Pushes a file descriptor as an `OBJ_FD`: the kernel duplicates it into the receiver.
    pub fn push_fd(&mut self, fd: u32) -> Result<(), IpcIoError> {
        self.put_object(SpecialObj::fd(fd))
    }

    /// Pushes a special object as given (for tests of what the kernel accepts).
    pub fn push_special(&mut self, obj: SpecialObj) -> Result<(), IpcIoError> {
        self.put_object(obj)
    }
}

/// Where a reader's bytes come from: a received message, or a writer / plain slices in
/// tests.
pub trait Source {
    /// The data bytes.
    fn data(&self) -> &[u8];
    /// The offsets array as raw little-endian u64s.
    fn offsets(&self) -> &[u8];
    /// The contents of `OBJ_PTR` buffer (`size` bytes at `addr`) if it belongs to the message.
    fn buffer(&self, addr: u64, size: u32) -> Option<&[u8]>;
}

impl<T: Source + ?Sized> Source for &T {
    fn data(&self) -> &[u8] {
        (**self).data()
    }
    fn offsets(&self) -> &[u8] {
        (**self).offsets()
    }
    fn buffer(&self, addr: u64, size: u32) -> Option<&[u8]> {
        (**self).buffer(addr, size)
    }
}

/// A writer read back in place (loopback; `OBJ_PTR`s resolve to its own buffers).
impl Source for IpcIo {
    fn data(&self) -> &[u8] {
        &self.data
    }
    fn offsets(&self) -> &[u8] {
        self.offsets.as_bytes()
    }
    fn buffer(&self, addr: u64, size: u32) -> Option<&[u8]> {
        self.buffers
            .iter()
            .find(|b| b.as_ptr() as u64 == addr && b.len() == size as usize)
            .map(|b| &b[..])
    }
}

/// A message given as slices: data, raw offsets, and a pool image at `pool_base` that
/// `OBJ_PTR` addresses point into (host tests and tools).
#[derive(Clone, Copy, Debug)]
pub struct SliceSource<'a> {
    /// The data.
    pub data: &'a [u8],
    /// Raw offsets (little-endian u64s).
    pub offsets: &'a [u8],
    /// Address of `pool[0]`.
    pub pool_base: u64,
    /// Bytes `OBJ_PTR`s may refer to.
    pub pool: &'a [u8],
}

impl Source for SliceSource<'_> {
    fn data(&self) -> &[u8] {
        self.data
    }
    fn offsets(&self) -> &[u8] {
        self.offsets
    }
    fn buffer(&self, addr: u64, size: u32) -> Option<&[u8]> {
        let start = usize::try_from(addr.checked_sub(self.pool_base)?).ok()?;
        self.pool.get(start..start.checked_add(size as usize)?)
    }
}

/// Reads a message written by [`IpcIo`]. The cursor is in `Cell`s so `pop_*` take
/// `&self` and borrowed results (strings, buffers) can be held together. It is kept in
/// `u32`s (a message holds far less than 4 GiB), so a reader over a received message is
/// three words and moves cheaply.
#[derive(Debug)]
pub struct IpcIoReader<S> {
    src: S,
    pos: Cell<u32>,
    next_obj: Cell<u32>,
}

impl<S: Source> IpcIoReader<S> {
    /// A reader at the start of `src`.
    pub fn new(src: S) -> Self {
        IpcIoReader {
            src,
            pos: Cell::new(0),
            next_obj: Cell::new(0),
        }
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.src
    }

    /// Gives the source back.
    pub fn into_source(self) -> S {
        self.src
    }

    /// All data bytes, whatever has been read.
    pub fn data(&self) -> &[u8] {
        self.src.data()
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.src.data().len().saturating_sub(self.pos())
    }

    /// Byte position of the cursor.
    fn pos(&self) -> usize {
        self.pos.get() as usize
    }

    /// Moves the cursor to byte `pos`.
    fn set_pos(&self, pos: usize) -> Result<(), IpcIoError> {
        self.pos
            .set(u32::try_from(pos).map_err(|_| IpcIoError::Truncated)?);
        Ok(())
    }

    /// Number of special objects listed.
    pub fn object_count(&self) -> usize {
        self.src.offsets().len() / 8
    }

    /// Moves the cursor back to the start.
    pub fn rewind(&self) {
        self.pos.set(0);
        self.next_obj.set(0);
    }

    /// The `len` bytes at `align` from byte `at`, and the position after them (padded to
    /// [`ALIGN`]). Pops work out everything from positions and move the cursor only once
    /// they succeed, so a failed pop consumes nothing.
    fn slice_at(&self, at: usize, align: usize, len: usize) -> Result<(&[u8], usize), IpcIoError> {
        let start = align_up(at, align).ok_or(IpcIoError::Truncated)?;
        let end = start.checked_add(len).ok_or(IpcIoError::Truncated)?;
        let bytes = self
            .src
            .data()
            .get(start..end)
            .ok_or(IpcIoError::Truncated)?;
        // Padding past the end of the data is tolerated: the last item may be unpadded.
        Ok((bytes, align_up(end, ALIGN).ok_or(IpcIoError::Truncated)?))
    }

    /// The `N` bytes of an item at byte `at`, and the position after it.
    fn array_at<const N: usize>(&self, at: usize) -> Result<([u8; N], usize), IpcIoError> {
        let (bytes, next) = self.slice_at(at, ALIGN, N)?;
        let array = <[u8; N]>::try_from(bytes).map_err(|_| IpcIoError::Truncated)?;
        Ok((array, next))
    }

    /// A `u32`-prefixed block of `extra` more bytes than the prefix says, at the cursor;
    /// the bytes and the position after them.
    fn prefixed(&self, extra: usize) -> Result<(&[u8], usize), IpcIoError> {
        let (len, at) = self.array_at::<4>(self.pos())?;
        let len = (u32::from_le_bytes(len) as usize)
            .checked_add(extra)
            .ok_or(IpcIoError::Truncated)?;
        self.slice_at(at, 1, len)
    }

    /// Ends a successful pop: the cursor moves to `next`.
    fn commit<T>(&self, value: T, next: usize) -> Result<T, IpcIoError> {
        self.set_pos(next)?;
        Ok(value)
    }

    /// Pops the `N` bytes of a plain item.
    fn pop_array<const N: usize>(&self) -> Result<[u8; N], IpcIoError> {
        let (bytes, next) = self.array_at::<N>(self.pos())?;
        self.commit(bytes, next)
    }

    /// Pops a 4-byte slot holding a value of `T`, which it must fit.
    fn pop_narrow<T: TryFrom<i64>>(&self, signed: bool) -> Result<T, IpcIoError> {
        let (bytes, next) = self.array_at::<4>(self.pos())?;
        let wide = if signed {
            i64::from(i32::from_le_bytes(bytes))
        } else {
            i64::from(u32::from_le_bytes(bytes))
        };
        let value = T::try_from(wide).map_err(|_| IpcIoError::InvalidValue)?;
        self.commit(value, next)
    }

    /// Pops a bool.
    pub fn pop_bool(&self) -> Result<bool, IpcIoError> {
        let (bytes, next) = self.array_at::<4>(self.pos())?;
        let value = match u32::from_le_bytes(bytes) {
            0 => false,
            1 => true,
            _ => return Err(IpcIoError::InvalidValue),
        };
        self.commit(value, next)
    }

    /// Pops an i8.
    pub fn pop_i8(&self) -> Result<i8, IpcIoError> {
        self.pop_narrow(true)
    }

    /// Pops a u8.
    pub fn pop_u8(&self) -> Result<u8, IpcIoError> {
        self.pop_narrow(false)
    }

    /// Pops an i16.
    pub fn pop_i16(&self) -> Result<i16, IpcIoError> {
        self.pop_narrow(true)
    }

    /// Pops a u16.
    pub fn pop_u16(&self) -> Result<u16, IpcIoError> {
        self.pop_narrow(false)
    }

    /// Pops an i32.
    pub fn pop_i32(&self) -> Result<i32, IpcIoError> {
        self.pop_array().map(i32::from_le_bytes)
    }

    /// Pops a u32.
    pub fn pop_u32(&self) -> Result<u32, IpcIoError> {
        self.pop_array().map(u32::from_le_bytes)
    }

    /// Pops an i64.
    pub fn pop_i64(&self) -> Result<i64, IpcIoError> {
        self.pop_array().map(i64::from_le_bytes)
    }

    /// Pops a u64.
    pub fn pop_u64(&self) -> Result<u64, IpcIoError> {
        self.pop_array().map(u64::from_le_bytes)
    }

    /// Pops a string (length, UTF-8 bytes, NUL).
    pub fn pop_string(&self) -> Result<&str, IpcIoError> {
        let (bytes, next) = self.prefixed(1)?;
        let Some((&0, text)) = bytes.split_last() else {
            return Err(IpcIoError::InvalidValue);
        };
        let text = core::str::from_utf8(text).map_err(|_| IpcIoError::InvalidValue)?;
        self.commit(text, next)
    }

    /// Pops a flat object (length, bytes).
    pub fn pop_flat_obj(&self) -> Result<&[u8], IpcIoError> {
        let (bytes, next) = self.prefixed(0)?;
        self.commit(bytes, next)
    }

    /// Pops `len` raw bytes (then padding to 4), the counterpart of [`IpcIo::push_raw`].
    pub fn pop_raw(&self, len: usize) -> Result<&[u8], IpcIoError> {
        let (bytes, next) = self.slice_at(self.pos(), ALIGN, len)?;
        self.commit(bytes, next)
    }

    /// The special object of type `kind` that must be listed at the cursor (8-aligned),
    /// and the position after it.
    fn object_here(&self, kind: u32) -> Result<(SpecialObj, usize), IpcIoError> {
        let at = align_up(self.pos(), OBJ_ALIGN).ok_or(IpcIoError::Truncated)?;
        let index = self.next_obj.get() as usize;
        let listed = index
            .checked_mul(8)
            .and_then(|i| self.src.offsets().get(i..i.checked_add(8)?))
            .and_then(|raw| <[u8; 8]>::try_from(raw).ok())
            .map(u64::from_le_bytes)
            .ok_or(IpcIoError::NotAnObject)?;
        if listed != at as u64 {
            return Err(IpcIoError::NotAnObject);
        }
        let (bytes, next) = self.slice_at(at, OBJ_ALIGN, OBJ_SIZE)?;
        let obj = SpecialObj::read_from_bytes(bytes).map_err(|_| IpcIoError::Truncated)?;
        if obj.obj_type != kind {
            return Err(IpcIoError::WrongObjectType);
        }
        Ok((obj, next))
    }

    /// Ends the pop of a special object: past it, and on to the next listed one.
    fn commit_object<T>(&self, value: T, next: usize) -> Result<T, IpcIoError> {
        let value = self.commit(value, next)?;
        self.next_obj.set(self.next_obj.get() + 1);
        Ok(value)
    }

    /// Pops the special object of type `kind` that must be listed at the cursor.
    fn pop_object(&self, kind: u32) -> Result<SpecialObj, IpcIoError> {
        let (obj, next) = self.object_here(kind)?;
        self.commit_object(obj, next)
    }

    /// Pops an `OBJ_SVC` (as the kernel rewrote it for us).
    pub fn pop_svc(&self) -> Result<SvcIdentity, IpcIoError> {
        self.pop_object(obj_type::OBJ_SVC).map(|o| o.as_svc())
    }

    /// Pops an `OBJ_FD`: the descriptor number in this process.
    pub fn pop_fd(&self) -> Result<u32, IpcIoError> {
        self.pop_object(obj_type::OBJ_FD).map(|o| o.as_fd())
    }

    /// Pops an `OBJ_PTR`: its bytes, which the kernel copied into our pool.
    pub fn pop_buffer(&self) -> Result<&[u8], IpcIoError> {
        let (obj, next) = self.object_here(obj_type::OBJ_PTR)?;
        let (size, addr) = obj.as_ptr();
        let bytes = self.src.buffer(addr, size).ok_or(IpcIoError::BadBuffer)?;
        self.commit_object(bytes, next)
    }
}
