//! Seam (b) for the cross-process half: what samgr tells the endpoint, and the names the
//! samgr server protocol uses (upstream `service_registry.h`, `default_client.h`, `endpoint.h`;
//! seeds 001/003).
//!
//! Upstream calls `SAMGR_RegisterServiceApi(service, feature, &identity, iUnknown)` from
//! `DEFAULT_Initialize` for the service's default API and then for each feature's API, and a
//! weak default does nothing unless the process links the IPC client (`remote_register.c`),
//! which then adds a router to its endpoint (`SAMGR_AddRouter`: only interfaces that answer
//! `QueryInterface(SERVER_PROXY_VER)`) and starts the boss thread. Here the IPC client
//! implements [`ServiceRegistry`] and installs it with `Samgr::set_service_registry`; samgr
//! calls [`ServiceRegistry::register_service_api`] only for exported interfaces
//! (`Api::server_proxy` is `Some`), on the initialising service's thread, service first and
//! then its features in feature-id order, services in initialisation (priority) order. An API
//! registered after its service initialised is reported at registration. Installing the
//! registry later replays every already-initialised export, so implementations must ignore an
//! [`Api`] they already route (`Api::ptr_eq`), as `SAMGR_AddRouter` does.

use crate::iunknown::Api;
use crate::message::Identity;
use alloc::string::String;

/// Service and feature names are shorter than this (bytes; upstream `MAX_NAME_LEN` with the NUL).
pub const MAX_NAME_LEN: usize = 16;
/// The samgr server's service name.
pub const SAMGR_SERVICE: &str = "samgr";
/// The samgr server endpoint's well-known identity: handle.
pub const SAMGR_HANDLE: u32 = 0;
/// ... token.
pub const SAMGR_TOKEN: u32 = 0;
/// ... cookie.
pub const SAMGR_COOKIE: u32 = 0;
/// Invalid handle/token as the IPC layer writes it (`(uint32)INVALID_INDEX`).
pub const INVALID_HANDLE: u32 = u32::MAX;

/// Samgr server request resources (first `u32` of a request).
pub const RES_ENDPOINT: u32 = 0;
/// Features.
pub const RES_FEATURE: u32 = 1;
/// System capabilities.
pub const RES_SYSCAP: u32 = 2;
/// Samgr server request options (second `u32`).
pub const OP_GET: u32 = 0;
/// Create.
pub const OP_POST: u32 = 1;
/// Register/update.
pub const OP_PUT: u32 = 2;
/// Remove.
pub const OP_DELETE: u32 = 3;
/// List.
pub const OP_ALL: u32 = 4;

/// A service or feature as other processes name it (upstream `SaName`): a feature of
/// `None` names the service's default API.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SaName {
    /// Service name.
    pub service: String,
    /// Feature name, or `None` for the default API.
    pub feature: Option<String>,
}

impl SaName {
    /// A name.
    pub fn new(service: &str, feature: Option<&str>) -> SaName {
        SaName {
            service: String::from(service),
            feature: feature.map(String::from),
        }
    }

    /// Whether both parts are non-empty and shorter than [`MAX_NAME_LEN`] (the samgr server's
    /// store limit; in-process feature names may be longer, like Broadcast's).
    pub fn is_valid(&self) -> bool {
        valid_name(&self.service) && self.feature.as_deref().is_none_or(valid_name)
    }
}

/// A name samgr stores: 1..[`MAX_NAME_LEN`] bytes.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() < MAX_NAME_LEN
}

/// The cross-process registry a process may install (upstream `service_registry.h` weak
/// functions, implemented by `remote_register.c`).
pub trait ServiceRegistry: Send + Sync {
    /// An exported interface became available (`SAMGR_RegisterServiceApi`): add a router for
    /// it and register it with the samgr server.
    fn register_service_api(&self, name: &SaName, identity: &Identity, api: &Api);

    /// An exported interface was unregistered locally.
    fn unregister_service_api(&self, _name: &SaName, _api: &Api) {}

    /// A service that is not in this process (`SAMGR_FindServiceApi`): return a client proxy.
    fn find_service_api(&self, _service: &str, _feature: Option<&str>) -> Option<Api> {
        None
    }
}
