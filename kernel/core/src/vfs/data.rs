//! File contents: read, write with copy-on-write of archive data, truncate.
//!
//! Writes and growth are bounded twice: a file may not pass [`MAX_FILE_SIZE`] (`EFBIG`, or a
//! short write up to the limit, as Linux does with `RLIMIT_FSIZE`), and the tree may not own more
//! than its capacity (`ENOSPC`, or a short write of what fits). Permission checks belong to
//! `open`; these functions take an inode the kernel already opened.

use alloc::vec::Vec;

use abi::Errno;

use super::node::{Body, FileData};
use super::{Ino, MAX_FILE_SIZE, Vfs};

/// [`MAX_FILE_SIZE`] as a `usize` (16 MiB fits every target we build for).
const MAX_FILE_BYTES: usize = MAX_FILE_SIZE as usize;

impl<'a> Vfs<'a> {
    /// Reads up to `buf.len()` bytes at `offset`; `Ok(0)` at or past the end. `EISDIR` for a
    /// directory, `ENODEV` for a device node (its I/O belongs to the kernel's driver).
    pub fn read(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let bytes = self.file_bytes(ino)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let src = bytes.get(start..).unwrap_or_default();
        let n = src.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), src.get(..n)) {
            dst.copy_from_slice(src);
        }
        Ok(n)
    }

    /// The whole content of a regular file, without copying (for the ELF loader).
    /// `EISDIR` for a directory, `ENODEV` for a device node.
    pub fn file_bytes(&self, ino: Ino) -> Result<&[u8], Errno> {
        match &self.node(ino)?.body {
            Body::File(data) => Ok(data.bytes()),
            Body::Dir(_) => Err(Errno::EISDIR),
            Body::Device(_) => Err(Errno::ENODEV),
        }
    }

    /// Writes `data` at `offset`, zero-filling any gap, and returns the bytes written.
    ///
    /// Archive-backed content is first copied into RAM (the archive is never modified). A
    /// write that would pass [`MAX_FILE_SIZE`] or the capacity is cut short to what fits; if
    /// nothing fits it fails with `EFBIG` or `ENOSPC`. `EISDIR`/`ENODEV` as for
    /// [`read`](Self::read).
    pub fn write(&mut self, ino: Ino, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        let (cur_len, cur_owned) = self.file_sizes(ino)?;
        if data.is_empty() {
            return Ok(0);
        }
        let offset = match usize::try_from(offset) {
            Ok(o) if o < MAX_FILE_BYTES => o,
            _ => return Err(Errno::EFBIG),
        };
        let mut end = offset.saturating_add(data.len()).min(MAX_FILE_BYTES);
        // RAM the file would own afterwards, and what the capacity still allows.
        let room = self.capacity.saturating_sub(self.used);
        let max_len = cur_owned.saturating_add(room);
        if end.max(cur_len) > max_len {
            if max_len <= offset || max_len < cur_len {
                return Err(Errno::ENOSPC);
            }
            end = max_len;
        }
        let new_len = end.max(cur_len);
        let written = end - offset;
        self.charge(new_len - cur_owned)?;
        let bytes = self.owned_bytes(ino, new_len)?;
        if let (Some(dst), Some(src)) = (bytes.get_mut(offset..end), data.get(..written)) {
            dst.copy_from_slice(src);
        }
        Ok(written)
    }

    /// Sets a file's size: shrinking drops bytes (archive content stays borrowed), growing
    /// zero-fills. `EFBIG` past [`MAX_FILE_SIZE`], `ENOSPC` past the capacity, `EISDIR` for a
    /// directory, `EINVAL` for a device node.
    pub fn truncate(&mut self, ino: Ino, len: u64) -> Result<(), Errno> {
        let (cur_len, cur_owned) = self.file_sizes(ino).map_err(|e| match e {
            Errno::ENODEV => Errno::EINVAL,
            other => other,
        })?;
        let len = match usize::try_from(len) {
            Ok(l) if l <= MAX_FILE_BYTES => l,
            _ => return Err(Errno::EFBIG),
        };
        if let Body::File(FileData::Archive(bytes)) = &mut self.node_mut(ino)?.body
            && len <= cur_len
        {
            // Still a prefix of the archive: no copy needed.
            let all: &'a [u8] = bytes;
            *bytes = all.get(..len).unwrap_or(all);
            return Ok(());
        }
        if len > cur_owned {
            self.charge(len - cur_owned)?;
        } else {
            self.release(cur_owned - len);
        }
        self.owned_bytes(ino, len)?;
        Ok(())
    }

    /// Current size and RAM-owned size of a regular file.
    fn file_sizes(&self, ino: Ino) -> Result<(usize, usize), Errno> {
        match &self.node(ino)?.body {
            Body::File(data) => Ok((data.len(), data.owned_len())),
            Body::Dir(_) => Err(Errno::EISDIR),
            Body::Device(_) => Err(Errno::ENODEV),
        }
    }

    /// Makes the file's content owned (copying archive bytes) and exactly `len` long; the caller
    /// has already charged for the growth.
    fn owned_bytes(&mut self, ino: Ino, len: usize) -> Result<&mut Vec<u8>, Errno> {
        let Body::File(data) = &mut self.node_mut(ino)?.body else {
            return Err(Errno::EISDIR);
        };
        if let FileData::Archive(bytes) = data {
            let mut copy = Vec::with_capacity(len.max(bytes.len()));
            copy.extend_from_slice(bytes);
            *data = FileData::Owned(copy);
        }
        match data {
            FileData::Owned(bytes) => {
                bytes.resize(len, 0);
                Ok(bytes)
            }
            FileData::Archive(_) => Err(Errno::EIO),
        }
    }
}
