//! A user address space's translation table (TTBR0) and its ASID. The table owns the frames
//! mapped into it with [`UserTable::map_frame`] (a software bit in each such descriptor says
//! so) and frees them when they are unmapped or the table goes; frames owned elsewhere (a
//! LiteIPC pool) are mapped with [`UserTable::map_shared`], which keeps their owner's handle
//! alive as long as any of them is mapped, so no descriptor ever points at a freed frame.
//! Every unmap or protection change invalidates the page's TLB entries before a frame can
//! be reused.

use super::frame::Frame;
use super::paging::KernelTableMemory;
use crate::arch::cpu;
use crate::sync::IrqSafeMutex;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::mem::ManuallyDrop;
use kcore::asid::{Asid, AsidAllocator};
use kcore::pagetable::{Attrs, MapError, PageTable};
use kcore::{PAGE_SIZE, PhysAddr, VirtAddr};

const PAGE: u64 = PAGE_SIZE as u64;

static ASIDS: IrqSafeMutex<Option<AsidAllocator>> = IrqSafeMutex::new(None);

/// Installs the empty user table (ASID 0): no user address is mapped, as for kernel threads.
pub fn deactivate() {
    let root = super::paging::empty_user_root();
    if root != 0 {
        // SAFETY: an all-invalid table made at boot and never freed: every user address
        // faults; the kernel runs from TTBR1.
        unsafe { cpu::switch_user_table(root, 0) };
    }
}

/// Sets up ASID allocation for the CPU's ASID width.
pub fn init_asids() {
    *ASIDS.lock() = Some(AsidAllocator::new(cpu::asid_bits()));
}

/// Frames owned elsewhere, mapped at `[start, start + frames.len() pages)`.
struct SharedMapping {
    start: u64,
    frames: Arc<[Frame]>,
}

impl SharedMapping {
    fn end(&self) -> u64 {
        self.start + self.frames.len() as u64 * PAGE
    }
}

/// A user translation table with the frames it owns.
pub struct UserTable {
    table: PageTable,
    asid: Option<Asid>,
    shared: Vec<SharedMapping>,
}

impl UserTable {
    /// An empty table.
    pub fn new() -> Result<UserTable, MapError> {
        Ok(UserTable {
            table: PageTable::new(&mut KernelTableMemory::new())?,
            asid: None,
            shared: Vec::new(),
        })
    }

    /// Installs the table in TTBR0, taking a fresh ASID if its old one went stale.
    #[inline]
    pub fn activate(&mut self) {
        let mut asids = ASIDS.lock();
        let Some(allocator) = asids.as_mut() else {
            return;
        };
        let asid = match self.asid {
            Some(asid) if allocator.is_current(asid) => asid,
            _ => {
                let (asid, flush) = allocator.allocate();
                if flush {
                    cpu::flush_tlb_all();
                }
                self.asid = Some(asid);
                asid
            }
        };
        // SAFETY: the root is this complete user table's; the kernel runs from TTBR1.
        unsafe { cpu::switch_user_table(self.table.root().as_u64(), asid.value()) };
    }

    /// Maps `frame` at the page `va` with `attrs`; the table owns the frame from now on. On
    /// failure the frame is freed.
    pub fn map_frame(&mut self, va: u64, frame: Frame, attrs: Attrs) -> Result<(), MapError> {
        self.map_page(va, frame.pa(), attrs.owning())?;
        let _owned_by_the_table = frame.into_raw();
        Ok(())
    }

    /// Maps `frames` at consecutive pages from `va`, keeping `frames` alive until the last of
    /// them is unmapped. On failure nothing stays mapped.
    pub fn map_shared(
        &mut self,
        va: u64,
        frames: &Arc<[Frame]>,
        attrs: Attrs,
    ) -> Result<(), MapError> {
        for (i, frame) in frames.iter().enumerate() {
            let page = va + i as u64 * PAGE;
            if let Err(error) = self.map_page(page, frame.pa(), attrs) {
                for done in 0..i as u64 {
                    self.unmap_page(va + done * PAGE);
                }
                return Err(error);
            }
        }
        self.shared.push(SharedMapping {
            start: va,
            frames: frames.clone(),
        });
        Ok(())
    }

    fn map_page(&mut self, va: u64, pa: PhysAddr, attrs: Attrs) -> Result<(), MapError> {
        let mem = &mut KernelTableMemory::new();
        self.table.map(mem, VirtAddr(va), pa, PAGE, attrs, false)?;
        cpu::publish_table_writes();
        Ok(())
    }

    /// Whether the page holding `va` is mapped.
    pub fn is_mapped(&self, va: u64) -> bool {
        self.translate(va).is_some()
    }

    fn translate(&self, va: u64) -> Option<(PhysAddr, Attrs)> {
        let page = VirtAddr(va & !(PAGE - 1));
        self.table.translate(&KernelTableMemory::new(), page)
    }

    /// Unmaps the page holding `va` (if mapped) and invalidates its TLB entries; an owned
    /// frame is freed, a shared set is released once none of its pages is mapped.
    pub fn unmap_page(&mut self, va: u64) {
        let page = va & !(PAGE - 1);
        let Some((pa, attrs)) = self.translate(page) else {
            return;
        };
        let mem = &mut KernelTableMemory::new();
        if self.table.unmap(mem, VirtAddr(page), PAGE).is_err() {
            return; // a 4 KiB page needs no split: cannot happen, and then nothing changed
        }
        self.flush_page(page);
        if attrs.owns_frame {
            // SAFETY: only `map_frame` maps with `owns_frame`, for a frame given up with
            // `into_raw`; its one mapping is gone and its TLB entries are invalidated.
            drop(unsafe { Frame::from_raw(pa) });
        } else {
            self.release_unmapped_shared(page);
        }
    }

    /// Drops the shared set holding `page` if none of its pages is mapped any more.
    fn release_unmapped_shared(&mut self, page: u64) {
        let Some(index) = self
            .shared
            .iter()
            .position(|s| (s.start..s.end()).contains(&page))
        else {
            return;
        };
        let set = &self.shared[index];
        let still_mapped = (set.start..set.end())
            .step_by(PAGE_SIZE)
            .any(|p| self.translate(p).is_some());
        if !still_mapped {
            self.shared.swap_remove(index);
        }
    }

    /// Changes the attributes of the page holding `va`, if it is mapped (ownership stays).
    pub fn protect_page(&mut self, va: u64, attrs: Attrs) {
        let page = va & !(PAGE - 1);
        let Some((_, old)) = self.translate(page) else {
            return;
        };
        let attrs = Attrs {
            owns_frame: old.owns_frame,
            ..attrs
        };
        let mem = &mut KernelTableMemory::new();
        if self.table.protect(mem, VirtAddr(page), PAGE, attrs).is_ok() {
            self.flush_page(page);
        }
    }

    /// Copies `data` into the mapped, owned page holding `va`, from `va`'s offset (the
    /// kernel filling a page it gave the space, e.g. a new program's stack). `NotMapped` if
    /// the page is not mapped or not owned by this table, `Overflow` past its end.
    pub fn write(&self, va: u64, data: &[u8]) -> Result<(), MapError> {
        let (pa, attrs) = self.translate(va).ok_or(MapError::NotMapped)?;
        if !attrs.owns_frame {
            return Err(MapError::NotMapped);
        }
        // SAFETY: the table owns this frame (owns_frame) and keeps it while `self` is
        // borrowed; the temporary handle is never dropped, so the frame is not freed here.
        let frame = ManuallyDrop::new(unsafe { Frame::from_raw(pa.align_down(PAGE)) });
        frame
            .write((va % PAGE) as usize, data)
            .map_err(|_| MapError::Overflow)
    }

    fn flush_page(&self, page: u64) {
        if let Some(asid) = self.asid {
            cpu::flush_tlb_user_page(page, asid.value());
        }
    }
}

impl Drop for UserTable {
    fn drop(&mut self) {
        let mem = &mut KernelTableMemory::new();
        let mut owned = Vec::new();
        self.table.for_each_leaf(mem, |va, _, _| owned.push(va));
        let owned: Vec<Frame> = owned
            .into_iter()
            .filter_map(|va| self.table.translate(mem, va))
            .filter(|(_, attrs)| attrs.owns_frame)
            // SAFETY: as in `unmap_page`: frames the table took over in `map_frame`; the
            // table is destroyed and its ASID flushed below, before the frames are dropped.
            .map(|(pa, _)| unsafe { Frame::from_raw(pa) })
            .collect();
        let table = core::mem::replace(&mut self.table, PageTable::from_root(PhysAddr(0)));
        table.destroy(mem);
        if let Some(asid) = self.asid.take() {
            cpu::flush_tlb_asid(asid.value());
            if let Some(allocator) = ASIDS.lock().as_mut() {
                allocator.free(asid);
            }
        }
        drop(owned);
    }
}
