//! The LiteIPC endpoint of a process (upstream `endpoint.c`, `remote_register.c`; seeds
//! 001, 003, 004): the cross-process half of samgr.
//!
//! An [`Endpoint`] ("ipc client" in every process, "samgr" in `foundation`) owns a vector of
//! routers. [`Samgr`] reports every exported interface (an [`Api`] whose version has
//! `SERVER_PROXY_VER` and that has an [`IServerProxy`]) through [`RemoteRegister`], the
//! installed [`ServiceRegistry`]; the endpoint adds a router for it (its token is the router's
//! index) and, for the first router, starts the boss thread. The boss thread registers the
//! endpoint with samgr at {0, 0, 0} (ENDPOINT/POST: the handle of the boss thread) and then
//! every router (FEATURE/PUT, which answers with the feature's uid policies), then receives:
//!
//! Dispatch (boss thread) → per-caller token bucket (flow control; refused: `EC_BUSY` reply)
//! → router by token (unknown: `EC_NOSERVICE`) → a `MSG_DIRECT` exchange to the router's
//! service queue (full: `EC_BUSY`) → HandleIpc on that service's thread → uid policy (except
//! for samgr itself; refused: `EC_PERMISSION`) → `invoke(code, origin, request, reply)` → the
//! reply (status first, see [`protocol`](crate::protocol)) unless the call was one-way. A
//! *quick* call (`IServerProxy::is_quick`) to a service whose thread is idle, with nothing
//! queued, skips the queue: the boss thread runs HandleIpc in that thread's place and sends
//! the reply with its next receive (see `dispatch` for why that is the same to the service).
//!
//! This file holds the endpoint and its routers; `boss` the boss thread (registration,
//! receiving, deaths), `dispatch` the way of a request from the boss thread to `invoke`.
//!
//! Waiting for samgr blocks in `IPC_WAIT_CMS`; nothing sleeps and retries. The boss thread
//! is the process's IPC thread, so death notifications come to it: the death of handle 0
//! (samgr restarted) makes it register the endpoint and every router again; the death of
//! another handle marks the client proxies of that handle dead (their owners are told) and
//! is passed to the hooks of [`Endpoint::on_handle_death`] (the samgr server uses one to
//! drop a dead process's registrations).
//!
//! Two ours-only conveniences: flow control is kept per calling process (upstream keeps one
//! bucket per endpoint, so one flooding client starves the others), and
//! [`Endpoint::add_callback`] adds an unregistered router whose proxy runs on the boss thread
//! itself, for one-way notifications to a client (sensor readings, input events): the client
//! passes the identity it returns in a request (as an `OBJ_SVC`, which grants the receiver
//! access).

mod boss;
mod dispatch;

use crate::client::RemoteProxy;
use crate::errno::Error;
use crate::ipc::IServerProxy;
use crate::iunknown::Api;
use crate::message::Identity;
use crate::os::{Condvar, Mutex};
use crate::policy::PolicyTrans;
use crate::remote::{INVALID_HANDLE, SaName, ServiceRegistry};
use crate::samgr::Samgr;
use crate::token_bucket::{MAX_BUCKET_RATE, MAX_BURST_RATE, TokenBucket};
use abi::Errno;
use abi::liteipc::{DEFAULT_POOL_SIZE, SvcIdentity};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;
use liteipc::IpcContext;

/// Name of the samgr server's endpoint.
pub const SAMGR_ENDPOINT: &str = "samgr";
/// Name of every other endpoint.
pub const CLIENT_ENDPOINT: &str = "ipc client";
/// Failed registrations with a running samgr before the process gives up and exits with
/// [`EXIT_REGISTER_FAILED`], so init can restart it (upstream exits after a minute of tries).
pub const MAX_REGISTER_ATTEMPTS: u32 = 3;
/// Exit status of a process whose endpoint samgr refused.
pub const EXIT_REGISTER_FAILED: i32 = 3;
/// Exit status of a samgr that could not become the CMS.
pub const EXIT_NOT_CMS: i32 = 4;
/// How long [`Endpoint::add_callback`] waits for the endpoint's handle.
const CALLBACK_WAIT: Duration = Duration::from_secs(10);

/// Which registration an endpoint does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointKind {
    /// The samgr server: becomes the CMS (handle 0) instead of registering.
    Samgr,
    /// Everyone else: registers with samgr.
    Client,
}

/// What a router routes to.
enum Target {
    /// An exported interface of a local service (HandleIpc runs on its queue).
    Service { identity: Identity, api: Api },
    /// A notification sink run on the boss thread ([`Endpoint::add_callback`]).
    Callback(Arc<dyn IServerProxy>),
}

/// One exported service/feature (upstream `Router`).
struct Router {
    name: SaName,
    target: Target,
    policies: Vec<PolicyTrans>,
    /// Registered with the current samgr (callbacks never are, and count as done).
    registered: bool,
}

/// A router's state as [`Endpoint::routers`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouterInfo {
    /// Token (index in the vector).
    pub token: u32,
    /// Service and feature.
    pub name: SaName,
    /// Whether samgr knows it.
    pub registered: bool,
    /// Whether it is a callback router.
    pub callback: bool,
    /// Policies samgr sent.
    pub policies: usize,
}

struct State {
    routers: Vec<Option<Router>>,
    /// The boss thread's handle once registered (`identity.handle`).
    handle: u32,
    /// Registered with the current samgr (upstream `running`).
    running: bool,
    boss_started: bool,
    /// Times the endpoint registered (1 + re-registrations after samgr restarts).
    registrations: u32,
    buckets: Vec<(u32, TokenBucket)>,
    rate: (i64, i64),
    proxies: Vec<Arc<RemoteProxy>>,
}

/// A process's LiteIPC endpoint (upstream `Endpoint`).
pub struct Endpoint {
    name: &'static str,
    kind: EndpointKind,
    ctx: &'static IpcContext,
    state: Mutex<State>,
    changed: Condvar,
    death_hooks: Mutex<Vec<DeathHook>>,
}

/// A hook of [`Endpoint::on_handle_death`].
type DeathHook = Arc<dyn Fn(u32) + Send + Sync>;

static CONTEXT: spin::Once<Result<&'static IpcContext, Errno>> = spin::Once::new();
static ENDPOINT: spin::Once<&'static Endpoint> = spin::Once::new();
static INSTALL: Mutex<()> = Mutex::new(());

/// The process's LiteIPC context (upstream `OpenLiteIpc(LITEIPC_DEFAULT_MAP_SIZE)`), opened
/// on first use and kept for the process's life.
pub fn context() -> Result<&'static IpcContext, Error> {
    let ctx = CONTEXT
        .call_once(|| IpcContext::open(DEFAULT_POOL_SIZE).map(|ctx| &*Box::leak(Box::new(ctx))));
    ctx.map_err(|e| {
        log::error!("samgr: cannot open LiteIPC: {e:?}");
        Error::Failure
    })
}

impl Endpoint {
    /// Creates the process's endpoint of `kind` and installs its [`RemoteRegister`] in
    /// [`Samgr::instance`] (call before bootstrapping). A second call returns the endpoint
    /// already installed.
    pub fn install(kind: EndpointKind) -> Result<&'static Endpoint, Error> {
        let _guard = INSTALL.lock();
        if let Some(ep) = ENDPOINT.get() {
            return Ok(*ep);
        }
        let ctx = context()?;
        let ep: &'static Endpoint = Box::leak(Box::new(Endpoint {
            name: match kind {
                EndpointKind::Samgr => SAMGR_ENDPOINT,
                EndpointKind::Client => CLIENT_ENDPOINT,
            },
            kind,
            ctx,
            state: Mutex::new(State {
                routers: Vec::new(),
                handle: INVALID_HANDLE,
                running: false,
                boss_started: false,
                registrations: 0,
                buckets: Vec::new(),
                rate: (MAX_BUCKET_RATE, MAX_BURST_RATE),
                proxies: Vec::new(),
            }),
            changed: Condvar::new(),
            death_hooks: Mutex::new(Vec::new()),
        }));
        ENDPOINT.call_once(|| ep);
        Samgr::instance().set_service_registry(Arc::new(RemoteRegister { endpoint: ep }));
        Ok(ep)
    }

    /// The process's endpoint, installing an "ipc client" one if there is none yet.
    pub fn global() -> Result<&'static Endpoint, Error> {
        match ENDPOINT.get() {
            Some(ep) => Ok(*ep),
            None => Endpoint::install(EndpointKind::Client),
        }
    }

    /// "samgr" or "ipc client".
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The LiteIPC context.
    pub fn context(&self) -> &'static IpcContext {
        self.ctx
    }

    /// The endpoint's identity: the boss thread's handle ([`INVALID_HANDLE`] until
    /// registered), token and cookie 0.
    pub fn identity(&self) -> SvcIdentity {
        SvcIdentity {
            handle: self.state.lock().handle,
            token: 0,
            cookie: 0,
        }
    }

    /// Whether the endpoint is registered with the running samgr.
    pub fn is_running(&self) -> bool {
        self.state.lock().running
    }

    /// How many times the endpoint registered with a samgr.
    pub fn registrations(&self) -> u32 {
        self.state.lock().registrations
    }

    /// The routers.
    pub fn routers(&self) -> Vec<RouterInfo> {
        let state = self.state.lock();
        state
            .routers
            .iter()
            .enumerate()
            .filter_map(|(token, r)| {
                r.as_ref().map(|r| RouterInfo {
                    token: token as u32,
                    name: r.name.clone(),
                    registered: r.registered,
                    callback: matches!(r.target, Target::Callback(_)),
                    policies: r.policies.len(),
                })
            })
            .collect()
    }

    /// Sets the flow control of each calling process (`TB_InitBucket`); defaults: rate
    /// 1000 messages/s, burst 1500.
    pub fn set_flow_control(&self, rate: i64, burst: i64) {
        let mut state = self.state.lock();
        state.rate = (rate, burst);
        state.buckets.clear();
    }

    /// Calls `hook(handle)` on the boss thread whenever a handle other than samgr's that this
    /// process could reach dies.
    pub fn on_handle_death(&self, hook: impl Fn(u32) + Send + Sync + 'static) {
        self.death_hooks.lock().push(Arc::new(hook));
    }

    /// Waits (at most `timeout`) until the endpoint is registered with samgr.
    pub fn wait_running(&self, timeout: Duration) -> bool {
        let deadline = crate::os::now_ms() + timeout.as_millis() as u64;
        let mut state = self.state.lock();
        while !state.running {
            let now = crate::os::now_ms();
            if now >= deadline {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, Duration::from_millis(deadline - now));
        }
        true
    }

    /// Adds a router running `proxy` on the boss thread (not registered with samgr) and
    /// returns its identity, once the endpoint has a handle. Hand the identity to a server
    /// as an `OBJ_SVC` so it may send one-way notifications to it. Calls are not checked
    /// against uid policies: whoever was given the identity may call.
    pub fn add_callback(
        &'static self,
        name: &str,
        proxy: Arc<dyn IServerProxy>,
    ) -> Result<SvcIdentity, Error> {
        let token = {
            let mut state = self.state.lock();
            state.routers.push(Some(Router {
                name: SaName::new(name, None),
                target: Target::Callback(proxy),
                policies: Vec::new(),
                registered: true,
            }));
            state.routers.len() - 1
        };
        self.start_boss();
        if !self.wait_running(CALLBACK_WAIT) {
            return Err(Error::Timeout);
        }
        Ok(SvcIdentity {
            handle: self.state.lock().handle,
            token: token as u32,
            cookie: 0,
        })
    }

    /// Upstream `SAMGR_AddRouter` + `Listen`: a router for an exported interface; the first
    /// one starts the boss thread; once registered, later ones are registered at once.
    fn add_router(&'static self, name: &SaName, identity: &Identity, api: &Api) {
        if api.server_proxy().is_none() {
            return;
        }
        let (token, register_now) = {
            let mut state = self.state.lock();
            let known = state.routers.iter().flatten().any(|r| match &r.target {
                Target::Service { api: a, .. } => a.ptr_eq(api),
                Target::Callback(_) => false,
            });
            if known {
                return;
            }
            state.routers.push(Some(Router {
                name: name.clone(),
                target: Target::Service {
                    identity: identity.clone(),
                    api: api.clone(),
                },
                policies: Vec::new(),
                registered: false,
            }));
            (
                state.routers.len() - 1,
                state.running && self.kind == EndpointKind::Client,
            )
        };
        log::info!(
            "samgr: router added: {} token {token} ({})",
            display(name),
            self.name
        );
        self.start_boss();
        if register_now {
            self.register_router(token);
        }
    }

    fn remove_router(&'static self, name: &SaName, api: &Api) {
        let removed = {
            let mut state = self.state.lock();
            let slot = state.routers.iter_mut().find(|slot| {
                slot.as_ref().is_some_and(|r| match &r.target {
                    Target::Service { api: a, .. } => a.ptr_eq(api),
                    Target::Callback(_) => false,
                })
            });
            slot.and_then(Option::take)
        };
        if let Some(router) = removed
            && router.registered
            && self.kind == EndpointKind::Client
            && let Err(e) = crate::client::delete_feature(name)
        {
            log::warn!("samgr: unregistering {} failed: {e}", display(name));
        }
    }

    /// A cached client proxy for `name`, if still alive.
    pub(crate) fn cached_proxy(&self, name: &SaName) -> Option<Arc<RemoteProxy>> {
        let state = self.state.lock();
        state
            .proxies
            .iter()
            .find(|p| p.name() == name && p.is_alive())
            .cloned()
    }

    /// Remembers `proxy` so that its remote's death marks it; starts the boss thread, which
    /// receives death notifications.
    pub(crate) fn add_proxy(&'static self, proxy: Arc<RemoteProxy>) {
        {
            let mut state = self.state.lock();
            state
                .proxies
                .retain(|p| p.is_alive() && p.name() != proxy.name());
            state.proxies.push(proxy);
        }
        self.start_boss();
    }
}

/// `service/feature` or `service` for logs.
pub fn display(name: &SaName) -> String {
    match &name.feature {
        Some(feature) => alloc::format!("{}/{}", name.service, feature),
        None => name.service.clone(),
    }
}

/// The cross-process registry samgr calls (upstream `remote_register.c`): routers for
/// exported interfaces, client proxies for remote ones.
pub struct RemoteRegister {
    endpoint: &'static Endpoint,
}

impl ServiceRegistry for RemoteRegister {
    fn register_service_api(&self, name: &SaName, identity: &Identity, api: &Api) {
        self.endpoint.add_router(name, identity, api);
    }

    fn unregister_service_api(&self, name: &SaName, api: &Api) {
        self.endpoint.remove_router(name, api);
    }

    fn find_service_api(&self, service: &str, feature: Option<&str>) -> Option<Api> {
        if self.endpoint.kind == EndpointKind::Samgr {
            return None;
        }
        crate::client::get_remote(service, feature)
            .ok()
            .map(Api::from_arc)
    }
}
