//! Open file descriptions, as descriptor tables hold them: what a file refers to (a node of
//! the tree, a device, or a [`StreamFile`] another layer implements), how it was opened, and
//! its position. The filesystem layer does their I/O; sockets plug in as streams.

use crate::sync::IrqSafeMutex;
use abi::Errno;
use abi::syscall::open_flags as of;
use alloc::sync::Arc;
use core::any::Any;
use kcore::vfs::Ino;

/// A file whose reads, writes and readiness another layer implements (a local socket).
pub trait StreamFile: Any + Send + Sync {
    /// Reads what is there into `buf` (sleeping for it unless `nonblocking`).
    fn read(&self, buf: &mut [u8], nonblocking: bool) -> Result<usize, Errno>;
    /// Writes `data` on behalf of the calling process.
    fn write(&self, data: &[u8], nonblocking: bool) -> Result<usize, Errno>;
    /// (readable, writable, hung up), for `poll`.
    fn readiness(&self) -> (bool, bool, bool);
    /// Type and permission bits for `fstat`.
    fn mode(&self) -> u32;
}

/// What an open file refers to.
#[derive(Clone)]
pub enum FileObject {
    /// A file or directory in the tree.
    Node(Ino),
    /// A device.
    Device(u32),
    /// A file another layer implements (a local socket).
    Stream(Arc<dyn StreamFile>),
}

/// An open file description (shared by dup'd and inherited descriptors).
pub struct OpenFile {
    /// What it refers to.
    pub object: FileObject,
    /// `O_*` flags it was opened with.
    pub flags: usize,
    /// Read/write position (for directories: the next entry index).
    pub offset: IrqSafeMutex<u64>,
}

impl OpenFile {
    /// A new description at offset 0.
    pub fn new(object: FileObject, flags: usize) -> Arc<OpenFile> {
        Arc::new(OpenFile {
            object,
            flags,
            offset: IrqSafeMutex::new(0),
        })
    }

    /// Whether the file is the device `dev`.
    pub fn is_device(&self, dev: u32) -> bool {
        matches!(self.object, FileObject::Device(d) if d == dev)
    }

    pub fn readable(&self) -> bool {
        self.flags & of::O_ACCMODE != of::O_WRONLY
    }

    pub fn writable(&self) -> bool {
        self.flags & of::O_ACCMODE != of::O_RDONLY
    }
}
