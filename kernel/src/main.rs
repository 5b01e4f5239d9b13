//! The kernel: boots on an AArch64 board described by a device tree.
//!
//! `arch` holds everything CPU-specific, `board` turns the device tree into [`board::BoardInfo`],
//! `drivers` hold one file per device IP, and the generic subsystems (`mm`, `irq`, `time`,
//! `console`) use only those seams.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

#[allow(
    unsafe_code,
    reason = "boot, vectors, system registers: the architecture layer"
)]
mod arch;
mod board;
mod console;
mod drivers;
mod fs;
mod ipc;
mod irq;
#[allow(unsafe_code, reason = "reads the linker-collected test descriptors")]
#[cfg(test)]
mod ktest;
mod mm;
mod panic;
mod power;
mod proc;
mod sched;
mod sync;
mod syscall;
#[cfg(test)]
mod tests;
mod time;
mod trap;

use board::{BoardInfo, GicInfo};
use core::ptr::NonNull;
use drivers::gic::{IrqChip, v2::GicV2, v3::GicV3};
use drivers::mmio::{Mmio, MmioRegion};
use drivers::pl011::Pl011;
use kcore::bootargs::BootArgs;
use log::{LevelFilter, error, info};

/// Entered from the boot code with the MMU on, on the boot stack, IRQs masked.
#[allow(unsafe_code, reason = "the entry symbol the boot code branches to")]
#[unsafe(no_mangle)]
extern "C" fn kernel_main(dtb_pa: u64, load_pa: u64, entry_el: u64) -> ! {
    time::init();
    // Until the console exists there is no way to report a failure: park.
    let Some(board) =
        mm::paging::boot_fdt_window(dtb_pa).and_then(|blob| BoardInfo::parse(blob).ok())
    else {
        arch::cpu::halt()
    };
    if mm::paging::init_kernel_table(load_pa, board.memory.as_slice()).is_err() {
        arch::cpu::halt()
    }
    start_console(&board);
    power::init(board.psci);
    info!(target: "kernel", "booting on {} at EL1 (entered at EL{entry_el})", arch::cpu::cpu_name());
    info!(target: "kernel", "image at {load_pa:#x}, device tree at {dtb_pa:#x}, bootargs \"{}\"", board.bootargs());
    if let Err(e) = mm::init_allocators(&board, dtb_pa) {
        panic!("memory setup failed: {e:?}");
    }
    report_memory(&board);
    start_interrupts(&board);
    start_processes(&board);
    arch::cpu::irq_enable();

    #[cfg(test)]
    ktest::run_and_exit();
    #[cfg(not(test))]
    run_init(&board)
}

/// Boot self-check: five 10 ms sleeps, each ended by a one-shot timer interrupt.
#[cfg(not(test))]
fn check_timer() {
    const SLEEPS: u64 = 5;
    const PERIOD_NS: u64 = 10_000_000;
    let start = time::now();
    for n in 1..=SLEEPS {
        sched::sleep_until(start + time::ns_to_ticks(n * PERIOD_NS));
        let elapsed_us = time::ticks_to_ns(time::now() - start) / 1000;
        info!(target: "timer", "interrupt {n}/{SLEEPS} after {}.{:03} ms", elapsed_us / 1000, elapsed_us % 1000);
    }
}

/// LiteOS-A runs init at priority 28.
#[cfg(not(test))]
const INIT_PRIORITY: u8 = 28;

/// Scheduler, address spaces, the filesystem and console input.
fn start_processes(board: &BoardInfo) {
    proc::init_asids();
    if arch::cpu::enable_pan() {
        info!(target: "kernel", "PAN enabled: the kernel cannot touch user pages directly");
    }
    let empty_user_table =
        mm::frame::alloc_zeroed().expect("invariant: memory for one table at boot");
    if let Err(e) = sched::init(empty_user_table.as_u64()) {
        panic!("cannot start the scheduler: {e:?}");
    }
    let initrd = board
        .initrd
        .map(|r| mm::paging::initrd_slice(r.base, r.size));
    match fs::init(initrd) {
        Ok(entries) => info!(target: "fs", "initramfs: {entries} entries"),
        Err(e) => error!(target: "fs", "initramfs unusable ({e:?}); continuing with an empty tree"),
    }
    if let Some(irq) = board.uart_irq
        && let Err(e) = console::enable_input(irq)
    {
        error!(target: "console", "no console input: {e:?}");
    }
}

fn start_console(board: &BoardInfo) {
    let args = BootArgs::new(board.bootargs());
    let level = args
        .get("loglevel")
        .and_then(console::parse_level)
        .unwrap_or(LevelFilter::Info);
    if let Some(ms) = args
        .get("sched_slice_ms")
        .and_then(|v| v.parse::<u64>().ok())
    {
        sched::set_slice_ns(ms.saturating_mul(1_000_000));
    }
    let Some(uart) = board.uart else { return };
    let Ok(va) = mm::paging::ioremap(uart.base, Pl011::MMIO_SIZE as u64) else {
        return;
    };
    let Some(regs) = NonNull::new(va.as_u64() as *mut _) else {
        return;
    };
    // SAFETY: `va` is a fresh device mapping of the PL011 the device tree names, never unmapped.
    #[allow(unsafe_code, reason = "wrapping a fresh device mapping")]
    let regs = unsafe { Mmio::new(regs) };
    console::init(Pl011::new(regs));
    console::init_logging(level);
}

fn report_memory(board: &BoardInfo) {
    for range in board.memory.as_slice() {
        info!(target: "mm", "RAM {:#x}-{:#x} ({} MiB)", range.base, range.end(), range.size >> 20);
    }
    let (free, total) = mm::frame::stats();
    let (_, heap_free) = mm::heap::stats();
    info!(target: "mm", "{free} frames free of {total} ({} KiB), heap {} KiB", free * 4, heap_free / 1024);
}

/// Maps a device block and wraps it; panics if the board's registers cannot be mapped,
/// since the kernel cannot run without its interrupt controller.
fn map_device<T>(range: board::Range) -> Mmio<T> {
    let va = mm::paging::ioremap(range.base, range.size)
        .expect("invariant: MMIO area has room for the GIC");
    let ptr = NonNull::new(va.as_u64() as *mut T).expect("invariant: ioremap never returns 0");
    // SAFETY: a fresh device mapping of the block the device tree names, never unmapped.
    #[allow(unsafe_code, reason = "wrapping a fresh device mapping")]
    unsafe {
        Mmio::new(ptr)
    }
}

/// Maps a device region whose register blocks are located at run time.
fn map_region(range: board::Range) -> MmioRegion {
    let va = mm::paging::ioremap(range.base, range.size)
        .expect("invariant: MMIO area has room for the GIC");
    let ptr = NonNull::new(va.as_u64() as *mut u8).expect("invariant: ioremap never returns 0");
    // SAFETY: a fresh device mapping of the region the device tree names, never unmapped.
    #[allow(unsafe_code, reason = "wrapping a fresh device mapping")]
    unsafe {
        MmioRegion::new(ptr, range.size as usize)
    }
}

/// The timer outranks other devices: scheduling decisions depend on it.
const TIMER_PRIORITY: u8 = 0x80;

fn start_interrupts(board: &BoardInfo) {
    static GIC_V2: spin::Once<GicV2> = spin::Once::new();
    static GIC_V3: spin::Once<GicV3> = spin::Once::new();
    let chip: &'static dyn IrqChip = match board.gic {
        Some(GicInfo::V2 { gicd, gicc }) => {
            info!(target: "gic", "GICv2 at {:#x} (cpu interface {:#x})", gicd.base, gicc.base);
            GIC_V2.call_once(|| GicV2::new(map_device(gicd), map_device(gicc)))
        }
        Some(GicInfo::V3 { gicd, gicr }) => {
            info!(target: "gic", "GICv3 at {:#x} (redistributors {:#x})", gicd.base, gicr.base);
            match GicV3::new(map_device(gicd), &map_region(gicr), 0) {
                Ok(gic) => GIC_V3.call_once(|| gic),
                Err(e) => panic!("GICv3 bring-up failed: {e:?}"),
            }
        }
        None => panic!("the device tree describes no supported interrupt controller"),
    };
    irq::init(chip);
    info!(target: "gic", "GICv{} ready, {} interrupt lines", chip.version(), chip.lines());
    match board.timer_irq {
        Some(timer_irq) => {
            let registered = chip
                .set_priority(timer_irq, TIMER_PRIORITY)
                .and_then(|()| irq::register(timer_irq, sched::on_timer_interrupt));
            if let Err(e) = registered {
                error!(target: "timer", "cannot use interrupt {timer_irq}: {e:?}");
            }
            info!(target: "timer", "virtual timer on interrupt {timer_irq}, {} Hz", time::frequency_hz());
        }
        None => error!(target: "timer", "the device tree has no arm,armv8-timer node"),
    }
}

/// Starts `/bin/init` (or `init=` from the boot arguments) as pid 1, waits for it, and
/// powers off when it ends: nothing can run without init.
#[cfg(not(test))]
fn run_init(board: &BoardInfo) -> ! {
    check_timer();
    info!(target: "kernel", "boot complete");
    let args = BootArgs::new(board.bootargs());
    let path = args.get("init").unwrap_or("/bin/init");
    let spec = proc::SpawnSpec {
        path: alloc::string::String::from(path),
        argv: alloc::vec![alloc::string::String::from(path)],
        // Like Linux, init learns the kernel command line (for its own options).
        envp: alloc::vec![
            alloc::string::String::from("PATH=/bin"),
            alloc::format!("BOOTARGS={}", board.bootargs()),
        ],
        ids: Some((0, 0)),
        priority: sched::Priority::new(INIT_PRIORITY).expect("invariant: init priority is valid"),
        policy: sched::Policy::RoundRobin,
    };
    match proc::spawn(0, &spec) {
        Ok(pid) => match proc::kernel_wait(pid) {
            Ok(status) => {
                error!(target: "kernel", "init (pid {pid}) ended with wait status {status:#x}; powering off")
            }
            Err(e) => error!(target: "kernel", "lost init: {e:?}; powering off"),
        },
        Err(e) => error!(target: "kernel", "cannot start {path}: {e:?}; powering off"),
    }
    power::power_off()
}
