//! Console I/O: `print!`/`println!` format into a stack buffer and write it with one
//! `write` (a line from two threads never interleaves unless it exceeds the buffer), and
//! line input from stdin. No allocation on the output path, so the panic handler can use it.

use crate::sync::Mutex;
use crate::sys;
use abi::Errno;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

/// Standard input (the console).
pub const STDIN: usize = 0;
/// Standard output (the console).
pub const STDOUT: usize = 1;
/// Standard error (the console).
pub const STDERR: usize = 2;

/// Bytes formatted before a write is forced.
const PRINT_BUFFER: usize = 1024;

/// Writes all of `bytes` to `fd`, retrying short writes.
pub fn write_all(fd: usize, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        match sys::write(fd, bytes) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Formats into a fixed buffer, flushing to `fd` when it fills and at the end.
struct BufferedFd {
    fd: usize,
    buf: [u8; PRINT_BUFFER],
    len: usize,
}

impl BufferedFd {
    fn flush(&mut self) {
        // Printing has nowhere to report a console error; drop it like std's print does
        // not (it panics) because a panic here would recurse into the panic handler.
        let _ = write_all(self.fd, self.buf.get(..self.len).unwrap_or_default());
        self.len = 0;
    }
}

impl Write for BufferedFd {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut bytes = s.as_bytes();
        while !bytes.is_empty() {
            if self.len == PRINT_BUFFER {
                self.flush();
            }
            let n = bytes.len().min(PRINT_BUFFER - self.len);
            let (now, rest) = bytes.split_at(n);
            self.buf[self.len..self.len + n].copy_from_slice(now);
            self.len += n;
            bytes = rest;
        }
        Ok(())
    }
}

/// Backend of the print macros.
#[doc(hidden)]
pub fn _print(fd: usize, args: fmt::Arguments<'_>) {
    let mut out = BufferedFd {
        fd,
        buf: [0; PRINT_BUFFER],
        len: 0,
    };
    let _ = out.write_fmt(args);
    out.flush();
}

/// Bytes read from stdin but not yet returned as a line.
static STDIN_PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Reads one line from stdin into `line` (appending, newline included); returns the bytes
/// added, 0 at end of input. Invalid UTF-8 is replaced with U+FFFD.
pub fn read_line(line: &mut String) -> Result<usize, Errno> {
    let mut pending = STDIN_PENDING.lock();
    loop {
        if let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let rest = pending.split_off(end + 1);
            let taken = core::mem::replace(&mut *pending, rest);
            line.push_str(&String::from_utf8_lossy(&taken));
            return Ok(taken.len());
        }
        let mut chunk = [0u8; 128];
        match sys::read(STDIN, &mut chunk) {
            Ok(0) => {
                let taken = core::mem::take(&mut *pending);
                line.push_str(&String::from_utf8_lossy(&taken));
                return Ok(taken.len());
            }
            Ok(n) => pending.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}
