//! `/bin/true`: exits with status 0 at once, printing nothing. The spawn/exit cycle test
//! runs it hundreds of times to check that a process's frames all come back.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

fn main() -> i32 {
    0
}

ulib::entry!(main);
