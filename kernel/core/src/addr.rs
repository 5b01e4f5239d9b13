//! Physical and virtual address newtypes and page-size arithmetic.
//!
//! `PhysAddr` and `VirtAddr` keep the two address spaces apart in the type system (style
//! guide §7).
//! Alignment helpers accept any alignment: powers of two take the mask fast path, anything else
//! falls back to division, and an alignment of 0 is treated as 1, so none of them can panic.

use core::fmt;

/// log2 of the translation granule: 4 KiB pages.
pub const PAGE_SHIFT: usize = 12;
/// Size in bytes of one page (and of one physical frame).
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;

/// `PAGE_SIZE` as a `u64`, for address arithmetic.
const PAGE_SIZE_U64: u64 = PAGE_SIZE as u64;

/// Rounds `value` down to a multiple of `align` (0 is treated as 1).
const fn align_down_u64(value: u64, align: u64) -> u64 {
    if align.is_power_of_two() {
        value & !(align - 1)
    } else if align == 0 {
        value
    } else {
        value - value % align
    }
}

/// Whether `value` is a multiple of `align` (0 is treated as 1, so everything is aligned).
const fn is_aligned_u64(value: u64, align: u64) -> bool {
    if align.is_power_of_two() {
        value & (align - 1) == 0
    } else if align == 0 {
        true
    } else {
        value.is_multiple_of(align)
    }
}

/// Rounds `value` up to a multiple of `align` (0 is treated as 1); `None` on overflow.
const fn align_up_u64(value: u64, align: u64) -> Option<u64> {
    let down = align_down_u64(value, align);
    if down == value {
        Some(value)
    } else {
        // `align` is at least 2 here (0 and 1 always leave `value` unchanged).
        down.checked_add(align)
    }
}

/// Defines an address newtype with the shared arithmetic and formatting.
macro_rules! address_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Debug, Hash, Default)]
        #[repr(transparent)]
        pub struct $name(pub u64);

        impl $name {
            /// Wraps a raw address.
            pub const fn new(addr: u64) -> Self {
                Self(addr)
            }

            /// The raw address.
            pub const fn as_u64(self) -> u64 {
                self.0
            }

            /// Whether the address is a multiple of `align` (0 counts as 1).
            pub const fn is_aligned(self, align: u64) -> bool {
                is_aligned_u64(self.0, align)
            }

            /// Whether the address is on a page boundary.
            pub const fn is_page_aligned(self) -> bool {
                is_aligned_u64(self.0, PAGE_SIZE_U64)
            }

            /// Rounds down to a multiple of `align` (0 counts as 1).
            pub const fn align_down(self, align: u64) -> Self {
                Self(align_down_u64(self.0, align))
            }

            /// Rounds up to a multiple of `align` (0 counts as 1); `None` if that overflows.
            pub fn align_up(self, align: u64) -> Option<Self> {
                align_up_u64(self.0, align).map(Self)
            }

            /// `self + n`, or `None` on overflow.
            pub fn checked_add(self, n: u64) -> Option<Self> {
                self.0.checked_add(n).map(Self)
            }

            /// `self - n`, or `None` on underflow.
            pub fn checked_sub(self, n: u64) -> Option<Self> {
                self.0.checked_sub(n).map(Self)
            }

            /// Byte offset of the address inside its 4 KiB page.
            pub fn page_offset(self) -> u64 {
                self.0 & (PAGE_SIZE_U64 - 1)
            }
        }

        impl fmt::LowerHex for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::LowerHex::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:#x}", self.0)
            }
        }
    };
}

address_type!(
    /// A physical (output) address.
    PhysAddr
);

address_type!(
    /// A virtual (input) address, lower (TTBR0) or upper (TTBR1) half.
    VirtAddr
);

/// A range of physical addresses `[base, base + size)`, as a device tree's `reg` gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhysRange {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
}

impl PhysRange {
    /// `[base, base + size)`.
    pub const fn new(base: u64, size: u64) -> PhysRange {
        PhysRange { base, size }
    }

    /// One past the last byte (saturating at the top of the address space).
    pub const fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// Whether `other` lies wholly inside this range (an empty `other` needs only its base).
    pub const fn contains_range(&self, other: &PhysRange) -> bool {
        match other.base.checked_add(other.size) {
            Some(end) => other.base >= self.base && end <= self.end(),
            None => false,
        }
    }

    /// Whether the two ranges share a byte.
    pub const fn overlaps(&self, other: &PhysRange) -> bool {
        self.base < other.end() && other.base < self.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phys_ranges() {
        let ram = PhysRange::new(0x4000_0000, 0x400_0000);
        assert_eq!(ram.end(), 0x4400_0000);
        assert!(ram.contains_range(&PhysRange::new(0x4000_0000, 0x400_0000)));
        assert!(ram.contains_range(&PhysRange::new(0x4300_0000, 0x1000)));
        assert!(!ram.contains_range(&PhysRange::new(0x43FF_F000, 0x2000)));
        assert!(!ram.contains_range(&PhysRange::new(0x3FFF_F000, 0x2000)));
        assert!(!ram.contains_range(&PhysRange::new(u64::MAX, 2)));
        assert!(ram.overlaps(&PhysRange::new(0x43FF_F000, 0x2000)));
        assert!(!ram.overlaps(&PhysRange::new(0x4400_0000, 0x1000)));
        assert_eq!(PhysRange::new(u64::MAX, 5).end(), u64::MAX);
    }

    #[test]
    fn page_constants_agree() {
        assert_eq!(PAGE_SIZE, 4096);
        assert_eq!(1usize << PAGE_SHIFT, PAGE_SIZE);
    }

    #[test]
    fn alignment_power_of_two() {
        let a = PhysAddr::new(0x4000_1234);
        assert!(!a.is_aligned(0x1000));
        assert!(a.is_aligned(4));
        assert_eq!(a.align_down(0x1000), PhysAddr(0x4000_1000));
        assert_eq!(a.align_up(0x1000), Some(PhysAddr(0x4000_2000)));
        assert_eq!(a.page_offset(), 0x234);
        let b = PhysAddr::new(0x4000_0000);
        assert!(b.is_aligned(0x4000_0000));
        assert!(b.is_page_aligned());
        assert_eq!(b.align_up(0x1000), Some(b));
        assert_eq!(b.align_down(0x20_0000), b);
    }

    #[test]
    fn alignment_odd_and_zero() {
        let v = VirtAddr::new(100);
        assert_eq!(v.align_down(0), v);
        assert_eq!(v.align_up(0), Some(v));
        assert!(v.is_aligned(0));
        assert_eq!(v.align_down(1), v);
        assert_eq!(v.align_down(30), VirtAddr(90));
        assert_eq!(v.align_up(30), Some(VirtAddr(120)));
        assert!(v.is_aligned(25));
        assert!(!v.is_aligned(3));
    }

    #[test]
    fn overflow_is_reported() {
        let top = VirtAddr::new(u64::MAX - 5);
        assert_eq!(top.align_up(0x1000), None);
        assert_eq!(top.checked_add(6), None);
        assert_eq!(top.checked_add(5), Some(VirtAddr(u64::MAX)));
        assert_eq!(
            VirtAddr::new(0xFFFF_FFFF_FFFF_F000).align_up(0x1000),
            Some(VirtAddr(0xFFFF_FFFF_FFFF_F000))
        );
        assert_eq!(PhysAddr::new(3).checked_sub(4), None);
        assert_eq!(PhysAddr::new(3).checked_sub(3), Some(PhysAddr(0)));
    }

    #[test]
    fn formatting() {
        let p = PhysAddr::new(0x4008_0000);
        assert_eq!(format!("{p}"), "0x40080000");
        assert_eq!(format!("{p:x}"), "40080000");
        assert_eq!(format!("{p:#018x}"), "0x0000000040080000");
        assert_eq!(format!("{}", VirtAddr::new(0)), "0x0");
        assert_eq!(
            format!("{}", VirtAddr::new(0xFFFF_FF80_0000_0000)),
            "0xffffff8000000000"
        );
    }

    #[test]
    fn ordering_and_default() {
        assert!(PhysAddr(1) < PhysAddr(2));
        assert_eq!(VirtAddr::default(), VirtAddr(0));
        assert_eq!(PhysAddr::new(7).as_u64(), 7);
    }
}
