//! VMSAv8-64 stage-1 descriptor encoding for the 4 KiB granule (Arm ARM D8.3, "Translation table
//! descriptor formats"), and the `MAIR_EL1` value its attribute indices refer to (D19.2 MAIR_EL1).
//!
//! Only the fields this kernel uses are modelled: AttrIndx, AP[2:1], SH, AF, nG, PXN, UXN, and
//! one of the bits the MMU ignores (\[58:55\], "reserved for software use"), which records that
//! the mapping owns its frame. The Contiguous bit, DBM and the hierarchical table attributes
//! are always 0.

use crate::addr::PhysAddr;

/// `MAIR_EL1` attribute byte for Device-nGnRE memory.
const MAIR_DEVICE_NGNRE: u64 = 0x04;
/// `MAIR_EL1` attribute byte for Normal memory, inner/outer write-back, read/write-allocate.
const MAIR_NORMAL_WB: u64 = 0xFF;
/// `MAIR_EL1` attribute byte for Normal memory, inner/outer non-cacheable.
const MAIR_NORMAL_NC: u64 = 0x44;

/// MAIR_EL1 value matching MemType attribute indices: idx0 Device-nGnRE (0x04), idx1 Normal WB
/// RW-allocate (0xFF), idx2 Normal non-cacheable (0x44).
pub const MAIR_EL1_VALUE: u64 = MAIR_DEVICE_NGNRE
    | (MAIR_NORMAL_WB << (8 * MemType::Normal.attr_index()))
    | (MAIR_NORMAL_NC << (8 * MemType::NormalNonCacheable.attr_index()));

/// Descriptor bit 0: the entry is valid.
pub(super) const DESC_VALID: u64 = 1 << 0;
/// Descriptor bit 1: table (levels 1-2) or page (level 3) rather than block.
pub(super) const DESC_TABLE_OR_PAGE: u64 = 1 << 1;
/// Descriptor bits [1:0] value for a level 1/2 block.
const DESC_BLOCK: u64 = DESC_VALID;
/// Descriptor bits [1:0] value for a table (levels 1-2) or page (level 3).
const DESC_PAGE: u64 = DESC_VALID | DESC_TABLE_OR_PAGE;
/// Descriptor bits [4:2]: AttrIndx, the `MAIR_EL1` byte to use.
const ATTR_INDX_SHIFT: u32 = 2;
/// Mask of AttrIndx once shifted down.
const ATTR_INDX_MASK: u64 = 0b111;
/// AP[1] (bit 6): EL0 may access.
const AP_USER: u64 = 1 << 6;
/// AP[2] (bit 7): read-only at every EL that may access.
const AP_READ_ONLY: u64 = 1 << 7;
/// SH[1:0] (bits 9:8) = 0b11, inner shareable.
const SH_INNER: u64 = 0b11 << 8;
/// Access flag (bit 10): set up front so no access-flag fault is ever taken.
const AF: u64 = 1 << 10;
/// Not-global (bit 11): the TLB entry is tagged with the current ASID.
const NG: u64 = 1 << 11;
/// Privileged execute-never (bit 53).
const PXN: u64 = 1 << 53;
/// Unprivileged execute-never (bit 54).
const UXN: u64 = 1 << 54;
/// Software bit 55 (ignored by the MMU): the mapping owns its frame.
const SW_OWNS_FRAME: u64 = 1 << 55;
/// Output address bits [47:12] of a page, block or table descriptor.
pub(super) const ADDR_MASK: u64 = 0x0000_FFFF_FFFF_F000;
/// Every attribute bit of a leaf: lower attributes [11:2] and upper attributes [63:50]. Copied
/// verbatim when a block is split so the pieces keep exactly the block's attributes.
pub(super) const LEAF_ATTR_MASK: u64 = 0xFFFC_0000_0000_0FFC;

/// Memory type, i.e. which `MAIR_EL1` attribute index a mapping uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MemType {
    /// Device-nGnRE: MMIO registers (index 0).
    Device,
    /// Normal write-back cacheable memory: RAM (index 1).
    Normal,
    /// Normal non-cacheable memory: buffers shared with non-coherent agents (index 2).
    NormalNonCacheable,
}

impl MemType {
    /// The AttrIndx value (index into `MAIR_EL1`) for this type.
    pub const fn attr_index(self) -> u64 {
        match self {
            Self::Device => 0,
            Self::Normal => 1,
            Self::NormalNonCacheable => 2,
        }
    }

    /// The type for an AttrIndx value; unknown indices decode as `Device`, the most restrictive.
    pub const fn from_attr_index(index: u64) -> Self {
        match index {
            1 => Self::Normal,
            2 => Self::NormalNonCacheable,
            _ => Self::Device,
        }
    }
}

/// Access attributes of a mapping, independent of the descriptor bit layout.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Attrs {
    /// Memory type (cacheability, device ordering).
    pub mem: MemType,
    /// Writable (at the ELs that may access it).
    pub write: bool,
    /// Executable: at EL1 for kernel mappings, at EL0 for user mappings.
    pub exec: bool,
    /// Accessible from EL0.
    pub user: bool,
    /// Global (nG = 0): shared by every ASID. Kernel mappings are global, user ones are not.
    pub global: bool,
    /// The mapping owns its frame: whoever removes it frees the frame. Kept in a software bit
    /// of the descriptor; the MMU ignores it.
    pub owns_frame: bool,
}

impl Attrs {
    /// Kernel data: read/write, never executable.
    pub const KERNEL_RW: Attrs = Attrs::kernel(MemType::Normal, true, false);
    /// Kernel read-only data.
    pub const KERNEL_RO: Attrs = Attrs::kernel(MemType::Normal, false, false);
    /// Kernel text: read-only, executable at EL1.
    pub const KERNEL_RX: Attrs = Attrs::kernel(MemType::Normal, false, true);
    /// MMIO: Device-nGnRE, kernel read/write, never executable.
    pub const DEVICE: Attrs = Attrs::kernel(MemType::Device, true, false);
    /// User data: read/write from EL0 and EL1, never executable, ASID-tagged.
    pub const USER_RW: Attrs = Attrs::user(true, false);
    /// User read-only data.
    pub const USER_RO: Attrs = Attrs::user(false, false);
    /// User text: read-only, executable at EL0 only.
    pub const USER_RX: Attrs = Attrs::user(false, true);

    /// A global kernel mapping.
    const fn kernel(mem: MemType, write: bool, exec: bool) -> Attrs {
        Attrs {
            mem,
            write,
            exec,
            user: false,
            global: true,
            owns_frame: false,
        }
    }

    /// A non-global user mapping of normal memory.
    const fn user(write: bool, exec: bool) -> Attrs {
        Attrs {
            mem: MemType::Normal,
            write,
            exec,
            user: true,
            global: false,
            owns_frame: false,
        }
    }

    /// The same attributes for a mapping that owns its frame.
    pub const fn owning(self) -> Attrs {
        Attrs {
            owns_frame: true,
            ..self
        }
    }

    /// Whether the mapping would be both writable and executable (refused by the mapper: W^X).
    pub const fn is_write_exec(self) -> bool {
        self.write && self.exec
    }
}

/// Encodes a leaf descriptor mapping `pa` with `attrs` at `level`: level 3 gives a page
/// descriptor (bits[1:0] = 0b11), any other level a block descriptor (0b01).
///
/// `pa` is masked to bits [47:12] and, for blocks, to the block size, so a misaligned address
/// cannot set reserved bits. Device memory is never executable, and a writable mapping is never
/// executable (W^X): such `exec` requests are dropped here; `PageTable` refuses them instead.
pub fn encode_leaf(pa: PhysAddr, attrs: Attrs, level: u8) -> u64 {
    let (kind, block_mask) = match level {
        3 => (DESC_PAGE, 0),
        2 => (DESC_BLOCK, super::level_size(2) - 1),
        _ => (DESC_BLOCK, super::level_size(1) - 1),
    };
    let mut desc = (pa.as_u64() & ADDR_MASK & !block_mask) | kind | AF;
    desc |= attrs.mem.attr_index() << ATTR_INDX_SHIFT;
    if attrs.mem != MemType::Device {
        desc |= SH_INNER;
    }
    if attrs.user {
        desc |= AP_USER;
    }
    if !attrs.write {
        desc |= AP_READ_ONLY;
    }
    if !attrs.global {
        desc |= NG;
    }
    if attrs.owns_frame {
        desc |= SW_OWNS_FRAME;
    }
    let exec = attrs.exec && !attrs.write && attrs.mem != MemType::Device;
    desc |= match (exec, attrs.user) {
        (true, false) => UXN,
        (true, true) => PXN,
        (false, _) => PXN | UXN,
    };
    desc
}

/// Encodes a table descriptor pointing at the next-level table `table`.
pub fn encode_table(table: PhysAddr) -> u64 {
    (table.as_u64() & ADDR_MASK) | DESC_PAGE
}

/// Decodes the attributes of a leaf (page or block) descriptor.
pub fn decode_attrs(desc: u64) -> Attrs {
    let user = desc & AP_USER != 0;
    let never = if user { UXN } else { PXN };
    Attrs {
        mem: MemType::from_attr_index((desc >> ATTR_INDX_SHIFT) & ATTR_INDX_MASK),
        write: desc & AP_READ_ONLY == 0,
        exec: desc & never == 0,
        user,
        global: desc & NG == 0,
        owns_frame: desc & SW_OWNS_FRAME != 0,
    }
}

/// Output address of a descriptor: bits [47:12].
pub fn desc_addr(desc: u64) -> PhysAddr {
    PhysAddr::new(desc & ADDR_MASK)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: PhysAddr = PhysAddr(0x4008_0000);

    /// Fields of an encoded descriptor, for exact-bit assertions.
    struct Fields {
        kind: u64,
        attr_indx: u64,
        ap: u64,
        sh: u64,
        af: bool,
        ng: bool,
        pxn: bool,
        uxn: bool,
    }

    fn fields(d: u64) -> Fields {
        Fields {
            kind: d & 0b11,
            attr_indx: (d >> 2) & 0b111,
            ap: (d >> 6) & 0b11,
            sh: (d >> 8) & 0b11,
            af: d & (1 << 10) != 0,
            ng: d & (1 << 11) != 0,
            pxn: d & (1 << 53) != 0,
            uxn: d & (1 << 54) != 0,
        }
    }

    #[test]
    fn frame_ownership_is_a_software_bit_only() {
        let plain = encode_leaf(ADDR, Attrs::USER_RW, 3);
        let owning = encode_leaf(ADDR, Attrs::USER_RW.owning(), 3);
        assert_eq!(owning ^ plain, 1 << 55, "only bit 55 differs");
        assert!(decode_attrs(owning).owns_frame);
        assert!(!decode_attrs(plain).owns_frame);
        assert_eq!(
            LEAF_ATTR_MASK & (1 << 55),
            1 << 55,
            "kept when a block is split"
        );
    }

    #[test]
    fn mair_value() {
        assert_eq!(MAIR_EL1_VALUE, 0x44_FF_04);
        assert_eq!(MemType::Device.attr_index(), 0);
        assert_eq!(MemType::Normal.attr_index(), 1);
        assert_eq!(MemType::NormalNonCacheable.attr_index(), 2);
    }

    #[test]
    fn kernel_constants_encode_exactly() {
        let rw = fields(encode_leaf(ADDR, Attrs::KERNEL_RW, 3));
        assert_eq!((rw.kind, rw.attr_indx, rw.ap, rw.sh), (0b11, 1, 0b00, 0b11));
        assert!(rw.af && !rw.ng && rw.pxn && rw.uxn);
        let ro = fields(encode_leaf(ADDR, Attrs::KERNEL_RO, 3));
        assert_eq!((ro.attr_indx, ro.ap, ro.sh), (1, 0b10, 0b11));
        assert!(ro.af && !ro.ng && ro.pxn && ro.uxn);
        let rx = fields(encode_leaf(ADDR, Attrs::KERNEL_RX, 3));
        assert_eq!((rx.attr_indx, rx.ap, rx.sh), (1, 0b10, 0b11));
        assert!(rx.af && !rx.ng && !rx.pxn && rx.uxn);
        let dev = fields(encode_leaf(ADDR, Attrs::DEVICE, 3));
        assert_eq!((dev.attr_indx, dev.ap, dev.sh), (0, 0b00, 0b00));
        assert!(dev.af && !dev.ng && dev.pxn && dev.uxn);
    }

    #[test]
    fn user_constants_encode_exactly() {
        let rw = fields(encode_leaf(ADDR, Attrs::USER_RW, 3));
        assert_eq!((rw.attr_indx, rw.ap, rw.sh), (1, 0b01, 0b11));
        assert!(rw.af && rw.ng && rw.pxn && rw.uxn);
        let ro = fields(encode_leaf(ADDR, Attrs::USER_RO, 3));
        assert_eq!((ro.attr_indx, ro.ap, ro.sh), (1, 0b11, 0b11));
        assert!(ro.af && ro.ng && ro.pxn && ro.uxn);
        let rx = fields(encode_leaf(ADDR, Attrs::USER_RX, 3));
        assert_eq!((rx.attr_indx, rx.ap, rx.sh), (1, 0b11, 0b11));
        assert!(
            rx.af && rx.ng && rx.pxn && !rx.uxn,
            "user text: PXN=1, UXN=0"
        );
    }

    #[test]
    fn exact_descriptor_values() {
        // Worked by hand from the Arm ARM field layout.
        assert_eq!(
            encode_leaf(ADDR, Attrs::KERNEL_RW, 3),
            0x0060_0000_4008_0707
        );
        assert_eq!(encode_leaf(ADDR, Attrs::USER_RX, 3), 0x0020_0000_4008_0FC7);
        assert_eq!(
            encode_leaf(PhysAddr(0x0900_0000), Attrs::DEVICE, 2),
            0x0060_0000_0900_0401
        );
        assert_eq!(encode_table(PhysAddr(0x4123_4000)), 0x4123_4003);
    }

    #[test]
    fn block_and_page_kinds_and_address_masking() {
        assert_eq!(
            encode_leaf(PhysAddr(0x4000_0000), Attrs::KERNEL_RW, 1) & 0b11,
            0b01
        );
        assert_eq!(
            encode_leaf(PhysAddr(0x4020_0000), Attrs::KERNEL_RW, 2) & 0b11,
            0b01
        );
        assert_eq!(
            encode_leaf(PhysAddr(0x4020_1000), Attrs::KERNEL_RW, 3) & 0b11,
            0b11
        );
        let d = encode_leaf(PhysAddr(0x4020_1000), Attrs::KERNEL_RW, 2);
        assert_eq!(
            desc_addr(d),
            PhysAddr(0x4020_0000),
            "block address masked to 2 MiB"
        );
        let d = encode_leaf(PhysAddr(0xFFFF_0000_0000_1FFF), Attrs::KERNEL_RW, 3);
        assert_eq!(desc_addr(d), PhysAddr(0x1000), "only bits [47:12] survive");
    }

    #[test]
    fn decode_round_trips_every_constant() {
        for a in [
            Attrs::KERNEL_RW,
            Attrs::KERNEL_RO,
            Attrs::KERNEL_RX,
            Attrs::DEVICE,
            Attrs::USER_RW,
            Attrs::USER_RO,
            Attrs::USER_RX,
            Attrs {
                mem: MemType::NormalNonCacheable,
                ..Attrs::KERNEL_RW
            },
            Attrs::USER_RW.owning(),
            Attrs::KERNEL_RW.owning(),
        ] {
            for level in 1..=3 {
                let d = encode_leaf(ADDR, a, level);
                assert_eq!(decode_attrs(d), a, "level {level}");
                assert_eq!(
                    desc_addr(d),
                    ADDR.align_down(super::super::level_size(level))
                );
            }
        }
    }

    #[test]
    fn write_exec_and_device_exec_are_dropped() {
        let wx = Attrs {
            exec: true,
            ..Attrs::KERNEL_RW
        };
        assert!(wx.is_write_exec());
        let f = fields(encode_leaf(ADDR, wx, 3));
        assert!(f.pxn && f.uxn);
        let dx = Attrs {
            exec: true,
            write: false,
            ..Attrs::DEVICE
        };
        let f = fields(encode_leaf(ADDR, dx, 3));
        assert!(f.pxn && f.uxn);
        assert!(!decode_attrs(encode_leaf(ADDR, dx, 3)).exec);
        assert!(!Attrs::KERNEL_RX.is_write_exec());
    }
}
