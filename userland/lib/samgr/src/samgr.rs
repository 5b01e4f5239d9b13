//! [`Samgr`]: the per-process registry of services, features and their APIs (upstream
//! `samgr_lite.c`, `service.c`, `feature.c`; seeds 001/002). One lock guards the registry;
//! user code (service and feature callbacks, registry hooks) is always called without it, so
//! callbacks may call back into samgr.
//!
//! Ids are slot indices ([`Vector`]): a service id or feature id stays valid until that service
//! or feature is unregistered. Limits: [`MAX_SERVICE_NUM`] services, [`MAX_FEATURE_NUM`]
//! features per service, service names 1..16 bytes.

use crate::boot::BootStatus;
use crate::errno::Error;
use crate::iunknown::Api;
use crate::message::{INVALID_INDEX, Identity, Request, Response};
use crate::os::{Condvar, Mutex};
use crate::remote::{SaName, ServiceRegistry, valid_name};
use crate::service::{Feature, Service};
use crate::task::{MAX_POOL_NUM, TaskConfig, TaskPool};
use crate::vector::Vector;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

/// Features per service (`MAX_FEATURE_NUM`).
pub const MAX_FEATURE_NUM: usize = 0x70;
/// Services per process (our limit, the samgr server's store size).
pub const MAX_SERVICE_NUM: usize = 300;

/// A service's initialisation state (upstream `SVC_INIT`/`SVC_IDLE`, plus the time between
/// bootstrap picking it and its `initialize` finishing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceState {
    /// Registered, not yet bootstrapped.
    Init,
    /// Picked by a bootstrap; initialisation queued or running.
    Initializing,
    /// Initialised; handles messages.
    Idle,
}

pub(crate) struct FeatureEntry {
    pub feature: Arc<dyn Feature>,
    pub api: Option<Api>,
}

pub(crate) struct ServiceEntry {
    pub service: Arc<dyn Service>,
    pub name: String,
    pub config: TaskConfig,
    pub default_api: Option<Api>,
    pub features: Vector<FeatureEntry>,
    pub pool: Option<Arc<TaskPool>>,
    pub state: ServiceState,
}

impl ServiceEntry {
    pub fn identity(&self, service_id: usize, feature_id: i16) -> Identity {
        Identity {
            service_id: service_id as i16,
            feature_id,
            queue_id: self.pool.as_ref().map(|p| p.queue.clone()),
        }
    }
}

/// Called once the system services are initialised, before the application-service stage.
pub(crate) type StageHook = Box<dyn FnOnce(&Samgr) + Send>;

pub(crate) struct Registry {
    pub status: BootStatus,
    pub services: Vector<ServiceEntry>,
    pub shared: [Option<Arc<TaskPool>>; MAX_POOL_NUM],
    pub remote: Option<Arc<dyn ServiceRegistry>>,
    pub system_ready: Option<StageHook>,
}

impl Registry {
    pub fn find(&self, name: &str) -> Option<usize> {
        self.services.find(|e| e.name == name)
    }
}

pub(crate) struct Inner {
    pub reg: Mutex<Registry>,
    /// Notified when the boot status or a service's state changes.
    pub changed: Condvar,
    pub me: Weak<Inner>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let reg = self.reg.lock();
        for (_, entry) in reg.services.iter() {
            if let Some(pool) = &entry.pool {
                pool.stop();
            }
        }
        for pool in reg.shared.iter().flatten() {
            pool.stop();
        }
    }
}

/// The registry (upstream `SamgrLite`, from `SAMGR_GetInstance`). A cheap handle: clones
/// share one registry. [`Samgr::instance`] is the process-wide one; [`Samgr::new`] makes an
/// independent one (tests). Dropping the last handle stops its pool threads.
#[derive(Clone)]
pub struct Samgr {
    pub(crate) inner: Arc<Inner>,
}

/// What [`Samgr::services`] reports about a service.
#[derive(Clone, Debug)]
pub struct ServiceInfo {
    /// Service id.
    pub id: i16,
    /// Name.
    pub name: String,
    /// Its task configuration.
    pub config: TaskConfig,
    /// Initialisation state.
    pub state: ServiceState,
    /// Whether a default API is registered.
    pub has_default_api: bool,
    /// `(feature id, name, has API)` of each feature.
    pub features: Vec<(i16, String, bool)>,
    /// Serial of its pool's queue, if it has a pool.
    pub queue: Option<u32>,
}

impl Default for Samgr {
    fn default() -> Self {
        Samgr::new()
    }
}

impl Samgr {
    /// A new, empty registry in [`BootStatus::Sys`].
    pub fn new() -> Samgr {
        Samgr {
            inner: Arc::new_cyclic(|me| Inner {
                reg: Mutex::new(Registry {
                    status: BootStatus::Sys,
                    services: Vector::new(),
                    shared: Default::default(),
                    remote: None,
                    system_ready: None,
                }),
                changed: Condvar::new(),
                me: me.clone(),
            }),
        }
    }

    /// The process-wide registry (`SAMGR_GetInstance`).
    pub fn instance() -> &'static Samgr {
        static INSTANCE: spin::Once<Samgr> = spin::Once::new();
        INSTANCE.call_once(Samgr::new)
    }

    /// Registers `service` (`RegisterService`). `Invalid`: name empty or 16+ bytes;
    /// `Failure`: name taken; `NoMemory`: [`MAX_SERVICE_NUM`] reached.
    pub fn register_service(&self, service: Arc<dyn Service>) -> Result<(), Error> {
        let name = String::from(service.name());
        if !valid_name(&name) {
            return Err(Error::Invalid);
        }
        let config = service.task_config();
        let mut reg = self.inner.reg.lock();
        if reg.find(&name).is_some() {
            return Err(Error::Failure);
        }
        if reg.services.num() >= MAX_SERVICE_NUM {
            return Err(Error::NoMemory);
        }
        reg.services
            .add(ServiceEntry {
                service,
                name,
                config,
                default_api: None,
                features: Vector::new(),
                pool: None,
                state: ServiceState::Init,
            })
            .map(drop)
            .ok_or(Error::NoMemory)
    }

    /// Unregisters service `name` (`UnregisterService`), releasing its pool reference (the last
    /// one stops the pool's thread). `NoService`: unknown; `Busy`: it still has a default API or
    /// features.
    pub fn unregister_service(&self, name: &str) -> Result<Arc<dyn Service>, Error> {
        let mut reg = self.inner.reg.lock();
        let id = reg.find(name).ok_or(Error::NoService)?;
        let entry = reg.services.at(id).ok_or(Error::NoService)?;
        if entry.default_api.is_some() || entry.features.num() > 0 {
            return Err(Error::Busy);
        }
        let entry = reg.services.swap(id, None).ok_or(Error::NoService)?;
        if let Some(pool) = &entry.pool {
            for slot in reg.shared.iter_mut() {
                if slot.as_ref().is_some_and(|p| Arc::ptr_eq(p, pool)) && pool.refs() == 1 {
                    *slot = None;
                }
            }
            pool.release();
        }
        drop(reg);
        self.inner.changed.notify_all();
        Ok(entry.service)
    }

    /// Adds `feature` to service `service` (`RegisterFeature`). Only before the service is
    /// bootstrapped, as upstream. `Invalid`: empty feature name; `NoService`: unknown service;
    /// `Busy`: service already initialised; `Failure`: name taken; `NoMemory`: limit.
    pub fn register_feature(&self, service: &str, feature: Arc<dyn Feature>) -> Result<(), Error> {
        if feature.name().is_empty() {
            return Err(Error::Invalid);
        }
        let mut reg = self.inner.reg.lock();
        let id = reg.find(service).ok_or(Error::NoService)?;
        let entry = reg.services.at_mut(id).ok_or(Error::NoService)?;
        if entry.state != ServiceState::Init {
            return Err(Error::Busy);
        }
        if entry
            .features
            .find(|f| f.feature.name() == feature.name())
            .is_some()
        {
            return Err(Error::Failure);
        }
        if entry.features.num() >= MAX_FEATURE_NUM {
            return Err(Error::NoMemory);
        }
        entry
            .features
            .add(FeatureEntry { feature, api: None })
            .map(drop)
            .ok_or(Error::NoMemory)
    }

    /// Removes feature `feature` of `service` and calls its `on_stop` (`UnregisterFeature`).
    /// `NoService`: unknown; `Busy`: it still has an API.
    pub fn unregister_feature(
        &self,
        service: &str,
        feature: &str,
    ) -> Result<Arc<dyn Feature>, Error> {
        let (removed, identity) = {
            let mut reg = self.inner.reg.lock();
            let sid = reg.find(service).ok_or(Error::NoService)?;
            let entry = reg.services.at_mut(sid).ok_or(Error::NoService)?;
            let fid = entry
                .features
                .find(|f| f.feature.name() == feature)
                .ok_or(Error::NoService)?;
            if entry.features.at(fid).is_some_and(|f| f.api.is_some()) {
                return Err(Error::Busy);
            }
            let removed = entry.features.swap(fid, None).ok_or(Error::NoService)?;
            (removed, entry.identity(sid, fid as i16))
        };
        removed.feature.on_stop(identity);
        Ok(removed.feature)
    }

    /// Registers `api` as the API of `feature` of `service`, or as the service's default API
    /// when `feature` is `None` (`RegisterFeatureApi`). `Invalid`: feature `""`; `NoService`:
    /// unknown service or feature; `Failure`: it already has one.
    pub fn register_feature_api(
        &self,
        service: &str,
        feature: Option<&str>,
        api: Api,
    ) -> Result<(), Error> {
        if feature == Some("") {
            return Err(Error::Invalid);
        }
        let export = {
            let mut reg = self.inner.reg.lock();
            let remote = reg.remote.clone();
            let sid = reg.find(service).ok_or(Error::NoService)?;
            let entry = reg.services.at_mut(sid).ok_or(Error::NoService)?;
            let fid = match feature {
                None => {
                    if entry.default_api.is_some() {
                        return Err(Error::Failure);
                    }
                    entry.default_api = Some(api.clone());
                    INVALID_INDEX
                }
                Some(name) => {
                    let fid = entry
                        .features
                        .find(|f| f.feature.name() == name)
                        .ok_or(Error::NoService)?;
                    let slot = entry.features.at_mut(fid).ok_or(Error::NoService)?;
                    if slot.api.is_some() {
                        return Err(Error::Failure);
                    }
                    slot.api = Some(api.clone());
                    fid as i16
                }
            };
            // Already running: export now (during bootstrap, initialisation exports it).
            (entry.state == ServiceState::Idle).then(|| (remote, entry.identity(sid, fid)))
        };
        if let Some((Some(remote), identity)) = export
            && api.server_proxy().is_some()
        {
            remote.register_service_api(&SaName::new(service, feature), &identity, &api);
        }
        Ok(())
    }

    /// Removes and returns the API of `feature` (or the default API for `None`)
    /// (`UnregisterFeatureApi`). `Invalid`: feature `""`; `NoService`: unknown service or
    /// feature, or no API registered.
    pub fn unregister_feature_api(
        &self,
        service: &str,
        feature: Option<&str>,
    ) -> Result<Api, Error> {
        if feature == Some("") {
            return Err(Error::Invalid);
        }
        let (api, remote) = {
            let mut reg = self.inner.reg.lock();
            let remote = reg.remote.clone();
            let sid = reg.find(service).ok_or(Error::NoService)?;
            let entry = reg.services.at_mut(sid).ok_or(Error::NoService)?;
            let api = match feature {
                None => entry.default_api.take(),
                Some(name) => {
                    let fid = entry
                        .features
                        .find(|f| f.feature.name() == name)
                        .ok_or(Error::NoService)?;
                    entry.features.at_mut(fid).and_then(|f| f.api.take())
                }
            };
            (api.ok_or(Error::NoService)?, remote)
        };
        if let Some(remote) = remote
            && api.server_proxy().is_some()
        {
            remote.unregister_service_api(&SaName::new(service, feature), &api);
        }
        Ok(api)
    }

    /// `RegisterDefaultFeatureApi`.
    pub fn register_default_feature_api(&self, service: &str, api: Api) -> Result<(), Error> {
        self.register_feature_api(service, None, api)
    }

    /// `UnregisterDefaultFeatureApi`.
    pub fn unregister_default_feature_api(&self, service: &str) -> Result<Api, Error> {
        self.unregister_feature_api(service, None)
    }

    /// `GetDefaultFeatureApi`.
    pub fn get_default_feature_api(&self, service: &str) -> Option<Api> {
        self.get_feature_api(service, None)
    }

    /// The API of `feature` of `service`, or its default API for `None` (`GetFeatureApi`); the
    /// same object on every call. A service not in this process is looked up through the
    /// installed [`ServiceRegistry`] (remote proxies).
    pub fn get_feature_api(&self, service: &str, feature: Option<&str>) -> Option<Api> {
        let remote = {
            let reg = self.inner.reg.lock();
            match reg.find(service).and_then(|sid| reg.services.at(sid)) {
                Some(entry) => {
                    return match feature {
                        None => entry.default_api.clone(),
                        Some(name) => entry
                            .features
                            .find(|f| f.feature.name() == name)
                            .and_then(|fid| entry.features.at(fid))
                            .and_then(|f| f.api.clone()),
                    };
                }
                None => reg.remote.clone(),
            }
        };
        if service.is_empty() || feature == Some("") {
            return None;
        }
        remote?.find_service_api(service, feature)
    }

    /// The identity of `service` (feature `None`) or of one of its features
    /// (`DEFAULT_GetFeatureId`); `None` if either is unknown.
    pub fn identity(&self, service: &str, feature: Option<&str>) -> Option<Identity> {
        let reg = self.inner.reg.lock();
        let sid = reg.find(service)?;
        let entry = reg.services.at(sid)?;
        let fid = match feature {
            None => INVALID_INDEX,
            Some(name) => entry.features.find(|f| f.feature.name() == name)? as i16,
        };
        Some(entry.identity(sid, fid))
    }

    /// A snapshot of every service (for `samgr` listings and tests).
    pub fn services(&self) -> Vec<ServiceInfo> {
        let reg = self.inner.reg.lock();
        reg.services
            .iter()
            .map(|(id, e)| ServiceInfo {
                id: id as i16,
                name: e.name.clone(),
                config: e.config,
                state: e.state,
                has_default_api: e.default_api.is_some(),
                features: e
                    .features
                    .iter()
                    .map(|(fid, f)| (fid as i16, String::from(f.feature.name()), f.api.is_some()))
                    .collect(),
                queue: e.pool.as_ref().map(|p| p.queue.serial()),
            })
            .collect()
    }

    /// Installs the cross-process registry (the IPC client's). Every exported API of an
    /// already-initialised service is reported to it at once, in service-id order.
    pub fn set_service_registry(&self, registry: Arc<dyn ServiceRegistry>) {
        let exports = {
            let mut reg = self.inner.reg.lock();
            reg.remote = Some(registry.clone());
            let mut exports = Vec::new();
            for (sid, e) in reg.services.iter() {
                if e.state != ServiceState::Idle {
                    continue;
                }
                if let Some(api) = &e.default_api {
                    exports.push((
                        SaName::new(&e.name, None),
                        e.identity(sid, INVALID_INDEX),
                        api.clone(),
                    ));
                }
                for (fid, f) in e.features.iter() {
                    if let Some(api) = &f.api {
                        let name = SaName::new(&e.name, Some(f.feature.name()));
                        exports.push((name, e.identity(sid, fid as i16), api.clone()));
                    }
                }
            }
            exports
        };
        for (name, identity, api) in exports {
            if api.server_proxy().is_some() {
                registry.register_service_api(&name, &identity, &api);
            }
        }
    }

    /// The installed cross-process registry.
    pub fn service_registry(&self) -> Option<Arc<dyn ServiceRegistry>> {
        self.inner.reg.lock().remote.clone()
    }
}

/// What a request addresses.
enum Target {
    Service(Arc<dyn Service>),
    Feature(Arc<dyn Feature>),
    Missing,
}

impl Inner {
    /// `ProcRequest` + `DEFAULT_MessageHandle`: runs the target's handler, then answers an
    /// unanswered `MSG_CON` with an empty response. A request for a service that is gone is
    /// dropped.
    pub(crate) fn process_request(&self, mut exchange: crate::message::Exchange) {
        let target = {
            let reg = self.reg.lock();
            let Some(entry) = usize::try_from(exchange.id.service_id)
                .ok()
                .and_then(|sid| reg.services.at(sid))
            else {
                return;
            };
            match usize::try_from(exchange.id.feature_id) {
                Err(_) => Target::Service(entry.service.clone()),
                Ok(fid) => entry
                    .features
                    .at(fid)
                    .map_or(Target::Missing, |f| Target::Feature(f.feature.clone())),
            }
        };
        let request: &mut Request = &mut exchange.request;
        match target {
            Target::Service(service) => {
                service.message_handle(request);
            }
            Target::Feature(feature) => {
                feature.on_message(request);
            }
            Target::Missing => {}
        }
        if request.wants_response() {
            let _ = crate::exchange::send_response(request, Response::default());
        }
    }
}
