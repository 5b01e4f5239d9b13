//! Seam (a) for the cross-process half: the server side of an exported interface.
//!
//! Upstream's `IServerProxy::Invoke(iProxy, funcId, origin, req, reply)` gets the LiteIPC message
//! (`origin`, asked for the caller's pid/uid via `GetCallingPid/Uid`) and two `IpcIo`s. Here the
//! caller's credentials arrive as an [`Origin`], and the codec is reached through two small
//! object-safe traits, [`IpcReader`] and [`IpcWriter`], so samgr does not depend on the LiteIPC
//! crate: the endpoint implements them for liteipc's `IpcIo` (or wraps it), and host tests use
//! [`MemIo`]. The traits carry exactly the item kinds samgr's own protocol (endpoint and feature
//! registration, policies, SysCaps) needs; extend both when a service needs more.

use crate::errno::Error;
use abi::liteipc::SvcIdentity;
use alloc::string::String;
use alloc::vec::Vec;

/// Who sent an IPC request (from the LiteIPC message: `processID`, `taskID`, `userID`,
/// `gid`, in the order of the message header, so it is filled by a plain copy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Origin {
    /// Calling process.
    pub pid: u32,
    /// Calling thread.
    pub tid: u32,
    /// Calling user (checked against the router's policies).
    pub uid: u32,
    /// Calling group.
    pub gid: u32,
}

/// A codec failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IoError {
    /// Read past the end of the data.
    Underflow,
    /// No room left for the item.
    Overflow,
    /// The item is not what the reader asked for (bad length, not UTF-8, not an object).
    Malformed,
}

impl From<IoError> for Error {
    fn from(_: IoError) -> Error {
        Error::Invalid
    }
}

/// Reads the items of a request, in order (upstream `IpcIoPop*`).
pub trait IpcReader {
    /// A `bool`.
    fn pop_bool(&mut self) -> Result<bool, IoError>;
    /// An `i32`.
    fn pop_i32(&mut self) -> Result<i32, IoError>;
    /// A `u32`.
    fn pop_u32(&mut self) -> Result<u32, IoError>;
    /// An `i64`.
    fn pop_i64(&mut self) -> Result<i64, IoError>;
    /// A `u64`.
    fn pop_u64(&mut self) -> Result<u64, IoError>;
    /// A string.
    fn pop_string(&mut self) -> Result<&str, IoError>;
    /// A length-prefixed byte block (upstream flat object).
    fn pop_flat_obj(&mut self) -> Result<&[u8], IoError>;
    /// A service identity (a LiteIPC special object).
    fn pop_svc(&mut self) -> Result<SvcIdentity, IoError>;
}

/// Writes the items of a reply, in order (upstream `IpcIoPush*`).
pub trait IpcWriter {
    /// A `bool`.
    fn push_bool(&mut self, value: bool) -> Result<(), IoError>;
    /// An `i32`.
    fn push_i32(&mut self, value: i32) -> Result<(), IoError>;
    /// A `u32`.
    fn push_u32(&mut self, value: u32) -> Result<(), IoError>;
    /// An `i64`.
    fn push_i64(&mut self, value: i64) -> Result<(), IoError>;
    /// A `u64`.
    fn push_u64(&mut self, value: u64) -> Result<(), IoError>;
    /// A string.
    fn push_string(&mut self, value: &str) -> Result<(), IoError>;
    /// A length-prefixed byte block.
    fn push_flat_obj(&mut self, bytes: &[u8]) -> Result<(), IoError>;
    /// A service identity.
    fn push_svc(&mut self, svc: SvcIdentity) -> Result<(), IoError>;
}

/// The server side of an exported interface (upstream `IServerProxy`). The endpoint calls
/// [`IServerProxy::invoke`] on the owning service's task-pool thread (HandleIpc), or for a
/// quick call in that idle thread's place, after the uid policy check; the reply is sent
/// unless the call was one-way.
pub trait IServerProxy: Send + Sync {
    /// Handles call `code` from `origin`: reads the arguments from `request`, writes the
    /// results to `reply`, returns an `EC_*` code.
    fn invoke(
        &self,
        code: u32,
        origin: &Origin,
        request: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> i32;

    /// Whether call `code` is *quick*: it finishes in a short, bounded time and never
    /// waits — no sleeping, no synchronous IPC, no waiting for another thread (locks held
    /// briefly are fine). A quick call may run on the endpoint's boss thread in place of
    /// the service's idle task (see `endpoint`), which saves the hand-over to that thread;
    /// a slow one there would hold up every other call to the process. Default: none is.
    fn is_quick(&self, _code: u32) -> bool {
        false
    }
}

/// The server side of an exported interface written as a call handler that returns a
/// `Result`: every such type is an [`IServerProxy`] whose `invoke` answers `EC_SUCCESS` for
/// `Ok` and the error's `EC_*` code otherwise.
pub trait CallHandler: Send + Sync {
    /// Handles call `code` from `origin`: reads the arguments from `request`, writes the
    /// results to `reply`.
    fn handle(
        &self,
        code: u32,
        origin: &Origin,
        request: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> Result<(), Error>;

    /// See [`IServerProxy::is_quick`].
    fn is_quick(&self, _code: u32) -> bool {
        false
    }
}

impl<T: CallHandler> IServerProxy for T {
    fn invoke(
        &self,
        code: u32,
        origin: &Origin,
        request: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> i32 {
        crate::errno::code_of(&self.handle(code, origin, request, reply))
    }

    fn is_quick(&self, code: u32) -> bool {
        CallHandler::is_quick(self, code)
    }
}

/// An in-memory codec for host tests and in-process calls of a server proxy: items are
/// little-endian, strings and flat objects carry a `u32` length, a [`SvcIdentity`] is three
/// `u32`s. Not the LiteIPC wire format.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemIo {
    data: Vec<u8>,
    pos: usize,
    /// Bytes the writer may hold (`None`: unbounded).
    limit: Option<usize>,
}

impl MemIo {
    /// An empty, unbounded buffer.
    pub fn new() -> MemIo {
        MemIo::default()
    }

    /// An empty buffer refusing pushes past `limit` bytes.
    pub fn with_limit(limit: usize) -> MemIo {
        MemIo {
            limit: Some(limit),
            ..MemIo::default()
        }
    }

    /// The bytes written so far.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        if self
            .limit
            .is_some_and(|limit| self.data.len() + bytes.len() > limit)
        {
            return Err(IoError::Overflow);
        }
        self.data.extend_from_slice(bytes);
        Ok(())
    }

    fn take(&mut self, len: usize) -> Result<&[u8], IoError> {
        let end = self.pos.checked_add(len).ok_or(IoError::Underflow)?;
        let bytes = self.data.get(self.pos..end).ok_or(IoError::Underflow)?;
        self.pos = end;
        Ok(bytes)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], IoError> {
        let bytes = self.take(N)?;
        bytes.try_into().map_err(|_| IoError::Malformed)
    }
}

impl IpcReader for MemIo {
    fn pop_bool(&mut self) -> Result<bool, IoError> {
        match self.take_array::<1>()? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err(IoError::Malformed),
        }
    }

    fn pop_i32(&mut self) -> Result<i32, IoError> {
        self.take_array().map(i32::from_le_bytes)
    }

    fn pop_u32(&mut self) -> Result<u32, IoError> {
        self.take_array().map(u32::from_le_bytes)
    }

    fn pop_i64(&mut self) -> Result<i64, IoError> {
        self.take_array().map(i64::from_le_bytes)
    }

    fn pop_u64(&mut self) -> Result<u64, IoError> {
        self.take_array().map(u64::from_le_bytes)
    }

    fn pop_string(&mut self) -> Result<&str, IoError> {
        let bytes = self.pop_flat_obj()?;
        core::str::from_utf8(bytes).map_err(|_| IoError::Malformed)
    }

    fn pop_flat_obj(&mut self) -> Result<&[u8], IoError> {
        let len = self.pop_u32()? as usize;
        self.take(len)
    }

    fn pop_svc(&mut self) -> Result<SvcIdentity, IoError> {
        Ok(SvcIdentity {
            handle: self.pop_u32()?,
            token: self.pop_u32()?,
            cookie: self.pop_u32()?,
        })
    }
}

impl IpcWriter for MemIo {
    fn push_bool(&mut self, value: bool) -> Result<(), IoError> {
        self.put(&[u8::from(value)])
    }

    fn push_i32(&mut self, value: i32) -> Result<(), IoError> {
        self.put(&value.to_le_bytes())
    }

    fn push_u32(&mut self, value: u32) -> Result<(), IoError> {
        self.put(&value.to_le_bytes())
    }

    fn push_i64(&mut self, value: i64) -> Result<(), IoError> {
        self.put(&value.to_le_bytes())
    }

    fn push_u64(&mut self, value: u64) -> Result<(), IoError> {
        self.put(&value.to_le_bytes())
    }

    fn push_string(&mut self, value: &str) -> Result<(), IoError> {
        self.push_flat_obj(value.as_bytes())
    }

    fn push_flat_obj(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        let len = u32::try_from(bytes.len()).map_err(|_| IoError::Overflow)?;
        if self
            .limit
            .is_some_and(|limit| self.data.len() + 4 + bytes.len() > limit)
        {
            return Err(IoError::Overflow);
        }
        self.put(&len.to_le_bytes())?;
        self.put(bytes)
    }

    fn push_svc(&mut self, svc: SvcIdentity) -> Result<(), IoError> {
        if self.limit.is_some_and(|limit| self.data.len() + 12 > limit) {
            return Err(IoError::Overflow);
        }
        self.push_u32(svc.handle)?;
        self.push_u32(svc.token)?;
        self.push_u32(svc.cookie)
    }
}

/// Reads a whole string item into an owned `String` (convenience for handlers that keep it).
pub fn pop_owned_string(reader: &mut dyn IpcReader) -> Result<String, IoError> {
    reader.pop_string().map(String::from)
}
