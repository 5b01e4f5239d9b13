//! Requests on the boss thread (upstream `Dispatch`): per-caller flow control, the router by
//! token, then the router's service thread (upstream `HandleIpc`: the uid policy, `invoke`)
//! or, for a callback router, `invoke` right there; and the reply.

use super::{Endpoint, Router, Target, display};
use crate::errno::{EC_BUSY, EC_NOSERVICE, EC_PERMISSION, EC_SUCCESS};
use crate::exchange::send_shared_direct_request;
use crate::ipc::{IServerProxy, Origin};
use crate::ipc_io::MsgReader;
use crate::message::{Request, Response, handler};
use crate::policy::judge_policy;
use crate::remote::SAMGR_SERVICE;
use crate::token_bucket::{BucketStatus, TokenBucket};
use alloc::sync::Arc;
use liteipc::{IpcIo, Message};

/// Calling processes whose flow-control buckets are remembered.
const MAX_BUCKETS: usize = 64;

impl Endpoint {
    /// Upstream `Dispatch`, on the boss thread.
    pub(super) fn dispatch(&'static self, msg: Message<'static>) {
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
