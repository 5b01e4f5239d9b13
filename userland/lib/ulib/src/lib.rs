//! The user runtime every program links: `_start` and the argv/envp/auxv stack image,
//! thin system-call wrappers, the heap, console printing, processes, threads, futex-based
//! `Mutex`/`Condvar`, time, files, local sockets and `poll`, and a panic handler that
//! exits with status 101.
//!
//! Like LiteOS-A's musl-based runtime it follows the Linux conventions of the `abi` crate
//! (`svc #0`, number in x8, `-errno` results, the Linux initial stack). All `unsafe` lives
//! in [`sys`]: the `svc` stubs, the entry and thread trampolines, the allocator glue and
//! owned memory mappings. Everything above it is safe code.
//!
//! A program is `#![no_std] #![no_main] #![deny(unsafe_code)]` and names its main with
//! [`entry!`]:
//! ```ignore
//! fn main() -> i32 { ulib::println!("hi"); 0 }
//! ulib::entry!(main);
//! ```
//!
//! Host builds (`cargo test -p ulib`) compile the same code with `std`; the system calls
//! then fail with `ENOSYS`, so only the pure parts (stack image, dirent and lock logic)
//! are exercised there.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod check;
pub mod env;
pub mod fs;
pub mod io;
pub mod mem;
pub mod net;
pub mod process;
mod rt;
pub mod startup;
pub mod sync;
pub mod sys;
pub mod system;
pub mod thread;
pub mod time;

pub use abi::Errno;

/// Exports `main` (a `fn() -> i32`) as the program's entry: `_start` sets up the runtime,
/// calls it, and exits with its return value.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[allow(
            unsafe_code,
            reason = "the runtime's _start finds the program's main by this exported symbol"
        )]
        #[unsafe(no_mangle)]
        pub extern "Rust" fn __ulib_main() -> i32 {
            let main: fn() -> i32 = $main;
            main()
        }
    };
}

/// Prints to standard output (fd 1), in one `write` per call.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::STDOUT, format_args!($($arg)*))
    };
}

/// Prints a line to standard output (fd 1), in one `write` per line.
#[macro_export]
macro_rules! println {
    () => {
        $crate::io::_print($crate::io::STDOUT, format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::STDOUT, format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints to standard error (fd 2).
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::STDERR, format_args!($($arg)*))
    };
}

/// Prints a line to standard error (fd 2), in one `write` per line.
#[macro_export]
macro_rules! eprintln {
    () => {
        $crate::io::_print($crate::io::STDERR, format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::STDERR, format_args!("{}\n", format_args!($($arg)*)))
    };
}
