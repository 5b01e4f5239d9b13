//! A process's address space: its TTBR0 table, its ASID and its list of mappings (VMAs).
//! Anonymous memory and stacks are filled on first touch (demand-zero pages); program
//! segments are loaded eagerly. Frames of mappings the space owns are freed with it.

use crate::arch::cpu;
use crate::arch::layout::{USER_END, USER_MMAP_BASE, USER_MMAP_END, USER_START};
use crate::mm::{frame, paging::KernelTableMemory};
use crate::sync::IrqSafeMutex;
use abi::Errno;
use alloc::collections::BTreeMap;
use kcore::asid::{Asid, AsidAllocator};
use kcore::pagetable::{Attrs, MapError, PageTable};
use kcore::{PAGE_SIZE, PhysAddr, VirtAddr};

const PAGE: u64 = PAGE_SIZE as u64;
/// Most bytes a process may have mapped (virtual), so a hostile mmap cannot exhaust tables.
const MAX_MAPPED: u64 = 1 << 30;

static ASIDS: IrqSafeMutex<Option<AsidAllocator>> = IrqSafeMutex::new(None);

/// Sets up ASID allocation for the CPU's ASID width.
pub fn init_asids() {
    *ASIDS.lock() = Some(AsidAllocator::new(cpu::asid_bits()));
}

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
    /// Frames owned elsewhere (e.g. a LiteIPC pool); only the mapping goes with the space.
    Shared,
}

#[derive(Clone, Copy, Debug)]
struct Vma {
    end: u64,
    perms: Perms,
    kind: VmaKind,
}

struct Inner {
    table: PageTable,
    /// start -> mapping, non-overlapping.
    vmas: BTreeMap<u64, Vma>,
    asid: Option<Asid>,
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
        let table = PageTable::new(&mut KernelTableMemory).map_err(map_errno)?;
        Ok(AddressSpace {
            inner: IrqSafeMutex::new(Inner {
                table,
                vmas: BTreeMap::new(),
                asid: None,
                mapped: 0,
            }),
        })
    }

    /// Installs this space in TTBR0, taking a fresh ASID if its old one went stale.
    pub fn activate(&self) {
        let mut inner = self.inner.lock();
        let mut asids = ASIDS.lock();
        let Some(allocator) = asids.as_mut() else {
            return;
        };
        let asid = match inner.asid {
            Some(asid) if allocator.is_current(asid) => asid,
            _ => {
                let (asid, flush) = allocator.allocate();
                if flush {
                    cpu::flush_tlb_all();
                }
                inner.asid = Some(asid);
                asid
            }
        };
        // SAFETY: the table is this space's complete user table; the kernel runs from TTBR1.
        #[allow(unsafe_code, reason = "TTBR0 switch")]
        unsafe {
            cpu::switch_user_table(inner.table.root().as_u64(), asid.value())
        };
    }

    /// Maps `frames` (owned by the space from now on) at `va` with `perms`.
    pub fn map_image(&self, va: u64, frames: &[PhysAddr], perms: Perms) -> Result<(), Errno> {
        self.map_frames(va, frames, perms, VmaKind::Image)
    }

    /// Maps frames owned by someone else (they are not freed with the space).
    pub fn map_shared(&self, va: u64, frames: &[PhysAddr], perms: Perms) -> Result<(), Errno> {
        self.map_frames(va, frames, perms, VmaKind::Shared)
    }

    fn map_frames(
        &self,
        va: u64,
        frames: &[PhysAddr],
        perms: Perms,
        kind: VmaKind,
    ) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        inner.insert_vma(va, frames.len() as u64 * PAGE, perms, kind)?;
        for (i, frame) in frames.iter().enumerate() {
            let page = VirtAddr(va + i as u64 * PAGE);
            let mapped = inner.table.map(
                &mut KernelTableMemory,
                page,
                *frame,
                PAGE,
                perms.attrs(),
                false,
            );
            mapped.map_err(map_errno)?;
        }
        cpu::publish_table_writes();
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
            inner.release_pages(vma_start, vma.end, vma.kind);
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
        if !allowed
            || vma.kind != VmaKind::Anonymous
            || inner
                .table
                .translate(&KernelTableMemory, VirtAddr(page))
                .is_some()
        {
            return Err(FaultError::Segv);
        }
        let frame = frame::alloc_zeroed().ok_or(FaultError::OutOfMemory)?;
        if inner
            .table
            .map(
                &mut KernelTableMemory,
                VirtAddr(page),
                frame,
                PAGE,
                vma.perms.attrs(),
                false,
            )
            .is_err()
        {
            frame::free(frame);
            return Err(FaultError::OutOfMemory);
        }
        cpu::publish_table_writes();
        Ok(())
    }

    /// The frame behind a user page, faulting it in if needed (for the kernel to fill).
    pub fn frame_for(&self, addr: u64, write: bool) -> Result<PhysAddr, FaultError> {
        let page = VirtAddr(addr & !(PAGE - 1));
        if let Some((pa, _)) = self.inner.lock().table.translate(&KernelTableMemory, page) {
            return Ok(pa);
        }
        self.handle_fault(addr, write, false)?;
        self.inner
            .lock()
            .table
            .translate(&KernelTableMemory, page)
            .map(|(pa, _)| pa)
            .ok_or(FaultError::Segv)
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

    fn release_pages(&mut self, start: u64, end: u64, kind: VmaKind) {
        let asid = self.asid;
        let mut page = start;
        while page < end {
            if let Some((pa, _)) = self.table.translate(&KernelTableMemory, VirtAddr(page)) {
                let _ = self
                    .table
                    .unmap(&mut KernelTableMemory, VirtAddr(page), PAGE);
                if let Some(asid) = asid {
                    cpu::flush_tlb_user_page(page, asid.value());
                }
                if kind != VmaKind::Shared {
                    frame::free(pa);
                }
            }
            page += PAGE;
        }
    }

    fn reprotect_pages(&mut self, start: u64, end: u64, perms: Perms) {
        let asid = self.asid;
        let mut page = start;
        while page < end {
            if self
                .table
                .translate(&KernelTableMemory, VirtAddr(page))
                .is_some()
            {
                let _ =
                    self.table
                        .protect(&mut KernelTableMemory, VirtAddr(page), PAGE, perms.attrs());
                if let Some(asid) = asid {
                    cpu::flush_tlb_user_page(page, asid.value());
                }
            }
            page += PAGE;
        }
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        let vmas: alloc::vec::Vec<(u64, Vma)> = inner.vmas.iter().map(|(s, v)| (*s, *v)).collect();
        for (start, vma) in vmas {
            inner.release_pages(start, vma.end, vma.kind);
        }
        let table = core::mem::replace(&mut inner.table, PageTable::from_root(PhysAddr(0)));
        table.destroy(&mut KernelTableMemory);
        if let Some(asid) = inner.asid.take() {
            cpu::flush_tlb_asid(asid.value());
            if let Some(allocator) = ASIDS.lock().as_mut() {
                allocator.free(asid);
            }
        }
    }
}
