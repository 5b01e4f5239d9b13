//! The pure part of `/bin/init`: its supervision [`policy`], host-tested.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod policy;
