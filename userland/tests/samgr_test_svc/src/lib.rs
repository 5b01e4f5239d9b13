//! The protocol of `/bin/samgr_test_svc` (shared with its clients, `samgr_test` and
//! `ipc_bench`): what each function code of its exported interfaces reads and answers.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// Service with the default API ("echo" interface).
pub const SERVICE: &str = "samgr_test";
/// Feature of [`SERVICE`] whose access policy admits system uids only.
pub const SECURE_FEATURE: &str = "secure";
/// A service apps may not look up (listed in samgr's `SYSTEM_ONLY`).
pub const SYSTEM_SERVICE: &str = "samgr_sys";

/// `u32 a, string s, flat bytes` → `u32 a*2, string s uppercased, u32 byte sum, u32 len`.
pub const ECHO: u32 = 1;
/// `u32 ms` → sleeps on the service thread, then answers `u32 ms`.
pub const SLEEP: u32 = 2;
/// Nothing → nothing (one-way flood target).
pub const NOOP: u32 = 3;
/// Nothing → `u32 pid` of the server. Quick.
pub const GETPID: u32 = 4;
/// As [`GETPID`], but declared slow, so it always goes through the service's queue to its
/// own thread (for `ipc_bench`'s comparison).
pub const GETPID_QUEUED: u32 = 9;
/// Nothing → `u32` NOOPs handled so far.
pub const COUNT: u32 = 5;
/// `u32 x` → nothing: appends (x, id of the thread running the call) to the call log. Quick.
pub const APPEND: u32 = 6;
/// As [`APPEND`], but declared slow, so it always runs on the service's own thread.
pub const APPEND_SLOW: u32 = 7;
/// Nothing → `u32 n`, then n × (`u32 x`, `u32 thread`) of the log (which it empties), then
/// `u32` id of the thread running this call. Quick.
pub const TAKE_LOG: u32 = 8;
/// Secure feature: nothing → `string "secret"`.
pub const SECRET: u32 = 1;

/// Byte sum used by [`ECHO`].
pub fn checksum(bytes: &[u8]) -> u32 {
    bytes.iter().map(|&b| u32::from(b)).sum()
}
