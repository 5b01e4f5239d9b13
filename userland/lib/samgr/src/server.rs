//! The samgr server (upstream `samgr_server.c`, `sa_store.c`; seeds 001/002/004): what the
//! `foundation` process serves at {0, 0, 0}. It is an ordinary exported interface
//! ([`SamgrServer`] is a [`CallHandler`], so an [`IServerProxy`](crate::IServerProxy)) of
//! the service named [`SAMGR_SERVICE`], routed by the process's "samgr" endpoint (see
//! `endpoint`), so requests are handled on the samgr service's thread like any other
//! (HandleIpc), without the uid policy check.
//!
//! - ENDPOINT/POST: a handle for the calling thread ([`Cms::gen_handle`]); the endpoint is
//!   recorded with the caller's pid/uid and watched ([`Cms::watch`]), so its death reaches
//!   [`SamgrServer::on_endpoint_death`], which drops the endpoint and its features.
//! - FEATURE/PUT: the caller's pid and uid must match a registered endpoint
//!   (`EC_NOSERVICE`); names must be valid (`EC_INVALID`); apps (uid >= 10000) and the
//!   reserved name "samgr" may not register (`EC_PERMISSION`); a name owned by another live
//!   endpoint is refused (`EC_INVALID`). The reply carries the identity and the feature's
//!   access policies ([`access_policies`]).
//! - FEATURE/GET: unknown names `EC_NOSERVICE`; the communication check
//!   ([`communication_allowed`]) `EC_PERMISSION`; then [`Cms::add_access`] lets the caller
//!   reach the handle and the identity is returned.
//! - SYSCAP PUT/GET/ALL for uids below [`UID_HAP`] (else `EC_PERMISSION`), ALL paged by
//!   [`MAX_SYSCAP_NUM_PER_REPLY`](crate::syscap::MAX_SYSCAP_NUM_PER_REPLY).
//! - Ours, for `samgr_ctl`: ENDPOINT/ALL, FEATURE/ALL, and FEATURE/DELETE (a process
//!   withdrawing one of its own exports).

use crate::errno::Error;
use crate::ipc::{CallHandler, IpcReader, IpcWriter, Origin};
use crate::os::Mutex;
use crate::policy::{PolicyTrans, write_policies};
use crate::protocol::{
    EndpointRecord, FeatureRecord, read_name, write_endpoint_record, write_feature_record,
    write_identity,
};
use crate::remote::{
    MAX_NAME_LEN, OP_ALL, OP_DELETE, OP_GET, OP_POST, OP_PUT, RES_ENDPOINT, RES_FEATURE,
    RES_SYSCAP, SAMGR_SERVICE, SaName, valid_name,
};
use crate::samgr::MAX_SERVICE_NUM;
use crate::syscap::{SysCapTable, UID_HAP};
use abi::liteipc::SvcIdentity;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// Rows per FEATURE/ALL reply (keeps a reply well inside one LiteIPC message).
pub const FEATURES_PER_REPLY: usize = 64;

/// The kernel operations only the CMS may do (`IPC_CMS_CMD`), behind a trait so the server
/// logic runs in host tests.
pub trait Cms: Send + Sync {
    /// A handle addressing thread `tid` (`CMS_GEN_HANDLE`).
    fn gen_handle(&self, tid: u32) -> Result<u32, Error>;
    /// Lets the process of thread `tid` reach `handle` (`CMS_ADD_ACCESS`).
    fn add_access(&self, tid: u32, handle: u32) -> Result<(), Error>;
    /// Makes sure samgr hears (a death notification) when `handle`'s thread dies.
    fn watch(&self, handle: u32) -> Result<(), Error>;
}

/// Access policies of exported features: `(service, feature, policies)`. A feature not
/// listed gets [`DEFAULT_POLICY`]. (Upstream reads these from the security subsystem's
/// `g_serviceAccessTable`; ours is a table in the server.)
pub const ACCESS_POLICIES: &[(&str, Option<&str>, &[PolicyTrans])] = &[
    // The test service's "secure" feature: system uids only (apps are refused at invoke).
    (
        "samgr_test",
        Some("secure"),
        &[PolicyTrans::Range {
            uid_min: 0,
            uid_max: 9999,
        }],
    ),
];

/// Policy of features without an entry in [`ACCESS_POLICIES`]: every uid.
pub const DEFAULT_POLICY: PolicyTrans = PolicyTrans::Range {
    uid_min: 0,
    uid_max: i32::MAX,
};

/// Services apps (uid >= [`UID_HAP`]) may not even look up (upstream's
/// `IsCommunicationAllowed` refuses app-to-system-only calls).
pub const SYSTEM_ONLY: &[&str] = &["samgr_sys"];

/// The access policies of `name`.
pub fn access_policies(name: &SaName) -> Vec<PolicyTrans> {
    ACCESS_POLICIES
        .iter()
        .find(|(s, f, _)| *s == name.service && *f == name.feature.as_deref())
        .map_or_else(|| alloc::vec![DEFAULT_POLICY], |(_, _, p)| p.to_vec())
}

/// Whether a caller with `uid` may look `name` up.
pub fn communication_allowed(uid: u32, name: &SaName) -> bool {
    service_allowed(uid, name.service.as_bytes())
}

/// Whether a caller with `uid` may look up a feature of `service`.
fn service_allowed(uid: u32, service: &[u8]) -> bool {
    uid < UID_HAP || !SYSTEM_ONLY.iter().any(|s| s.as_bytes() == service)
}

/// One part of a name, as FEATURE/GET reads it: copied into a buffer of its largest valid
/// size, so the look-up allocates nothing.
struct NamePart {
    len: usize,
    bytes: [u8; MAX_NAME_LEN],
}

impl NamePart {
    /// The next string of `request`; `Invalid` if it is not a valid name part (empty or
    /// too long), as for a malformed request.
    fn pop(request: &mut dyn IpcReader) -> Result<NamePart, Error> {
        let text = request.pop_string()?;
        if !valid_name(text) {
            return Err(Error::Invalid);
        }
        let mut part = NamePart {
            len: text.len(),
            bytes: [0; MAX_NAME_LEN],
        };
        part.bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(part)
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn is(&self, name: &str) -> bool {
        self.as_bytes() == name.as_bytes()
    }
}

/// What samgr knows (upstream `SAStore` + the pid/handle list).
#[derive(Default, Debug)]
pub struct SaStore {
    /// Registered endpoints.
    pub endpoints: Vec<EndpointRecord>,
    /// Registered features, in registration order.
    pub features: Vec<FeatureRecord>,
}

impl SaStore {
    fn endpoint_of(&self, pid: u32) -> Option<&EndpointRecord> {
        self.endpoints.iter().find(|e| e.pid == pid)
    }
}

/// The samgr server.
pub struct SamgrServer {
    store: Mutex<SaStore>,
    syscaps: Mutex<SysCapTable>,
    cms: Box<dyn Cms>,
}

impl SamgrServer {
    /// A server using `cms` for the kernel side, answering SYSCAP requests from `syscaps`.
    pub fn new(cms: Box<dyn Cms>, syscaps: SysCapTable) -> SamgrServer {
        SamgrServer {
            store: Mutex::new(SaStore::default()),
            syscaps: Mutex::new(syscaps),
            cms,
        }
    }

    /// A snapshot of the store.
    pub fn endpoints(&self) -> Vec<EndpointRecord> {
        self.store.lock().endpoints.clone()
    }

    /// A snapshot of the registered features.
    pub fn features(&self) -> Vec<FeatureRecord> {
        self.store.lock().features.clone()
    }

    /// A watched endpoint's thread died (death notification for `handle`): forget it and
    /// everything it registered (upstream `OnEndpointExit`). Returns (pid, features removed).
    pub fn on_endpoint_death(&self, handle: u32) -> Option<(u32, usize)> {
        let mut store = self.store.lock();
        let index = store.endpoints.iter().position(|e| e.handle == handle)?;
        let endpoint = store.endpoints.swap_remove(index);
        let before = store.features.len();
        store
            .features
            .retain(|f| f.pid != endpoint.pid && f.identity.handle != handle);
        let removed = before - store.features.len();
        drop(store);
        log::info!(
            "samgr: endpoint {handle} (pid {}) died: removed {removed} feature(s)",
            endpoint.pid
        );
        Some((endpoint.pid, removed))
    }

    fn endpoint_post(&self, origin: &Origin, reply: &mut dyn IpcWriter) -> Result<(), Error> {
        let handle = self.cms.gen_handle(origin.tid)?;
        {
            let mut store = self.store.lock();
            store
                .endpoints
                .retain(|e| e.pid != origin.pid && e.handle != handle);
            store.endpoints.push(EndpointRecord {
                pid: origin.pid,
                uid: origin.uid,
                handle,
            });
        }
        if let Err(e) = self.cms.watch(handle) {
            log::warn!("samgr: cannot watch handle {handle}: {e}");
        }
        log::info!(
            "samgr: endpoint registered: pid {} uid {} handle {handle}",
            origin.pid,
            origin.uid
        );
        reply.push_u32(handle)?;
        Ok(())
    }

    fn feature_put(
        &self,
        origin: &Origin,
        request: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> Result<(), Error> {
        let name = read_name(request)?;
        let token = request.pop_u32()?;
        let identity = {
            let mut store = self.store.lock();
            let endpoint = *store
                .endpoint_of(origin.pid)
                .filter(|e| e.uid == origin.uid)
                .ok_or(Error::NoService)?;
            if !name.is_valid() {
                return Err(Error::Invalid);
            }
            if origin.uid >= UID_HAP || name.service == SAMGR_SERVICE {
                return Err(Error::Permission);
            }
            let identity = SvcIdentity {
                handle: endpoint.handle,
                token,
                cookie: 0,
            };
            let record = FeatureRecord {
                name: name.clone(),
                identity,
                pid: origin.pid,
                uid: origin.uid,
            };
            match store.features.iter().position(|f| f.name == name) {
                Some(i) => {
                    let owner = store.features[i].pid;
                    if owner != origin.pid && store.endpoint_of(owner).is_some() {
                        return Err(Error::Invalid);
                    }
                    store.features[i] = record;
                }
                None if store.features.len() >= MAX_SERVICE_NUM => return Err(Error::NoMemory),
                None => store.features.push(record),
            }
            identity
        };
        log::info!(
            "samgr: feature registered: {}/{} -> handle {} token {}",
            name.service,
            name.feature.as_deref().unwrap_or("-"),
            identity.handle,
            identity.token
        );
        write_identity(reply, identity)?;
        write_policies(&access_policies(&name), reply)?;
        Ok(())
    }

    fn feature_get(
        &self,
        origin: &Origin,
        request: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> Result<(), Error> {
        // The look-up path of every client: the name is read into buffers on the stack.
        let service = NamePart::pop(request)?;
        let feature = if request.pop_bool()? {
            None
        } else {
            Some(NamePart::pop(request)?)
        };
        let identity = self
            .store
            .lock()
            .features
            .iter()
            .find(|f| {
                service.is(&f.name.service)
                    && match (&feature, &f.name.feature) {
                        (None, None) => true,
                        (Some(want), Some(have)) => want.is(have),
                        _ => false,
                    }
            })
            .map(|f| f.identity)
            .ok_or(Error::NoService)?;
        if !service_allowed(origin.uid, service.as_bytes()) {
            return Err(Error::Permission);
        }
        self.cms.add_access(origin.tid, identity.handle)?;
        write_identity(reply, identity)?;
        Ok(())
    }

    fn feature_delete(&self, origin: &Origin, request: &mut dyn IpcReader) -> Result<(), Error> {
        let name = read_name(request)?;
        let mut store = self.store.lock();
        let index = store
            .features
            .iter()
            .position(|f| f.name == name)
            .ok_or(Error::NoService)?;
        if store.features[index].pid != origin.pid {
            return Err(Error::Permission);
        }
        store.features.remove(index);
        Ok(())
    }

    fn feature_all(
        &self,
        request: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> Result<(), Error> {
        let start = request.pop_u32()? as usize;
        let store = self.store.lock();
        let page: Vec<&FeatureRecord> = store
            .features
            .iter()
            .skip(start)
            .take(FEATURES_PER_REPLY)
            .collect();
        reply.push_u32(page.len() as u32)?;
        for record in &page {
            write_feature_record(reply, record)?;
        }
        let next = (start + page.len()).min(store.features.len());
        reply.push_u32(next as u32)?;
        reply.push_bool(next >= store.features.len())?;
        Ok(())
    }

    fn endpoint_all(&self, reply: &mut dyn IpcWriter) -> Result<(), Error> {
        let store = self.store.lock();
        reply.push_u32(store.endpoints.len() as u32)?;
        for record in &store.endpoints {
            write_endpoint_record(reply, record)?;
        }
        Ok(())
    }

    fn syscap(
        &self,
        option: u32,
        origin: &Origin,
        request: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> Result<(), Error> {
        if origin.uid >= UID_HAP {
            return Err(Error::Permission);
        }
        match option {
            OP_PUT => {
                let name = request.pop_string()?;
                self.syscaps.lock().register(name)
            }
            OP_GET => {
                let name = request.pop_string()?;
                let registered = self.syscaps.lock().is_registered(name);
                Ok(reply.push_bool(registered)?)
            }
            OP_ALL => {
                let start = request.pop_u32()? as usize;
                let page = self.syscaps.lock().page(start);
                reply.push_u32(page.names.len() as u32)?;
                for name in &page.names {
                    reply.push_string(name)?;
                }
                reply.push_u32(page.next as u32)?;
                reply.push_bool(page.is_end)?;
                Ok(())
            }
            _ => Err(Error::Invalid),
        }
    }

    fn dispatch(
        &self,
        origin: &Origin,
        request: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> Result<(), Error> {
        let resource = request.pop_u32()?;
        let option = request.pop_u32()?;
        match (resource, option) {
            (RES_ENDPOINT, OP_POST) => self.endpoint_post(origin, reply),
            (RES_ENDPOINT, OP_ALL) => self.endpoint_all(reply),
            (RES_FEATURE, OP_PUT) => self.feature_put(origin, request, reply),
            (RES_FEATURE, OP_GET) => self.feature_get(origin, request, reply),
            (RES_FEATURE, OP_DELETE) => self.feature_delete(origin, request),
            (RES_FEATURE, OP_ALL) => self.feature_all(request, reply),
            (RES_SYSCAP, option) => self.syscap(option, origin, request, reply),
            _ => Err(Error::Invalid),
        }
    }
}

crate::exported_interface!(SamgrServer);

impl CallHandler for SamgrServer {
    fn handle(
        &self,
        _code: u32,
        origin: &Origin,
        request: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> Result<(), Error> {
        self.dispatch(origin, request, reply)
    }

    /// Every request is quick: table look-ups and updates under a lock held briefly, and at
    /// most the CMS commands of [`Cms`], which never wait.
    fn is_quick(&self, _code: u32) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
