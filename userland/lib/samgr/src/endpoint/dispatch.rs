//! Requests on the boss thread (upstream `Dispatch`): per-caller flow control, the router by
//! token, then the router's service thread (upstream `HandleIpc`: the uid policy, `invoke`)
//! or, for a callback router, `invoke` right there; and the reply.
//!
//! The hand-over to the service's task is skipped when it would change nothing but the
//! thread: if the call is quick ([`IServerProxy::is_quick`]), the service's pool has nothing
//! queued and its thread sleeps waiting for work, and that thread is not more urgent than the
//! boss thread, the boss thread runs HandleIpc itself in the sleeping thread's place (it
//! borrows the thread: [`MessageQueue::try_lend`](crate::message::MessageQueue::try_lend)).
//! The pool runs nothing else meanwhile, and what is queued for it meanwhile runs after the
//! call, in order, so the service sees exactly what it would have seen on its own thread: the
//! same calls in the same order, one at a time, and `current_queue` is its queue. The
//! answer then leaves with the boss thread's next receive, in one ioctl. Otherwise the
//! request goes through the pool's queue (a full queue answers `EC_BUSY`) to HandleIpc on
//! the pool thread. Neither way allocates.

use super::{ENDPOINT, Endpoint, Router, State, Target, display};
use crate::errno::{EC_BUSY, EC_NOSERVICE, EC_PERMISSION, EC_SUCCESS};
use crate::ipc::{IServerProxy, Origin};
use crate::ipc_io::MsgReader;
use crate::iunknown::Api;
use crate::message::{Exchange, ExchangeType, Identity, IpcWork, Request, Response};
use crate::policy::judge_policy;
use crate::remote::SAMGR_SERVICE;
use crate::task::{PRI_ABOVE_NORMAL, os_priority};
use crate::token_bucket::{BucketStatus, TokenBucket};
use alloc::sync::Arc;
use liteipc::{IpcIo, Message};

/// Calling processes whose flow-control buckets are remembered.
const MAX_BUCKETS: usize = 64;

/// Kernel priority of the boss thread.
pub(super) const BOSS_PRIORITY: u32 = os_priority(PRI_ABOVE_NORMAL);

/// Where a request goes, as the router said when it arrived.
enum Route {
    Missing,
    Callback(Arc<dyn IServerProxy>),
    Service {
        identity: Identity,
        api: Api,
        /// The caller passed the router's uid policy (or the router is samgr's own).
        admitted: bool,
    },
}

impl State {
    /// Upstream `TB_CheckMessage` on the bucket of calling process `caller`.
    fn check_flow(&mut self, caller: u32, now_ms: u64) -> BucketStatus {
        let index = match self.buckets.iter().position(|(pid, _)| *pid == caller) {
            Some(i) => i,
            None => {
                if self.buckets.len() >= MAX_BUCKETS {
                    self.buckets.remove(0);
                }
                let (rate, burst) = self.rate;
                self.buckets.push((caller, TokenBucket::new(rate, burst)));
                self.buckets.len() - 1
            }
        };
        self.buckets[index].1.check_message_at(now_ms)
    }

    fn route(&self, token: usize, uid: u32) -> Route {
        match self.routers.get(token).and_then(Option::as_ref) {
            None => Route::Missing,
            Some(Router {
                target: Target::Callback(proxy),
                ..
            }) => Route::Callback(proxy.clone()),
            Some(Router {
                name,
                target: Target::Service { identity, api },
                policies,
                ..
            }) => Route::Service {
                identity: identity.clone(),
                api: api.clone(),
                admitted: name.service == SAMGR_SERVICE || judge_policy(uid, policies),
            },
        }
    }
}

impl Endpoint {
    /// Upstream `Dispatch`, on the boss thread (`boss` is its thread id). Returns the request
    /// when its answer is in `reply`, for the boss thread to send with its next receive;
    /// `None` when nothing is left to send here (one-way, or handed to the service's queue).
    pub(super) fn dispatch(
        &'static self,
        msg: Message<'static>,
        boss: u64,
        reply: &mut IpcIo,
    ) -> Option<Message<'static>> {
        let token = msg.target().token as usize;
        let caller = msg.pid();
        let now = crate::os::now_ms();
        let route = {
            let mut state = self.state.lock();
            if state.check_flow(caller, now) == BucketStatus::Busy {
                drop(state);
                log::debug!("samgr: flow control: pid {caller} to token {token} refused");
                return answer_status(msg, EC_BUSY, reply);
            }
            state.route(token, msg.uid())
        };
        match route {
            Route::Missing => {
                log::warn!("samgr: router <{}, {token}> is NULL", self.name);
                answer_status(msg, EC_NOSERVICE, reply)
            }
            Route::Callback(callback) => invoke(msg, &*callback, reply),
            Route::Service {
                identity,
                api,
                admitted,
            } => {
                let Some(queue) = identity.queue_id.as_ref() else {
                    log::warn!("samgr: router[{token}] service has no task");
                    return answer_status(msg, EC_BUSY, reply);
                };
                let quick = api.server_proxy().is_some_and(|p| p.is_quick(msg.code()));
                if quick && queue.queue().priority() >= BOSS_PRIORITY && queue.0.try_lend(boss) {
                    let answer = self.handle_routed(msg, token, &api, admitted, reply);
                    queue.0.give_back();
                    return answer;
                }
                let exchange = Exchange {
                    id: identity.clone(),
                    request: Request::new(token as i16, msg.code()),
                    response: Response::default(),
                    kind: ExchangeType::Direct,
                    handler: None,
                    ipc: Some(IpcWork {
                        msg,
                        token,
                        run: handle_queued,
                    }),
                };
                let refused = queue.try_send(exchange).err()?;
                let msg = refused.ipc?.msg;
                log::warn!(
                    "samgr: router[{token}] service <{}, {}> is busy",
                    identity.service_id,
                    identity.feature_id
                );
                answer_status(msg, EC_BUSY, reply)
            }
        }
    }

    /// Upstream `HandleIpc` for a request that went through the service's queue, on the
    /// service's thread: the router is looked up again (it may have gone meanwhile).
    fn handle_ipc(&self, msg: Message<'static>, token: usize) {
        let route = self.state.lock().route(token, msg.uid());
        let Route::Service { api, admitted, .. } = route else {
            log::warn!("samgr: invalid IPC router {token}");
            send_status(msg, EC_NOSERVICE);
            return;
        };
        let mut reply = IpcIo::new();
        if let Some(msg) = self.handle_routed(msg, token, &api, admitted, &mut reply) {
            let pid = msg.pid();
            if let Err(e) = msg.reply(&reply) {
                log::debug!("samgr: reply to pid {pid} failed: {e:?}");
            }
        }
    }

    /// HandleIpc once routed: the uid policy (already judged: `admitted`), then `invoke`
    /// into `reply`. Returns the request if it wants `reply` sent.
    fn handle_routed(
        &self,
        msg: Message<'static>,
        token: usize,
        api: &Api,
        admitted: bool,
        reply: &mut IpcIo,
    ) -> Option<Message<'static>> {
        let Some(proxy) = api.server_proxy() else {
            return answer_status(msg, EC_NOSERVICE, reply);
        };
        if !admitted {
            self.log_refusal(msg.uid(), token);
            return answer_status(msg, EC_PERMISSION, reply);
        }
        invoke(msg, proxy, reply)
    }

    #[cold]
    fn log_refusal(&self, uid: u32, token: usize) {
        let state = self.state.lock();
        if let Some(Some(router)) = state.routers.get(token) {
            log::warn!(
                "samgr: consumer uid<{uid}> has no permission to access <{}>",
                display(&router.name)
            );
        }
    }
}

/// What a pool thread runs for a queued request ([`IpcWork::run`]).
fn handle_queued(msg: Message<'static>, token: usize) {
    match ENDPOINT.get() {
        Some(endpoint) => endpoint.handle_ipc(msg, token),
        None => send_status(msg, EC_NOSERVICE),
    }
}

/// Runs `proxy.invoke` for `msg` with the reply (status first) in `reply`; returns the
/// request if it wants the reply sent.
fn invoke(
    msg: Message<'static>,
    proxy: &dyn IServerProxy,
    reply: &mut IpcIo,
) -> Option<Message<'static>> {
    let origin = origin_of(&msg);
    reply.clear();
    let _ = reply.push_i32(EC_SUCCESS);
    let status = proxy.invoke(msg.code(), &origin, &mut MsgReader(&*msg), reply);
    if !msg.wants_reply() {
        return None;
    }
    if status != EC_SUCCESS {
        reply.clear();
        let _ = reply.push_i32(status);
    }
    Some(msg)
}

/// The sender of `msg`.
fn origin_of(msg: &Message<'_>) -> Origin {
    let h = msg.header();
    Origin {
        pid: h.process_id,
        tid: h.task_id,
        uid: h.user_id,
        gid: h.gid,
    }
}

/// An answer of only `status` in `reply`, if `msg` wants one (else it is freed).
fn answer_status(
    msg: Message<'static>,
    status: i32,
    reply: &mut IpcIo,
) -> Option<Message<'static>> {
    if !msg.wants_reply() {
        return None;
    }
    reply.clear();
    let _ = reply.push_i32(status);
    Some(msg)
}

/// Sends an answer of only `status`, if `msg` wants one, freeing it.
fn send_status(msg: Message<'static>, status: i32) {
    let mut reply = IpcIo::new();
    if let Some(msg) = answer_status(msg, status, &mut reply) {
        let _ = msg.reply(&reply);
    }
}
