//! Where RAM and the kernel image are in the kernel's address space: the linear map
//! (`va = LINEAR_BASE + pa`) and the image's load offset. Address arithmetic only: reaching
//! memory through these addresses is for the owners of that memory (frames, tables).

use crate::arch::layout::{KIMAGE_BASE, LINEAR_BASE};
use core::sync::atomic::{AtomicU64, Ordering};
use kcore::{PhysAddr, VirtAddr};

/// Physical address the image was loaded at.
static LOAD_PA: AtomicU64 = AtomicU64::new(0);

/// Records where the boot loader placed the image (once, before any translation).
pub fn set_load_address(load_pa: u64) {
    LOAD_PA.store(load_pa, Ordering::Relaxed);
}

/// The kernel virtual address of RAM at `pa`, in the linear map.
pub fn phys_to_virt(pa: PhysAddr) -> VirtAddr {
    VirtAddr(LINEAR_BASE + pa.as_u64())
}

/// The physical address of a kernel image address.
pub fn kimage_to_phys(va: u64) -> PhysAddr {
    PhysAddr(va - KIMAGE_BASE + LOAD_PA.load(Ordering::Relaxed))
}

/// The image-mapping address of a physical address inside the image.
pub fn phys_to_kimage(pa: PhysAddr) -> u64 {
    pa.as_u64() - LOAD_PA.load(Ordering::Relaxed) + KIMAGE_BASE
}
