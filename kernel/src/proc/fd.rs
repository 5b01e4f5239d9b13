//! A process's descriptor table: slots of shared open file descriptions (dup'd and inherited
//! descriptors share one; it closes when the last reference goes). The process layer holds,
//! inherits, duplicates and closes them; the filesystem layer does their I/O.

use super::file::OpenFile;
use abi::Errno;
use abi::syscall::MAX_FDS;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// An open file description as a descriptor table holds it.
pub type FileRef = Arc<OpenFile>;

/// A process's descriptors: slot `fd` holds a file and its close-on-exec flag.
#[derive(Clone, Default)]
pub struct FdTable {
    slots: Vec<Option<(FileRef, bool)>>,
}

impl FdTable {
    /// Descriptors 0, 1 and 2 on `file` (the console, for the kernel's children).
    pub fn with_stdio(file: FileRef) -> FdTable {
        FdTable {
            slots: alloc::vec![
                Some((file.clone(), false)),
                Some((file.clone(), false)),
                Some((file, false))
            ],
        }
    }

    /// The descriptors a spawned child inherits (all without close-on-exec).
    pub fn inherit(&self) -> FdTable {
        FdTable {
            slots: self
                .slots
                .iter()
                .map(|s| s.clone().filter(|(_, cloexec)| !cloexec))
                .collect(),
        }
    }

    /// Installs `file` at the lowest free descriptor.
    pub fn insert(&mut self, file: FileRef, cloexec: bool) -> Result<usize, Errno> {
        if let Some(fd) = self.slots.iter().position(Option::is_none) {
            self.slots[fd] = Some((file, cloexec));
            return Ok(fd);
        }
        if self.slots.len() >= MAX_FDS {
            return Err(Errno::EMFILE);
        }
        self.slots.push(Some((file, cloexec)));
        Ok(self.slots.len() - 1)
    }

    /// The open file behind `fd`.
    pub fn get(&self, fd: usize) -> Result<FileRef, Errno> {
        self.peek(fd, |file| file.clone())
    }

    /// Runs `f` on the open file behind `fd` without taking a reference to it (for checks
    /// on every call of a hot path, such as the LiteIPC ioctl).
    pub fn peek<R>(&self, fd: usize, f: impl FnOnce(&FileRef) -> R) -> Result<R, Errno> {
        self.slots
            .get(fd)
            .and_then(|s| s.as_ref())
            .map(|(file, _)| f(file))
            .ok_or(Errno::EBADF)
    }

    /// Closes `fd`, returning its file (dropped outside the process table's lock, since the
    /// last close may wake others).
    pub fn close(&mut self, fd: usize) -> Result<FileRef, Errno> {
        self.slots
            .get_mut(fd)
            .and_then(Option::take)
            .map(|(f, _)| f)
            .ok_or(Errno::EBADF)
    }

    /// Closes everything.
    pub fn clear(&mut self) {
        self.slots.clear();
    }
}
