//! The boss thread of an [`Endpoint`] (upstream `Receive`): it registers the endpoint with
//! samgr (or, in `foundation`, makes it the CMS), then receives requests, which it hands to
//! [`dispatch`](super::dispatch), and death notifications: samgr's death makes it register
//! everything again, another handle's death marks the client proxies of that handle dead and
//! runs the hooks of [`Endpoint::on_handle_death`].

use super::dispatch::BOSS_PRIORITY;
use super::{
    EXIT_NOT_CMS, EXIT_REGISTER_FAILED, Endpoint, EndpointKind, MAX_REGISTER_ATTEMPTS, Target,
    display,
};
use crate::client::RemoteProxy;
use crate::protocol::SAMGR_MSG_LIMIT;
use crate::remote::SAMGR_HANDLE;
use abi::Errno;
use abi::liteipc::msg_type;
use alloc::sync::Arc;
use alloc::vec::Vec;
use liteipc::{IpcIo, Message};

impl Endpoint {
    /// Starts the boss thread unless it runs.
    pub(super) fn start_boss(&'static self) {
        let start = {
            let mut state = self.state.lock();
            !core::mem::replace(&mut state.boss_started, true)
        };
        if !start {
            return;
        }
        let spawned = crate::os::spawn("boss", BOSS_PRIORITY, 0x1000, move || {
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

    /// The boss thread (upstream `Receive`): register, then serve. A request answered here
    /// (flow control, routing errors, quick calls run in an idle task's place, callbacks)
    /// has its answer sent with the next receive, in one ioctl.
    fn boss(&'static self) {
        match self.kind {
            EndpointKind::Samgr => self.become_cms(),
            EndpointKind::Client => self.register_all(),
        }
        let me = crate::os::current_thread();
        let mut reply = IpcIo::new();
        let mut answer: Option<Message<'static>> = None;
        loop {
            let received = match answer.take() {
                Some(request) => {
                    let pid = request.pid();
                    request.reply_and_receive(&reply).or_else(|e| {
                        // Nothing was received (the request is freed all the same).
                        log::debug!("samgr: reply to pid {pid} failed: {e:?}");
                        self.ctx.receive()
                    })
                }
                None => self.ctx.receive(),
            };
            let msg = match received {
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
                msg_type::MT_REQUEST => answer = self.dispatch(msg, me, &mut reply),
                msg_type::MT_DEATH_NOTIFY => {
                    let handle = msg.dead_handle();
                    if handle == SAMGR_HANDLE {
                        crate::client::samgr_gone();
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
    pub(super) fn register_router(&'static self, token: usize) -> bool {
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
}

#[cfg(not(any(test, feature = "std")))]
fn exit(code: i32) -> ! {
    ulib::process::exit(code)
}

#[cfg(any(test, feature = "std"))]
fn exit(code: i32) -> ! {
    std::process::exit(code)
}
