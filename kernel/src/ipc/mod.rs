//! Inter-process communication.

pub mod liteipc;
