//! `memcpy` and `memset` for the kernel, replacing compiler-builtins' portable (weak) ones.
//!
//! The kernel is built with strict alignment, so the compiler calls `memcpy` even for small
//! struct copies (a 28-byte copy at a 4-byte boundary cost ~100 instructions in the
//! portable version, several times per LiteIPC message). These copy 32 bytes per
//! iteration when source and destination agree modulo 8, 16 bytes (in word pairs) when
//! they agree modulo 4, and bytes otherwise. Every access is naturally aligned, so they
//! are also safe on Device memory and with the MMU off.

core::arch::global_asm!(include_str!("../../../../common/aarch64/mem.S"));

#[cfg(test)]
mod tests {
    use crate::{kassert, ktest};
    use alloc::vec::Vec;

    // Copies and fills at every alignment and many lengths, checked byte by byte.
    ktest!(
        fn memcpy_and_memset_at_every_alignment() {
            let src: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
            for len in (0..40).chain([63, 64, 65, 100, 150]) {
                for s in 0..8 {
                    for d in 0..8 {
                        let mut dst = [0xEEu8; 176];
                        let from = src.get(s..s + len).unwrap_or_default();
                        // black_box: keep the compiler from open-coding the copy.
                        let to = core::hint::black_box(&mut dst[d..d + len]);
                        to.copy_from_slice(core::hint::black_box(from));
                        kassert!(dst[..d].iter().all(|&b| b == 0xEE));
                        kassert!(dst[d..d + len] == *from, "copy len {len} src+{s} dst+{d}");
                        kassert!(dst[d + len..].iter().all(|&b| b == 0xEE));
                        let to = core::hint::black_box(&mut dst[d..d + len]);
                        to.fill(core::hint::black_box(0x5A));
                        kassert!(dst[d..d + len].iter().all(|&b| b == 0x5A));
                        kassert!(dst[d + len..].iter().all(|&b| b == 0xEE));
                    }
                }
            }
            Ok(())
        }
    );
}
