//! Bootstrap (upstream `SAMGR_Bootstrap`, `InitializeAllServices`, `InitCompleted`,
//! `AddTaskPool`; seeds 001/002): gives each newly registered service its task pool, starts the
//! pools, initialises the services on their own threads, and moves the [`BootStatus`] on:
//! `Sys` → `SysWait` (system services) → `App` → `AppWait` (application services, registered
//! by the [`Samgr::on_system_services_ready`] hook) → `Dynamic`. A bootstrap after that
//! (`DynamicWait`) initialises services registered since, then returns to `Dynamic`.
//!
//! Order: services are initialised one at a time, highest priority first (registration order
//! among equals), each on its pool thread: the initialisation of one queues that of the next
//! (a `MSG_DIRECT` to the next service's queue). Upstream gets the same order from the
//! scheduler (all init requests queued, pool threads started in one go, the most urgent runs
//! first); chaining makes it hold on the host too, where thread priorities are not honoured.
//! A `NO_TASK` service initialises on the thread that runs the chain at its turn.
//!
//! Initialising a service (`DEFAULT_Initialize`): `initialize`, export of its default API, then
//! for each feature `on_initialize` and export of its API (see [`crate::remote`]).

use crate::message::{Exchange, ExchangeType, INVALID_INDEX, Identity, Request, Response, handler};
use crate::remote::SaName;
use crate::samgr::{Registry, Samgr, ServiceState};
use crate::task::{PROPERTY_STEP, TaskConfig, TaskPool, TaskType};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

/// Boot progress (upstream `BootStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum BootStatus {
    /// Registering system services.
    Sys = 0,
    /// Initialising system services.
    SysWait = 1,
    /// Registering application services.
    App = 2,
    /// Initialising application services.
    AppWait = 3,
    /// Booted; new services need another bootstrap.
    Dynamic = 4,
    /// Initialising services registered after boot.
    DynamicWait = 5,
}

impl BootStatus {
    /// The waiting state of this stage (`TO_NEXT_STATUS`: `status | 1`).
    const fn to_wait(self) -> BootStatus {
        match self {
            BootStatus::Sys | BootStatus::SysWait => BootStatus::SysWait,
            BootStatus::App | BootStatus::AppWait => BootStatus::AppWait,
            BootStatus::Dynamic | BootStatus::DynamicWait => BootStatus::DynamicWait,
        }
    }
}

impl Samgr {
    /// The boot status.
    pub fn status(&self) -> BootStatus {
        self.inner.reg.lock().status
    }

    /// Sets the hook run once when every system service is initialised, before the
    /// application stage is bootstrapped: register application services there (upstream's
    /// Bootstrap service loads `APP_SERVICE_INIT`s at `BOOT_SYS_COMPLETED`).
    pub fn on_system_services_ready(&self, hook: impl FnOnce(&Samgr) + Send + 'static) {
        self.inner.reg.lock().system_ready = Some(Box::new(hook));
    }

    /// Initialises every registered, not yet initialised service (`SAMGR_Bootstrap`); returns
    /// at once, the work runs on the pool threads. Safe to call again at any time.
    pub fn bootstrap(&self) {
        let (status, mut list) = {
            let mut reg = self.inner.reg.lock();
            reg.status = reg.status.to_wait();
            let mut list = Vec::new();
            for (sid, entry) in reg.services.iter() {
                if entry.state == ServiceState::Init {
                    list.push((sid, entry.config.effective_priority()));
                }
            }
            for (sid, _) in &list {
                if let Some(entry) = reg.services.at_mut(*sid) {
                    entry.state = ServiceState::Initializing;
                }
            }
            // Highest priority first; stable, so registration order among equals.
            list.sort_by_key(|&(_, priority)| core::cmp::Reverse(priority));
            for (sid, _) in &list {
                add_task_pool(&mut reg, *sid);
            }
            let pools: Vec<Arc<TaskPool>> = list
                .iter()
                .filter_map(|(sid, _)| reg.services.at(*sid).and_then(|e| e.pool.clone()))
                .collect();
            for pool in pools {
                pool.start(self.inner.me.clone());
            }
            (reg.status, list)
        };
        log::info!(
            "samgr: bootstrap {:?}: {} service(s) to initialise",
            status,
            list.len()
        );
        let chain: VecDeque<usize> = list.drain(..).map(|(sid, _)| sid).collect();
        self.next_init(chain);
    }

    /// Initialises the head of `chain` on its pool thread, which continues with the rest.
    fn next_init(&self, mut chain: VecDeque<usize>) {
        while let Some(sid) = chain.pop_front() {
            let queue = {
                let reg = self.inner.reg.lock();
                match reg.services.at(sid) {
                    Some(entry) => entry.pool.as_ref().map(|p| p.queue.clone()),
                    None => continue,
                }
            };
            let Some(queue) = queue else {
                self.initialize_service(sid);
                continue;
            };
            // Weak: a chain stuck in some service's `initialize` must not keep samgr alive.
            let samgr = Arc::downgrade(&self.inner);
            let rest = core::mem::take(&mut chain);
            let step = handler(move |_, _| {
                if let Some(inner) = samgr.upgrade() {
                    let samgr = Samgr { inner };
                    samgr.initialize_service(sid);
                    samgr.next_init(rest);
                }
            });
            let exchange = Exchange {
                id: Identity {
                    service_id: sid as i16,
                    feature_id: INVALID_INDEX,
                    queue_id: Some(queue.clone()),
                },
                request: Request::default(),
                response: Response::default(),
                kind: ExchangeType::Direct,
                handler: Some(step),
                ipc: None,
            };
            if let Err(refused) = queue.try_send(exchange) {
                // Queue full: run this step (and so the rest of the chain) here instead.
                log::warn!("samgr: init request to service {sid} refused, initialising inline");
                if let Some(step) = refused.handler {
                    step(&refused.request, &refused.response);
                }
            }
            return;
        }
        self.init_completed();
    }

    /// `DEFAULT_Initialize` + the state change of `HandleInitRequest`.
    fn initialize_service(&self, sid: usize) {
        let Some((service, name, identity, default_api, remote)) = ({
            let reg = self.inner.reg.lock();
            reg.services.at(sid).map(|e| {
                (
                    e.service.clone(),
                    e.name.clone(),
                    e.identity(sid, INVALID_INDEX),
                    e.default_api.clone(),
                    reg.remote.clone(),
                )
            })
        }) else {
            return;
        };
        let started = crate::os::now_ms();
        service.initialize(identity.clone());
        if let (Some(api), Some(remote)) = (&default_api, &remote)
            && api.server_proxy().is_some()
        {
            remote.register_service_api(&SaName::new(&name, None), &identity, api);
        }
        let mut fid = 0;
        loop {
            let next = {
                let reg = self.inner.reg.lock();
                let Some(entry) = reg.services.at(sid) else {
                    break;
                };
                if fid >= entry.features.size() {
                    break;
                }
                entry
                    .features
                    .at(fid)
                    .map(|f| (f.feature.clone(), f.api.clone(), reg.remote.clone()))
            };
            if let Some((feature, api, remote)) = next {
                let mut id = identity.clone();
                id.feature_id = fid as i16;
                feature.on_initialize(&*service, id.clone());
                if let (Some(api), Some(remote)) = (api, remote)
                    && api.server_proxy().is_some()
                {
                    remote.register_service_api(
                        &SaName::new(&name, Some(feature.name())),
                        &id,
                        &api,
                    );
                }
            }
            fid += 1;
        }
        {
            let mut reg = self.inner.reg.lock();
            if let Some(entry) = reg.services.at_mut(sid) {
                entry.state = ServiceState::Idle;
            }
        }
        self.inner.changed.notify_all();
        log::info!(
            "samgr: init service {} <time: {}ms> success",
            name,
            crate::os::now_ms().saturating_sub(started)
        );
    }

    /// `InitCompleted`: when no service waits for initialisation, advance the boot status.
    fn init_completed(&self) {
        let hook = {
            let mut reg = self.inner.reg.lock();
            if reg
                .services
                .iter()
                .any(|(_, e)| e.state != ServiceState::Idle)
            {
                return;
            }
            match reg.status {
                BootStatus::SysWait => {
                    reg.status = BootStatus::App;
                    log::info!("samgr: initialized all core system services");
                    Some(reg.system_ready.take())
                }
                BootStatus::AppWait => {
                    reg.status = BootStatus::Dynamic;
                    log::info!("samgr: initialized all system and application services");
                    None
                }
                BootStatus::DynamicWait => {
                    reg.status = BootStatus::Dynamic;
                    None
                }
                _ => None,
            }
        };
        self.inner.changed.notify_all();
        if let Some(hook) = hook {
            if let Some(hook) = hook {
                hook(self);
            }
            // Upstream: BOOT_SYS_COMPLETED to the Bootstrap service, whose handler bootstraps.
            self.bootstrap();
        }
    }

    /// Waits until the boot status is `status` or later (in [`BootStatus`] order) and returns
    /// whether it got there within `timeout`.
    pub fn wait_for_status(&self, status: BootStatus, timeout: Duration) -> bool {
        self.wait_until(timeout, |reg| reg.status >= status)
    }

    /// Waits until every registered service is initialised and no bootstrap is in progress
    /// (status `App` or `Dynamic`); `false` on timeout.
    pub fn wait_initialized(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, |reg| {
            matches!(reg.status, BootStatus::App | BootStatus::Dynamic)
                && reg
                    .services
                    .iter()
                    .all(|(_, e)| e.state == ServiceState::Idle)
        })
    }

    fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&Registry) -> bool) -> bool {
        let deadline = crate::os::now_ms()
            .saturating_add(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        let mut reg = self.inner.reg.lock();
        loop {
            if done(&reg) {
                return true;
            }
            let now = crate::os::now_ms();
            if now >= deadline {
                return false;
            }
            reg = self
                .inner
                .changed
                .wait_timeout(reg, Duration::from_millis(deadline - now));
        }
    }
}

/// `AddTaskPool`: finds or creates the pool of service `sid` per its [`TaskConfig`].
fn add_task_pool(reg: &mut Registry, sid: usize) {
    let Some(entry) = reg.services.at(sid) else {
        return;
    };
    if entry.pool.is_some() {
        return;
    }
    let config = entry.config;
    let name = entry.name.clone();
    let mut effective = config;
    if effective.effective_priority() != config.priority {
        log::error!(
            "samgr: the {} service pri({}) is out of range",
            name,
            config.priority
        );
        effective.priority = effective.effective_priority();
    }
    let pool = match config.task_flags {
        TaskType::Shared => {
            let class = (effective.priority / PROPERTY_STEP) as usize;
            let reusable = reg.shared[class]
                .as_ref()
                .filter(|p| p.reference())
                .cloned();
            match reusable {
                Some(pool) => Some(pool),
                None => {
                    let pool = TaskPool::new(TaskConfig::shared(class), &name);
                    reg.shared[class] = pool.clone();
                    pool
                }
            }
        }
        TaskType::Specified => {
            let joined = reg
                .services
                .iter()
                .filter(|(other, e)| *other != sid && e.config == config)
                .filter_map(|(_, e)| e.pool.as_ref())
                .find(|p| p.reference())
                .cloned();
            joined.or_else(|| TaskPool::new(effective, &name))
        }
        TaskType::Single => TaskPool::new(effective, &name),
        TaskType::NoTask => None,
    };
    if pool.is_none() && config.task_flags != TaskType::NoTask {
        log::error!("samgr: service <{}> create task pool failed", name);
    }
    if let Some(entry) = reg.services.at_mut(sid) {
        entry.pool = pool;
    }
}
