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
//! → router by token (unknown: `EC_NOSERVICE`) → [`send_shared_direct_request`] to the
//! router's service queue (full: `EC_BUSY`) → HandleIpc on that service's thread → uid policy
//! (except for samgr itself; refused: `EC_PERMISSION`) → `invoke(code, origin, request, reply)`
//! → the reply (status first, see [`protocol`](crate::protocol)) unless the call was one-way.
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

use crate::client::RemoteProxy;
use crate::errno::{EC_BUSY, EC_NOSERVICE, EC_PERMISSION, EC_SUCCESS, Error};
use crate::exchange::send_shared_direct_request;
use crate::ipc::{IServerProxy, Origin};
use crate::ipc_io::MsgReader;
use crate::iunknown::Api;
use crate::message::{Identity, Request, Response, handler};
use crate::os::{Condvar, Mutex};
use crate::policy::{PolicyTrans, judge_policy};
use crate::protocol::SAMGR_MSG_LIMIT;
use crate::remote::{INVALID_HANDLE, SAMGR_HANDLE, SAMGR_SERVICE, SaName, ServiceRegistry};
use crate::samgr::Samgr;
use crate::task::{PRI_ABOVE_NORMAL, os_priority};
use crate::token_bucket::{BucketStatus, MAX_BUCKET_RATE, MAX_BURST_RATE, TokenBucket};
use abi::Errno;
use abi::liteipc::{DEFAULT_POOL_SIZE, SvcIdentity, msg_type};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;
use liteipc::{IpcContext, IpcIo, Message};

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
/// Calling processes whose flow-control buckets are remembered.
const MAX_BUCKETS: usize = 64;
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

    fn start_boss(&'static self) {
        let start = {
            let mut state = self.state.lock();
            !core::mem::replace(&mut state.boss_started, true)
        };
        if !start {
            return;
        }
        let spawned = crate::os::spawn("boss", os_priority(PRI_ABOVE_NORMAL), 0x1000, move || {
            log::info!("samgr: boss thread started ({})", self.name);
            self.boss()
        });
        match spawned {
            Ok(()) => {}
            Err(e) => {
                log::error!("samgr: cannot start the boss thread: {e}");
                self.state.lock().boss_started = false;
            }
        }
    }

    /// The boss thread (upstream `Receive`): register, then serve.
    fn boss(&'static self) {
        match self.kind {
            EndpointKind::Samgr => self.become_cms(),
            EndpointKind::Client => self.register_all(),
        }
        loop {
            let msg = match self.ctx.receive() {
                Ok(msg) => msg,
                Err(Errno::EINTR) => continue,
                // No samgr (LiteIPC refuses every transfer then): wait for the next one.
                Err(Errno::EINVAL) if self.kind == EndpointKind::Client => {
                    let _ = self.ctx.wait_cms(0);
                    continue;
                }
                Err(e) => {
                    log::error!("samgr: boss thread cannot receive: {e:?}");
                    return;
                }
            };
            match msg.msg_type() {
                msg_type::MT_REQUEST => self.dispatch(msg),
                msg_type::MT_DEATH_NOTIFY => {
                    let handle = msg.dead_handle();
                    if handle == SAMGR_HANDLE {
                        // LiteIPC frees buffers only while a CMS exists (upstream checks the
                        // CMS first in IPC_SEND_RECV_MSG): keep it until the next samgr is up.
                        let _ = self.ctx.wait_cms(0);
                    }
                    drop(msg);
                    self.on_death(handle);
                }
                _ => drop(msg),
            }
        }
    }

    /// Upstream `RegisterSamgrEndpoint`: the CMS with the 256-byte limit, handle 0. A samgr
    /// that cannot be the CMS exits so init restarts it.
    fn become_cms(&self) {
        if let Err(e) = self.ctx.set_cms(SAMGR_MSG_LIMIT) {
            log::error!("samgr: IPC_SET_CMS failed: {e:?}");
            exit(EXIT_NOT_CMS);
        }
        if let Err(e) = self.ctx.set_ipc_thread() {
            log::error!("samgr: IPC_SET_IPC_THREAD failed: {e:?}");
            exit(EXIT_NOT_CMS);
        }
        self.set_running(SAMGR_HANDLE);
        log::info!("samgr: EP handle obtained: {SAMGR_HANDLE} (samgr is the CMS)");
    }

    fn set_running(&self, handle: u32) {
        let mut state = self.state.lock();
        state.handle = handle;
        state.running = true;
        state.registrations += 1;
        drop(state);
        self.changed.notify_all();
    }

    /// Upstream `RegisterRemoteEndpoint` + `RegisterRemoteFeatures`: waits for samgr (blocking
    /// in `IPC_WAIT_CMS`), becomes the IPC thread, gets the handle, registers every router.
    fn register_all(&'static self) {
        let mut failures = 0;
        let mut ipc_thread = false;
        let handle = loop {
            if let Err(e) = self.ctx.wait_cms(0) {
                log::warn!("samgr: waiting for samgr: {e:?}");
            }
            if !ipc_thread {
                match self.ctx.set_ipc_thread() {
                    Ok(_) => ipc_thread = true,
                    Err(e) => log::warn!("samgr: IPC_SET_IPC_THREAD: {e:?}"),
                }
            }
            match crate::client::register_endpoint() {
                Ok(handle) if ipc_thread => break handle,
                Ok(_) => {}
                Err(e) => log::warn!("samgr: endpoint registration failed: {e}"),
            }
            failures += 1;
            if failures >= MAX_REGISTER_ATTEMPTS {
                log::error!("samgr: endpoint registration failed {failures} times, exiting");
                exit(EXIT_REGISTER_FAILED);
            }
        };
        self.set_running(handle);
        log::info!("samgr: EP handle obtained: {handle} ({})", self.name);
        let pending: Vec<usize> = {
            let state = self.state.lock();
            state
                .routers
                .iter()
                .enumerate()
                .filter(|(_, r)| r.as_ref().is_some_and(|r| !r.registered))
                .map(|(token, _)| token)
                .collect()
        };
        let count = pending
            .iter()
            .filter(|&&token| self.register_router(token))
            .count();
        log::info!(
            "samgr: features registered: {count} of {} router(s), handle {handle}",
            pending.len()
        );
    }

    /// FEATURE/PUT for router `token`; keeps the policies samgr answers.
    fn register_router(&'static self, token: usize) -> bool {
        let name = {
            let state = self.state.lock();
            match state.routers.get(token).and_then(Option::as_ref) {
                Some(router) => router.name.clone(),
                None => return false,
            }
        };
        match crate::client::put_feature(&name, token as u32) {
            Ok(registration) => {
                let policies = registration.policies.len();
                let mut state = self.state.lock();
                if let Some(Some(router)) = state.routers.get_mut(token) {
                    router.policies = registration.policies;
                    router.registered = true;
                }
                log::info!(
                    "samgr: feature registered: {} -> handle {} token {}, {} policy(ies)",
                    display(&name),
                    registration.identity.handle,
                    registration.identity.token,
                    policies
                );
                true
            }
            Err(e) => {
                log::warn!("samgr: registering {} failed: {e}", display(&name));
                false
            }
        }
    }

    /// A death notification.
    fn on_death(&'static self, handle: u32) {
        if handle == SAMGR_HANDLE && self.kind == EndpointKind::Client {
            log::warn!("samgr: samgr died, re-registering the endpoint and its routers");
            {
                let mut state = self.state.lock();
                state.running = false;
                for router in state.routers.iter_mut().flatten() {
                    if matches!(router.target, Target::Service { .. }) {
                        router.registered = false;
                    }
                }
            }
            self.register_all();
            return;
        }
        let dead: Vec<Arc<RemoteProxy>> = {
            let mut state = self.state.lock();
            let (dead, alive) = core::mem::take(&mut state.proxies)
                .into_iter()
                .partition(|p| p.identity().handle == handle);
            state.proxies = alive;
            dead
        };
        for proxy in dead {
            proxy.mark_dead();
        }
        let hooks = self.death_hooks.lock().clone();
        for hook in hooks {
            hook(handle);
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

    /// Upstream `Dispatch`, on the boss thread.
    fn dispatch(&'static self, msg: Message<'static>) {
        let token = msg.target().token as usize;
        let caller = msg.pid();
        let target = {
            let mut state = self.state.lock();
            let (rate, burst) = state.rate;
            let bucket = match state.buckets.iter().position(|(pid, _)| *pid == caller) {
                Some(i) => &mut state.buckets[i].1,
                None => {
                    if state.buckets.len() >= MAX_BUCKETS {
                        state.buckets.remove(0);
                    }
                    state.buckets.push((caller, TokenBucket::new(rate, burst)));
                    let last = state.buckets.len() - 1;
                    &mut state.buckets[last].1
                }
            };
            if bucket.check_message() == BucketStatus::Busy {
                drop(state);
                log::debug!("samgr: flow control: pid {caller} to token {token} refused");
                reply_status(msg, EC_BUSY);
                return;
            }
            match state.routers.get(token).and_then(Option::as_ref) {
                None => None,
                Some(Router {
                    target: Target::Callback(proxy),
                    ..
                }) => Some(Err(proxy.clone())),
                Some(Router {
                    target: Target::Service { identity, .. },
                    ..
                }) => Some(Ok(identity.clone())),
            }
        };
        match target {
            None => {
                log::warn!("samgr: router <{}, {token}> is NULL", self.name);
                reply_status(msg, EC_NOSERVICE);
            }
            Some(Err(callback)) => {
                let origin = origin_of(&msg);
                self.invoke(msg, &*callback, &origin);
            }
            Some(Ok(identity)) => {
                let slot = Arc::new(spin::Mutex::new(Some(msg)));
                let theirs = slot.clone();
                let request = Request::new(token as i16, 0);
                let sent = send_shared_direct_request(
                    &identity,
                    &request,
                    Response::default(),
                    handler(move |_, _| {
                        if let Some(msg) = theirs.lock().take() {
                            self.handle_ipc(msg, token);
                        }
                    }),
                );
                if sent.is_err()
                    && let Some(msg) = slot.lock().take()
                {
                    log::warn!(
                        "samgr: router[{token}] service <{}, {}> is busy",
                        identity.service_id,
                        identity.feature_id
                    );
                    reply_status(msg, EC_BUSY);
                }
            }
        }
    }

    /// Upstream `HandleIpc`, on the router's service thread.
    fn handle_ipc(&self, msg: Message<'static>, token: usize) {
        let router = {
            let state = self.state.lock();
            state
                .routers
                .get(token)
                .and_then(Option::as_ref)
                .and_then(|r| match &r.target {
                    Target::Service { api, .. } => {
                        Some((r.name.clone(), api.clone(), r.policies.clone()))
                    }
                    Target::Callback(_) => None,
                })
        };
        let Some((name, api, policies)) = router else {
            log::warn!("samgr: invalid IPC router {token}");
            reply_status(msg, EC_NOSERVICE);
            return;
        };
        let Some(proxy) = api.server_proxy() else {
            reply_status(msg, EC_NOSERVICE);
            return;
        };
        let origin = origin_of(&msg);
        if name.service != SAMGR_SERVICE && !judge_policy(origin.uid, &policies) {
            log::warn!(
                "samgr: consumer uid<{}> has no permission to access <{}>",
                origin.uid,
                display(&name)
            );
            reply_status(msg, EC_PERMISSION);
            return;
        }
        self.invoke(msg, proxy, &origin);
    }

    fn invoke(&self, msg: Message<'static>, proxy: &dyn IServerProxy, origin: &Origin) {
        let mut reply = IpcIo::new();
        let _ = reply.push_i32(EC_SUCCESS);
        let status = proxy.invoke(msg.code(), origin, &mut MsgReader(&*msg), &mut reply);
        if !msg.wants_reply() {
            return;
        }
        if status != EC_SUCCESS {
            reply.clear();
            let _ = reply.push_i32(status);
        }
        if let Err(e) = msg.reply(&reply) {
            log::debug!("samgr: reply to pid {} failed: {e:?}", origin.pid);
        }
    }
}

/// The sender of `msg`.
fn origin_of(msg: &Message<'_>) -> Origin {
    Origin {
        pid: msg.pid(),
        uid: msg.uid(),
        gid: msg.gid(),
        tid: msg.tid(),
    }
}

/// Answers `msg` with only a status (if it wants an answer), freeing it.
fn reply_status(msg: Message<'static>, status: i32) {
    if msg.wants_reply() {
        let mut io = IpcIo::new();
        let _ = io.push_i32(status);
        let _ = msg.reply(&io);
    }
}

/// `service/feature` or `service` for logs.
pub fn display(name: &SaName) -> String {
    match &name.feature {
        Some(feature) => alloc::format!("{}/{}", name.service, feature),
        None => name.service.clone(),
    }
}

#[cfg(not(any(test, feature = "std")))]
fn exit(code: i32) -> ! {
    ulib::process::exit(code)
}

#[cfg(any(test, feature = "std"))]
fn exit(code: i32) -> ! {
    std::process::exit(code)
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
