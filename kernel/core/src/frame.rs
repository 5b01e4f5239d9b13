//! Bitmap physical frame allocator: one bit per 4 KiB frame of one contiguous physical span.
//!
//! A set bit means "in use" (allocated, reserved, or never declared as RAM), so the allocator
//! starts with every frame used and the boot code frees the RAM ranges it finds in the device
//! tree (`add_free_range`) and then carves out the kernel image, the DTB and other reserved
//! regions (`reserve_range`). Holes between RAM banks stay used forever.
//!
//! Single frames come from a word-at-a-time scan that starts at a rotating hint (the word of the
//! last allocation), so `alloc` is O(1) amortised while memory is not nearly full. The bitmap
//! memory belongs to the caller; this module allocates nothing itself.

use core::fmt;

use crate::addr::{PAGE_SIZE, PhysAddr};

/// Frames tracked by one bitmap word.
const BITS_PER_WORD: usize = u64::BITS as usize;
/// `PAGE_SIZE` as a `u64`, for address arithmetic.
const PAGE: u64 = PAGE_SIZE as u64;

/// Why a frame could not be freed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The address (or part of the run) lies outside the managed span.
    OutOfRange,
    /// A frame being freed is not in use: a double free, or a frame that was never handed out.
    NotAllocated,
    /// The address is not on a page boundary.
    Misaligned,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OutOfRange => "frame outside the managed physical span",
            Self::NotAllocated => "frame is not allocated (double free?)",
            Self::Misaligned => "frame address is not page aligned",
        })
    }
}

/// Allocator for the 4 KiB frames of `[base, base + frames * PAGE_SIZE)`.
#[derive(Debug)]
pub struct FrameAllocator<'a> {
    /// One bit per frame, set = in use; bits past `frames` in the last word stay set.
    bitmap: &'a mut [u64],
    /// Physical address of frame 0 (page aligned).
    base: PhysAddr,
    /// Number of frames managed (already clamped to what the bitmap and address space hold).
    frames: usize,
    /// Number of clear bits among the first `frames`.
    free: usize,
    /// Word index where the next single-frame search starts.
    next: usize,
}

impl<'a> FrameAllocator<'a> {
    /// Number of `u64` bitmap words needed to manage `frames` frames.
    pub const fn bitmap_words(frames: usize) -> usize {
        frames.div_ceil(BITS_PER_WORD)
    }

    /// Creates an allocator over `frames` frames starting at `base` (rounded down to a page).
    ///
    /// All frames start as used. If `bitmap` is shorter than `bitmap_words(frames)`, or the span
    /// would run past the top of the address space, `frames` is clamped to what fits; check
    /// `total_frames()` if that matters.
    pub fn new(bitmap: &'a mut [u64], base: PhysAddr, frames: usize) -> Self {
        let base = base.align_down(PAGE);
        let bitmap_cap = bitmap.len().saturating_mul(BITS_PER_WORD);
        // Keeps `base + frames * PAGE_SIZE` representable, so `end()` never overflows.
        let addr_cap = usize::try_from((u64::MAX - base.as_u64()) / PAGE).unwrap_or(usize::MAX);
        let frames = frames.min(bitmap_cap).min(addr_cap);
        let words = Self::bitmap_words(frames);
        for word in bitmap.iter_mut().take(words) {
            *word = u64::MAX;
        }
        Self {
            bitmap,
            base,
            frames,
            free: 0,
            next: 0,
        }
    }

    /// Marks the whole frames inside `[start, end)` free (the range is rounded inward to pages
    /// and clipped to the managed span). Frames that are already free stay free.
    pub fn add_free_range(&mut self, start: PhysAddr, end: PhysAddr) {
        let Some(start) = start.align_up(PAGE) else {
            return;
        };
        let end = end.align_down(PAGE);
        let (lo, hi) = self.clip(start.as_u64(), end.as_u64());
        let changed = self.mark(lo, hi, false);
        self.free += changed;
    }

    /// Marks every frame touching `[start, end)` used (the range is rounded outward to pages and
    /// clipped to the managed span). Idempotent; an empty range does nothing.
    pub fn reserve_range(&mut self, start: PhysAddr, end: PhysAddr) {
        if end <= start {
            return;
        }
        let start = start.align_down(PAGE);
        let end = end.align_up(PAGE).map_or(u64::MAX, PhysAddr::as_u64);
        let (lo, hi) = self.clip(start.as_u64(), end);
        let changed = self.mark(lo, hi, true);
        self.free -= changed;
    }

    /// Allocates one frame, or `None` when every frame is in use.
    pub fn alloc(&mut self) -> Option<PhysAddr> {
        if self.free == 0 {
            return None;
        }
        let words = Self::bitmap_words(self.frames);
        for step in 0..words {
            let w = (self.next + step) % words;
            let word = self.word(w);
            if word == u64::MAX {
                continue;
            }
            let index = w * BITS_PER_WORD + (!word).trailing_zeros() as usize;
            if index >= self.frames {
                // Unreachable while the tail bits stay set; skipping keeps it harmless anyway.
                continue;
            }
            self.mark(index, index + 1, true);
            self.free -= 1;
            self.next = w;
            return Some(self.addr_of(index));
        }
        None
    }

    /// Allocates `count` physically contiguous frames whose first address is a multiple of
    /// `align_frames * PAGE_SIZE` (`align_frames` a power of two; 0 or 1 mean no alignment).
    /// Returns `None` if `count` is 0, the alignment is not a power of two, or no run fits.
    /// First fit from the bottom of the span: meant for rare, boot-time or DMA-style requests.
    pub fn alloc_contiguous(&mut self, count: usize, align_frames: usize) -> Option<PhysAddr> {
        if count == 0 || count > self.free {
            return None;
        }
        let align = match align_frames {
            0 | 1 => 1,
            a if a.is_power_of_two() => a,
            _ => return None,
        };
        let mut candidate = self.align_index(0, align)?;
        loop {
            let end = candidate.checked_add(count)?;
            if end > self.frames {
                return None;
            }
            match self.find(candidate, end, true) {
                None => {
                    self.mark(candidate, end, true);
                    self.free -= count;
                    return Some(self.addr_of(candidate));
                }
                Some(used) => {
                    let next_free = self.find(used + 1, self.frames, false)?;
                    candidate = self.align_index(next_free, align)?;
                }
            }
        }
    }

    /// Frees one frame previously returned by `alloc` (or part of a contiguous run).
    pub fn free(&mut self, pa: PhysAddr) -> Result<(), FrameError> {
        self.free_contiguous(pa, 1)
    }

    /// Frees `count` frames starting at `pa`. Checks the whole run first: on any error nothing
    /// is freed. `count == 0` only validates `pa`.
    pub fn free_contiguous(&mut self, pa: PhysAddr, count: usize) -> Result<(), FrameError> {
        let start = self.index_of(pa)?;
        let end = start.checked_add(count).ok_or(FrameError::OutOfRange)?;
        if end > self.frames {
            return Err(FrameError::OutOfRange);
        }
        if self.find(start, end, false).is_some() {
            return Err(FrameError::NotAllocated);
        }
        self.mark(start, end, false);
        self.free += count;
        Ok(())
    }

    /// Number of frames currently free.
    pub fn free_count(&self) -> usize {
        self.free
    }

    /// Number of frames managed (after clamping in `new`).
    pub fn total_frames(&self) -> usize {
        self.frames
    }

    /// First byte of the managed span.
    pub fn base(&self) -> PhysAddr {
        self.base
    }

    /// One past the last byte of the managed span.
    pub fn end(&self) -> PhysAddr {
        let bytes = (self.frames as u64).saturating_mul(PAGE);
        PhysAddr::new(self.base.as_u64().saturating_add(bytes))
    }

    /// Whether the frame containing `pa` is in use (allocated, reserved or never added).
    /// Addresses outside the managed span are reported as not allocated.
    pub fn is_allocated(&self, pa: PhysAddr) -> bool {
        match self.index_of(pa.align_down(PAGE)) {
            Ok(index) => self.word(index / BITS_PER_WORD) & bit(index) != 0,
            Err(_) => false,
        }
    }

    /// Frame index of the page-aligned address `pa`.
    fn index_of(&self, pa: PhysAddr) -> Result<usize, FrameError> {
        if !pa.is_aligned(PAGE) {
            return Err(FrameError::Misaligned);
        }
        let offset = pa
            .as_u64()
            .checked_sub(self.base.as_u64())
            .ok_or(FrameError::OutOfRange)?;
        let index = usize::try_from(offset / PAGE).map_err(|_| FrameError::OutOfRange)?;
        if index >= self.frames {
            return Err(FrameError::OutOfRange);
        }
        Ok(index)
    }

    /// Physical address of frame `index` (`index <= frames`, so no overflow).
    fn addr_of(&self, index: usize) -> PhysAddr {
        PhysAddr::new(self.base.as_u64() + index as u64 * PAGE)
    }

    /// Frame indices `[lo, hi)` of the page-aligned byte range `[start, end)` clipped to the span.
    fn clip(&self, start: u64, end: u64) -> (usize, usize) {
        let start = start.max(self.base.as_u64());
        let end = end.min(self.end().as_u64());
        if start >= end {
            return (0, 0);
        }
        let base = self.base.as_u64();
        // Both offsets are at most `frames * PAGE`, so they fit a usize.
        let lo = usize::try_from((start - base) / PAGE).unwrap_or(self.frames);
        let hi = usize::try_from((end - base) / PAGE).unwrap_or(self.frames);
        (lo, hi)
    }

    /// Smallest index `>= from` whose physical frame number is a multiple of `align`.
    fn align_index(&self, from: usize, align: usize) -> Option<usize> {
        let pfn = (self.base.as_u64() / PAGE).checked_add(from as u64)?;
        let align = align as u64;
        let skip = (align - pfn % align) % align;
        from.checked_add(usize::try_from(skip).ok()?)
    }

    /// Bitmap word `w`; a missing word reads as all used, so a bad index can never be handed out.
    fn word(&self, w: usize) -> u64 {
        self.bitmap.get(w).copied().unwrap_or(u64::MAX)
    }

    /// Sets (`used`) or clears the bits `[lo, hi)`; returns how many bits changed.
    fn mark(&mut self, lo: usize, hi: usize, used: bool) -> usize {
        let mut changed = 0;
        let mut i = lo;
        while i < hi {
            let (w, mask, n) = word_span(i, hi);
            if let Some(word) = self.bitmap.get_mut(w) {
                let flip = if used { !*word & mask } else { *word & mask };
                *word ^= flip;
                changed += flip.count_ones() as usize;
            }
            i += n;
        }
        changed
    }

    /// First index in `[lo, hi)` whose bit equals `used`.
    fn find(&self, lo: usize, hi: usize, used: bool) -> Option<usize> {
        let mut i = lo;
        while i < hi {
            let (w, mask, n) = word_span(i, hi);
            let word = self.word(w);
            let hits = if used { word } else { !word } & mask;
            if hits != 0 {
                return Some(w * BITS_PER_WORD + hits.trailing_zeros() as usize);
            }
            i += n;
        }
        None
    }
}

/// The bit of frame `index` inside its word.
const fn bit(index: usize) -> u64 {
    1 << (index % BITS_PER_WORD)
}

/// For a scan at `i` bounded by `hi`: the word index, the mask of the bits covered in that word,
/// and how many bits that is.
fn word_span(i: usize, hi: usize) -> (usize, u64, usize) {
    let shift = i % BITS_PER_WORD;
    let n = (BITS_PER_WORD - shift).min(hi - i);
    let ones = if n == BITS_PER_WORD {
        u64::MAX
    } else {
        (1u64 << n) - 1
    };
    (i / BITS_PER_WORD, ones << shift, n)
}

#[cfg(test)]
mod tests;
