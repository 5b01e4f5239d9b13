//! The demo service manager protocol of upstream's LiteIPC tests (`smgr_demo.cpp`,
//! `reference/conformance-checklist.md` section 2): a toy CMS that maps names to handles.
//!
//! Requests go to handle 0 with `SEND|RECV`; their data is the C struct
//! `{char name[31]; u32 len}` (36 bytes with padding). Codes: [`REG`] (the sender's task
//! gets a new handle under that name), [`GET`] (the sender's process gets access to the
//! named handle), [`STOP`] (the CMS loop ends). The reply is two u32: result (0 or -1) and
//! the handle.

use crate::context::{IpcContext, IpcHandler, Message};
use crate::io::{IpcIo, IpcIoError, IpcIoReader, Source};
use abi::Errno;
use abi::liteipc::{MAX_HANDLES, SvcIdentity};

/// Register the name for the sending task.
pub const REG: u32 = 0;
/// Look the name up (and get access to it).
pub const GET: u32 = 1;
/// End the CMS loop.
pub const STOP: u32 = 2;

/// Bytes of the name field (a NUL-terminated C string, so at most 30 characters).
pub const NAME_FIELD: usize = 31;
/// Bytes of the request data.
pub const REQUEST_SIZE: usize = 36;
/// The CMS's identity: handle 0.
pub const CMS: SvcIdentity = SvcIdentity {
    handle: 0,
    token: 0,
    cookie: 0,
};

/// The request data for `name`.
pub fn name_request(name: &str) -> Result<IpcIo, IpcIoError> {
    let bytes = name.as_bytes();
    if bytes.len() >= NAME_FIELD || bytes.contains(&0) {
        return Err(IpcIoError::InvalidValue);
    }
    let mut raw = [0u8; REQUEST_SIZE];
    raw[..bytes.len()].copy_from_slice(bytes);
    raw[32..].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
    let mut io = IpcIo::new();
    io.push_raw(&raw)?;
    Ok(io)
}

/// The name in request data.
pub fn parse_name<S: Source>(reader: &IpcIoReader<S>) -> Result<&str, IpcIoError> {
    let raw = reader.pop_raw(REQUEST_SIZE)?;
    let len_bytes = raw.get(32..36).ok_or(IpcIoError::Truncated)?;
    let len = u32::from_le_bytes(len_bytes.try_into().map_err(|_| IpcIoError::Truncated)?);
    let name = raw
        .get(..len as usize)
        .filter(|_| (len as usize) < NAME_FIELD)
        .ok_or(IpcIoError::InvalidValue)?;
    core::str::from_utf8(name).map_err(|_| IpcIoError::InvalidValue)
}

/// The reply data `(result, handle)`.
pub fn reply_data(result: i32, handle: u32) -> IpcIo {
    let mut io = IpcIo::new();
    // Two u32 always fit.
    let _ = io.push_i32(result);
    let _ = io.push_u32(handle);
    io
}

/// Reads `(result, handle)` from a reply.
pub fn parse_reply<S: Source>(reader: &IpcIoReader<S>) -> Result<(i32, u32), IpcIoError> {
    Ok((reader.pop_i32()?, reader.pop_u32()?))
}

fn call(ctx: &IpcContext, code: u32, name: &str) -> Result<(i32, u32), Errno> {
    let io = name_request(name).map_err(|_| Errno::EINVAL)?;
    let reply = ctx.transact(CMS, code, &io)?;
    parse_reply(&reply).map_err(|_| Errno::EIO)
}

/// Registers `name` for the calling thread; returns its handle (EEXIST if taken).
pub fn register(ctx: &IpcContext, name: &str) -> Result<u32, Errno> {
    match call(ctx, REG, name)? {
        (0, handle) => Ok(handle),
        _ => Err(Errno::EEXIST),
    }
}

/// Looks `name` up, gaining access to it; returns its handle (ENOENT if unknown).
pub fn lookup(ctx: &IpcContext, name: &str) -> Result<u32, Errno> {
    match call(ctx, GET, name)? {
        (0, handle) => Ok(handle),
        _ => Err(Errno::ENOENT),
    }
}

/// A name of at most [`NAME_FIELD`] - 1 bytes, stored inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Name {
    bytes: [u8; NAME_FIELD],
    len: u8,
}

impl Name {
    fn new(name: &str) -> Option<Name> {
        let src = name.as_bytes();
        let mut bytes = [0u8; NAME_FIELD];
        bytes.get_mut(..src.len())?.copy_from_slice(src);
        Some(Name {
            bytes,
            len: src.len() as u8,
        })
    }

    fn is(&self, name: &str) -> bool {
        self.bytes.get(..self.len as usize) == Some(name.as_bytes())
    }
}

/// The demo CMS: a name per handle, in a fixed table (no allocation while serving).
#[derive(Debug)]
pub struct DemoCms {
    names: [Option<Name>; MAX_HANDLES],
    stopped: bool,
}

impl Default for DemoCms {
    fn default() -> Self {
        Self::new()
    }
}

impl DemoCms {
    /// An empty table.
    pub fn new() -> DemoCms {
        DemoCms {
            names: [None; MAX_HANDLES],
            stopped: false,
        }
    }

    /// True after a STOP.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Handles a demo request (REG, GET, STOP); `None` for other codes.
    pub fn handle(&mut self, msg: &Message<'_>) -> Option<IpcIo> {
        let ctx = msg.context();
        match msg.code() {
            REG => Some(match parse_name(msg).ok() {
                Some(name) => self.register(ctx, msg.tid(), name),
                None => reply_data(-1, 0),
            }),
            GET => Some(match parse_name(msg).ok() {
                Some(name) => self.get(ctx, msg.tid(), name),
                None => reply_data(-1, 0),
            }),
            STOP => {
                self.stopped = true;
                Some(reply_data(0, 0))
            }
            _ => None,
        }
    }

    fn register(&mut self, ctx: &IpcContext, task: u32, name: &str) -> IpcIo {
        if self.names.iter().flatten().any(|n| n.is(name)) {
            return reply_data(-1, 0);
        }
        let Ok(handle) = ctx.gen_handle(task) else {
            return reply_data(-1, 0);
        };
        match (self.names.get_mut(handle as usize), Name::new(name)) {
            (Some(slot @ None), Some(entry)) => {
                *slot = Some(entry);
                // Access for the CMS itself, so it hears of the handle's death and can
                // forget the name (the kernel notifies only processes with access).
                let _ = ctx.add_access(ulib::thread::current().as_raw(), handle);
                reply_data(0, handle)
            }
            (Some(slot), _) => {
                // Upstream's answer to a taken slot (the task already had a handle, under
                // another name): remove the handle and refuse. The old name goes too, since
                // its handle no longer exists.
                let _ = ctx.remove_handle(handle);
                *slot = None;
                reply_data(-1, 0)
            }
            (None, _) => {
                let _ = ctx.remove_handle(handle);
                reply_data(-1, 0)
            }
        }
    }

    fn get(&mut self, ctx: &IpcContext, task: u32, name: &str) -> IpcIo {
        let found = self
            .names
            .iter()
            .position(|n| n.is_some_and(|n| n.is(name)));
        match found {
            Some(handle) if ctx.add_access(task, handle as u32).is_ok() => {
                reply_data(0, handle as u32)
            }
            _ => reply_data(-1, 0),
        }
    }

    /// Forgets the name of a dead handle (so it can be registered again).
    pub fn forget(&mut self, handle: u32) {
        if let Some(slot) = self.names.get_mut(handle as usize) {
            *slot = None;
        }
    }
}

impl IpcHandler for DemoCms {
    fn on_request(&mut self, msg: &Message<'_>, reply: &mut IpcIo) -> bool {
        self.handle(msg).map(|answer| *reply = answer).is_some()
    }

    fn on_death(&mut self, handle: u32) {
        self.forget(handle);
    }

    fn keep_serving(&self) -> bool {
        !self.stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_requests_round_trip() {
        let io = name_request("wms_server").expect("fits");
        assert_eq!(io.data().len(), REQUEST_SIZE);
        assert_eq!(parse_name(&IpcIoReader::new(&io)), Ok("wms_server"));
        assert!(name_request(&"x".repeat(31)).is_err());
        assert!(name_request("a\0b").is_err());
        let reply = reply_data(-1, 7);
        assert_eq!(parse_reply(&IpcIoReader::new(&reply)), Ok((-1, 7)));
    }

    #[test]
    fn bad_name_lengths_are_errors() {
        let mut raw = [b'a'; REQUEST_SIZE];
        raw[32..].copy_from_slice(&40u32.to_le_bytes());
        let mut io = IpcIo::new();
        io.push_raw(&raw).expect("fits");
        assert_eq!(
            parse_name(&IpcIoReader::new(&io)),
            Err(IpcIoError::InvalidValue)
        );
        let short = IpcIo::new();
        assert_eq!(
            parse_name(&IpcIoReader::new(&short)),
            Err(IpcIoError::Truncated)
        );
    }
}
