//! The board seam on hand-written device trees: a QEMU virt-shaped one for the generic
//! platform, and ones shaped like the Raspberry Pi 3 and 4 trees: `ranges` translation (one-
//! and two-cell parents, a bus without `ranges`, a device crossing a window's end), inherited
//! `interrupt-parent`, interrupt specifiers of the GIC and of the BCM2836/BCM2835
//! controllers, the console on `stdout-path` or `console=` (`ttyAMA<n>`, `ttyS<n>`), power
//! without PSCI, and malformed cell counts, which leave entries out instead of panicking.

mod fdt_writer;

use super::arm::GicInfo;
use super::fdt_util::nth_range;
use super::generic::Generic;
use super::raspberrypi::{ConsoleInfo, IrqChipInfo, PowerInfo, RaspberryPi, Soc, UartKind};
use super::{Board, BoardError, Ranges, find_memory};
use crate::arch::psci::Conduit;
use crate::{kassert, kassert_eq, ksome, ktest};
use alloc::vec::Vec;
use fdt::Fdt;
use fdt_writer::FdtWriter;
use kcore::PhysRange;

/// A QEMU virt-like tree: two-cell root, GICv3 with its distributor and redistributors, a
/// PL011 with a GIC SPI inherited from the root's `interrupt-parent`, the timer's PPIs, PSCI
/// over HVC.
fn virt_tree(bootargs: &str) -> Vec<u8> {
    let mut w = FdtWriter::default();
    w.begin("")
        .strs("compatible", &["linux,dummy-virt"])
        .cells("#address-cells", &[2])
        .cells("#size-cells", &[2])
        .cells("interrupt-parent", &[1]);
    w.begin("chosen")
        .strs("stdout-path", &["/pl011@9000000"])
        .strs("bootargs", &[bootargs])
        .end();
    w.begin("memory@40000000")
        .strs("device_type", &["memory"])
        .cells("reg", &[0, 0x4000_0000, 0, 0x0400_0000])
        .end();
    w.begin("intc@8000000")
        .strs("compatible", &["arm,gic-v3"])
        .cells(
            "reg",
            &[0, 0x0800_0000, 0, 0x1_0000, 0, 0x080a_0000, 0, 0xf6_0000],
        )
        .prop("interrupt-controller", &[])
        .cells("#interrupt-cells", &[3])
        .cells("phandle", &[1])
        .end();
    w.begin("pl011@9000000")
        .strs("compatible", &["arm,pl011", "arm,primecell"])
        .cells("reg", &[0, 0x0900_0000, 0, 0x1000])
        .cells("interrupts", &[0, 1, 4])
        .end();
    w.begin("psci")
        .strs("compatible", &["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])
        .strs("method", &["hvc"])
        .end();
    w.begin("timer")
        .strs("compatible", &["arm,armv8-timer", "arm,armv7-timer"])
        .cells(
            "interrupts",
            &[1, 13, 0xf04, 1, 14, 0xf04, 1, 11, 0xf04, 1, 10, 0xf04],
        )
        .end();
    w.end();
    w.finish()
}

ktest!(
    fn virt_tree_gives_the_standard_arm_parts() {
        let blob = virt_tree("");
        let fdt = ksome!(Fdt::new(&blob).ok(), "tree rejected");
        kassert!(RaspberryPi::find(&fdt, "").is_none(), "virt is no Pi");
        kassert_eq!(
            Generic::find(&fdt, ""),
            Generic {
                uart: Some(PhysRange::new(0x0900_0000, 0x1000)),
                // SPI 1.
                uart_irq: Some(33),
                gic: Some(GicInfo::V3 {
                    gicd: PhysRange::new(0x0800_0000, 0x1_0000),
                    gicr: PhysRange::new(0x080a_0000, 0xf6_0000),
                }),
                // PPI 11.
                timer_irq: Some(27),
                psci: Some(Conduit::Hvc),
            }
        );
        Ok(())
    }
);

/// A Raspberry Pi 3 B-like tree: one-cell root, /soc mapping the VideoCore bus at 0x7e000000
/// to 0x3f000000 and the local block 1:1, the armctrl and local controllers, both UARTs (with
/// the upstream tree's aliases), the PM watchdog, the timer on the local controller, a bus
/// without `ranges`, and a device that runs past the end of a `ranges` window.
fn pi3_tree(bootargs: &str) -> Vec<u8> {
    let mut w = FdtWriter::with_reservations(&[(0, 0x1000)]);
    w.begin("")
        .strs("compatible", &["raspberrypi,3-model-b", "brcm,bcm2837"])
        .cells("#address-cells", &[1])
        .cells("#size-cells", &[1])
        .cells("interrupt-parent", &[1]);
    w.begin("aliases")
        .strs("serial0", &["/soc/serial@7e201000"])
        .strs("serial1", &["/soc/serial@7e215040"])
        .end();
    w.begin("chosen")
        .strs("stdout-path", &["serial1:115200n8"])
        .strs("bootargs", &[bootargs])
        .end();
    w.begin("memory@0")
        .strs("device_type", &["memory"])
        .cells("reg", &[0, 0x3b40_0000])
        .end();
    w.begin("soc")
        .strs("compatible", &["simple-bus"])
        .cells("#address-cells", &[1])
        .cells("#size-cells", &[1])
        .cells(
            "ranges",
            &[
                0x7e00_0000,
                0x3f00_0000,
                0x0100_0000,
                0x4000_0000,
                0x4000_0000,
                0x1000,
            ],
        );
    w.begin("serial@7e201000")
        .strs("compatible", &["arm,pl011", "arm,primecell"])
        .cells("reg", &[0x7e20_1000, 0x200])
        .cells("interrupts", &[2, 25])
        .end();
    w.begin("serial@7e215040")
        .strs("compatible", &["brcm,bcm2835-aux-uart"])
        .cells("reg", &[0x7e21_5040, 0x40])
        .cells("interrupts", &[1, 29])
        .end();
    w.begin("interrupt-controller@7e00b200")
        .strs("compatible", &["brcm,bcm2836-armctrl-ic"])
        .cells("reg", &[0x7e00_b200, 0x200])
        .prop("interrupt-controller", &[])
        .cells("#interrupt-cells", &[2])
        .cells("interrupt-parent", &[2])
        .cells("interrupts", &[8, 4])
        .cells("phandle", &[1])
        .end();
    w.begin("watchdog@7e100000")
        .strs("compatible", &["brcm,bcm2835-pm", "brcm,bcm2835-pm-wdt"])
        .cells("reg", &[0x7e10_0000, 0x114, 0x7e00_a000, 0x24])
        .end();
    w.begin("local_intc@40000000")
        .strs("compatible", &["brcm,bcm2836-l1-intc"])
        .cells("reg", &[0x4000_0000, 0x100])
        .prop("interrupt-controller", &[])
        .cells("#interrupt-cells", &[2])
        .cells("interrupt-parent", &[2])
        .cells("phandle", &[2])
        .end();
    w.begin("straddling@40000f00")
        .cells("reg", &[0x4000_0f00, 0x200])
        .end();
    w.begin("isolated")
        .cells("#address-cells", &[1])
        .cells("#size-cells", &[1]);
    w.begin("device@10").cells("reg", &[0x10, 0x10]).end();
    w.end(); // isolated
    w.end(); // soc
    w.begin("timer")
        .strs("compatible", &["arm,armv7-timer"])
        .cells("interrupt-parent", &[2])
        .cells("interrupts", &[0, 4, 1, 4, 3, 4, 2, 4])
        .end();
    w.end();
    w.finish()
}

/// The mini UART of [`pi3_tree`]: translated, its armctrl line (1, 29) numbered
/// 32 + 32 + 29.
const PI3_MINI_UART: ConsoleInfo = ConsoleInfo {
    kind: UartKind::MiniUart,
    regs: PhysRange::new(0x3f21_5040, 0x40),
    irq: Some(93),
};

/// The PL011 of [`pi3_tree`]: its armctrl line (2, 25) is 32 + 64 + 25.
const PI3_PL011: ConsoleInfo = ConsoleInfo {
    kind: UartKind::Pl011,
    regs: PhysRange::new(0x3f20_1000, 0x200),
    irq: Some(121),
};

/// The memory and reservations `Board` reads from `blob`.
fn memory_of(blob: &[u8]) -> Option<(Ranges, Ranges)> {
    let fdt = Fdt::new(blob).ok()?;
    let (mut memory, mut reserved) = (Ranges::default(), Ranges::default());
    find_memory(&fdt, &mut memory, &mut reserved);
    Some((memory, reserved))
}

ktest!(
    fn pi3_tree_gives_the_bcm2837_devices_at_arm_addresses() {
        let blob = pi3_tree("loglevel=info");
        let fdt = ksome!(Fdt::new(&blob).ok(), "tree rejected");
        let pi = ksome!(RaspberryPi::find(&fdt, "loglevel=info"), "not a Pi");
        kassert_eq!(
            pi,
            RaspberryPi {
                soc: Soc::Bcm2837,
                // stdout-path's mini UART.
                console: Some(PI3_MINI_UART),
                irqchip: Some(IrqChipInfo::Bcm2836 {
                    local: PhysRange::new(0x4000_0000, 0x100),
                    armctrl: PhysRange::new(0x3f00_b200, 0x200),
                }),
                // The virtual timer: third specifier, local source 3.
                timer_irq: Some(3),
                power: Some(PowerInfo::PmWatchdog(PhysRange::new(0x3f10_0000, 0x114))),
            }
        );
        let (memory, reserved) = ksome!(memory_of(&blob), "tree rejected");
        kassert_eq!(memory.as_slice(), &[PhysRange::new(0, 0x3b40_0000)]);
        kassert!(reserved.as_slice().contains(&PhysRange::new(0, 0x1000)));
        Ok(())
    }
);

ktest!(
    fn console_argument_picks_the_port_linux_would() {
        let pick = |args: &str| {
            let blob = pi3_tree(args);
            let fdt = Fdt::new(&blob).ok()?;
            RaspberryPi::find(&fdt, args)?.console
        };
        // ttyAMA<n> is the PL011 alias serial<n> names; ttyS<n> the 8250-style mini UART.
        kassert_eq!(pick("console=ttyAMA0,115200"), Some(PI3_PL011));
        kassert_eq!(pick("console=ttyS1,115200"), Some(PI3_MINI_UART));
        // The last console= Linux would use wins; a name that is no port of ours is passed
        // over (tty0 is a screen, serial0 is no 8250, there is no serial5).
        kassert_eq!(
            pick("console=ttyS1 console=ttyAMA0 console=tty0"),
            Some(PI3_PL011)
        );
        for args in ["console=ttyS0", "console=ttyAMA5", "console=ttyAMA1"] {
            kassert_eq!(pick(args), Some(PI3_MINI_UART), "{args}: stdout-path's");
        }
        Ok(())
    }
);

ktest!(
    fn a_bus_without_ranges_or_a_window_too_small_maps_nothing() {
        let blob = pi3_tree("");
        let fdt = ksome!(Fdt::new(&blob).ok(), "tree rejected");
        let device = ksome!(fdt.find_node("/soc/isolated/device@10"), "no device");
        kassert_eq!(nth_range(&fdt, device, 0), None);
        let straddling = ksome!(fdt.find_node("/soc/straddling@40000f00"), "no node");
        kassert_eq!(nth_range(&fdt, straddling, 0), None);
        let uart = ksome!(fdt.find_node("/soc/serial@7e215040"), "no uart");
        kassert_eq!(nth_range(&fdt, uart, 1), None, "a second reg entry");
        let watchdog = ksome!(fdt.find_node("/soc/watchdog@7e100000"), "no watchdog");
        kassert_eq!(
            nth_range(&fdt, watchdog, 1),
            Some(PhysRange::new(0x3f00_a000, 0x24))
        );
        Ok(())
    }
);

/// A Raspberry Pi 4 B-like tree: two-cell root addresses, /soc mapping the bus to 0xfe000000
/// and the GIC-400 block to 0xff800000, the timer on the (inherited) GIC.
fn pi4_tree() -> Vec<u8> {
    let mut w = FdtWriter::default();
    w.begin("")
        .strs("compatible", &["raspberrypi,4-model-b", "brcm,bcm2711"])
        .cells("#address-cells", &[2])
        .cells("#size-cells", &[1])
        .cells("interrupt-parent", &[1]);
    w.begin("chosen")
        .strs("stdout-path", &["/soc/serial@7e215040:115200n8"])
        .end();
    w.begin("memory@0")
        .strs("device_type", &["memory"])
        .cells("reg", &[0, 0, 0x3b40_0000, 0, 0x4000_0000, 0xbc00_0000])
        .end();
    w.begin("soc")
        .cells("#address-cells", &[1])
        .cells("#size-cells", &[1])
        .cells(
            "ranges",
            &[
                0x7e00_0000,
                0,
                0xfe00_0000,
                0x0180_0000,
                0x4000_0000,
                0,
                0xff80_0000,
                0x0080_0000,
            ],
        );
    w.begin("serial@7e215040")
        .strs("compatible", &["brcm,bcm2835-aux-uart"])
        .cells("reg", &[0x7e21_5040, 0x40])
        .cells("interrupts", &[0, 0x5d, 4])
        .end();
    w.begin("interrupt-controller@40041000")
        .strs("compatible", &["arm,gic-400"])
        .cells("reg", &[0x4004_1000, 0x1000, 0x4004_2000, 0x2000])
        .prop("interrupt-controller", &[])
        .cells("#interrupt-cells", &[3])
        .cells("phandle", &[1])
        .end();
    w.begin("watchdog@7e100000")
        .strs("compatible", &["brcm,bcm2711-pm", "brcm,bcm2835-pm-wdt"])
        .cells("reg", &[0x7e10_0000, 0x114])
        .end();
    w.end(); // soc
    w.begin("timer")
        .strs("compatible", &["arm,armv8-timer"])
        .cells(
            "interrupts",
            &[1, 13, 0xf08, 1, 14, 0xf08, 1, 11, 0xf08, 1, 10, 0xf08],
        )
        .end();
    w.end();
    w.finish()
}

ktest!(
    fn pi4_tree_gives_the_gic_400_through_two_cell_ranges() {
        let blob = pi4_tree();
        let fdt = ksome!(Fdt::new(&blob).ok(), "tree rejected");
        let pi = ksome!(RaspberryPi::find(&fdt, ""), "not a Pi");
        kassert_eq!(
            pi,
            RaspberryPi {
                soc: Soc::Bcm2711,
                // SPI 0x5d = INTID 125.
                console: Some(ConsoleInfo {
                    kind: UartKind::MiniUart,
                    regs: PhysRange::new(0xfe21_5040, 0x40),
                    irq: Some(125),
                }),
                irqchip: Some(IrqChipInfo::Gic(GicInfo::V2 {
                    gicd: PhysRange::new(0xff84_1000, 0x1000),
                    gicc: PhysRange::new(0xff84_2000, 0x2000),
                })),
                // PPI 11 = INTID 27.
                timer_irq: Some(27),
                power: Some(PowerInfo::PmWatchdog(PhysRange::new(0xfe10_0000, 0x114))),
            }
        );
        let (memory, _) = ksome!(memory_of(&blob), "tree rejected");
        kassert_eq!(
            memory.as_slice(),
            &[
                PhysRange::new(0, 0x3b40_0000),
                PhysRange::new(0x4000_0000, 0xbc00_0000)
            ]
        );
        Ok(())
    }
);

/// A tree whose root gives `#address-cells` and `#size-cells` as `cells` (raw bytes) and
/// one memory node.
fn tree_with_cells(address_cells: &[u8], size_cells: &[u8]) -> Vec<u8> {
    let mut w = FdtWriter::default();
    w.begin("")
        .prop("#address-cells", address_cells)
        .prop("#size-cells", size_cells);
    w.begin("memory@0")
        .strs("device_type", &["memory"])
        .cells("reg", &[0, 0x1000_0000])
        .end();
    w.end();
    w.finish()
}

ktest!(
    fn malformed_cell_counts_mean_no_memory_not_a_panic() {
        const ONE: &[u8] = &[0, 0, 0, 1];
        // Two bytes are no cell count, nor are two cells; three cells do not fit in 64 bits;
        // zero cells would never use up the property.
        for (address, size) in [
            (&[0u8, 1][..], ONE),
            (&[0, 0, 0, 3], ONE),
            (&[0, 0, 0, 1, 0, 0, 0, 1], ONE),
            (ONE, &[0, 1]),
            (&[0, 0, 0, 0], &[0, 0, 0, 0]),
        ] {
            let blob = tree_with_cells(address, size);
            let (memory, _) = ksome!(memory_of(&blob), "tree rejected");
            kassert!(
                memory.as_slice().is_empty(),
                "{address:?} {size:?}: {memory:?}"
            );
            kassert!(
                matches!(Board::from_device_tree(&blob), Err(BoardError::NoMemory)),
                "{address:?} {size:?}"
            );
        }
        let blob = tree_with_cells(ONE, ONE);
        let (memory, _) = ksome!(memory_of(&blob), "tree rejected");
        kassert_eq!(memory.as_slice(), &[PhysRange::new(0, 0x1000_0000)]);
        Ok(())
    }
);
