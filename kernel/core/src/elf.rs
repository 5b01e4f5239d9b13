//! Validation and load planning for static AArch64 executables (ELF64, little endian, `ET_EXEC`).
//!
//! `goblin` decodes the ELF header and program headers (System V gABI, "ELF Header" and
//! "Program Header"; AArch64 ELF ABI for `EM_AARCH64` = 183); this module decides whether the
//! image may run and turns its `PT_LOAD` headers into a [`LoadPlan`]. The kernel maps what the
//! plan says without further checks, so every rule that keeps that safe is enforced here:
//!
//! - each segment's file bytes lie inside the image and are no larger than its memory size;
//! - no address computation overflows, and every page a segment touches lies below both the
//!   caller's `user_end` and the 39-bit user half (`TTBR0`, [`USER_VA_LIMIT`]);
//! - `vaddr` and file offset agree modulo the 4 KiB page, so file pages map (or copy) in place;
//! - page-rounded segments do not overlap, none is both writable and executable (W^X);
//! - the entry point lies in an executable segment;
//! - the number of segments and their page-rounded total size are bounded.
//!
//! `ET_DYN` (PIE) is refused for now, as are interpreters: only `PT_LOAD` is planned and every
//! other program header (`PT_INTERP`, `PT_DYNAMIC`, `PT_GNU_STACK`, ...) is ignored.

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fuzz;

use alloc::vec::Vec;
use core::fmt;

use abi::Errno;
use goblin::elf::header::{
    EI_CLASS, EI_DATA, EI_VERSION, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_AARCH64, ET_EXEC, EV_CURRENT,
};
use goblin::elf::program_header::{PF_R, PF_W, PF_X, PT_LOAD, PT_PHDR};
use goblin::elf64::header::Header;
use goblin::elf64::program_header::{ProgramHeader, SIZEOF_PHDR};
use scroll::Pread;

/// Page size segments are mapped with.
pub const PAGE_SIZE: u64 = 4096;
/// First address outside the user half of a 39-bit address space; nothing may reach it.
pub const USER_VA_LIMIT: u64 = 1 << 39;
/// Most program headers read, as Linux: the table must fit one page (4096 / 56 = 73).
pub const MAX_PROGRAM_HEADERS: usize = (PAGE_SIZE as usize) / SIZEOF_PHDR;

/// Why an image cannot be loaded. See [`ElfError::errno`] for what a caller reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError {
    /// No `\x7fELF` magic.
    NotElf,
    /// Not ELFCLASS64.
    WrongClass,
    /// Not little endian.
    WrongEndian,
    /// Not `EM_AARCH64`.
    WrongMachine,
    /// Not `ET_EXEC` (relocatables, shared objects and PIE are refused).
    NotExecutable,
    /// Truncated or inconsistent header: ident/header version, program header size or table
    /// outside the file.
    BadHeader,
    /// No program headers, or no `PT_LOAD` segment with a non-zero memory size.
    NoSegments,
    /// More than [`MAX_PROGRAM_HEADERS`] program headers or `max_segments` loadable segments.
    TooManySegments,
    /// A segment's file bytes extend past the end of the image.
    SegmentOutsideFile,
    /// A segment's file size exceeds its memory size, or a segment or the total exceeds
    /// `max_total_size`.
    SegmentTooLarge,
    /// An offset or address computation overflows.
    SegmentOverflow,
    /// A segment reaches the kernel half or `user_end`.
    KernelAddress,
    /// Two segments share a page.
    OverlappingSegments,
    /// `vaddr` and file offset differ modulo the page size.
    Misaligned,
    /// A segment is both writable and executable.
    WriteAndExecute,
    /// The entry point is not inside an executable segment.
    EntryNotExecutable,
}

impl ElfError {
    /// The errno an `execve`/`spawn` caller gets.
    ///
    /// `ENOEXEC` when the file is not an executable this kernel runs (not ELF, wrong class,
    /// byte order, machine or type, malformed header, nothing to load); `EINVAL` when it is one
    /// but its segment numbers describe a layout the kernel refuses (sizes, addresses,
    /// alignment, overlap, permissions, entry, counts).
    pub fn errno(self) -> Errno {
        match self {
            Self::NotElf
            | Self::WrongClass
            | Self::WrongEndian
            | Self::WrongMachine
            | Self::NotExecutable
            | Self::BadHeader
            | Self::NoSegments => Errno::ENOEXEC,
            Self::TooManySegments
            | Self::SegmentOutsideFile
            | Self::SegmentTooLarge
            | Self::SegmentOverflow
            | Self::KernelAddress
            | Self::OverlappingSegments
            | Self::Misaligned
            | Self::WriteAndExecute
            | Self::EntryNotExecutable => Errno::EINVAL,
        }
    }
}

impl From<ElfError> for Errno {
    fn from(e: ElfError) -> Self {
        e.errno()
    }
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Access rights of a segment's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentPerms {
    /// Readable (`PF_R`).
    pub read: bool,
    /// Writable (`PF_W`); never together with `exec`.
    pub write: bool,
    /// Executable (`PF_X`).
    pub exec: bool,
}

/// One region to map: `mem_size` bytes at `vaddr`, the first `file_size` copied from the image
/// at `file_offset`, the rest zero (bss).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Start address (not necessarily page aligned; `vaddr % 4096 == file_offset % 4096`).
    pub vaddr: u64,
    /// Bytes of memory, > 0.
    pub mem_size: u64,
    /// Offset of the file bytes in the image.
    pub file_offset: u64,
    /// Bytes taken from the image (`<= mem_size`; `file_offset + file_size <= image.len()`).
    pub file_size: u64,
    /// Page permissions.
    pub perms: SegmentPerms,
}

impl Segment {
    /// First page address the segment touches.
    pub fn page_start(&self) -> u64 {
        self.vaddr - self.vaddr % PAGE_SIZE
    }

    /// End of the last page the segment touches (the plan guarantees no overflow).
    pub fn page_end(&self) -> u64 {
        page_end(self.vaddr, self.mem_size).unwrap_or(u64::MAX)
    }
}

/// What the kernel must map, in ascending address order, and the values for the aux vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadPlan {
    /// Entry point (inside an executable segment).
    pub entry: u64,
    /// Loadable segments, sorted by address, non-overlapping at page granularity.
    pub segments: Vec<Segment>,
    /// Address of the program header table in the loaded image (`AT_PHDR`), if it is loaded.
    pub phdr_vaddr: Option<u64>,
    /// Size of one program header (`AT_PHENT`).
    pub phent: u16,
    /// Number of program headers (`AT_PHNUM`).
    pub phnum: u16,
}

/// Bounds the caller imposes on a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElfLimits {
    /// First address user segments may not reach (clamped to [`USER_VA_LIMIT`]).
    pub user_end: u64,
    /// Most loadable segments.
    pub max_segments: usize,
    /// Most bytes of page-rounded segment memory in total.
    pub max_total_size: u64,
}

impl ElfLimits {
    /// The whole user half, 16 segments, 256 MiB.
    pub const DEFAULT: ElfLimits = ElfLimits {
        user_end: USER_VA_LIMIT,
        max_segments: 16,
        max_total_size: 256 << 20,
    };
}

impl Default for ElfLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Validates `image` and returns what to map; see the module docs for the rules.
pub fn load_plan(image: &[u8], limits: &ElfLimits) -> Result<LoadPlan, ElfError> {
    let header = parse_header(image)?;
    let phdrs = program_headers(image, &header)?;
    let user_end = limits.user_end.min(USER_VA_LIMIT);

    let mut segments = Vec::new();
    let mut total: u64 = 0;
    for ph in phdrs.iter().filter(|ph| ph.p_type == PT_LOAD) {
        let Some(seg) = check_segment(ph, image.len(), user_end)? else {
            continue;
        };
        total = total
            .checked_add(seg.page_end() - seg.page_start())
            .ok_or(ElfError::SegmentOverflow)?;
        if total > limits.max_total_size {
            return Err(ElfError::SegmentTooLarge);
        }
        if segments.len() >= limits.max_segments {
            return Err(ElfError::TooManySegments);
        }
        segments.push(seg);
    }
    if segments.is_empty() {
        return Err(ElfError::NoSegments);
    }
    segments.sort_by_key(|s| s.vaddr);
    if segments
        .windows(2)
        .any(|w| matches!(w, [a, b] if a.page_end() > b.page_start()))
    {
        return Err(ElfError::OverlappingSegments);
    }
    let entry = header.e_entry;
    if !segments
        .iter()
        .any(|s| s.perms.exec && entry >= s.vaddr && entry - s.vaddr < s.mem_size)
    {
        return Err(ElfError::EntryNotExecutable);
    }
    let phdr_vaddr = phdr_address(&header, &phdrs, &segments);
    Ok(LoadPlan {
        entry,
        segments,
        phdr_vaddr,
        phent: header.e_phentsize,
        phnum: header.e_phnum,
    })
}

/// Checks identification and type and decodes the header with goblin.
fn parse_header(image: &[u8]) -> Result<Header, ElfError> {
    if image.get(..ELFMAG.len()) != Some(&ELFMAG[..]) {
        return Err(ElfError::NotElf);
    }
    match image.get(EI_CLASS) {
        Some(&ELFCLASS64) => {}
        Some(_) => return Err(ElfError::WrongClass),
        None => return Err(ElfError::BadHeader),
    }
    match image.get(EI_DATA) {
        Some(&ELFDATA2LSB) => {}
        Some(_) => return Err(ElfError::WrongEndian),
        None => return Err(ElfError::BadHeader),
    }
    let header: Header = image
        .pread_with(0, scroll::LE)
        .map_err(|_| ElfError::BadHeader)?;
    if header.e_ident.get(EI_VERSION) != Some(&EV_CURRENT)
        || header.e_version != u32::from(EV_CURRENT)
    {
        return Err(ElfError::BadHeader);
    }
    if header.e_machine != EM_AARCH64 {
        return Err(ElfError::WrongMachine);
    }
    if header.e_type != ET_EXEC {
        return Err(ElfError::NotExecutable);
    }
    if usize::from(header.e_phentsize) != SIZEOF_PHDR {
        return Err(ElfError::BadHeader);
    }
    Ok(header)
}

/// Decodes the program header table, which must lie inside the image.
fn program_headers(image: &[u8], header: &Header) -> Result<Vec<ProgramHeader>, ElfError> {
    let count = usize::from(header.e_phnum);
    if count == 0 {
        return Err(ElfError::NoSegments);
    }
    if count > MAX_PROGRAM_HEADERS {
        return Err(ElfError::TooManySegments);
    }
    let start = usize::try_from(header.e_phoff).map_err(|_| ElfError::BadHeader)?;
    let table_end = start
        .checked_add(count * SIZEOF_PHDR)
        .ok_or(ElfError::BadHeader)?;
    if table_end > image.len() {
        return Err(ElfError::BadHeader);
    }
    (0..count)
        .map(|i| {
            image
                .pread_with(start + i * SIZEOF_PHDR, scroll::LE)
                .map_err(|_| ElfError::BadHeader)
        })
        .collect()
}

/// Validates one `PT_LOAD` header; `None` for an empty segment (nothing to map).
fn check_segment(
    ph: &ProgramHeader,
    image_len: usize,
    user_end: u64,
) -> Result<Option<Segment>, ElfError> {
    if ph.p_filesz > ph.p_memsz {
        return Err(ElfError::SegmentTooLarge);
    }
    let file_end = ph
        .p_offset
        .checked_add(ph.p_filesz)
        .ok_or(ElfError::SegmentOverflow)?;
    if file_end > image_len as u64 {
        return Err(ElfError::SegmentOutsideFile);
    }
    if ph.p_memsz == 0 {
        return Ok(None);
    }
    let end = page_end(ph.p_vaddr, ph.p_memsz).ok_or(ElfError::SegmentOverflow)?;
    if end > user_end {
        return Err(ElfError::KernelAddress);
    }
    if ph.p_vaddr % PAGE_SIZE != ph.p_offset % PAGE_SIZE {
        return Err(ElfError::Misaligned);
    }
    let perms = SegmentPerms {
        read: ph.p_flags & PF_R != 0,
        write: ph.p_flags & PF_W != 0,
        exec: ph.p_flags & PF_X != 0,
    };
    if perms.write && perms.exec {
        return Err(ElfError::WriteAndExecute);
    }
    Ok(Some(Segment {
        vaddr: ph.p_vaddr,
        mem_size: ph.p_memsz,
        file_offset: ph.p_offset,
        file_size: ph.p_filesz,
        perms,
    }))
}

/// `vaddr + size` rounded up to a page, or `None` on overflow.
fn page_end(vaddr: u64, size: u64) -> Option<u64> {
    vaddr.checked_add(size)?.checked_next_multiple_of(PAGE_SIZE)
}

/// Where the program header table is in memory: `PT_PHDR`'s address, else the address of the
/// file bytes at `e_phoff`; kept only if the whole table lies in a segment's file-backed part.
fn phdr_address(header: &Header, phdrs: &[ProgramHeader], segments: &[Segment]) -> Option<u64> {
    let table_size = u64::from(header.e_phnum) * SIZEOF_PHDR as u64;
    let from_file = || {
        segments.iter().find_map(|s| {
            let delta = header.e_phoff.checked_sub(s.file_offset)?;
            (delta < s.file_size).then(|| s.vaddr + delta)
        })
    };
    let vaddr = phdrs
        .iter()
        .find(|ph| ph.p_type == PT_PHDR)
        .map(|ph| ph.p_vaddr)
        .or_else(from_file)?;
    let end = vaddr.checked_add(table_size)?;
    segments
        .iter()
        .any(|s| vaddr >= s.vaddr && end <= s.vaddr + s.file_size)
        .then_some(vaddr)
}
