//! LiteIPC user library (upstream: communication_ipc lite's `liteipc_adapter` and `IpcIo`
//! serializer; `reference/openharmony-facts.md` section 1).
//!
//! - [`io`]: the `IpcIo` codec — [`IpcIo`] writes data and special objects (`OBJ_SVC`,
//!   `OBJ_PTR`, `OBJ_FD`), [`IpcIoReader`] reads them back with every read bounds-checked.
//!   Pure code, host-tested and fuzzed.
//! - [`context`]: [`IpcContext`] over `/dev/lite_ipc` — open and map the receive pool,
//!   `transact` (request + reply), `send_oneway`, `receive`, `reply` (with the request freed
//!   in the same ioctl), the CMS commands, and [`IpcContext::serve`], an IPC-thread loop
//!   dispatching to an [`IpcHandler`].
//! - [`cms`]: the demo service-manager protocol of upstream's tests (REG/GET/STOP by name)
//!   and [`cms::DemoCms`], a handler implementing it.
//!
//! Received messages are read in place in the read-only pool; the borrow rules that make
//! that sound live in `ulib::sys::ipc`, the only place with `unsafe`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod cms;
pub mod context;
pub mod io;

pub use abi::liteipc::SvcIdentity;
pub use context::{IpcContext, IpcHandler, Message, Reply, ReplyTo};
pub use io::{IpcIo, IpcIoError, IpcIoReader, SliceSource, Source};

#[cfg(test)]
mod tests;
