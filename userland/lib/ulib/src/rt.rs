//! Runtime start-up after `_start` (in `sys`): records the stack image for [`crate::env`],
//! runs the program's main and exits with its result; and the panic handler, which
//! reports the message and location on stderr and exits with status 101 (Rust's
//! conventional panic status).

use crate::startup::StackImage;

/// The stack image the process started with (empty until `start` runs, and on the host).
static START: spin::Once<StackImage<'static>> = spin::Once::new();

/// The recorded stack image.
pub(crate) fn image() -> StackImage<'static> {
    START.get().copied().unwrap_or(StackImage::empty())
}

/// Records `image`, runs `main`, exits with its return value. The heap needs no set-up:
/// it maps its first chunk on the first allocation.
#[cfg_attr(
    not(target_os = "none"),
    allow(dead_code, reason = "called by the target's _start")
)]
pub(crate) fn start(image: StackImage<'static>, main: fn() -> i32) -> ! {
    START.call_once(|| image);
    let code = main();
    crate::process::exit(code)
}

#[cfg(all(target_os = "none", not(test)))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let name = crate::env::program_name();
    match info.location() {
        Some(at) => crate::eprintln!("{name}: panicked at {at}: {}", info.message()),
        None => crate::eprintln!("{name}: panicked: {}", info.message()),
    }
    crate::process::exit(crate::process::PANIC_EXIT_STATUS)
}
