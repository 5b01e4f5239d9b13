//! A process's address space: its translation table (mm's [`UserTable`], which owns the
//! frames mapped into it) and its list of mappings (VMAs). Anonymous memory and stacks are
//! filled on first touch (demand-zero pages); program segments are loaded eagerly.

use crate::arch::layout::{USER_END, USER_MMAP_BASE, USER_MMAP_END, USER_START};
use crate::mm::frame::Frame;
use crate::mm::user_table::UserTable;
use crate::sched::UserSpace;
use crate::sync::IrqSafeMutex;
use abi::Errno;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use kcore::PAGE_SIZE;
use kcore::pagetable::{Attrs, MapError};

const PAGE: u64 = PAGE_SIZE as u64;
/// Most bytes a process may have mapped (virtual), so a hostile mmap cannot exhaust tables.
const MAX_MAPPED: u64 = 1 << 30;

/// Access rights of a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perms {
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

impl Perms {
    /// From `PROT_*` bits.
    pub fn from_prot(prot: usize) -> Self {
        use abi::syscall::mman::{PROT_EXEC, PROT_READ, PROT_WRITE};
        Perms {
            read: prot & PROT_READ != 0,
            write: prot & PROT_WRITE != 0,
            exec: prot & PROT_EXEC != 0,
        }
    }

    fn attrs(self) -> Attrs {
        match (self.write, self.exec) {
            (_, true) => Attrs::USER_RX,
            (true, false) => Attrs::USER_RW,
            (false, false) => Attrs::USER_RO,
        }
    }
}

/// What backs a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmaKind {
    /// Zero-filled on demand; frames owned by the space.
    Anonymous,
    /// Loaded from a program file; frames owned by the space.
    Image,
    /// Frames owned elsewhere (e.g. a LiteIPC pool), kept alive by the table while mapped.
    Shared,
}

#[derive(Clone, Copy, Debug)]
struct Vma {
    end: u64,
    perms: Perms,
    kind: VmaKind,
}

struct Inner {
    table: UserTable,
    /// start -> mapping, non-overlapping.
    vmas: BTreeMap<u64, Vma>,
    mapped: u64,
}

/// A user address space.
pub struct AddressSpace {
    inner: IrqSafeMutex<Inner>,
}

/// Why a user fault could not be resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// No mapping there, or the mapping forbids the access.
    Segv,
    /// No memory for the page.
    OutOfMemory,
}

/// The errno for a page-table failure.
fn map_errno(error: MapError) -> Errno {
    match error {
        MapError::NoMemory => Errno::ENOMEM,
        _ => Errno::EINVAL,
    }
}

impl AddressSpace {
    /// An empty address space.
    pub fn new() -> Result<Self, Errno> {
        let table = UserTable::new().map_err(map_errno)?;
        Ok(AddressSpace {
            inner: IrqSafeMutex::new(Inner {
                table,
                vmas: BTreeMap::new(),
                mapped: 0,
            }),
        })
    }

    /// Maps `frames` (owned by the space from now on) at `va` with `perms`.
    pub fn map_image(&self, va: u64, frames: Vec<Frame>, perms: Perms) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        inner.insert_vma(va, frames.len() as u64 * PAGE, perms, VmaKind::Image)?;
        for (i, frame) in frames.into_iter().enumerate() {
            let page = va + i as u64 * PAGE;
            inner
                .table
                .map_frame(page, frame, perms.attrs())
                .map_err(map_errno)?;
        }
        Ok(())
    }

    /// Maps frames owned by someone else: the space keeps them alive while they are mapped.
    pub fn map_shared(&self, va: u64, frames: &Arc<[Frame]>, perms: Perms) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        inner.insert_vma(va, frames.len() as u64 * PAGE, perms, VmaKind::Shared)?;
        if let Err(error) = inner.table.map_shared(va, frames, perms.attrs()) {
            inner.remove_vma(va);
            return Err(map_errno(error));
        }
        Ok(())
    }

    /// Reserves `[va, va+len)` for zero-fill-on-demand memory.
    pub fn map_anonymous(&self, va: u64, len: u64, perms: Perms) -> Result<(), Errno> {
        self.inner
            .lock()
            .insert_vma(va, len, perms, VmaKind::Anonymous)
    }

    /// Finds a free range of `len` bytes in the mmap area.
    pub fn find_free(&self, len: u64) -> Option<u64> {
        let inner = self.inner.lock();
        let mut candidate = USER_MMAP_BASE;
        for (&start, vma) in inner.vmas.range(USER_MMAP_BASE..) {
            if start >= candidate.checked_add(len)? {
                break;
            }
            candidate = candidate.max(vma.end);
        }
        (candidate.checked_add(len)? <= USER_MMAP_END).then_some(candidate)
    }

    /// Removes every mapping in `[va, va+len)`, freeing owned frames.
    pub fn unmap(&self, va: u64, len: u64) -> Result<(), Errno> {
        let (start, end) = page_range(va, len)?;
        let mut inner = self.inner.lock();
        inner.split_at(start);
        inner.split_at(end);
        let doomed: alloc::vec::Vec<(u64, Vma)> = inner
            .vmas
            .range(start..end)
            .map(|(s, v)| (*s, *v))
            .collect();
        for (vma_start, vma) in doomed {
            inner.release_pages(vma_start, vma.end);
            inner.vmas.remove(&vma_start);
            inner.mapped -= vma.end - vma_start;
        }
        Ok(())
    }

    /// Changes the protection of every page in `[va, va+len)`; all of it must be mapped.
    pub fn protect(&self, va: u64, len: u64, perms: Perms) -> Result<(), Errno> {
        if perms.write && perms.exec {
            return Err(Errno::EACCES);
        }
        let (start, end) = page_range(va, len)?;
        let mut inner = self.inner.lock();
        if !inner.covered(start, end) {
            return Err(Errno::ENOMEM);
        }
        // Memory the space does not own (a LiteIPC pool) keeps the rights it was mapped with.
        if inner
            .vmas
            .range(..end)
            .any(|(&s, v)| v.end > start && s < end && v.kind == VmaKind::Shared)
        {
            return Err(Errno::EACCES);
        }
        inner.split_at(start);
        inner.split_at(end);
        let starts: alloc::vec::Vec<u64> = inner.vmas.range(start..end).map(|(s, _)| *s).collect();
        for vma_start in starts {
            let Some(vma) = inner.vmas.get_mut(&vma_start) else {
                continue;
            };
            vma.perms = perms;
            let vma_end = vma.end;
            inner.reprotect_pages(vma_start, vma_end, perms);
        }
        Ok(())
    }

    /// Resolves a fault at `addr`: maps a zeroed page if a demand-zero mapping allows the
    /// access there.
    pub fn handle_fault(&self, addr: u64, write: bool, exec: bool) -> Result<(), FaultError> {
        let mut inner = self.inner.lock();
        let page = addr & !(PAGE - 1);
        let (_, vma) = inner
            .vmas
            .range(..=page)
            .next_back()
            .filter(|(_, v)| page < v.end)
            .ok_or(FaultError::Segv)?;
        let vma = *vma;
        let allowed = if exec {
            vma.perms.exec
        } else if write {
            vma.perms.write
        } else {
            vma.perms.read || vma.perms.exec
        };
        if !allowed || vma.kind != VmaKind::Anonymous || inner.table.is_mapped(page) {
            return Err(FaultError::Segv);
        }
        let frame = Frame::alloc_zeroed().ok_or(FaultError::OutOfMemory)?;
        inner
            .table
            .map_frame(page, frame, vma.perms.attrs())
            .map_err(|_| FaultError::OutOfMemory)
    }

    /// Copies `data` to user address `addr` of this space through the kernel's view of its
    /// pages (for a space that is not running yet: a new program's stack), faulting in
    /// demand-zero pages as a write would.
    pub fn write_user(&self, mut addr: u64, mut data: &[u8]) -> Result<(), Errno> {
        while !data.is_empty() {
            let n = data.len().min(PAGE_SIZE - (addr % PAGE) as usize);
            if addr.checked_add(n as u64).is_none_or(|end| end > USER_END) {
                return Err(Errno::EFAULT);
            }
            if !self.inner.lock().table.is_mapped(addr) {
                self.handle_fault(addr, true, false)
                    .map_err(|_| Errno::ENOMEM)?;
            }
            let (piece, rest) = data.split_at(n);
            self.inner
                .lock()
                .table
                .write(addr, piece)
                .map_err(|_| Errno::EFAULT)?;
            addr += n as u64;
            data = rest;
        }
        Ok(())
    }
}

impl UserSpace for AddressSpace {
    /// Installs this space in TTBR0, taking a fresh ASID if its old one went stale.
    fn activate(&self) {
        self.inner.lock().table.activate();
    }
}

fn page_range(va: u64, len: u64) -> Result<(u64, u64), Errno> {
    if !va.is_multiple_of(PAGE) || len == 0 {
        return Err(Errno::EINVAL);
    }
    let end = va
        .checked_add(len)
        .and_then(|e| e.checked_next_multiple_of(PAGE))
        .ok_or(Errno::EINVAL)?;
    if va < USER_START || end > USER_END {
        return Err(Errno::EINVAL);
    }
    Ok((va, end))
}

impl Inner {
    fn insert_vma(&mut self, va: u64, len: u64, perms: Perms, kind: VmaKind) -> Result<(), Errno> {
        if perms.write && perms.exec {
            return Err(Errno::EACCES);
        }
        let (start, end) = page_range(va, len)?;
        if self.mapped + (end - start) > MAX_MAPPED {
            return Err(Errno::ENOMEM);
        }
        let overlaps = self
            .vmas
            .range(..end)
            .next_back()
            .is_some_and(|(_, v)| v.end > start);
        if overlaps {
            return Err(Errno::EEXIST);
        }
        self.vmas.insert(start, Vma { end, perms, kind });
        self.mapped += end - start;
        Ok(())
    }

    /// Whether [start, end) is wholly covered by mappings.
    fn covered(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.vmas.range(..=at).next_back() {
                Some((_, vma)) if vma.end > at => at = vma.end,
                _ => return false,
            }
        }
        true
    }

    /// Splits the mapping containing `at` (if any) so that one starts exactly at `at`.
    fn split_at(&mut self, at: u64) {
        let Some((&start, vma)) = self.vmas.range(..at).next_back() else {
            return;
        };
        if vma.end > at {
            let tail = Vma {
                end: vma.end,
                ..*vma
            };
            if let Some(head) = self.vmas.get_mut(&start) {
                head.end = at;
            }
            self.vmas.insert(at, tail);
        }
    }

    /// Forgets the mapping that starts at `start` (its pages were never mapped).
    fn remove_vma(&mut self, start: u64) {
        if let Some(vma) = self.vmas.remove(&start) {
            self.mapped -= vma.end - start;
        }
    }

    /// Unmaps every page of `[start, end)`: the table frees owned frames and releases shared
    /// ones once unmapped.
    fn release_pages(&mut self, start: u64, end: u64) {
        for page in (start..end).step_by(PAGE_SIZE) {
            self.table.unmap_page(page);
        }
    }

    fn reprotect_pages(&mut self, start: u64, end: u64, perms: Perms) {
        for page in (start..end).step_by(PAGE_SIZE) {
            self.table.protect_page(page, perms.attrs());
        }
    }
}
