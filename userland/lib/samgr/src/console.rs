//! Program glue for processes built on samgr: a `log` logger printing samgr's (and the
//! program's) messages on the console as `<program>: <message>` (warnings and errors
//! marked), and [`park`], which blocks the main thread for good once the services run
//! (upstream's `while (1) pause();`).

use crate::os::{Condvar, Mutex};

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

/// Blocks the calling thread for good (the process lives on in its other threads).
pub fn park() -> ! {
    static NEVER: Mutex<()> = Mutex::new(());
    static WAKE: Condvar = Condvar::new();
    let mut guard = NEVER.lock();
    loop {
        guard = WAKE.wait(guard);
    }
}
