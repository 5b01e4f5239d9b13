//! Hardware-independent kernel logic: everything here compiles and is unit-tested on the host.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
