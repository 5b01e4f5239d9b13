//! samgr: OpenHarmony's `samgr_lite` system-ability manager, in Rust, in-process half (see
//! `../shared/reference/openharmony-facts.md` §4 and the seed documents). Every process that
//! offers or uses services links it:
//!
//! - [`Samgr`] (`SAMGR_GetInstance`): the registry of [`Service`]s, their [`Feature`]s and
//!   their APIs ([`Api`], objects implementing [`IUnknown`] with a version), looked up by
//!   (service, feature); [`Samgr::bootstrap`] gives each service a [`task`] pool and initialises
//!   it on its own thread, highest priority first, moving the [`BootStatus`] to `Dynamic`.
//! - Messages ([`message`], [`exchange`]): [`Request`]/[`Response`] to an [`Identity`] through a
//!   pool's bounded queue: `MSG_NON`, `MSG_CON` with a [`Handler`] for the response, `MSG_ACK`,
//!   `MSG_DIRECT` (the sender's handler runs on the receiver's thread), `MSG_EXIT`. A full
//!   queue fails the send with `EC_BUSBUSY`; data is shared by `Arc`, freed with the last holder.
//! - [`broadcast`]: the Broadcast service ("Provider and subscriber": topics and consumers).
//!
//! Seams for the cross-process half (endpoint with boss thread and routers, remote
//! registration, client proxies, the samgr server), which builds on this crate:
//! - (a) [`ipc`]: an exported interface is an [`IUnknown`] whose version has
//!   [`SERVER_PROXY_VER`] and that provides an [`IServerProxy`]; its `invoke(code, origin,
//!   request, reply)` reads/writes through the [`IpcReader`]/[`IpcWriter`] traits.
//! - (b) [`remote::ServiceRegistry`]: told of every exported interface as its service
//!   initialises (where the endpoint adds a router); also resolves services of other processes.
//! - (c) the `MSG_DIRECT` exchange (upstream `SAMGR_SendSharedDirectRequest`): hands an
//!   incoming IPC message to the owning service's thread (HandleIpc); an idle pool can also
//!   lend its thread's place to the endpoint's boss thread for a quick call.
//! - (d) [`token_bucket`] (flow control) and [`policy`] (uid policies, `judge_policy`).
//! - (e) [`syscap`]: the samgr server's system-capability table.
//!
//! Threads and locks come from ulib on the target and from `std` in host tests ([`os`]); the
//! crate has no `unsafe`.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod boot;
pub mod broadcast;
pub mod client;
pub mod console;
pub mod endpoint;
pub mod errno;
pub mod exchange;
pub mod ipc;
pub mod ipc_io;
pub mod iunknown;
pub mod message;
pub mod os;
pub mod policy;
pub mod protocol;
pub mod remote;
mod samgr;
pub mod server;
pub mod service;
pub mod syscap;
pub mod task;
pub mod token_bucket;
pub mod vector;

#[cfg(test)]
mod tests;

pub use boot::BootStatus;
pub use errno::Error;
pub use exchange::{
    current_queue, send_request, send_response, send_response_by_identity,
    send_shared_direct_request, send_shared_request,
};
pub use ipc::{CallHandler, IServerProxy, IpcReader, IpcWriter, MemIo, Origin};
pub use iunknown::{
    Api, CLIENT_PROXY_VER, DEFAULT_VERSION, IUnknown, OLD_VERSION, SERVER_IMPL_VER,
    SERVER_PROXY_VER,
};
pub use message::{
    Data, ExchangeType, Handler, INVALID_INDEX, Identity, QueueId, Request, Response, handler,
};
pub use remote::{SaName, ServiceRegistry};
pub use samgr::{MAX_FEATURE_NUM, MAX_SERVICE_NUM, Samgr, ServiceInfo, ServiceState};
pub use service::{Feature, Service};
pub use task::{TaskConfig, TaskType};
