//! AArch64 address-space identifiers (ASIDs) for the per-process TTBR0 tables, allocated in
//! generations like Linux arm64 (`arch/arm64/mm/context.c`).
//!
//! Each LiteOS-A process owns its own user address space (`LosVmSpace`, one TTBR0 table); its
//! TLB entries are tagged with an ASID so a context switch needs no TLB flush. The CPU has 8 or
//! 16 ASID bits (`ID_AA64MMFR0_EL1.ASIDBits`); ASID 0 is reserved for the kernel and "no
//! process" (TTBR0 parked on an empty table), so `2^bits - 1` values are usable.
//!
//! When they run out, a new *generation* begins: the caller invalidates the whole TLB, every ASID
//! handed out before is stale ([`AsidAllocator::is_current`] is false) and its owner allocates a
//! new one the next time it is switched in. Within a generation, freed values are reused (after
//! the ones never handed out), so the caller must invalidate a value's TLB entries when freeing it.
//!
//! Usage rule (single CPU): check `is_current` and `allocate` on the switch-in path, right before
//! installing the incoming table. Then no thread keeps running under a stale ASID after a
//! rollover flush, so no two live address spaces can share a tag.

use alloc::vec;
use alloc::vec::Vec;

/// Bits per bitmap word.
const WORD_BITS: usize = u64::BITS as usize;
/// ASID width on CPUs without 16-bit support (`ID_AA64MMFR0_EL1.ASIDBits == 0b0000`).
const NARROW_BITS: u8 = 8;
/// ASID width when `ID_AA64MMFR0_EL1.ASIDBits == 0b0010`.
const WIDE_BITS: u8 = 16;
/// The reserved ASID: the kernel's, and TTBR0's while no process is installed.
const RESERVED: usize = 0;
/// The first generation; `Asid`s carry a generation of at least this.
const FIRST_GENERATION: u64 = 1;

/// One allocated ASID, tagged with the generation it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asid {
    /// The hardware value for `TTBR0_EL1.ASID`, never 0.
    value: u16,
    /// The allocator generation this value was handed out in.
    generation: u64,
}

impl Asid {
    /// The hardware value to put in `TTBR0_EL1.ASID` (bits 63:48); never 0.
    pub fn value(self) -> u16 {
        self.value
    }

    /// The generation this ASID was allocated in.
    pub fn generation(self) -> u64 {
        self.generation
    }
}

/// Hands out ASIDs of one width, tracking the current generation and which values are in use.
#[derive(Debug)]
pub struct AsidAllocator {
    /// ASID width: 8 or 16.
    bits: u8,
    /// The current generation; ASIDs of any other generation are stale.
    generation: u64,
    /// One bit per ASID value, set = in use in this generation; bit 0 (reserved) always set.
    bitmap: Vec<u64>,
    /// Values in use in this generation, not counting the reserved 0.
    in_use: usize,
    /// Where the next search for a free value starts.
    next: usize,
}

impl AsidAllocator {
    /// An allocator for `bits`-wide ASIDs: 8 or 16, anything else is treated as 8 (the width
    /// every AArch64 CPU supports).
    pub fn new(bits: u8) -> Self {
        let bits = if bits == WIDE_BITS {
            WIDE_BITS
        } else {
            NARROW_BITS
        };
        let slots = 1usize << bits;
        let mut allocator = Self {
            bits,
            generation: FIRST_GENERATION,
            bitmap: vec![0; slots / WORD_BITS],
            in_use: 0,
            next: RESERVED + 1,
        };
        allocator.reset_bitmap();
        allocator
    }

    /// A fresh ASID. The bool is true when the space ran out and a new generation began: the
    /// caller must invalidate the whole TLB (all ASIDs, e.g. `TLBI VMALLE1`) before using the
    /// result, and every ASID of an older generation is then stale.
    pub fn allocate(&mut self) -> (Asid, bool) {
        if let Some(asid) = self.take_free() {
            return (asid, false);
        }
        self.generation = self.generation.wrapping_add(1);
        self.reset_bitmap();
        let asid = self
            .take_free()
            .expect("invariant: a new generation has every non-reserved ASID free");
        (asid, true)
    }

    /// Whether `asid` is still valid (same generation); a stale one must be replaced with
    /// allocate() before its table is installed.
    pub fn is_current(&self, asid: Asid) -> bool {
        asid.generation == self.generation
    }

    /// Returns an ASID (ignored if from an older generation; double free harmless).
    ///
    /// The value may be handed out again in this generation, so its TLB entries must be
    /// invalidated (`TLBI ASIDE1`) before the new owner runs; do it when the old owner's
    /// table is torn down.
    pub fn free(&mut self, asid: Asid) {
        if !self.is_current(asid) {
            return;
        }
        let index = usize::from(asid.value);
        if index == RESERVED {
            return;
        }
        let Some(word) = self.bitmap.get_mut(index / WORD_BITS) else {
            return;
        };
        let bit = 1u64 << (index % WORD_BITS);
        if *word & bit != 0 {
            *word &= !bit;
            self.in_use -= 1;
        }
    }

    /// Usable ASIDs per generation (255 or 65535).
    pub fn capacity(&self) -> usize {
        (1usize << self.bits) - 1
    }

    /// The ASID width in bits (8 or 16).
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// The current generation number.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// ASIDs of the current generation handed out and not freed (for leak checks).
    pub fn in_use(&self) -> usize {
        self.in_use
    }

    /// Marks every value free except the reserved 0, and restarts the search after it.
    fn reset_bitmap(&mut self) {
        self.bitmap.fill(0);
        if let Some(first) = self.bitmap.first_mut() {
            *first = 1 << RESERVED;
        }
        self.in_use = 0;
        self.next = RESERVED + 1;
    }

    /// Claims the first free value at or after `next`, wrapping once round the bitmap.
    fn take_free(&mut self) -> Option<Asid> {
        let index = self.find_free()?;
        // Indices are below 2^16, so this never fails; checked before any state changes.
        let value = u16::try_from(index).ok()?;
        let word = self.bitmap.get_mut(index / WORD_BITS)?;
        *word |= 1 << (index % WORD_BITS);
        self.in_use += 1;
        self.next = (index + 1) % (self.capacity() + 1);
        Some(Asid {
            value,
            generation: self.generation,
        })
    }

    /// Index of the first clear bit at or after `next`, else the first one before it.
    fn find_free(&self) -> Option<usize> {
        let first = self.next / WORD_BITS;
        let from_next = u64::MAX << (self.next % WORD_BITS);
        // Pass 1: from `next` to the end. Pass 2: from the start through `next`'s word, whole
        // (its bits at and above `next` were already found used, so rescanning them is harmless).
        let pass1 = self
            .bitmap
            .iter()
            .enumerate()
            .skip(first)
            .map(|(w, &bits)| {
                let mask = if w == first { from_next } else { u64::MAX };
                (w, !bits & mask)
            });
        let pass2 = self
            .bitmap
            .iter()
            .enumerate()
            .take(first + 1)
            .map(|(w, &bits)| (w, !bits));
        pass1
            .chain(pass2)
            .find(|&(_, free)| free != 0)
            .map(|(w, free)| w * WORD_BITS + free.trailing_zeros() as usize)
    }
}

#[cfg(test)]
mod tests;
