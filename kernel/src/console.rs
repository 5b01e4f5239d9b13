//! The kernel console: the board's UART (any [`Uart`]), newline translation, the kernel log
//! ring for `dmesg`, and the `log` backend (`[uptime] LEVEL module: message`). Input bytes
//! are handed on by whoever owns the receive interrupt (`/dev/console`).

use crate::drivers::uart::Uart;
use crate::sync::IrqSafeMutex;
use core::fmt::{self, Write};
use log::{LevelFilter, Log, Metadata, Record};

static UART: spin::Once<&'static dyn Uart> = spin::Once::new();
/// Serialises whole lines so messages from different contexts do not interleave.
static OUTPUT: IrqSafeMutex<()> = IrqSafeMutex::new(());

/// Installs the console UART (initialised by the board); output before this is dropped.
pub fn init(uart: &'static dyn Uart) {
    UART.call_once(|| uart);
}

fn write_bytes(text: &str) {
    let Some(uart) = UART.get() else { return };
    for byte in text.bytes() {
        if byte == b'\n' {
            uart.put_byte(b'\r');
        }
        uart.put_byte(byte);
    }
}

struct Console;

impl Write for Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_bytes(text);
        Ok(())
    }
}

/// Lets the UART raise its receive interrupt (its handler calls [`take_input`]).
pub fn enable_input() {
    if let Some(uart) = UART.get() {
        uart.enable_receive_interrupt();
    }
}

/// Hands every byte the UART received to `sink` (from its receive interrupt).
pub fn take_input(sink: &mut dyn FnMut(u8)) {
    if let Some(uart) = UART.get() {
        uart.drain_received(sink);
    }
}

/// Writes bytes from a user program (newlines become CR LF, like a tty).
pub fn write_raw(data: &[u8]) {
    let _lock = OUTPUT.lock();
    let Some(uart) = UART.get() else { return };
    for &byte in data {
        if byte == b'\n' {
            uart.put_byte(b'\r');
        }
        uart.put_byte(byte);
    }
}

/// Writes formatted text to the console, holding the output lock.
pub fn print(args: fmt::Arguments<'_>) {
    let _lock = OUTPUT.lock();
    let _ = Console.write_fmt(args);
}

/// Console writer for the panic and fatal-exception paths: takes no lock, because the
/// lock may be held by the code that failed.
pub struct PanicWriter;

impl Write for PanicWriter {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_bytes(text);
        Ok(())
    }
}

/// Prints to the kernel console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::console::print(format_args!($($arg)*)) };
}

/// Prints a line to the kernel console.
#[macro_export]
macro_rules! kprintln {
    ($($arg:tt)*) => { $crate::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Bytes of recent log kept for `dmesg`.
const LOG_RING_SIZE: usize = 16 * 1024;

/// The newest log output, kept in a fixed ring (no allocation: logging starts before the heap).
struct LogRing {
    bytes: [u8; LOG_RING_SIZE],
    /// Total bytes ever written; the ring holds the last LOG_RING_SIZE of them.
    written: usize,
}

static LOG_RING: IrqSafeMutex<LogRing> = IrqSafeMutex::new(LogRing {
    bytes: [0; LOG_RING_SIZE],
    written: 0,
});

impl Write for LogRing {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for &byte in text.as_bytes() {
            self.bytes[self.written % LOG_RING_SIZE] = byte;
            self.written += 1;
        }
        Ok(())
    }
}

/// The newest `max` bytes of kernel log.
pub fn recent_log(max: usize) -> alloc::vec::Vec<u8> {
    let ring = LOG_RING.lock();
    let len = ring.written.min(LOG_RING_SIZE).min(max);
    (ring.written - len..ring.written)
        .map(|i| ring.bytes[i % LOG_RING_SIZE])
        .collect()
}

struct Logger;

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let micros = crate::time::uptime_us();
        let module = record
            .target()
            .strip_prefix("kernel::")
            .unwrap_or(record.target());
        let line = format_args!(
            "[{:5}.{:06}] {:<5} {}: {}\n",
            micros / 1_000_000,
            micros % 1_000_000,
            record.level(),
            module,
            record.args()
        );
        let _ = LOG_RING.lock().write_fmt(line);
        print(line);
    }

    fn flush(&self) {}
}

/// Parses a `loglevel=` value: a level name or a Linux-style number (0..7).
pub fn parse_level(value: &str) -> Option<LevelFilter> {
    match value {
        "off" => Some(LevelFilter::Off),
        "error" | "0" | "1" | "2" | "3" => Some(LevelFilter::Error),
        "warn" | "4" => Some(LevelFilter::Warn),
        "info" | "5" | "6" => Some(LevelFilter::Info),
        "debug" | "7" => Some(LevelFilter::Debug),
        "trace" | "8" => Some(LevelFilter::Trace),
        _ => None,
    }
}

/// Installs the logger at `level`.
pub fn init_logging(level: LevelFilter) {
    static LOGGER: Logger = Logger;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}
