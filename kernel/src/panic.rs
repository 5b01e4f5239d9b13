//! The panic handler: location, message and a frame-pointer backtrace on the console,
//! then the run ends (test builds exit QEMU with a failure status).

use crate::arch::{self, cpu};
use crate::console::PanicWriter;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let _ = cpu::irq_save_disable();
    let mut out = PanicWriter;
    if PANICKING.swap(true, Ordering::SeqCst) {
        let _ = out.write_str("\nKERNEL PANIC while panicking\n");
        cpu::halt();
    }
    let _ = write!(out, "\nKERNEL PANIC");
    if let Some(location) = info.location() {
        let _ = write!(out, " at {}:{}", location.file(), location.line());
    }
    let _ = write!(out, ": {}\nbacktrace:\n", info.message());
    arch::write_backtrace(&mut out, cpu::frame_pointer());
    #[cfg(test)]
    crate::ktest::panicked();
    crate::power::power_off()
}
