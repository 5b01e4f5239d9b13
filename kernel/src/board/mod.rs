//! The board seam: everything the kernel knows about the hardware comes from the device
//! tree handed over by the loader. This module walks it (with the `fdt` crate), matches
//! `compatible` strings and keeps what it found in an owned [`BoardInfo`], so nothing
//! borrows the blob after boot.

use crate::arch::psci::Conduit;
use fdt::Fdt;
use fdt::node::FdtNode;

/// Most memory ranges (or reservations) we record.
const MAX_RANGES: usize = 8;
/// Longest kernel command line we keep.
const MAX_BOOTARGS: usize = 1024;

/// A physical address range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Range {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
}

impl Range {
    /// One past the last byte (saturating).
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }
}

/// A small fixed-capacity list of ranges.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ranges {
    items: [Range; MAX_RANGES],
    len: usize,
}

impl Ranges {
    fn push(&mut self, range: Range) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = range;
            self.len += 1;
        } else {
            log::warn!(
                "board: more than {MAX_RANGES} ranges, ignoring {:#x}+{:#x}",
                range.base,
                range.size
            );
        }
    }

    /// The recorded ranges.
    pub fn as_slice(&self) -> &[Range] {
        &self.items[..self.len]
    }
}

/// Which interrupt controller the board has, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicInfo {
    /// GICv2: distributor and CPU interface.
    V2 { gicd: Range, gicc: Range },
    /// GICv3: distributor and redistributor region.
    V3 { gicd: Range, gicr: Range },
}

/// Why the device tree could not be used.
#[derive(Debug)]
pub enum BoardError {
    /// The blob is not a valid flattened device tree.
    BadDeviceTree,
    /// The tree describes no memory.
    NoMemory,
}

/// What the kernel learned from the device tree.
#[derive(Clone, Copy, Debug)]
pub struct BoardInfo {
    /// RAM ranges (`device_type = "memory"` nodes).
    pub memory: Ranges,
    /// Ranges firmware reserved (/memreserve/ and /reserved-memory).
    pub reserved: Ranges,
    /// Size of the device tree blob itself.
    pub dtb_size: u64,
    /// The console PL011's registers.
    pub uart: Option<Range>,
    /// The console PL011's interrupt (INTID).
    pub uart_irq: Option<u32>,
    /// The interrupt controller.
    pub gic: Option<GicInfo>,
    /// INTID of the EL1 virtual timer.
    pub timer_irq: Option<u32>,
    /// How to call PSCI firmware.
    pub psci: Option<Conduit>,
    /// The initial ramdisk the loader placed in memory.
    pub initrd: Option<Range>,
    bootargs: [u8; MAX_BOOTARGS],
    bootargs_len: usize,
}

impl BoardInfo {
    /// Parses the device tree in `blob`.
    pub fn parse(blob: &[u8]) -> Result<Self, BoardError> {
        let fdt = Fdt::new(blob).map_err(|_| BoardError::BadDeviceTree)?;
        let mut info = BoardInfo {
            memory: Ranges::default(),
            reserved: Ranges::default(),
            dtb_size: fdt.total_size() as u64,
            uart: None,
            uart_irq: None,
            gic: None,
            timer_irq: None,
            psci: None,
            initrd: None,
            bootargs: [0; MAX_BOOTARGS],
            bootargs_len: 0,
        };
        info.find_memory(&fdt);
        if info.memory.as_slice().is_empty() {
            return Err(BoardError::NoMemory);
        }
        info.read_chosen(&fdt);
        if let Some(node) = find_uart(&fdt, info.bootargs()) {
            info.uart = first_range(node, 0);
            info.uart_irq = node
                .property("interrupts")
                .and_then(|p| gic_intid(p.value, 0));
        }
        info.gic = find_gic(&fdt);
        info.timer_irq = find_timer_irq(&fdt);
        info.psci = find_psci(&fdt);
        Ok(info)
    }

    /// The kernel command line (`/chosen/bootargs`), empty if none.
    pub fn bootargs(&self) -> &str {
        core::str::from_utf8(&self.bootargs[..self.bootargs_len]).unwrap_or("")
    }

    fn find_memory(&mut self, fdt: &Fdt<'_>) {
        for node in fdt.all_nodes() {
            let is_memory = node.property("device_type").and_then(|p| p.as_str()) == Some("memory");
            if is_memory {
                for range in node_ranges(node) {
                    self.memory.push(range);
                }
            }
        }
        for reservation in fdt.memory_reservations() {
            self.reserved.push(Range {
                base: reservation.address() as u64,
                size: reservation.size() as u64,
            });
        }
        if let Some(reserved) = fdt.find_node("/reserved-memory") {
            for child in reserved.children() {
                for range in node_ranges(child) {
                    self.reserved.push(range);
                }
            }
        }
    }

    fn read_chosen(&mut self, fdt: &Fdt<'_>) {
        let Some(chosen) = fdt.find_node("/chosen") else {
            return;
        };
        if let Some(args) = chosen.property("bootargs").and_then(|p| p.as_str()) {
            let len = args.len().min(MAX_BOOTARGS);
            self.bootargs[..len].copy_from_slice(&args.as_bytes()[..len]);
            self.bootargs_len = len;
        }
        let start = chosen
            .property("linux,initrd-start")
            .and_then(|p| p.as_usize());
        let end = chosen
            .property("linux,initrd-end")
            .and_then(|p| p.as_usize());
        if let (Some(start), Some(end)) = (start, end)
            && end > start
        {
            self.initrd = Some(Range {
                base: start as u64,
                size: (end - start) as u64,
            });
        }
    }
}

fn node_ranges<'b, 'a>(node: FdtNode<'b, 'a>) -> impl Iterator<Item = Range> + 'a {
    node.reg().into_iter().flatten().filter_map(|r| {
        let size = r.size? as u64;
        (size > 0).then_some(Range {
            base: r.starting_address as u64,
            size,
        })
    })
}

fn first_range(node: FdtNode<'_, '_>, index: usize) -> Option<Range> {
    node_ranges(node).nth(index)
}

fn is_pl011(node: &FdtNode<'_, '_>) -> bool {
    node.compatible()
        .is_some_and(|c| c.all().any(|s| s == "arm,pl011"))
}

/// The console UART: `console=ttyAMA<n>` on the command line names alias `serial<n>`;
/// otherwise `/chosen/stdout-path`; otherwise the first PL011.
fn find_uart<'b, 'a>(fdt: &'b Fdt<'a>, bootargs: &str) -> Option<FdtNode<'b, 'a>> {
    let requested = kcore::bootargs::BootArgs::new(bootargs)
        .get("console")
        .and_then(|c| c.split(',').next())
        .and_then(|tty| tty.strip_prefix("ttyAMA"))
        .and_then(|n| {
            // "serial<n>" without allocating: the heap does not exist yet.
            let mut name = *b"serial\0\0\0";
            let digits = n.as_bytes();
            if digits.is_empty() || digits.len() > 3 || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            name[6..6 + digits.len()].copy_from_slice(digits);
            let alias = core::str::from_utf8(&name[..6 + digits.len()]).ok()?;
            fdt.aliases()?.resolve_node(alias)
        })
        .filter(is_pl011);
    let stdout = fdt
        .find_node("/chosen")
        .and_then(|c| c.property("stdout-path"))
        .and_then(|p| p.as_str())
        .map(|path| path.split(':').next().unwrap_or(path))
        .and_then(|path| {
            fdt.find_node(path)
                .or_else(|| fdt.aliases()?.resolve_node(path))
        })
        .filter(is_pl011);
    requested
        .or(stdout)
        .or_else(|| fdt.find_compatible(&["arm,pl011"]))
}

/// The INTID of entry `index` of a GIC `interrupts` property: (type, number, flags) cells,
/// type 0 = SPI (INTID 32 + n), 1 = PPI (INTID 16 + n).
fn gic_intid(cells: &[u8], index: usize) -> Option<u32> {
    let entry = cells.chunks_exact(12).nth(index)?;
    let cell = |i: usize| {
        entry
            .get(i * 4..i * 4 + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    match cell(0)? {
        0 => cell(1)?.checked_add(32),
        1 => cell(1)?.checked_add(16),
        _ => None,
    }
}

fn find_gic(fdt: &Fdt<'_>) -> Option<GicInfo> {
    if let Some(node) = fdt.find_compatible(&["arm,gic-v3"]) {
        return Some(GicInfo::V3 {
            gicd: first_range(node, 0)?,
            gicr: first_range(node, 1)?,
        });
    }
    let v2 = [
        "arm,cortex-a15-gic",
        "arm,gic-400",
        "arm,cortex-a9-gic",
        "arm,cortex-a7-gic",
        "arm,arm11mp-gic",
    ];
    let node = fdt.find_compatible(&v2)?;
    Some(GicInfo::V2 {
        gicd: first_range(node, 0)?,
        gicc: first_range(node, 1)?,
    })
}

/// INTID of the virtual timer: the third (type, number, flags) triple of the
/// `arm,armv8-timer` node's `interrupts` (secure phys, non-secure phys, virtual, hyp).
fn find_timer_irq(fdt: &Fdt<'_>) -> Option<u32> {
    const VIRTUAL_TIMER_ENTRY: usize = 2;
    let node = fdt.find_compatible(&["arm,armv8-timer", "arm,armv7-timer"])?;
    gic_intid(node.property("interrupts")?.value, VIRTUAL_TIMER_ENTRY)
}

fn find_psci(fdt: &Fdt<'_>) -> Option<Conduit> {
    let node = fdt.find_compatible(&["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])?;
    match node.property("method")?.as_str()? {
        "hvc" => Some(Conduit::Hvc),
        "smc" => Some(Conduit::Smc),
        _ => None,
    }
}
