//! Messages between services (upstream `message.h`, `message_inner.h`; seed 004): the
//! [`Identity`] of a target, [`Request`]/[`Response`], the [`ExchangeType`] and the internal
//! `Exchange` that travels through a task pool's [`MessageQueue`].
//!
//! Ownership replaces upstream's `sharedRef` counter: request and response data are [`Data`]
//! (an `Arc`), so a shared request sent to several queues holds one copy, freed when the last
//! exchange holding it is dropped. A queue is bounded; a full queue refuses the message at once
//! (`EC_BUSBUSY`), never blocking the sender.

use crate::errno::Error;
use crate::os::{Condvar, Mutex};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::any::Any;
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};

/// Upstream `INVALID_INDEX`.
pub const INVALID_INDEX: i16 = -1;

/// Kinds of exchange (upstream `ExchangeType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i8)]
pub enum ExchangeType {
    /// Stop the pool thread that receives it.
    Exit = -1,
    /// A request wanting no response.
    Non = 0,
    /// A request wanting a response (has a handler).
    Con = 1,
    /// A response: the sender's handler runs on the thread that receives it.
    Ack = 2,
    /// Synchronous request (unused upstream; never sent).
    Sync = 3,
    /// Run the sender's handler on the receiver's thread; `MessageHandle`/`OnMessage` not called.
    Direct = 4,
}

/// `MSG_EXIT`.
pub const MSG_EXIT: i8 = ExchangeType::Exit as i8;
/// `MSG_NON`.
pub const MSG_NON: i8 = ExchangeType::Non as i8;
/// `MSG_CON`.
pub const MSG_CON: i8 = ExchangeType::Con as i8;
/// `MSG_ACK`.
pub const MSG_ACK: i8 = ExchangeType::Ack as i8;
/// `MSG_SYNC`.
pub const MSG_SYNC: i8 = ExchangeType::Sync as i8;
/// `MSG_DIRECT`.
pub const MSG_DIRECT: i8 = ExchangeType::Direct as i8;

/// Where a message goes: a service (feature id [`INVALID_INDEX`]) or one of its features, and
/// the queue of the task pool running it (`None` for a `NO_TASK` service, which cannot receive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The service's index in the registry.
    pub service_id: i16,
    /// The feature's index in its service, or [`INVALID_INDEX`] for the service itself.
    pub feature_id: i16,
    /// The receiving queue.
    pub queue_id: Option<QueueId>,
}

impl Identity {
    /// An identity that names nothing (`{-1, -1, NULL}`).
    pub const fn invalid() -> Identity {
        Identity {
            service_id: INVALID_INDEX,
            feature_id: INVALID_INDEX,
            queue_id: None,
        }
    }
}

impl Default for Identity {
    fn default() -> Self {
        Identity::invalid()
    }
}

/// Payload of a request or response (upstream `void *data` + `len`).
#[derive(Clone, Default)]
pub enum Data {
    /// Nothing.
    #[default]
    None,
    /// Bytes, shared by every exchange carrying them.
    Bytes(Arc<[u8]>),
    /// Any object, shared likewise (upstream passes pointers to structs this way).
    Object(Arc<dyn Any + Send + Sync>),
}

impl Data {
    /// A byte payload copied from `bytes`.
    pub fn bytes(bytes: &[u8]) -> Data {
        Data::Bytes(Arc::from(bytes))
    }

    /// An object payload.
    pub fn object<T: Any + Send + Sync>(object: T) -> Data {
        Data::Object(Arc::new(object))
    }

    /// The bytes, if a byte payload.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Data::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The object, if an object payload of type `T`.
    pub fn as_object<T: Any>(&self) -> Option<&T> {
        match self {
            Data::Object(object) => object.downcast_ref::<T>(),
            _ => None,
        }
    }

    /// Upstream `len`: the byte count (0 for no data or an object).
    pub fn len(&self) -> usize {
        self.as_bytes().map_or(0, <[u8]>::len)
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Data::None => f.write_str("None"),
            Data::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            Data::Object(_) => f.write_str("Object(..)"),
        }
    }
}

/// The callback run with a response ([`ExchangeType::Ack`]) or a direct request
/// ([`ExchangeType::Direct`]); upstream `Handler`.
pub type Handler = Box<dyn FnOnce(&Request, &Response) + Send + 'static>;

/// Boxes a closure as a [`Handler`] (lets the compiler infer the argument types).
pub fn handler<F>(f: F) -> Handler
where
    F: FnOnce(&Request, &Response) + Send + 'static,
{
    Box::new(f)
}

/// Where the response to a `MSG_CON` request goes.
pub(crate) struct Reply {
    pub handler: Handler,
    /// The sender's queue; `None` runs the handler on the responding thread.
    pub queue: Option<QueueId>,
}

/// A request (upstream `Request`): message id, value and data; the data length is
/// [`Data::len`]. A request received with a reply route answers through
/// `Samgr::send_response`; a second answer, or an answer to a `MSG_NON` request, is refused.
#[derive(Default)]
pub struct Request {
    /// Message id, chosen by the receiver's protocol.
    pub msg_id: i16,
    /// Message value, chosen likewise.
    pub msg_value: u32,
    /// Payload.
    pub data: Data,
    pub(crate) reply: Option<Reply>,
}

impl Request {
    /// A request without data.
    pub fn new(msg_id: i16, msg_value: u32) -> Request {
        Request {
            msg_id,
            msg_value,
            ..Request::default()
        }
    }

    /// This request with `data`.
    pub fn with_data(mut self, data: Data) -> Request {
        self.data = data;
        self
    }

    /// This request with a copy of `bytes` as data.
    pub fn with_bytes(self, bytes: &[u8]) -> Request {
        self.with_data(Data::bytes(bytes))
    }

    /// Upstream `len`.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the request carries no bytes.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Whether a response is still expected (a `MSG_CON` request not yet answered).
    pub fn wants_response(&self) -> bool {
        self.reply.is_some()
    }

    /// Id, value and (shared) data, without the reply route.
    pub fn copy_message(&self) -> Request {
        Request {
            msg_id: self.msg_id,
            msg_value: self.msg_value,
            data: self.data.clone(),
            reply: None,
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("msg_id", &self.msg_id)
            .field("msg_value", &self.msg_value)
            .field("data", &self.data)
            .field("wants_response", &self.reply.is_some())
            .finish()
    }
}

/// A response (upstream `Response`); its length is [`Data::len`].
#[derive(Clone, Debug, Default)]
pub struct Response {
    /// Payload.
    pub data: Data,
}

impl Response {
    /// A response carrying `data`.
    pub fn new(data: Data) -> Response {
        Response { data }
    }

    /// A response carrying a copy of `bytes`.
    pub fn bytes(bytes: &[u8]) -> Response {
        Response::new(Data::bytes(bytes))
    }

    /// Upstream `len`.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the response carries no bytes.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// What travels through a queue (upstream `Exchange`).
pub(crate) struct Exchange {
    /// The target service/feature (queue ignored once queued).
    pub id: Identity,
    pub request: Request,
    pub response: Response,
    pub kind: ExchangeType,
    /// For `Ack` and `Direct`.
    pub handler: Option<Handler>,
    /// For a `Direct` exchange carrying a LiteIPC request to its service (HandleIpc).
    pub ipc: Option<IpcWork>,
}

impl Exchange {
    pub fn exit() -> Exchange {
        Exchange {
            id: Identity::invalid(),
            request: Request::default(),
            response: Response::default(),
            kind: ExchangeType::Exit,
            handler: None,
            ipc: None,
        }
    }
}

/// A LiteIPC request for a pool thread (upstream: `MSG_DIRECT` whose handler is `HandleIpc`
/// and whose data is the message): a function and its arguments instead of a boxed closure,
/// so handing a request to a busy service allocates nothing. If the exchange is dropped
/// unrun the message is freed with it.
pub(crate) struct IpcWork {
    /// The request, read in place in the pool.
    pub msg: liteipc::Message<'static>,
    /// The router it was sent to.
    pub token: usize,
    /// What the pool thread runs (the endpoint's HandleIpc).
    pub run: fn(liteipc::Message<'static>, usize),
}

/// Queue contents and who serves them.
struct QueueState {
    items: VecDeque<Exchange>,
    /// Pool threads waiting in [`MessageQueue::pop`].
    idle: usize,
    /// Idle threads lent out by [`MessageQueue::try_lend`]: a borrower runs a message in
    /// their place, so each lent thread stays asleep until the borrower gives it back.
    lent: usize,
    /// The thread running in a lent thread's place (one at a time: only the endpoint's
    /// boss thread borrows), for [`crate::current_queue`].
    borrower: Option<u64>,
}

/// A task pool's bounded message queue (upstream `MQueueId` over `QUEUE_*`): any thread puts
/// without blocking, the pool's threads sleep in `pop` until a message comes.
///
/// An idle pool (every thread asleep in `pop`, nothing queued) can also be *borrowed*
/// ([`MessageQueue::try_lend`]): the borrower runs one message on its own thread as if a pool
/// thread ran it. A thread lent out takes no message until it is given back, so messages of
/// the pool never run concurrently beyond its thread count, and messages queued meanwhile run
/// after the borrowed one, in order, as they would have behind it in the queue.
pub struct MessageQueue {
    serial: u32,
    capacity: usize,
    /// Kernel priority of the pool's threads (10..=31, smaller is more urgent).
    priority: u32,
    state: Mutex<QueueState>,
    not_empty: Condvar,
}

impl MessageQueue {
    fn new(capacity: usize, priority: u32) -> MessageQueue {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        MessageQueue {
            serial: NEXT.fetch_add(1, Ordering::Relaxed),
            capacity,
            priority,
            state: Mutex::new(QueueState {
                items: VecDeque::new(),
                idle: 0,
                lent: 0,
                borrower: None,
            }),
            not_empty: Condvar::new(),
        }
    }

    /// Queues `exchange`, or hands it back when the queue is full.
    #[allow(
        clippy::result_large_err,
        reason = "a refused exchange comes back whole (its IPC request must still be answered); \
                  boxing it would allocate on every send"
    )]
    pub(crate) fn put(&self, exchange: Exchange) -> Result<(), Exchange> {
        let mut state = self.state.lock();
        if state.items.len() >= self.capacity {
            return Err(exchange);
        }
        state.items.push_back(exchange);
        let wake = state.idle > state.lent;
        drop(state);
        if wake {
            self.not_empty.notify_one();
        }
        Ok(())
    }

    /// Queues `exchange` even past the capacity (for `MSG_EXIT`, which must get through).
    pub(crate) fn put_always(&self, exchange: Exchange) {
        self.state.lock().items.push_back(exchange);
        self.not_empty.notify_one();
    }

    /// Takes the oldest message, sleeping while there is none (or while this thread is
    /// lent out).
    pub(crate) fn pop(&self) -> Exchange {
        let mut state = self.state.lock();
        state.idle += 1;
        loop {
            // Leaving the idle threads must keep one for every thread lent out.
            if state.idle > state.lent
                && let Some(exchange) = state.items.pop_front()
            {
                state.idle -= 1;
                return exchange;
            }
            state = self.not_empty.wait(state);
        }
    }

    /// Lends an idle pool thread to `borrower` (a thread id) if the queue is empty and one
    /// of its threads waits for work: the caller then runs one message in that thread's
    /// place and must call [`MessageQueue::give_back`] when it is done.
    pub(crate) fn try_lend(&self, borrower: u64) -> bool {
        let mut state = self.state.lock();
        if !state.items.is_empty() || state.idle <= state.lent || state.borrower.is_some() {
            return false;
        }
        state.lent += 1;
        state.borrower = Some(borrower);
        true
    }

    /// Ends a loan of [`MessageQueue::try_lend`]: the lent thread runs what was queued
    /// meanwhile.
    pub(crate) fn give_back(&self) {
        let mut state = self.state.lock();
        state.lent -= 1;
        state.borrower = None;
        let wake = !state.items.is_empty();
        drop(state);
        if wake {
            self.not_empty.notify_one();
        }
    }

    /// Whether `thread` runs a message of this queue in a lent thread's place.
    pub(crate) fn is_borrowed_by(&self, thread: u64) -> bool {
        self.state.lock().borrower == Some(thread)
    }

    /// Kernel priority of the pool's threads.
    pub fn priority(&self) -> u32 {
        self.priority
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.state.lock().items.len()
    }

    /// Whether no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// A reference to a [`MessageQueue`]: the `queue_id` of an [`Identity`]. Equal iff the same queue.
#[derive(Clone)]
pub struct QueueId(pub(crate) Arc<MessageQueue>);

impl QueueId {
    /// A new queue holding at most `capacity` messages, for no pool.
    #[cfg(test)]
    pub(crate) fn new(capacity: usize) -> QueueId {
        QueueId::for_pool(capacity, crate::task::OS_PRIORITY_LOWEST)
    }

    /// A new queue holding at most `capacity` messages, for a pool whose threads run at
    /// kernel priority `priority`.
    pub(crate) fn for_pool(capacity: usize, priority: u32) -> QueueId {
        QueueId(Arc::new(MessageQueue::new(capacity, priority)))
    }

    /// A small number naming the queue in logs.
    pub fn serial(&self) -> u32 {
        self.0.serial
    }

    /// The queue.
    pub fn queue(&self) -> &MessageQueue {
        &self.0
    }

    /// Queues an exchange; a full queue drops it and fails with `EC_BUSBUSY`.
    pub(crate) fn send(&self, exchange: Exchange) -> Result<(), Error> {
        self.0.put(exchange).map_err(|_| Error::BusBusy)
    }

    /// Queues an exchange, handing it back when the queue is full.
    #[allow(clippy::result_large_err, reason = "as `MessageQueue::put`")]
    pub(crate) fn try_send(&self, exchange: Exchange) -> Result<(), Exchange> {
        self.0.put(exchange)
    }
}

impl PartialEq for QueueId {
    fn eq(&self, other: &QueueId) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for QueueId {}

impl fmt::Debug for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Q{}", self.0.serial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_thread_with_work_queued_is_not_lent() {
        // The moment between a put and the woken pool thread taking the message: lending
        // then would let the borrower overtake it.
        let queue = MessageQueue::new(4, 20);
        queue.state.lock().idle = 1;
        assert!(queue.try_lend(1));
        queue.give_back();
        queue.put(Exchange::exit()).map_err(drop).unwrap();
        assert!(!queue.try_lend(1));
        queue.state.lock().items.clear();
        assert!(queue.try_lend(1));
        assert!(queue.is_borrowed_by(1) && !queue.is_borrowed_by(2));
        queue.give_back();
        assert!(!queue.is_borrowed_by(1));
    }
}
