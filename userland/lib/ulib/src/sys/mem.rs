//! `memcpy` and `memset` for user programs, replacing compiler-builtins' portable (weak)
//! ones — the same routines as the kernel's (`kernel/src/arch/aarch64/mem.rs`).
//!
//! User programs are built with strict alignment, so the compiler calls `memcpy` even for
//! small struct moves (an `IpcIo`, a message header), and the portable version spends
//! ~100 instructions on a 28-byte copy. These copy 32 bytes per iteration when source and
//! destination agree modulo 8, 16 bytes (in word pairs) when they agree modulo 4, and
//! bytes otherwise; every access is naturally aligned.

core::arch::global_asm!(include_str!("../../../../../common/aarch64/mem.S"));
