//! Sending (upstream `message.c`, seed 004): requests, responses, shared and direct requests.
//! These need no registry, only the target's queue, so they are free functions like upstream's
//! `SAMGR_Send*`.
//!
//! - [`send_request`]: `MSG_NON`, or `MSG_CON` with a handler; the response comes back to the
//!   sender's pool queue when the sender is a pool thread ([`current_queue`]), else the handler
//!   runs on the responder's thread.
//! - [`send_response`]: answers a `MSG_CON` request once; refuses `MSG_NON` (`EC_INVALID`). If
//!   the sender's queue is full the handler runs on the responder's thread (upstream fallback).
//! - [`send_shared_request`]: the same request (data shared, not copied) to a target; a
//!   response handler runs on the responder's thread.
//! - [`send_shared_direct_request`]: `MSG_DIRECT`: the handler runs on the target's thread and
//!   the target's `message_handle`/`on_message` is not called. (The endpoint's boss thread
//!   hands an IPC message to the owning service the same way, seam (c), HandleIpc, but with
//!   the message and a function in the exchange instead of a boxed closure: no allocation.)
//!
//! Every send to a full queue fails with `EC_BUSBUSY` at once.

use crate::errno::Error;
use crate::message::{
    Exchange, ExchangeType, Handler, Identity, QueueId, Reply, Request, Response,
};
use crate::os::Mutex;
use alloc::vec::Vec;

/// Pool threads and their queues (upstream keeps the queue in thread-local storage).
static THREADS: Mutex<Vec<(u64, QueueId)>> = Mutex::new(Vec::new());

pub(crate) fn bind_thread(thread: u64, queue: QueueId) {
    THREADS.lock().push((thread, queue));
}

pub(crate) fn unbind_thread(thread: u64) {
    THREADS.lock().retain(|(t, _)| *t != thread);
}

/// The queue of the calling pool thread (`SAMGR_GetCurrentQueueID`), or of the pool whose
/// idle thread the caller stands in for (the boss thread running a request in its place);
/// `None` elsewhere.
pub fn current_queue() -> Option<QueueId> {
    let me = crate::os::current_thread();
    let threads = THREADS.lock();
    threads
        .iter()
        .find(|(t, _)| *t == me)
        .or_else(|| threads.iter().find(|(_, q)| q.0.is_borrowed_by(me)))
        .map(|(_, q)| q.clone())
}

fn target_queue(identity: &Identity) -> Result<&QueueId, Error> {
    identity.queue_id.as_ref().ok_or(Error::Invalid)
}

/// Sends `request` to `identity` (`SAMGR_SendRequest`): `MSG_NON` without a handler, `MSG_CON`
/// with one.
pub fn send_request(
    identity: &Identity,
    mut request: Request,
    handler: Option<Handler>,
) -> Result<(), Error> {
    let queue = target_queue(identity)?;
    let kind = match handler {
        Some(handler) => {
            request.reply = Some(Reply {
                handler,
                queue: current_queue(),
            });
            ExchangeType::Con
        }
        None => {
            request.reply = None;
            ExchangeType::Non
        }
    };
    let exchange = Exchange {
        id: identity.clone(),
        request,
        response: Response::default(),
        kind,
        handler: None,
        ipc: None,
    };
    queue.send(exchange)
}

/// Answers `request` (`SAMGR_SendResponse`); `EC_INVALID` when it wants no (more) response.
pub fn send_response(request: &mut Request, response: Response) -> Result<(), Error> {
    let reply = request.reply.take().ok_or(Error::Invalid)?;
    deliver_response(request, response, reply);
    Ok(())
}

/// Answers `request` to `identity`'s queue instead of the sender's
/// (`SAMGR_SendResponseByIdentity`).
pub fn send_response_by_identity(
    identity: &Identity,
    request: &mut Request,
    response: Response,
) -> Result<(), Error> {
    let mut reply = request.reply.take().ok_or(Error::Invalid)?;
    reply.queue = identity.queue_id.clone();
    deliver_response(request, response, reply);
    Ok(())
}

fn deliver_response(request: &Request, response: Response, reply: Reply) {
    let request = request.copy_message();
    let Some(queue) = reply.queue else {
        (reply.handler)(&request, &response);
        return;
    };
    let ack = Exchange {
        id: Identity::invalid(),
        request,
        response,
        kind: ExchangeType::Ack,
        handler: Some(reply.handler),
        ipc: None,
    };
    if let Err(ack) = queue.try_send(ack) {
        // The origin's queue is full: run the handler here rather than lose the response.
        if let Some(handler) = ack.handler {
            handler(&ack.request, &ack.response);
        }
    }
}

/// Sends `request`'s message (its data shared with the caller's copy) to `identity`
/// (`SAMGR_SendSharedRequest`); a handler makes it `MSG_CON`, answered on the responder's thread.
pub fn send_shared_request(
    identity: &Identity,
    request: &Request,
    handler: Option<Handler>,
) -> Result<(), Error> {
    let queue = target_queue(identity)?;
    let mut shared = request.copy_message();
    let kind = match handler {
        Some(handler) => {
            shared.reply = Some(Reply {
                handler,
                queue: None,
            });
            ExchangeType::Con
        }
        None => ExchangeType::Non,
    };
    let exchange = Exchange {
        id: identity.clone(),
        request: shared,
        response: Response::default(),
        kind,
        handler: None,
        ipc: None,
    };
    queue.send(exchange)
}

/// Runs `handler(request, response)` on `identity`'s thread (`SAMGR_SendSharedDirectRequest`,
/// `MSG_DIRECT`); the target's message handlers are not called.
pub fn send_shared_direct_request(
    identity: &Identity,
    request: &Request,
    response: Response,
    handler: Handler,
) -> Result<(), Error> {
    let queue = target_queue(identity)?;
    let exchange = Exchange {
        id: identity.clone(),
        request: request.copy_message(),
        response,
        kind: ExchangeType::Direct,
        handler: Some(handler),
        ipc: None,
    };
    queue.send(exchange)
}
