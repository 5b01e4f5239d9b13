//! Kernel page tables on the live MMU: mapping, unmapping with TLB invalidation, owned
//! frames going back on unmap, W^X, guard pages.

use crate::arch::fault::probe_read_u64;
use crate::arch::layout::{MMIO_AREA_SIZE, MMIO_BASE};
use crate::mm::frame::{self, Frame};
use crate::mm::{kstack::KernelStack, linear, mmio, paging};
use crate::{kassert, kassert_eq, ksome, ktest};
use kcore::{PAGE_SIZE, PhysRange, VirtAddr};

/// A kernel VA nothing else uses: the top of the device area.
const TEST_VA: u64 = MMIO_BASE + MMIO_AREA_SIZE - 0x10_0000;

fn filled(value: u64) -> Option<Frame> {
    let frame = Frame::alloc_zeroed()?;
    for offset in (0..PAGE_SIZE).step_by(8) {
        frame.write(offset, &value.to_le_bytes()).ok()?;
    }
    Some(frame)
}

ktest!(
    fn map_read_unmap_remap_sees_new_frame() {
        let (free_before, _) = frame::stats();
        let first = ksome!(filled(0x1111_1111_1111_1111), "out of frames");
        let second = ksome!(filled(0x2222_2222_2222_2222), "out of frames");
        let first_pa = first.pa();
        let va = VirtAddr(TEST_VA);
        kassert!(
            probe_read_u64(TEST_VA).is_err(),
            "test VA mapped before the test"
        );
        kassert!(paging::map_kernel_frame(va, first).is_ok());
        kassert_eq!(probe_read_u64(TEST_VA + 8), Ok(0x1111_1111_1111_1111));
        kassert_eq!(
            paging::translate_kernel(va).map(|(pa, _)| pa),
            Some(first_pa)
        );
        let back = ksome!(
            paging::unmap_kernel_frame(va).ok().flatten(),
            "frame not returned"
        );
        kassert_eq!(back.pa(), first_pa);
        kassert!(
            probe_read_u64(TEST_VA + 8).is_err(),
            "still readable after unmap: stale TLB entry"
        );
        kassert!(paging::map_kernel_frame(va, second).is_ok());
        kassert_eq!(probe_read_u64(TEST_VA + 8), Ok(0x2222_2222_2222_2222));
        drop(back);
        drop(paging::unmap_kernel_frame(va));
        kassert_eq!(frame::stats().0, free_before, "a frame leaked");
        Ok(())
    }
);

ktest!(
    fn double_map_is_refused_and_frees_the_refused_frame() {
        let (free_before, _) = frame::stats();
        let va = VirtAddr(TEST_VA + 0x1000);
        let frame = ksome!(Frame::alloc_zeroed(), "out of frames");
        kassert!(paging::map_kernel_frame(va, frame).is_ok());
        let (free_mapped, _) = frame::stats(); // the frame and any new table pages
        let other = ksome!(Frame::alloc_zeroed(), "out of frames");
        kassert!(paging::map_kernel_frame(va, other).is_err());
        kassert_eq!(frame::stats().0, free_mapped, "the refused frame was kept");
        drop(paging::unmap_kernel_frame(va));
        kassert_eq!(
            frame::stats().0,
            free_before,
            "a frame or table page leaked"
        );
        Ok(())
    }
);

ktest!(
    fn kernel_image_is_mapped_write_xor_execute() {
        let text = crate::kernel_main as *const () as u64;
        let (_, text_attrs) = ksome!(paging::translate_kernel(VirtAddr(text)), "text unmapped");
        kassert!(
            text_attrs.exec && !text_attrs.write,
            "text is {text_attrs:?}"
        );
        static RODATA: [u8; 16] = [1; 16];
        let (_, ro_attrs) = ksome!(
            paging::translate_kernel(VirtAddr(RODATA.as_ptr() as u64)),
            "rodata unmapped"
        );
        kassert!(!ro_attrs.exec && !ro_attrs.write, "rodata is {ro_attrs:?}");
        static DATA: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
        let (_, data_attrs) = ksome!(
            paging::translate_kernel(VirtAddr(DATA.as_ptr() as u64)),
            "data unmapped"
        );
        kassert!(
            !data_attrs.exec && data_attrs.write,
            "data is {data_attrs:?}"
        );
        let alias = linear::phys_to_virt(linear::kimage_to_phys(text));
        let (_, alias_attrs) = ksome!(
            paging::translate_kernel(alias),
            "linear alias of text unmapped"
        );
        kassert!(
            !alias_attrs.exec && !alias_attrs.write,
            "linear alias of text is {alias_attrs:?}"
        );
        Ok(())
    }
);

ktest!(
    fn kernel_stacks_have_unmapped_guards() {
        let (free_before, _) = frame::stats();
        let stack = ksome!(KernelStack::new().ok(), "cannot allocate a kernel stack");
        kassert_eq!(probe_read_u64(stack.top() - 8), Ok(0));
        kassert_eq!(probe_read_u64(stack.bottom()), Ok(0));
        kassert!(
            probe_read_u64(stack.bottom() - 8).is_err(),
            "guard page is mapped"
        );
        kassert!(probe_read_u64(stack.guard()).is_err(), "guard is mapped");
        drop(stack);
        kassert_eq!(frame::stats().0, free_before);
        Ok(())
    }
);

ktest!(
    fn boot_stack_has_a_guard() {
        #[allow(unsafe_code, reason = "linker symbols: only their addresses are used")]
        unsafe extern "C" {
            static __boot_stack_guard: u8;
            static __boot_stack_bottom: u8;
        }
        let guard = &raw const __boot_stack_guard as u64;
        let bottom = &raw const __boot_stack_bottom as u64;
        kassert!(probe_read_u64(guard).is_err(), "boot stack guard is mapped");
        kassert!(
            probe_read_u64(bottom - 8).is_err(),
            "page under the boot stack is mapped"
        );
        kassert!(probe_read_u64(bottom).is_ok());
        Ok(())
    }
);

ktest!(
    fn ram_is_never_mapped_as_a_device() {
        let frame = ksome!(Frame::alloc_zeroed(), "out of frames");
        let ram = PhysRange::new(frame.pa().as_u64(), PAGE_SIZE as u64);
        kassert!(
            mmio::map::<u64>(ram).is_err(),
            "a frame was mapped as device registers"
        );
        let straddling = PhysRange::new(frame.pa().as_u64() - PAGE_SIZE as u64 / 2, 4096);
        kassert!(mmio::map_region(straddling).is_err());
        Ok(())
    }
);
