//! The protocol between `pagemanagerd` (DPMS, the dynamic page manager), `seed` (the page
//! process spawner, like a zygote) and page processes, after AliOS's pair (seed document
//! 000): both daemons listen on a SOCK_SEQPACKET socket, [`SEED_SOCKET`] and
//! [`DPMS_SOCKET`], and each sends on a connection it opened to the other's socket, so
//! each is both a socket client and a socket server.
//!
//! - [`message`]: the handshake words (`seed start`, `pagemanagerd start`, `seed ready`,
//!   `homeshell ready`), the JSON process-info message (`action` `fork`/`kill`), seed's
//!   events, page state reports and the control requests and replies. Parsing never
//!   panics: malformed input is an [`message::Error`].
//! - [`link`]: DPMS's per-seed client, with its `is_ready` flag and pending-message list
//!   (AliOS `SeedSocketClient::mIsSeedReady` / `mPendingMessageList`).
//! - [`pages`]: DPMS's page table and its state transitions.
//!
//! Everything here is pure, so the whole protocol is tested on the host.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod link;
pub mod message;
pub mod pages;

/// Where seed listens (AliOS `kSeedSocketName`).
pub const SEED_SOCKET: &str = "/dev/socket/seed";
/// Where pagemanagerd listens (AliOS `kDPMSSocketName`).
pub const DPMS_SOCKET: &str = "/dev/socket/dpms";
/// The program seed runs for a page.
pub const PAGE_PROGRAM: &str = "/bin/page";
/// The URI whose page, once running, makes DPMS send `homeshell ready` to seed.
pub const HOMESHELL_URI: &str = "page://homeshell";
/// Identity page processes run as (not root: a page is an application).
pub const PAGE_UID: u32 = 1000;
/// Group page processes run as.
pub const PAGE_GID: u32 = 1000;
/// The samgr service that exports DPMS's page service over LiteIPC (default feature).
pub const SAMGR_SERVICE: &str = "dpms";

/// Function codes of the samgr interface: each request's reply body is one string, a
/// [`message::Reply`] in JSON (the same answer the socket gives).
pub mod code {
    /// `string uri` → the opened page (once it runs, or `pending`).
    pub const OPEN: u32 = 1;
    /// `u32 id` → the page once gone (or `closing`).
    pub const CLOSE: u32 = 2;
    /// Nothing → every page.
    pub const LIST: u32 = 3;
}

/// Priority of a page's main thread (10..=31; 20 is the shell's, services run at 20 too).
pub const PAGE_PRIORITY: u32 = 20;
