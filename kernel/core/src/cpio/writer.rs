//! The newc writer the build tool uses to make the initramfs.
//!
//! Output is deterministic — mtime 0, inode numbers 1, 2, 3... in call order, no device
//! numbers — so the same inputs always give the same image. The archive ends with the
//! `TRAILER!!!` member and is zero-padded to a multiple of 512 bytes, as GNU cpio does.

use alloc::vec::Vec;

use abi::syscall::file_type::{S_IFDIR, S_IFREG};

use super::{CpioError, HEADER_LEN, MAGIC_NEWC, MAX_NAME_LEN, TRAILER};

/// Permission bits a member may carry (rwx for all, setuid, setgid, sticky).
const PERM_MASK: u32 = 0o7777;
/// Block size the finished archive is padded to.
const BLOCK: usize = 512;

/// Builds a newc archive in memory.
#[derive(Debug, Clone)]
pub struct CpioWriter {
    /// The archive so far.
    out: Vec<u8>,
    /// Inode number of the next member.
    next_ino: u32,
}

impl Default for CpioWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl CpioWriter {
    /// An empty archive.
    pub fn new() -> Self {
        Self {
            out: Vec::new(),
            next_ino: 1,
        }
    }

    /// Adds a directory; `mode` holds permission bits only (the type is added).
    ///
    /// # Panics
    /// If `name` is empty or contains a NUL byte, or is longer than
    /// [`MAX_NAME_LEN`](super::MAX_NAME_LEN); see [`try_add_dir`](Self::try_add_dir).
    pub fn add_dir(&mut self, name: &str, mode: u32, uid: u32, gid: u32) {
        if let Err(e) = self.try_add_dir(name, mode, uid, gid) {
            panic!("cpio: cannot add directory {name:?}: {e}");
        }
    }

    /// Adds a regular file; `mode` holds permission bits only (the type is added).
    ///
    /// # Panics
    /// If the name is invalid (see [`add_dir`](Self::add_dir)) or `data` is 4 GiB or more;
    /// see [`try_add_file`](Self::try_add_file).
    pub fn add_file(&mut self, name: &str, mode: u32, uid: u32, gid: u32, data: &[u8]) {
        if let Err(e) = self.try_add_file(name, mode, uid, gid, data) {
            panic!("cpio: cannot add file {name:?}: {e}");
        }
    }

    /// [`add_dir`](Self::add_dir) that reports a bad name instead of panicking.
    pub fn try_add_dir(
        &mut self,
        name: &str,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(), CpioError> {
        let mode = S_IFDIR | (mode & PERM_MASK);
        self.member(name, mode, uid, gid, 2, &[])
    }

    /// [`add_file`](Self::add_file) that reports a bad name or size instead of panicking.
    pub fn try_add_file(
        &mut self,
        name: &str,
        mode: u32,
        uid: u32,
        gid: u32,
        data: &[u8],
    ) -> Result<(), CpioError> {
        let mode = S_IFREG | (mode & PERM_MASK);
        self.member(name, mode, uid, gid, 1, data)
    }

    /// Appends the trailer, pads to 512 bytes and returns the archive.
    pub fn finish(mut self) -> Vec<u8> {
        self.write_member(0, 0, 0, 0, 1, TRAILER, &[]);
        let padded = self.out.len().next_multiple_of(BLOCK);
        self.out.resize(padded, 0);
        self.out
    }

    /// Validates and appends one member with the next inode number.
    fn member(
        &mut self,
        name: &str,
        mode: u32,
        uid: u32,
        gid: u32,
        nlink: u32,
        data: &[u8],
    ) -> Result<(), CpioError> {
        // An absolute name would unpack outside the target directory with GNU cpio.
        let name = name.trim_start_matches('/');
        if name.is_empty() || name.contains('\0') || name == TRAILER {
            return Err(CpioError::BadName);
        }
        if name.len() >= MAX_NAME_LEN {
            return Err(CpioError::TooLarge);
        }
        if u32::try_from(data.len()).is_err() {
            return Err(CpioError::TooLarge);
        }
        let ino = self.next_ino;
        self.next_ino = self.next_ino.wrapping_add(1);
        self.write_member(ino, mode, uid, gid, nlink, name, data);
        Ok(())
    }

    /// Appends header, name, data and padding; sizes were checked by the caller.
    #[expect(clippy::too_many_arguments, reason = "one argument per header field")]
    fn write_member(
        &mut self,
        ino: u32,
        mode: u32,
        uid: u32,
        gid: u32,
        nlink: u32,
        name: &str,
        data: &[u8],
    ) {
        // Both fit in u32: the name is < MAX_NAME_LEN and the caller checked `data`.
        let namesize = u32::try_from(name.len() + 1).unwrap_or(u32::MAX);
        let filesize = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let start = self.out.len();
        self.out.reserve(HEADER_LEN + name.len() + data.len() + 8);
        self.out.extend_from_slice(MAGIC_NEWC);
        // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
        // rdevminor, namesize, check.
        let fields = [
            ino, mode, uid, gid, nlink, 0, filesize, 0, 0, 0, 0, namesize, 0,
        ];
        for field in fields {
            push_hex8(&mut self.out, field);
        }
        debug_assert_eq!(self.out.len() - start, HEADER_LEN);
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad4();
        self.out.extend_from_slice(data);
        self.pad4();
    }

    /// Zero-pads the archive to a multiple of 4 bytes.
    fn pad4(&mut self) {
        let padded = self.out.len().next_multiple_of(4);
        self.out.resize(padded, 0);
    }
}

/// Appends `value` as 8 lower-case hex digits (what GNU cpio writes).
fn push_hex8(out: &mut Vec<u8>, value: u32) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..8).rev() {
        let nibble = (value >> (shift * 4)) & 0xf;
        // `nibble` < 16, so the index is in range.
        out.push(DIGITS.get(nibble as usize).copied().unwrap_or(b'0'));
    }
}
