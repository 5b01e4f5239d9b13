//! The board seam: everything the kernel knows about the hardware comes from the device
//! tree handed over by the loader. [`Board::from_device_tree`] walks it (with the `fdt`
//! crate) for what every board has (RAM, reservations, the initrd, the command line) and
//! asks each known [`Platform`] in turn whether it drives this machine; the platform keeps
//! what it needs of the tree and later maps and instantiates its drivers when the kernel
//! asks for them: console, interrupt controller, timer interrupt, power control. Nothing
//! borrows the blob after boot.
//!
//! Every `reg` is read through `fdt_util`, which translates it through the buses' `ranges`
//! into a CPU physical address, and every interrupt is decoded by the controller it goes to,
//! so a platform file holds only what its boards have that others do not.
//!
//! Adding a board means adding a platform file here (and its drivers under `drivers/`), and
//! naming its probe in [`PLATFORMS`], ahead of the generic platform that takes any tree.

mod arm;
mod fdt_util;
mod generic;
mod platform;
mod raspberrypi;
#[cfg(test)]
mod tests;

pub use platform::{Console, DeviceError, Platform};

use crate::drivers::irqchip::IrqChip;
use crate::drivers::power::PowerControl;
use fdt::Fdt;
use fdt_util::node_ranges;
use kcore::PhysRange;

/// Most memory ranges (or reservations) we record.
const MAX_RANGES: usize = 8;
/// Longest kernel command line we keep.
const MAX_BOOTARGS: usize = 1024;

/// A platform's probe: given the tree and the command line, the platform if it drives the
/// machine (having kept what it needs of the tree).
type Probe = fn(&Fdt<'_>, &str) -> Option<&'static dyn Platform>;

/// The platforms the kernel knows, most specific first.
const PLATFORMS: &[Probe] = &[raspberrypi::probe, generic::probe];

/// A small fixed-capacity list of ranges.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ranges {
    items: [PhysRange; MAX_RANGES],
    len: usize,
}

impl Ranges {
    fn push(&mut self, range: PhysRange) {
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
    pub fn as_slice(&self) -> &[PhysRange] {
        &self.items[..self.len]
    }
}

/// Why the device tree could not be used.
#[derive(Debug)]
pub enum BoardError {
    /// The blob is not a valid flattened device tree.
    BadDeviceTree,
    /// The tree describes no memory.
    NoMemory,
    /// No platform drives this machine.
    Unsupported,
}

/// What the kernel learned from the device tree, and the platform that drives the machine.
pub struct Board {
    /// RAM ranges (`device_type = "memory"` nodes).
    pub memory: Ranges,
    /// Ranges firmware reserved (/memreserve/ and /reserved-memory).
    pub reserved: Ranges,
    /// Size of the device tree blob itself.
    pub dtb_size: u64,
    /// The initial ramdisk the loader placed in memory (`/chosen/linux,initrd-*`).
    pub initrd: Option<PhysRange>,
    bootargs: [u8; MAX_BOOTARGS],
    bootargs_len: usize,
    platform: &'static dyn Platform,
}

impl Board {
    /// Reads the device tree in `blob` and picks the platform.
    pub fn from_device_tree(blob: &[u8]) -> Result<Self, BoardError> {
        let fdt = Fdt::new(blob).map_err(|_| BoardError::BadDeviceTree)?;
        let mut memory = Ranges::default();
        let mut reserved = Ranges::default();
        find_memory(&fdt, &mut memory, &mut reserved);
        if memory.as_slice().is_empty() {
            return Err(BoardError::NoMemory);
        }
        let mut bootargs = [0; MAX_BOOTARGS];
        let bootargs_len = read_bootargs(&fdt, &mut bootargs);
        let args = core::str::from_utf8(&bootargs[..bootargs_len]).unwrap_or("");
        let platform = PLATFORMS
            .iter()
            .find_map(|probe| probe(&fdt, args))
            .ok_or(BoardError::Unsupported)?;
        Ok(Board {
            memory,
            reserved,
            dtb_size: fdt.total_size() as u64,
            initrd: find_initrd(&fdt),
            bootargs,
            bootargs_len,
            platform,
        })
    }

    /// The kernel command line (`/chosen/bootargs`), empty if none.
    pub fn bootargs(&self) -> &str {
        core::str::from_utf8(&self.bootargs[..self.bootargs_len]).unwrap_or("")
    }

    /// The platform's name.
    pub fn name(&self) -> &'static str {
        self.platform.name()
    }

    /// Maps and initialises the console UART.
    pub fn console(&self) -> Result<Console, DeviceError> {
        self.platform.console()
    }

    /// Maps and initialises the interrupt controller.
    pub fn interrupt_controller(&self) -> Result<&'static dyn IrqChip, DeviceError> {
        self.platform.interrupt_controller()
    }

    /// The timer's interrupt.
    pub fn timer_irq(&self) -> Option<u32> {
        self.platform.timer_irq()
    }

    /// The power controller.
    pub fn power(&self) -> Option<&'static dyn PowerControl> {
        self.platform.power()
    }
}

fn find_memory(fdt: &Fdt<'_>, memory: &mut Ranges, reserved: &mut Ranges) {
    for node in fdt.all_nodes() {
        let is_memory = node.property("device_type").and_then(|p| p.as_str()) == Some("memory");
        if is_memory {
            for range in node_ranges(fdt, node) {
                memory.push(range);
            }
        }
    }
    for reservation in fdt.memory_reservations() {
        reserved.push(PhysRange::new(
            reservation.address() as u64,
            reservation.size() as u64,
        ));
    }
    if let Some(node) = fdt.find_node("/reserved-memory") {
        for child in node.children() {
            for range in node_ranges(fdt, child) {
                reserved.push(range);
            }
        }
    }
}

/// Copies `/chosen/bootargs` into `out` (cut at its size); returns the length.
fn read_bootargs(fdt: &Fdt<'_>, out: &mut [u8; MAX_BOOTARGS]) -> usize {
    let Some(args) = fdt
        .find_node("/chosen")
        .and_then(|chosen| chosen.property("bootargs"))
        .and_then(|p| p.as_str())
    else {
        return 0;
    };
    let len = args.len().min(MAX_BOOTARGS);
    out[..len].copy_from_slice(&args.as_bytes()[..len]);
    len
}

fn find_initrd(fdt: &Fdt<'_>) -> Option<PhysRange> {
    let chosen = fdt.find_node("/chosen")?;
    let start = chosen.property("linux,initrd-start")?.as_usize()?;
    let end = chosen.property("linux,initrd-end")?.as_usize()?;
    (end > start).then(|| PhysRange::new(start as u64, (end - start) as u64))
}
