//! Files: [`File`] over open/read/write/lseek/fstat/close, whole-file helpers, metadata,
//! and directory listing from `getdents` records (parsed by [`Dirents`], host-tested).

use crate::sys;
use abi::Errno;
use abi::syscall::file_type::{S_IFCHR, S_IFDIR, S_IFMT, S_IFREG};
use abi::syscall::open_flags::{O_CREAT, O_DIRECTORY, O_RDONLY, O_TRUNC, O_WRONLY};
use abi::syscall::{Dirent, Stat, seek};
use alloc::string::String;
use alloc::vec::Vec;
use zerocopy::FromBytes;

pub use abi::syscall::open_flags;

/// An open file descriptor, closed on drop.
#[derive(Debug)]
pub struct File {
    fd: usize,
}

impl File {
    /// Opens `path` with `flags` (`open_flags::*`) and `mode` for created files.
    pub fn open_with(path: &str, flags: usize, mode: u32) -> Result<File, Errno> {
        sys::open(path.as_bytes(), flags, mode).map(|fd| File { fd })
    }

    /// Opens `path` for reading.
    pub fn open(path: &str) -> Result<File, Errno> {
        File::open_with(path, O_RDONLY, 0)
    }

    /// Creates or truncates `path` for writing.
    pub fn create(path: &str) -> Result<File, Errno> {
        File::open_with(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    }

    /// The descriptor number.
    pub fn fd(&self) -> usize {
        self.fd
    }

    /// Reads up to `buf.len()` bytes; 0 at end of file.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        sys::read(self.fd, buf)
    }

    /// Writes up to `buf.len()` bytes.
    pub fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
        sys::write(self.fd, buf)
    }

    /// Writes all of `buf`.
    pub fn write_all(&mut self, buf: &[u8]) -> Result<(), Errno> {
        crate::io::write_all(self.fd, buf)
    }

    /// Appends the rest of the file to `out`; returns the bytes read.
    pub fn read_to_end(&mut self, out: &mut Vec<u8>) -> Result<usize, Errno> {
        let start = out.len();
        let mut chunk = [0u8; 512];
        loop {
            match self.read(&mut chunk)? {
                0 => return Ok(out.len() - start),
                n => out.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
        }
    }

    /// Reads the rest of the file as UTF-8 (EINVAL if it is not).
    pub fn read_to_string(&mut self, out: &mut String) -> Result<usize, Errno> {
        let mut bytes = Vec::new();
        let n = self.read_to_end(&mut bytes)?;
        out.push_str(core::str::from_utf8(&bytes).map_err(|_| Errno::EINVAL)?);
        Ok(n)
    }

    /// Moves the file position to `offset` from the start; returns the new position.
    pub fn seek_to(&mut self, offset: u64) -> Result<u64, Errno> {
        let offset = i64::try_from(offset).map_err(|_| Errno::EINVAL)?;
        sys::lseek(self.fd, offset, seek::SET).map(|p| p as u64)
    }

    /// The file's metadata (`fstat`).
    pub fn metadata(&self) -> Result<Metadata, Errno> {
        let mut stat = Stat::default();
        sys::fstat(self.fd, &mut stat)?;
        Ok(Metadata(stat))
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let _ = sys::close(self.fd);
    }
}

/// File status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata(Stat);

impl Metadata {
    /// Size in bytes.
    pub fn len(&self) -> u64 {
        self.0.size
    }

    /// True when the size is zero.
    pub fn is_empty(&self) -> bool {
        self.0.size == 0
    }

    /// Type and permission bits (`S_IF*` | mode).
    pub fn mode(&self) -> u32 {
        self.0.mode
    }

    /// A regular file.
    pub fn is_file(&self) -> bool {
        self.0.mode & S_IFMT == S_IFREG
    }

    /// A directory.
    pub fn is_dir(&self) -> bool {
        self.0.mode & S_IFMT == S_IFDIR
    }

    /// Owner uid.
    pub fn uid(&self) -> u32 {
        self.0.uid
    }

    /// Owner gid.
    pub fn gid(&self) -> u32 {
        self.0.gid
    }

    /// Permission bits only (no type bits).
    pub fn permissions(&self) -> u32 {
        self.0.mode & 0o7777
    }

    /// A character device.
    pub fn is_char_device(&self) -> bool {
        self.0.mode & S_IFMT == S_IFCHR
    }

    /// The raw `Stat`.
    pub fn stat(&self) -> Stat {
        self.0
    }
}

/// The whole content of `path`.
pub fn read(path: &str) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    File::open(path)?.read_to_end(&mut out)?;
    Ok(out)
}

/// The whole content of `path` as UTF-8.
pub fn read_to_string(path: &str) -> Result<String, Errno> {
    let mut out = String::new();
    File::open(path)?.read_to_string(&mut out)?;
    Ok(out)
}

/// Replaces the content of `path` with `data`.
pub fn write(path: &str, data: &[u8]) -> Result<(), Errno> {
    File::create(path)?.write_all(data)
}

/// Metadata of `path`.
pub fn metadata(path: &str) -> Result<Metadata, Errno> {
    File::open(path)?.metadata()
}

/// Metadata of `path` without opening it (`stat`).
pub fn stat(path: &str) -> Result<Metadata, Errno> {
    let mut stat = Stat::default();
    sys::stat(path.as_bytes(), &mut stat)?;
    Ok(Metadata(stat))
}

/// Creates directory `path` with permission bits `mode`, owned by the caller.
pub fn create_dir(path: &str, mode: u32) -> Result<(), Errno> {
    sys::mkdir(path.as_bytes(), mode).map(drop)
}

/// Removes the empty directory `path`.
pub fn remove_dir(path: &str) -> Result<(), Errno> {
    sys::rmdir(path.as_bytes()).map(drop)
}

/// Removes the file `path`.
pub fn remove_file(path: &str) -> Result<(), Errno> {
    sys::unlink(path.as_bytes()).map(drop)
}

/// Sets the permission bits of `path`.
pub fn set_permissions(path: &str, mode: u32) -> Result<(), Errno> {
    sys::chmod(path.as_bytes(), mode).map(drop)
}

/// Changes the owner of `path` (`None` keeps that id).
pub fn chown(path: &str, uid: Option<u32>, gid: Option<u32>) -> Result<(), Errno> {
    sys::chown(
        path.as_bytes(),
        uid.unwrap_or(u32::MAX),
        gid.unwrap_or(u32::MAX),
    )
    .map(drop)
}

/// Mounts a `fstype` filesystem from `source` on the directory `target` with `options`
/// (`tmpfs`/`ramfs` work; other types give `ENODEV`).
pub fn mount(source: &str, target: &str, fstype: &str, options: &str) -> Result<(), Errno> {
    let text = |s: &str| abi::syscall::UserStr {
        ptr: s.as_ptr() as usize,
        len: s.len(),
    };
    let request = abi::syscall::MountRequest {
        source: text(source),
        target: text(target),
        fstype: text(fstype),
        options: text(options),
    };
    sys::mount(&request).map(drop)
}

/// `ls -l` style permission string of `mode` (`drwxr-xr-x`).
pub fn mode_string(mode: u32) -> String {
    let kind = match mode & S_IFMT {
        S_IFDIR => 'd',
        S_IFCHR => 'c',
        S_IFREG => '-',
        _ => '?',
    };
    let mut out = String::with_capacity(10);
    out.push(kind);
    for shift in [6u32, 3, 0] {
        let bits = (mode >> shift) & 7;
        out.push(if bits & 4 != 0 { 'r' } else { '-' });
        out.push(if bits & 2 != 0 { 'w' } else { '-' });
        out.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    out
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// Inode number.
    pub ino: u64,
    /// Type bits (`S_IFMT >> 12`).
    pub kind: u8,
    /// Name (not a path).
    pub name: String,
}

impl DirEntry {
    /// A directory.
    pub fn is_dir(&self) -> bool {
        u32::from(self.kind) << 12 == S_IFDIR
    }

    /// A regular file.
    pub fn is_file(&self) -> bool {
        u32::from(self.kind) << 12 == S_IFREG
    }
}

/// The entries of `path` ("." and ".." included if the kernel lists them).
pub fn read_dir(path: &str) -> Result<Vec<DirEntry>, Errno> {
    let dir = File::open_with(path, O_RDONLY | O_DIRECTORY, 0)?;
    let mut entries = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = sys::getdents(dir.fd, &mut buf)?;
        if n == 0 {
            return Ok(entries);
        }
        let records = buf.get(..n).ok_or(Errno::EINVAL)?;
        for record in Dirents::new(records) {
            let (header, name) = record?;
            entries.push(DirEntry {
                ino: header.ino,
                kind: header.kind,
                name: String::from_utf8_lossy(name).into_owned(),
            });
        }
    }
}

/// Iterates over packed `Dirent` records: a header, `name_len` bytes of name, the next
/// record `reclen` bytes further (rounded up to 8). A malformed record yields EINVAL and
/// ends the iteration.
#[derive(Clone, Debug)]
pub struct Dirents<'a> {
    rest: &'a [u8],
}

impl<'a> Dirents<'a> {
    /// Records in `buf` (the bytes `getdents` reported).
    pub fn new(buf: &'a [u8]) -> Self {
        Dirents { rest: buf }
    }
}

const DIRENT_HEADER: usize = core::mem::size_of::<Dirent>();

impl<'a> Iterator for Dirents<'a> {
    type Item = Result<(Dirent, &'a [u8]), Errno>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = Dirent::read_from_prefix(self.rest)
            .ok()
            .and_then(|(header, after)| {
                let name = after.get(..usize::from(header.name_len))?;
                let reclen = usize::from(header.reclen).next_multiple_of(8);
                if reclen < DIRENT_HEADER + name.len() {
                    return None;
                }
                Some((header, name, reclen))
            });
        match parsed {
            Some((header, name, reclen)) => {
                self.rest = self.rest.get(reclen..).unwrap_or_default();
                Some(Ok((header, name)))
            }
            None => {
                self.rest = &[];
                Some(Err(Errno::EINVAL))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocopy::IntoBytes;

    fn record(ino: u64, kind: u8, name: &str, pad_to_8: bool) -> Vec<u8> {
        let len = DIRENT_HEADER + name.len();
        let reclen = if pad_to_8 {
            len.next_multiple_of(8)
        } else {
            len
        };
        let header = Dirent {
            ino,
            reclen: reclen as u16,
            kind,
            name_len: name.len() as u8,
            reserved: 0,
        };
        let mut out = header.as_bytes().to_vec();
        out.extend_from_slice(name.as_bytes());
        out.resize(len.next_multiple_of(8), 0);
        out
    }

    #[test]
    fn parses_packed_records() {
        let mut buf = record(1, 4, ".", true);
        buf.extend(record(7, 8, "hello", true));
        buf.extend(record(9, 8, "crasher", false));
        let got: Vec<(u64, u8, Vec<u8>)> = Dirents::new(&buf)
            .map(|r| r.map(|(h, n)| (h.ino, h.kind, n.to_vec())))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            got,
            [
                (1, 4, b".".to_vec()),
                (7, 8, b"hello".to_vec()),
                (9, 8, b"crasher".to_vec())
            ]
        );
    }

    #[test]
    fn rejects_truncated_and_short_records() {
        let buf = record(1, 8, "init", true);
        let mut it = Dirents::new(&buf[..buf.len() - 6]);
        assert_eq!(it.next(), Some(Err(Errno::EINVAL)));
        assert_eq!(it.next(), None);
        let mut bad = record(1, 8, "init", true);
        bad[8] = 4; // reclen smaller than the header
        assert!(matches!(
            Dirents::new(&bad).next(),
            Some(Err(Errno::EINVAL))
        ));
        assert_eq!(Dirents::new(&[]).next(), None);
    }

    #[test]
    fn mode_strings() {
        assert_eq!(mode_string(S_IFDIR | 0o755), "drwxr-xr-x");
        assert_eq!(mode_string(S_IFREG | 0o640), "-rw-r-----");
        assert_eq!(mode_string(S_IFCHR | 0o600), "crw-------");
    }

    #[test]
    fn entry_kinds() {
        let e = DirEntry {
            ino: 1,
            kind: (S_IFDIR >> 12) as u8,
            name: "bin".into(),
        };
        assert!(e.is_dir() && !e.is_file());
    }
}
