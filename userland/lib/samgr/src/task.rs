//! Task pools (upstream `task_manager.c`, seed 004): the threads that run services. Each pool
//! has a bounded [`MessageQueue`](crate::message::MessageQueue) and thread(s) at one priority
//! looping over it: `MSG_ACK` and `MSG_DIRECT` run the carried handler, `MSG_NON`/`MSG_CON` go to
//! the target service's `message_handle` or feature's `on_message` (then an automatic empty
//! response for an unanswered `MSG_CON`), `MSG_EXIT` ends the thread.
//!
//! How a service gets its pool ([`TaskConfig::task_flags`]):
//! - [`TaskType::Shared`]: one pool per priority class `priority / 8`, at priority `class*8 + 1`,
//!   queue [`SHARED_QUEUE_SIZE`], at most [`MAX_REF_NUM`] services (then a fresh pool for the class);
//! - [`TaskType::Single`]: a pool of its own with the service's priority and queue size;
//! - [`TaskType::Specified`]: joins the pool of a service whose `TaskConfig` is identical, else
//!   as `Single`;
//! - [`TaskType::NoTask`]: no thread; the service initialises on the bootstrap thread and cannot
//!   receive messages.
//!
//! Priorities: samgr's `PRI_LOW`(9)..`PRI_BUTT`(39, excluded), bigger = more urgent; out of range
//! becomes [`PRI_LOW`]. [`os_priority`] maps them onto the kernel's user range 10..=31, where
//! smaller = more urgent.

use crate::message::{Exchange, ExchangeType, QueueId};
use crate::samgr::Inner;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Lowest service priority.
pub const PRI_LOW: i16 = 9;
/// Below normal.
pub const PRI_BELOW_NORMAL: i16 = 16;
/// Normal.
pub const PRI_NORMAL: i16 = 24;
/// Above normal (also the endpoint's boss thread).
pub const PRI_ABOVE_NORMAL: i16 = 32;
/// One past the highest priority.
pub const PRI_BUTT: i16 = 39;

/// `TaskConfig::level` values (upstream `SpecifyTag`/level; informational).
pub const LEVEL_HIGH: i16 = 0;
/// Middle level.
pub const LEVEL_MIDDLE: i16 = 1;
/// Low level.
pub const LEVEL_LOW: i16 = 2;

/// Queue of a shared pool.
pub const SHARED_QUEUE_SIZE: u16 = 25;
/// Stack of a shared pool.
pub const SHARED_STACK_SIZE: u16 = 0x800;
/// Shared pool slots (priority classes).
pub const MAX_POOL_NUM: usize = 8;
/// Priority step of the shared classes (`PROPERTY_STEP`).
pub const PROPERTY_STEP: i16 = 8;
/// Services one pool may serve (`MAX_REF_NUM`).
pub const MAX_REF_NUM: usize = 15;
/// Threads per pool (`SINGLE_SIZE` = `DEFAULT_SIZE` = 1 upstream).
pub const POOL_THREADS: usize = 1;

/// Kernel priority of the most urgent samgr priority.
pub const OS_PRIORITY_HIGHEST: u32 = 10;
/// Kernel priority of the least urgent samgr priority.
pub const OS_PRIORITY_LOWEST: u32 = 31;

/// How a service gets its thread (upstream `TaskType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TaskType {
    /// `SHARED_TASK`: a pool per priority class.
    Shared = 0,
    /// `SINGLE_TASK`: a pool of its own.
    Single = 1,
    /// `SPECIFIED_TASK`: shares with identically configured services.
    Specified = 2,
    /// `NO_TASK`: no thread.
    NoTask = 0xFF,
}

/// `SHARED_TASK`.
pub const SHARED_TASK: u8 = TaskType::Shared as u8;
/// `SINGLE_TASK`.
pub const SINGLE_TASK: u8 = TaskType::Single as u8;
/// `SPECIFIED_TASK`.
pub const SPECIFIED_TASK: u8 = TaskType::Specified as u8;
/// `NO_TASK`.
pub const NO_TASK: u8 = TaskType::NoTask as u8;

/// A service's thread requirements (upstream `TaskConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TaskConfig {
    /// Level (informational).
    pub level: i16,
    /// Samgr priority, [`PRI_LOW`]..[`PRI_BUTT`].
    pub priority: i16,
    /// Stack bytes wanted (advisory on our target: ulib threads have a fixed stack).
    pub stack_size: u16,
    /// Queue length of a `Single`/`Specified` pool.
    pub queue_size: u16,
    /// Pool kind.
    pub task_flags: TaskType,
}

impl TaskConfig {
    /// A config.
    pub const fn new(
        level: i16,
        priority: i16,
        stack_size: u16,
        queue_size: u16,
        task_flags: TaskType,
    ) -> TaskConfig {
        TaskConfig {
            level,
            priority,
            stack_size,
            queue_size,
            task_flags,
        }
    }

    /// The priority used: out of range becomes [`PRI_LOW`].
    pub const fn effective_priority(&self) -> i16 {
        if self.priority < PRI_LOW || self.priority >= PRI_BUTT {
            PRI_LOW
        } else {
            self.priority
        }
    }

    /// The config of the shared pool of priority class `class` (`DEFAULT_TASK_CFG`).
    pub const fn shared(class: usize) -> TaskConfig {
        TaskConfig::new(
            LEVEL_HIGH,
            class as i16 * PROPERTY_STEP + 1,
            SHARED_STACK_SIZE,
            SHARED_QUEUE_SIZE,
            TaskType::Shared,
        )
    }
}

/// The kernel priority (10..=31, smaller = more urgent) of samgr priority `priority`:
/// linear and monotonic, `PRI_LOW` → 31, `PRI_BUTT - 1` → 10 (so `PRI_BELOW_NORMAL` → 26,
/// `PRI_NORMAL` → 20, `PRI_ABOVE_NORMAL` → 14); out of range is taken as `PRI_LOW`.
pub const fn os_priority(priority: i16) -> u32 {
    let p = if priority < PRI_LOW || priority >= PRI_BUTT {
        PRI_LOW
    } else {
        priority
    };
    let steps = (p - PRI_LOW) as u32; // 0..=29
    let span_in = (PRI_BUTT - 1 - PRI_LOW) as u32; // 29
    let span_out = OS_PRIORITY_LOWEST - OS_PRIORITY_HIGHEST; // 21
    OS_PRIORITY_LOWEST - (steps * span_out + span_in / 2) / span_in
}

/// A pool: its queue, the priority and stack of its threads, and the services using it.
pub struct TaskPool {
    pub(crate) queue: QueueId,
    pub(crate) config: TaskConfig,
    pub(crate) name: String,
    /// Services using the pool; changed only under the registry lock.
    pub(crate) refs: AtomicUsize,
    started: AtomicBool,
}

impl TaskPool {
    pub(crate) fn new(config: TaskConfig, name: &str) -> Option<Arc<TaskPool>> {
        if config.queue_size == 0 {
            return None;
        }
        Some(Arc::new(TaskPool {
            queue: QueueId::for_pool(usize::from(config.queue_size), os_priority(config.priority)),
            config,
            name: String::from(name),
            refs: AtomicUsize::new(1),
            started: AtomicBool::new(false),
        }))
    }

    /// The pool's queue.
    pub fn queue_id(&self) -> &QueueId {
        &self.queue
    }

    /// Samgr priority of the pool's threads.
    pub fn priority(&self) -> i16 {
        self.config.priority
    }

    /// Services using the pool.
    pub fn refs(&self) -> usize {
        self.refs.load(Ordering::Relaxed)
    }

    /// Takes one more reference, unless the pool serves [`MAX_REF_NUM`] services already.
    pub(crate) fn reference(&self) -> bool {
        let refs = self.refs.load(Ordering::Relaxed);
        if refs >= MAX_REF_NUM {
            return false;
        }
        self.refs.store(refs + 1, Ordering::Relaxed);
        true
    }

    /// Drops a reference; the last one stops the threads with `MSG_EXIT`.
    pub(crate) fn release(&self) {
        let refs = self.refs.load(Ordering::Relaxed).saturating_sub(1);
        self.refs.store(refs, Ordering::Relaxed);
        if refs == 0 {
            self.stop();
        }
    }

    /// Sends `MSG_EXIT` to every thread (past the queue bound).
    pub(crate) fn stop(&self) {
        if self.started.load(Ordering::Acquire) {
            for _ in 0..POOL_THREADS {
                self.queue.0.put_always(Exchange::exit());
            }
        }
    }

    /// Starts the threads once (`SAMGR_StartTaskPool`).
    pub(crate) fn start(self: &Arc<Self>, samgr: Weak<Inner>) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        for _ in 0..POOL_THREADS {
            let queue = self.queue.clone();
            let samgr = samgr.clone();
            let spawned = crate::os::spawn(
                &self.name,
                os_priority(self.config.priority),
                usize::from(self.config.stack_size),
                move || task_entry(&samgr, &queue),
            );
            if spawned.is_err() {
                log::error!(
                    "samgr: start task <{}, prio {}> failed",
                    self.name,
                    self.config.priority
                );
            }
        }
    }
}

/// A pool thread (upstream `TaskEntry`).
fn task_entry(samgr: &Weak<Inner>, queue: &QueueId) {
    let me = crate::os::current_thread();
    crate::exchange::bind_thread(me, queue.clone());
    loop {
        let exchange = queue.0.pop();
        match exchange.kind {
            ExchangeType::Exit => break,
            ExchangeType::Ack | ExchangeType::Direct => {
                if let Some(work) = exchange.ipc {
                    (work.run)(work.msg, work.token);
                } else if let Some(handler) = exchange.handler {
                    handler(&exchange.request, &exchange.response);
                }
            }
            ExchangeType::Non | ExchangeType::Con => {
                if let Some(inner) = samgr.upgrade() {
                    inner.process_request(exchange);
                }
            }
            ExchangeType::Sync => {}
        }
    }
    crate::exchange::unbind_thread(me);
}
