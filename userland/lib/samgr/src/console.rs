//! Program glue for processes built on samgr: a `log` logger printing samgr's (and the
//! program's) messages on the console as `<program>: <message>` (warnings and errors
//! marked), [`park`], which blocks the main thread for good once the services run
//! (upstream's `while (1) pause();`), and [`serve`], a service process's main thread from
//! registration to that park.

use crate::os::{Condvar, Mutex};
use crate::{BootStatus, Error, Samgr};
use core::time::Duration;

/// How long [`serve`] waits for every service of the process to run.
const BOOT_WAIT: Duration = Duration::from_secs(30);

struct Logger {
    program: spin::Once<&'static str>,
}

static LOGGER: Logger = Logger {
    program: spin::Once::new(),
};

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let program = self.program.get().copied().unwrap_or("?");
        let message = record.args();
        // One write per line, so lines of concurrent processes do not interleave.
        let line = match record.level() {
            log::Level::Error => alloc::format!("{program}: ERROR {message}\n"),
            log::Level::Warn => alloc::format!("{program}: WARN {message}\n"),
            _ => alloc::format!("{program}: {message}\n"),
        };
        write_console(&line);
    }

    fn flush(&self) {}
}

#[cfg(not(any(test, feature = "std")))]
fn write_console(line: &str) {
    let _ = ulib::io::write_all(1, line.as_bytes());
}

#[cfg(any(test, feature = "std"))]
fn write_console(line: &str) {
    std::eprint!("{line}");
}

/// Installs the console logger for `program` at `level` (once per process).
pub fn init_logger(program: &'static str, level: log::LevelFilter) {
    LOGGER.program.call_once(|| program);
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

/// The rest of a service process's main thread, once its endpoint is installed: registers
/// its services, features and APIs with `register`, bootstraps samgr, logs
/// `<program>: BootStatus DYNAMIC` when they all run (waiting at most 30 s) and parks for
/// good. Returns only if `register` fails: the exit status 1, the error logged.
pub fn serve(program: &str, register: impl FnOnce(&Samgr) -> Result<(), Error>) -> i32 {
    let samgr = Samgr::instance();
    if let Err(e) = register(samgr) {
        log::error!("{program}: cannot register: {e}");
        return 1;
    }
    samgr.bootstrap();
    if samgr.wait_for_status(BootStatus::Dynamic, BOOT_WAIT) {
        log::info!("{program}: BootStatus DYNAMIC");
    }
    park()
}

/// Blocks the calling thread for good (the process lives on in its other threads).
pub fn park() -> ! {
    static NEVER: Mutex<()> = Mutex::new(());
    static WAKE: Condvar = Condvar::new();
    let mut guard = NEVER.lock();
    loop {
        guard = WAKE.wait(guard);
    }
}
