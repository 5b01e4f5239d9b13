//! AArch64: the only home of `asm!` and system registers. Boot, exception vectors, the CPU,
//! the generic timer, the GICv3 CPU interface, PSCI, semihosting, and `memcpy`/`memset`.

mod boot;
pub mod context;
pub mod cpu;
pub mod exception;
pub mod fault;
pub mod gic_cpuif;
pub mod layout;
mod mem;
pub mod psci;
#[cfg(test)]
pub mod semihosting;
pub mod timer;
pub mod usercopy;
pub mod vectors;

pub use exception::write_backtrace;
