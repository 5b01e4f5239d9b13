//! The codec seam filled in: samgr's [`IpcReader`]/[`IpcWriter`] over liteipc's `IpcIo`
//! (the wire format of every cross-process samgr message), so services and the samgr server
//! read and write real LiteIPC messages through the same traits host tests drive with
//! [`MemIo`](crate::MemIo).

use crate::ipc::{IoError, IpcReader, IpcWriter};
use abi::liteipc::SvcIdentity;
use liteipc::IpcIo;
use liteipc::io::{IpcIoError, IpcIoReader, Source};

impl From<IpcIoError> for IoError {
    fn from(e: IpcIoError) -> IoError {
        match e {
            IpcIoError::Overflow | IpcIoError::TooManyObjects => IoError::Overflow,
            IpcIoError::Truncated => IoError::Underflow,
            IpcIoError::InvalidValue
            | IpcIoError::NotAnObject
            | IpcIoError::WrongObjectType
            | IpcIoError::BadBuffer => IoError::Malformed,
        }
    }
}

impl IpcWriter for IpcIo {
    fn push_bool(&mut self, value: bool) -> Result<(), IoError> {
        Ok(IpcIo::push_bool(self, value)?)
    }
    fn push_i32(&mut self, value: i32) -> Result<(), IoError> {
        Ok(IpcIo::push_i32(self, value)?)
    }
    fn push_u32(&mut self, value: u32) -> Result<(), IoError> {
        Ok(IpcIo::push_u32(self, value)?)
    }
    fn push_i64(&mut self, value: i64) -> Result<(), IoError> {
        Ok(IpcIo::push_i64(self, value)?)
    }
    fn push_u64(&mut self, value: u64) -> Result<(), IoError> {
        Ok(IpcIo::push_u64(self, value)?)
    }
    fn push_string(&mut self, value: &str) -> Result<(), IoError> {
        Ok(IpcIo::push_string(self, value)?)
    }
    fn push_flat_obj(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        Ok(IpcIo::push_flat_obj(self, bytes)?)
    }
    /// Pushed as an `OBJ_SVC` special object: the receiver is granted access to the handle.
    fn push_svc(&mut self, svc: SvcIdentity) -> Result<(), IoError> {
        Ok(IpcIo::push_svc(self, svc)?)
    }
}

/// An [`IpcReader`] over a received message (liteipc's reader pops through `&self`).
pub struct MsgReader<'a, S: Source>(pub &'a IpcIoReader<S>);

impl<S: Source> IpcReader for MsgReader<'_, S> {
    fn pop_bool(&mut self) -> Result<bool, IoError> {
        Ok(self.0.pop_bool()?)
    }
    fn pop_i32(&mut self) -> Result<i32, IoError> {
        Ok(self.0.pop_i32()?)
    }
    fn pop_u32(&mut self) -> Result<u32, IoError> {
        Ok(self.0.pop_u32()?)
    }
    fn pop_i64(&mut self) -> Result<i64, IoError> {
        Ok(self.0.pop_i64()?)
    }
    fn pop_u64(&mut self) -> Result<u64, IoError> {
        Ok(self.0.pop_u64()?)
    }
    fn pop_string(&mut self) -> Result<&str, IoError> {
        Ok(self.0.pop_string()?)
    }
    fn pop_flat_obj(&mut self) -> Result<&[u8], IoError> {
        Ok(self.0.pop_flat_obj()?)
    }
    fn pop_svc(&mut self) -> Result<SvcIdentity, IoError> {
        Ok(self.0.pop_svc()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liteipc::io::IpcIoReader;

    #[test]
    fn items_round_trip_through_ipcio() {
        let mut io = IpcIo::new();
        let w: &mut dyn IpcWriter = &mut io;
        w.push_u32(7).unwrap();
        w.push_string("wms").unwrap();
        w.push_bool(true).unwrap();
        w.push_i64(-5).unwrap();
        w.push_flat_obj(&[1, 2, 3]).unwrap();
        let reader = IpcIoReader::new(&io);
        let mut r = MsgReader(&reader);
        assert_eq!(r.pop_u32(), Ok(7));
        assert_eq!(r.pop_string(), Ok("wms"));
        assert_eq!(r.pop_bool(), Ok(true));
        assert_eq!(r.pop_i64(), Ok(-5));
        assert_eq!(r.pop_flat_obj(), Ok(&[1u8, 2, 3][..]));
        assert_eq!(r.pop_u32(), Err(IoError::Underflow));
    }

    #[test]
    fn oversize_push_is_overflow() {
        let mut io = IpcIo::new();
        let big = alloc::vec![0u8; abi::liteipc::MAX_DATA_SIZE + 1];
        assert_eq!(
            IpcWriter::push_flat_obj(&mut io, &big),
            Err(IoError::Overflow)
        );
    }
}
