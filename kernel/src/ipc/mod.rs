//! Inter-process communication.

pub mod futex;
pub mod liteipc;
pub mod socket;
