//! The client side (upstream `default_client.c`, `client_factory.c`, the request half of
//! `endpoint.c`): calls to the samgr server, and [`RemoteProxy`], the interface object a
//! process gets for a service of another process.
//!
//! [`get_remote`] asks samgr (FEATURE/GET, which also grants this process access to the
//! service's handle) and returns a proxy of version [`CLIENT_PROXY_VER`]; the endpoint keeps
//! it, so the same object comes back while it lives, and starts its boss thread, which
//! receives death notifications. When the remote process dies, the proxy is marked dead, the
//! callbacks registered with [`RemoteProxy::on_death`] run (on the boss thread), and later
//! calls fail at once with `EC_NOSERVICE`; a call in progress fails too (the kernel fails
//! the wait). A new [`get_remote`] after the service re-registered returns a new proxy.
//!
//! Errors: `Invalid` for a request that does not fit a message (or samgr's 256 bytes),
//! `NoService` for an unknown or dead service, `Permission` when samgr or the service's
//! policy refuses the caller, `Busy` when flow control refuses the call, `Timeout` when no
//! reply came in LiteIPC's 5 s, or the service's own error code.

use crate::endpoint::{Endpoint, context};
use crate::errno::Error;
use crate::ipc::{IoError, IpcReader, IpcWriter};
use crate::ipc_io::MsgReader;
use crate::iunknown::{CLIENT_PROXY_VER, IUnknown};
use crate::os::Mutex;
use crate::protocol::{
    EndpointRecord, FeatureRecord, Registration, SAMGR_CODE, SAMGR_IDENTITY, read_endpoint_record,
    read_feature_record, read_identity, read_registration, read_status, write_header, write_name,
};
use crate::remote::{
    OP_ALL, OP_DELETE, OP_GET, OP_POST, OP_PUT, RES_ENDPOINT, RES_FEATURE, RES_SYSCAP, SaName,
};
use abi::Errno;
use abi::liteipc::SvcIdentity;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use liteipc::{IpcContext, IpcIo, Reply};

/// How long a samgr call waits for a samgr to exist (`IPC_WAIT_CMS`), in ms.
pub const WAIT_SAMGR_MS: u32 = 10_000;

/// A LiteIPC failure as a samgr error.
pub fn transport_error(e: Errno) -> Error {
    match e {
        Errno::ENOENT | Errno::ERFKILL | Errno::EACCES => Error::NoService,
        Errno::ETIME => Error::Timeout,
        Errno::ENOMEM | Errno::ENOSPC => Error::NoMemory,
        Errno::EINVAL => Error::Invalid,
        _ => Error::Failure,
    }
}

/// One request/reply with `target`: builds the request with `write`, checks the reply's
/// status, reads the body with `read`.
pub fn call<T>(
    target: SvcIdentity,
    code: u32,
    write: impl FnOnce(&mut dyn IpcWriter) -> Result<(), IoError>,
    read: impl FnOnce(&mut dyn IpcReader) -> Result<T, IoError>,
) -> Result<T, Error> {
    let ctx = context()?;
    let mut io = IpcIo::new();
    write(&mut io).map_err(|_| Error::Invalid)?;
    match ctx.transact(target, code, &io) {
        Ok(reply) => answer(&reply, read),
        Err(e) => Err(transport_error(e)),
    }
}

/// A reply's status, then its body read with `read`.
fn answer<T>(
    reply: &Reply<'_>,
    read: impl FnOnce(&mut dyn IpcReader) -> Result<T, IoError>,
) -> Result<T, Error> {
    let mut reader = MsgReader(&**reply);
    read_status(&mut reader)?;
    read(&mut reader).map_err(|_| Error::Failure)
}

/// Sends a one-way request to `target` (e.g. a notification to a callback identity).
pub fn send_oneway_to(
    target: SvcIdentity,
    code: u32,
    write: impl FnOnce(&mut dyn IpcWriter) -> Result<(), IoError>,
) -> Result<(), Error> {
    let ctx = context()?;
    let mut io = IpcIo::new();
    write(&mut io).map_err(|_| Error::Invalid)?;
    ctx.send_oneway(target, code, &io).map_err(transport_error)
}

/// Set once this process saw a samgr (a CMS with an IPC thread), so that calls to it need
/// not ask the kernel first; cleared when samgr dies (the boss thread hears of it) or a call
/// finds none.
static SAMGR_SEEN: AtomicBool = AtomicBool::new(false);

/// Blocks (at most [`WAIT_SAMGR_MS`]) until a samgr exists.
fn wait_for_samgr(ctx: &IpcContext) -> Result<(), Error> {
    ctx.wait_cms(WAIT_SAMGR_MS).map_err(|_| Error::NoService)?;
    SAMGR_SEEN.store(true, Ordering::Release);
    Ok(())
}

/// Samgr died: the next call waits for the next one.
pub(crate) fn samgr_gone() {
    SAMGR_SEEN.store(false, Ordering::Release);
}

/// A request to samgr at {0, 0, 0}, once a samgr exists. The kernel refuses a send while
/// there is none (EINVAL), so a call that skipped the wait because samgr existed before
/// waits and tries once more when refused: a request that was refused never arrived.
pub fn samgr_call<T>(
    resource: u32,
    option: u32,
    write: impl FnOnce(&mut dyn IpcWriter) -> Result<(), IoError>,
    read: impl FnOnce(&mut dyn IpcReader) -> Result<T, IoError>,
) -> Result<T, Error> {
    let ctx = context()?;
    let mut io = IpcIo::new();
    write_header(&mut io, resource, option)
        .and_then(|()| write(&mut io))
        .map_err(|_| Error::Invalid)?;
    let waited = !SAMGR_SEEN.load(Ordering::Acquire);
    if waited {
        wait_for_samgr(ctx)?;
    }
    let mut sent = ctx.transact(SAMGR_IDENTITY, SAMGR_CODE, &io);
    if !waited && matches!(sent, Err(Errno::EINVAL)) {
        samgr_gone();
        wait_for_samgr(ctx)?;
        sent = ctx.transact(SAMGR_IDENTITY, SAMGR_CODE, &io);
    }
    match sent {
        Ok(reply) => answer(&reply, read),
        Err(e) => Err(transport_error(e)),
    }
}

/// ENDPOINT/POST: the handle of the calling thread (the boss thread calls it).
pub fn register_endpoint() -> Result<u32, Error> {
    samgr_call(RES_ENDPOINT, OP_POST, |_| Ok(()), |r| r.pop_u32())
}

/// FEATURE/PUT: registers router `token` of this process's endpoint as `name`.
pub fn put_feature(name: &SaName, token: u32) -> Result<Registration, Error> {
    samgr_call(
        RES_FEATURE,
        OP_PUT,
        |w| {
            write_name(w, name)?;
            w.push_u32(token)
        },
        read_registration,
    )
}

/// FEATURE/GET: where `name` is served; samgr grants this process access to it.
pub fn get_feature(name: &SaName) -> Result<SvcIdentity, Error> {
    if !name.is_valid() {
        return Err(Error::Invalid);
    }
    samgr_call(RES_FEATURE, OP_GET, |w| write_name(w, name), read_identity)
}

/// FEATURE/DELETE: withdraws one of this process's registrations.
pub fn delete_feature(name: &SaName) -> Result<(), Error> {
    samgr_call(RES_FEATURE, OP_DELETE, |w| write_name(w, name), |_| Ok(()))
}

/// FEATURE/ALL, every page.
pub fn list_features() -> Result<Vec<FeatureRecord>, Error> {
    let mut all = Vec::new();
    let mut start = 0u32;
    loop {
        let (page, next, end) = samgr_call(
            RES_FEATURE,
            OP_ALL,
            |w| w.push_u32(start),
            |r| {
                let count = r.pop_u32()?;
                let page = (0..count)
                    .map(|_| read_feature_record(r))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((page, r.pop_u32()?, r.pop_bool()?))
            },
        )?;
        all.extend(page);
        if end || next <= start {
            return Ok(all);
        }
        start = next;
    }
}

/// ENDPOINT/ALL.
pub fn list_endpoints() -> Result<Vec<EndpointRecord>, Error> {
    samgr_call(
        RES_ENDPOINT,
        OP_ALL,
        |_| Ok(()),
        |r| {
            let count = r.pop_u32()?;
            (0..count).map(|_| read_endpoint_record(r)).collect()
        },
    )
}

/// SYSCAP/PUT.
pub fn syscap_register(name: &str) -> Result<(), Error> {
    samgr_call(RES_SYSCAP, OP_PUT, |w| w.push_string(name), |_| Ok(()))
}

/// SYSCAP/GET.
pub fn syscap_has(name: &str) -> Result<bool, Error> {
    samgr_call(
        RES_SYSCAP,
        OP_GET,
        |w| w.push_string(name),
        |r| r.pop_bool(),
    )
}

/// SYSCAP/ALL, every page.
pub fn syscap_all() -> Result<Vec<String>, Error> {
    let mut all = Vec::new();
    let mut start = 0u32;
    loop {
        let (names, next, end) = samgr_call(
            RES_SYSCAP,
            OP_ALL,
            |w| w.push_u32(start),
            |r| {
                let count = r.pop_u32()?;
                let names = (0..count)
                    .map(|_| r.pop_string().map(String::from))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((names, r.pop_u32()?, r.pop_bool()?))
            },
        )?;
        all.extend(names);
        if end || next <= start {
            return Ok(all);
        }
        start = next;
    }
}

/// The client proxy of `service`/`feature` in another process (upstream
/// `SAMGR_CreateIProxy`): the cached one while alive, else a new one from FEATURE/GET.
pub fn get_remote(service: &str, feature: Option<&str>) -> Result<Arc<RemoteProxy>, Error> {
    let name = SaName::new(service, feature);
    let endpoint = Endpoint::global()?;
    if let Some(proxy) = endpoint.cached_proxy(&name) {
        return Ok(proxy);
    }
    let identity = get_feature(&name)?;
    let proxy = Arc::new(RemoteProxy {
        name,
        identity,
        alive: AtomicBool::new(true),
        on_death: Mutex::new(Vec::new()),
    });
    endpoint.add_proxy(proxy.clone());
    Ok(proxy)
}

/// A death callback of a proxy's owner.
type DeathCallback = Box<dyn Fn(&SaName) + Send + Sync>;

/// A service of another process (upstream `IDefaultClient` / `IClientProxy`), version
/// [`CLIENT_PROXY_VER`]: its calls are LiteIPC transactions with {handle, token}.
pub struct RemoteProxy {
    name: SaName,
    identity: SvcIdentity,
    alive: AtomicBool,
    on_death: Mutex<Vec<DeathCallback>>,
}

impl RemoteProxy {
    /// The service/feature it stands for.
    pub fn name(&self) -> &SaName {
        &self.name
    }

    /// Where it is served (upstream `SAMGR_GetRemoteIdentity`).
    pub fn identity(&self) -> SvcIdentity {
        self.identity
    }

    /// False once the remote process died.
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// Calls `f` (on the boss thread) when the remote process dies.
    pub fn on_death(&self, f: impl Fn(&SaName) + Send + Sync + 'static) {
        self.on_death.lock().push(Box::new(f));
    }

    /// Marks the proxy dead and tells its owner, once.
    pub(crate) fn mark_dead(&self) {
        if self.alive.swap(false, Ordering::AcqRel) {
            log::info!(
                "samgr: remote {} (handle {}) died",
                crate::endpoint::display(&self.name),
                self.identity.handle
            );
            let callbacks = core::mem::take(&mut *self.on_death.lock());
            for callback in &callbacks {
                callback(&self.name);
            }
        }
    }

    /// A transport failure; one meaning the remote is gone marks the proxy dead.
    fn failed(&self, e: Errno) -> Error {
        let error = transport_error(e);
        if error == Error::NoService {
            self.mark_dead();
        }
        error
    }

    /// Calls function `code` (upstream `Invoke` with a notify callback): `write` builds the
    /// request, `read` reads the reply body after a successful status.
    pub fn invoke<T>(
        &self,
        code: u32,
        write: impl FnOnce(&mut dyn IpcWriter) -> Result<(), IoError>,
        read: impl FnOnce(&mut dyn IpcReader) -> Result<T, IoError>,
    ) -> Result<T, Error> {
        if !self.is_alive() {
            return Err(Error::NoService);
        }
        let ctx = context()?;
        let mut io = IpcIo::new();
        write(&mut io).map_err(|_| Error::Invalid)?;
        // A match, not `map_err(..)?`: a `Result<Reply, Error>` in between is copied byte by
        // byte (its error is one byte beside the reply's words).
        match ctx.transact(self.identity, code, &io) {
            Ok(reply) => answer(&reply, read),
            Err(e) => Err(self.failed(e)),
        }
    }

    /// A one-way call (upstream `Invoke` without notify, `LITEIPC_FLAG_ONEWAY`).
    pub fn send_oneway(
        &self,
        code: u32,
        write: impl FnOnce(&mut dyn IpcWriter) -> Result<(), IoError>,
    ) -> Result<(), Error> {
        if !self.is_alive() {
            return Err(Error::NoService);
        }
        let ctx = context()?;
        let mut io = IpcIo::new();
        write(&mut io).map_err(|_| Error::Invalid)?;
        ctx.send_oneway(self.identity, code, &io)
            .map_err(|e| self.failed(e))
    }
}

impl IUnknown for RemoteProxy {
    fn version(&self) -> u16 {
        CLIENT_PROXY_VER
    }
}
