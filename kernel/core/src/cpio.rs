//! The SVR4 "newc" cpio format (magic `070701`), the format of Linux and OpenHarmony initramfs
//! images: a reader for the archive the boot loader hands over, and a writer for the build tool.
//!
//! Layout (see `man 5 cpio`, "New ASCII Format"): each member is a 110-byte header — the
//! 6-byte magic and 13 fields of 8 ASCII hex digits (ino, mode, uid, gid, nlink, mtime,
//! filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check) — then `namesize`
//! bytes of NUL-terminated name, padding to a multiple of 4, then `filesize` bytes of data,
//! padding to a multiple of 4. The member named `TRAILER!!!` ends the archive.
//!
//! The reader trusts nothing: every number is checked, every offset computed with checked
//! arithmetic and every slice taken with `get`, so a hostile or truncated archive produces a
//! [`CpioError`], never a panic. The CRC variant (`070702`) has the same layout and is read
//! too; its checksum is not verified.

mod writer;

#[cfg(test)]
mod tests;

use core::fmt;

pub use writer::CpioWriter;

/// Magic of the "newc" format.
pub const MAGIC_NEWC: &[u8; 6] = b"070701";
/// Magic of the "crc" format: the same layout plus a checksum of the data.
pub const MAGIC_CRC: &[u8; 6] = b"070702";
/// Name of the member that ends an archive.
pub const TRAILER: &str = "TRAILER!!!";
/// Bytes of a member header.
pub const HEADER_LEN: usize = 110;
/// Longest member name (including the NUL) the reader accepts, as Linux's `PATH_MAX`.
pub const MAX_NAME_LEN: usize = 4096;

/// Why an archive could not be read (or a member could not be written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpioError {
    /// A header does not start with `070701` or `070702`.
    BadMagic,
    /// The archive ends inside a header, name or data, or before the trailer.
    Truncated,
    /// A header field is not 8 hex digits.
    BadNumber,
    /// A name is empty, lacks its NUL terminator, contains a NUL or is not UTF-8.
    BadName,
    /// A name is longer than [`MAX_NAME_LEN`], or a size does not fit the format or memory.
    TooLarge,
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadMagic => "cpio: bad header magic (not newc)",
            Self::Truncated => "cpio: archive truncated",
            Self::BadNumber => "cpio: header field is not hex",
            Self::BadName => "cpio: bad member name",
            Self::TooLarge => "cpio: name or size too large",
        })
    }
}

/// One member of an archive, borrowing its name and data from the archive bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpioEntry<'a> {
    /// Path inside the archive with any leading `/` and `./` removed (`"."` becomes `""`).
    pub name: &'a str,
    /// Type (`S_IF*`) and permission bits.
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Inode number inside the archive (links share one).
    pub ino: u32,
    /// Link count.
    pub nlink: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
    /// Major number of the device a device node stands for.
    pub rdev_major: u32,
    /// Minor number of the device a device node stands for.
    pub rdev_minor: u32,
    /// The member's contents (for a symlink, its target).
    pub data: &'a [u8],
}

/// Iterator over the members of an archive; see [`entries`].
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    /// The whole archive.
    archive: &'a [u8],
    /// Offset of the next header.
    offset: usize,
    /// Set after the trailer or an error: nothing more is yielded.
    done: bool,
}

/// Iterates over the members of a newc archive, in archive order.
///
/// Stops after the `TRAILER!!!` member (which is not yielded). An archive that ends without
/// a trailer yields `Err(Truncated)`. After any error the iterator yields nothing more.
pub fn entries(archive: &[u8]) -> Entries<'_> {
    Entries {
        archive,
        offset: 0,
        done: false,
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<CpioEntry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match parse_member(self.archive, self.offset) {
            Ok((entry, next)) => {
                self.offset = next;
                if entry.name == TRAILER {
                    self.done = true;
                    None
                } else {
                    Some(Ok(entry))
                }
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// The raw numeric fields of a header, in on-disk order.
struct Header {
    ino: u32,
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    mtime: u32,
    filesize: u32,
    rdev_major: u32,
    rdev_minor: u32,
    namesize: u32,
}

/// Parses the member whose header starts at `offset`; returns it and the next header's offset.
fn parse_member(archive: &[u8], offset: usize) -> Result<(CpioEntry<'_>, usize), CpioError> {
    let header_end = offset.checked_add(HEADER_LEN).ok_or(CpioError::TooLarge)?;
    // Report a wrong magic even when the rest of the header is missing.
    if let Some(magic) = archive.get(offset..).and_then(|rest| rest.get(..6))
        && magic != MAGIC_NEWC
        && magic != MAGIC_CRC
    {
        return Err(CpioError::BadMagic);
    }
    let raw = archive
        .get(offset..header_end)
        .ok_or(CpioError::Truncated)?;
    let header = parse_header(raw)?;

    let namesize = usize::try_from(header.namesize).map_err(|_| CpioError::TooLarge)?;
    if namesize == 0 {
        return Err(CpioError::BadName);
    }
    if namesize > MAX_NAME_LEN {
        return Err(CpioError::TooLarge);
    }
    let name_end = header_end
        .checked_add(namesize)
        .ok_or(CpioError::TooLarge)?;
    let name_with_nul = archive
        .get(header_end..name_end)
        .ok_or(CpioError::Truncated)?;
    let name = parse_name(name_with_nul)?;

    let data_start = align4(name_end)?;
    let filesize = usize::try_from(header.filesize).map_err(|_| CpioError::TooLarge)?;
    let data_end = data_start
        .checked_add(filesize)
        .ok_or(CpioError::TooLarge)?;
    let data = archive
        .get(data_start..data_end)
        .ok_or(CpioError::Truncated)?;
    let next = align4(data_end)?;

    let entry = CpioEntry {
        name: strip_prefix(name),
        mode: header.mode,
        uid: header.uid,
        gid: header.gid,
        ino: header.ino,
        nlink: header.nlink,
        mtime: header.mtime,
        rdev_major: header.rdev_major,
        rdev_minor: header.rdev_minor,
        data,
    };
    Ok((entry, next))
}

/// Decodes the magic and the 13 hex fields of a 110-byte header.
fn parse_header(raw: &[u8]) -> Result<Header, CpioError> {
    let magic = raw.get(..6).ok_or(CpioError::Truncated)?;
    if magic != MAGIC_NEWC && magic != MAGIC_CRC {
        return Err(CpioError::BadMagic);
    }
    let mut fields = [0u32; 13];
    for (i, field) in fields.iter_mut().enumerate() {
        let start = 6 + 8 * i;
        let digits = raw.get(start..start + 8).ok_or(CpioError::Truncated)?;
        *field = parse_hex(digits)?;
    }
    let [
        ino,
        mode,
        uid,
        gid,
        nlink,
        mtime,
        filesize,
        _dev_major,
        _dev_minor,
        rdev_major,
        rdev_minor,
        namesize,
        _check,
    ] = fields;
    Ok(Header {
        ino,
        mode,
        uid,
        gid,
        nlink,
        mtime,
        filesize,
        rdev_major,
        rdev_minor,
        namesize,
    })
}

/// Parses exactly 8 ASCII hex digits (either case).
fn parse_hex(digits: &[u8]) -> Result<u32, CpioError> {
    if digits.len() != 8 {
        return Err(CpioError::BadNumber);
    }
    digits.iter().try_fold(0u32, |acc, &b| {
        let v = char::from(b).to_digit(16).ok_or(CpioError::BadNumber)?;
        Ok((acc << 4) | v)
    })
}

/// Checks the NUL terminator and UTF-8 of a name field (which includes the NUL).
fn parse_name(name_with_nul: &[u8]) -> Result<&str, CpioError> {
    let (last, name) = name_with_nul.split_last().ok_or(CpioError::BadName)?;
    if *last != 0 || name.contains(&0) {
        return Err(CpioError::BadName);
    }
    core::str::from_utf8(name).map_err(|_| CpioError::BadName)
}

/// Removes leading `/` and `./` (repeatedly); `"."` alone becomes `""`.
fn strip_prefix(mut name: &str) -> &str {
    loop {
        if let Some(rest) = name.strip_prefix('/') {
            name = rest;
        } else if let Some(rest) = name.strip_prefix("./") {
            name = rest;
        } else if name == "." {
            return "";
        } else {
            return name;
        }
    }
}

/// Rounds up to a multiple of 4 (the format's alignment).
fn align4(offset: usize) -> Result<usize, CpioError> {
    offset
        .checked_next_multiple_of(4)
        .ok_or(CpioError::TooLarge)
}
