//! The kernel: boots on an AArch64 board described by a device tree.
//!
//! ## Layers
//!
//! Each module imports only modules of lower layers, and no two files import each other in
//! a circle (`cargo xtask layers` checks both, and so does `cargo xtask test`, against this
//! table). Lower layers reach upward only through functions handed to them at boot: the
//! architecture's trap entries ([`arch::exception::TrapHandlers`]), the scheduler's thread
//! hooks, the process layer's [`proc::ProcessHooks`], interrupt handlers.
//!
//! | layer | modules | what |
//! |---|---|---|
//! | 11 | `trap`, `panic`, `ktest` | entry points: exceptions above the architecture, the panic handler, the test runner |
//! | 10 | `syscall` | decode (kcore's typed, checked `Request`) and one dispatch `match` |
//! | 9 | `ipc` | LiteIPC, local sockets, futexes |
//! | 8 | `fs` | the file tree, open files, `/dev/console`, `/dev/initctl`, `poll` readiness |
//! | 7 | `proc` | processes, address spaces, descriptor tables, ELF loading |
//! | 6 | `sched` | threads, run queue, wait queues; address spaces only as opaque handles |
//! | 5 | `board` | the device tree, and the platforms (generic Arm, Raspberry Pi 3/4) that instantiate the drivers |
//! | 4 | `mm` | owned frames, kernel and user tables, device mappings, heap, kernel stacks, user copies |
//! | 3 | `console`, `irq`, `power` | kernel log and console, interrupt dispatch, power off |
//! | 2 | `drivers` | one file per device (PL011, GICv2/v3, PSCI; the BCM2836/BCM2835 interrupt controllers, mini UART and PM watchdog) and the traits they implement |
//! | 1 | `sync`, `time` | IRQ-safe locks, the counter |
//! | 0 | `arch` | AArch64: boot, vectors, context switch, MMU and TLB, timer, PSCI, the address map |
//!
//! The crate root (`main.rs`) wires the layers together at boot: it asks the board for its
//! devices and hands each layer what it needs. Hardware-independent logic lives in the
//! host-tested `kcore` crate, the user/kernel ABI in `abi`.
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

use board::Board;
use kcore::PhysRange;
use kcore::bootargs::BootArgs;
use log::{LevelFilter, error, info};

/// Entered from the boot code with the MMU on, on the boot stack, IRQs masked.
#[allow(unsafe_code, reason = "the entry symbol the boot code branches to")]
#[unsafe(no_mangle)]
extern "C" fn kernel_main(dtb_pa: u64, load_pa: u64, entry_el: u64) -> ! {
    time::init();
    arch::exception::set_trap_handlers(arch::exception::TrapHandlers {
        user_sync: trap::user_sync,
        irq: trap::irq,
        user_access_fault: trap::kernel_user_access_fault,
    });
    // Until the console exists there is no way to report a failure: park.
    let Some(Ok(board)) = mm::paging::with_boot_fdt(dtb_pa, Board::from_device_tree) else {
        arch::cpu::halt()
    };
    if mm::paging::init_kernel_table(load_pa, board.memory.as_slice()).is_err() {
        arch::cpu::halt()
    }
    let args = BootArgs::new(board.bootargs());
    let console = start_console(&board, &args);
    if let Some(control) = board.power() {
        power::init(control);
    }
    info!(target: "kernel", "booting on {} at EL1 (entered at EL{entry_el})", arch::cpu::cpu_name());
    info!(target: "kernel", "image at {load_pa:#x}, device tree at {dtb_pa:#x}, bootargs \"{}\"", board.bootargs());
    info!(target: "kernel", "platform: {}", board.name());
    let boot_memory = mm::BootMemory {
        ram: board.memory.as_slice(),
        reserved: board.reserved.as_slice(),
        dtb: PhysRange::new(dtb_pa, board.dtb_size),
        initrd: board.initrd,
    };
    let modules = match mm::init_allocators(&boot_memory) {
        Ok(modules) => modules,
        Err(e) => panic!("memory setup failed: {e}"),
    };
    report_memory(&board);
    start_interrupts(&board);
    start_processes(&args, modules.initrd, console.and_then(|c| c.rx_irq));
    arch::cpu::irq_enable();

    #[cfg(test)]
    ktest::run_and_exit();
    #[cfg(not(test))]
    run_init(&board)
}

/// The timer's first interrupt: a one-shot deadline this far ahead, slept through.
#[cfg(not(test))]
const FIRST_TIMER_DEADLINE_NS: u64 = 1_000_000;

/// Boot check of the timer: one sleep, ended by the first one-shot timer interrupt.
#[cfg(not(test))]
fn report_first_timer_interrupt() {
    let start = time::now();
    sched::sleep_until(start + time::ns_to_ticks(FIRST_TIMER_DEADLINE_NS));
    let elapsed_us = time::ticks_to_ns(time::now() - start) / 1000;
    info!(target: "timer", "first interrupt after {}.{:03} ms", elapsed_us / 1000, elapsed_us % 1000);
}

/// LiteOS-A runs init at priority 28.
#[cfg(not(test))]
const INIT_PRIORITY: u8 = 28;

/// Scheduler, address spaces, the filesystem and console input.
fn start_processes(args: &BootArgs<'_>, initrd: Option<&'static [u8]>, console_irq: Option<u32>) {
    mm::user_table::init_asids();
    if arch::cpu::enable_pan() {
        info!(target: "kernel", "PAN enabled: the kernel cannot touch user pages directly");
    }
    if let Some(ms) = args
        .get("sched_slice_ms")
        .and_then(|v| v.parse::<u64>().ok())
    {
        sched::set_slice_ns(ms.saturating_mul(1_000_000));
    }
    if let Err(e) = sched::init() {
        panic!("cannot start the scheduler: {e:?}");
    }
    proc::set_hooks(proc::ProcessHooks {
        read_program: fs::read_executable,
        console_file: fs::console_file,
        thread_exit: ipc::liteipc::on_thread_exit,
        process_exit: ipc::liteipc::on_process_exit,
    });
    match fs::init(initrd) {
        Ok(entries) => info!(target: "fs", "initramfs: {entries} entries"),
        Err(e) => error!(target: "fs", "initramfs unusable ({e:?}); continuing with an empty tree"),
    }
    if let Some(irq) = console_irq {
        match irq::register(irq, fs::console::on_uart_interrupt) {
            Ok(()) => console::enable_input(),
            Err(e) => error!(target: "console", "no console input: {e:?}"),
        }
    }
}

/// The board's console, and the log on it at the `loglevel=` the command line asks for.
fn start_console(board: &Board, args: &BootArgs<'_>) -> Option<board::Console> {
    let level = args
        .get("loglevel")
        .and_then(console::parse_level)
        .unwrap_or(LevelFilter::Info);
    let found = board.console().ok()?;
    console::init(found.uart);
    console::init_logging(level);
    Some(found)
}

fn report_memory(board: &Board) {
    for range in board.memory.as_slice() {
        info!(target: "mm", "RAM {:#x}-{:#x} ({} MiB)", range.base, range.end(), range.size >> 20);
    }
    let (free, total) = mm::frame::stats();
    let (_, heap_free) = mm::heap::stats();
    info!(target: "mm", "{free} frames free of {total} ({} KiB), heap {} KiB", free * 4, heap_free / 1024);
}

/// The timer outranks other devices: scheduling decisions depend on it.
const TIMER_PRIORITY: u8 = 0x80;

fn start_interrupts(board: &Board) {
    let chip = match board.interrupt_controller() {
        Ok(chip) => chip,
        Err(e) => panic!("no usable interrupt controller: {e}"),
    };
    irq::init(chip);
    info!(target: "irq", "{} ready, {} interrupt lines", chip.name(), chip.lines());
    match board.timer_irq() {
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
fn run_init(board: &Board) -> ! {
    report_first_timer_interrupt();
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
