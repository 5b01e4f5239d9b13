//! The client/server API over `/dev/lite_ipc` (upstream liteipc_adapter: OpenLiteIpc,
//! Transact/SendRequest, SendReply, FreeBuffer, StartLoop), on ulib's pool glue.
//!
//! Received messages are read in place in the pool: [`Reply`] and [`Message`] hold the
//! delivered buffer and free it with `BUFF_FREE` when dropped, or, for
//! [`Message::reply`], in the same ioctl as the reply (`SEND|BUFF_FREE`, as upstream's
//! SendReply). Both deref to an [`IpcIoReader`] over the message.

use crate::io::{IpcIo, IpcIoReader, Source};
use abi::Errno;
use abi::liteipc::{
    CmsCmdContent, IPC_CMS_CMD, IPC_GET_VERSION, IPC_SET_CMS, IPC_SET_IPC_THREAD, IPC_WAIT_CMS,
    IpcContent, IpcMsg, IpcVersion, LITEIPC_DRIVER, SvcIdentity, cms_cmd, msg_flag, msg_type,
};
use core::ops::Deref;
use ulib::fs::File;
use ulib::fs::open_flags::O_RDWR;
use ulib::sys::{self, ipc::Delivered, ipc::IpcPool};

/// A received message's bytes, as a reader source.
impl Source for Delivered<'_> {
    fn data(&self) -> &[u8] {
        Delivered::data(self)
    }
    fn offsets(&self) -> &[u8] {
        Delivered::offsets(self)
    }
    fn buffer(&self, addr: u64, size: u32) -> Option<&[u8]> {
        self.ptr_buffer(addr, size)
    }
}

/// This process's LiteIPC endpoint: the open device and its receive pool. Share it between
/// threads by reference (it is `Sync`); messages borrow it.
#[derive(Debug)]
pub struct IpcContext {
    pool: IpcPool,
    file: File,
}

impl IpcContext {
    /// Opens the device and maps a `pool_size`-byte receive pool (upstream OpenLiteIpc).
    pub fn open(pool_size: usize) -> Result<IpcContext, Errno> {
        let file = File::open_with(LITEIPC_DRIVER, O_RDWR, 0)?;
        let pool = IpcPool::map_default(file.fd(), pool_size)?;
        Ok(IpcContext { pool, file })
    }

    /// The device fd.
    pub fn fd(&self) -> usize {
        self.file.fd()
    }

    /// The receive pool.
    pub fn pool(&self) -> &IpcPool {
        &self.pool
    }

    /// The driver version (`IPC_GET_VERSION`).
    pub fn version(&self) -> Result<u32, Errno> {
        let mut version = IpcVersion::default();
        let ret = sys::ioctl(self.fd(), IPC_GET_VERSION, &mut version)?;
        // The number comes back in the struct; accept a driver that returns it instead.
        Ok(if version.driver_version != 0 {
            version.driver_version
        } else {
            ret as u32
        })
    }

    /// Makes this process the service manager; messages to handle 0 may be at most
    /// `max_msg_size` bytes, header included (`IPC_SET_CMS`).
    pub fn set_cms(&self, max_msg_size: usize) -> Result<(), Errno> {
        sys::ioctl_value(self.fd(), IPC_SET_CMS, max_msg_size).map(drop)
    }

    /// Makes the calling thread this process's IPC thread (it receives the requests to
    /// handle 0 in the CMS, and death notifications); returns its thread id.
    pub fn set_ipc_thread(&self) -> Result<u32, Errno> {
        sys::ioctl_value(self.fd(), IPC_SET_IPC_THREAD, 0).map(|tid| tid as u32)
    }

    /// Blocks until a service manager with an IPC thread exists (`timeout_ms` 0: no limit;
    /// ETIME when it runs out).
    pub fn wait_cms(&self, timeout_ms: u32) -> Result<(), Errno> {
        sys::ioctl_value(self.fd(), IPC_WAIT_CMS, timeout_ms as usize).map(drop)
    }

    /// One `IPC_CMS_CMD`; returns the `service_handle` the kernel wrote back.
    pub fn cms_cmd(&self, cmd: u32, task_id: u32, service_handle: u32) -> Result<u32, Errno> {
        let mut content = CmsCmdContent {
            cmd,
            task_id,
            service_handle,
        };
        sys::ioctl(self.fd(), IPC_CMS_CMD, &mut content)?;
        Ok(content.service_handle)
    }

    /// A new handle whose messages go to task `task_id`.
    pub fn gen_handle(&self, task_id: u32) -> Result<u32, Errno> {
        self.cms_cmd(cms_cmd::CMS_GEN_HANDLE, task_id, 0)
    }

    /// Removes `handle`.
    pub fn remove_handle(&self, handle: u32) -> Result<(), Errno> {
        self.cms_cmd(cms_cmd::CMS_REMOVE_HANDLE, 0, handle)
            .map(drop)
    }

    /// Lets the process of task `task_id` reach `handle`.
    pub fn add_access(&self, task_id: u32, handle: u32) -> Result<(), Errno> {
        self.cms_cmd(cms_cmd::CMS_ADD_ACCESS, task_id, handle)
            .map(drop)
    }

    /// Sends a request to `target` and waits (at most 5 s: ETIME) for its reply. A failed
    /// reply (the service could not handle it, or died) is ENOENT.
    pub fn transact(&self, target: SvcIdentity, code: u32, io: &IpcIo) -> Result<Reply<'_>, Errno> {
        let msg = outgoing(
            msg_type::MT_REQUEST,
            target,
            code,
            msg_flag::LITEIPC_FLAG_DEFAULT,
            io,
        );
        let delivered = self.pool.send_receive(Some(&msg), None)?;
        if delivered.header().msg_type != msg_type::MT_REPLY {
            // Not ours to read; dropping it frees it.
            return Err(Errno::EIO);
        }
        Ok(Reply {
            reader: IpcIoReader::new(delivered),
        })
    }

    /// Sends a request that wants no reply.
    pub fn send_oneway(&self, target: SvcIdentity, code: u32, io: &IpcIo) -> Result<(), Errno> {
        let msg = outgoing(
            msg_type::MT_REQUEST,
            target,
            code,
            msg_flag::LITEIPC_FLAG_ONEWAY,
            io,
        );
        self.pool.send(Some(&msg), None)
    }

    /// Waits (without limit) for the next message for the calling thread.
    pub fn receive(&self) -> Result<Message<'_>, Errno> {
        let delivered = self.pool.send_receive(None, None)?;
        Ok(Message::new(self, delivered))
    }

    /// Sends a reply described by `to` (the request itself already freed or kept).
    pub fn reply(&self, to: &ReplyTo, io: &IpcIo) -> Result<(), Errno> {
        let msg = to.message(msg_type::MT_REPLY, io);
        self.pool.send(Some(&msg), None)
    }

    /// Sends a failed reply described by `to` (the caller gets ENOENT).
    pub fn fail(&self, to: &ReplyTo) -> Result<(), Errno> {
        let msg = to.message(msg_type::MT_FAILED_REPLY, &IpcIo::new());
        self.pool.send(Some(&msg), None)
    }

    /// A raw `IPC_SEND_RECV_MSG` (forged messages, bogus frees; see
    /// [`ulib::sys::ipc::send_recv_raw`]).
    pub fn send_recv_raw(&self, content: &mut IpcContent) -> Result<usize, Errno> {
        sys::ipc::send_recv_raw(self.fd(), content)
    }

    /// Serves on the calling thread: requests go to `handler.on_request` (the answer it
    /// writes is sent as the reply, or a failed reply when it returns false; nothing for
    /// one-way requests), death notifications to `handler.on_death`; other messages are
    /// freed. Each reply is sent together with the freeing of its request and the wait for
    /// the next message, in one ioctl. Returns when `handler.keep_serving()` turns false, or
    /// with the error of a failed receive.
    pub fn serve<H: IpcHandler + ?Sized>(&self, handler: &mut H) -> Result<(), Errno> {
        // One reply buffer for every request: no allocation per call once it has grown.
        let mut reply = IpcIo::new();
        let mut next = self.receive();
        loop {
            let msg = next?;
            next = match msg.msg_type() {
                msg_type::MT_REQUEST => {
                    reply.clear();
                    let answered = handler.on_request(&msg, &mut reply);
                    let stop = !handler.keep_serving();
                    match (msg.wants_reply(), answered) {
                        (true, true) if !stop => msg.reply_and_receive(&reply),
                        (true, true) => {
                            // The requester may be gone; its error is not ours to handle.
                            let _ = msg.reply(&reply);
                            return Ok(());
                        }
                        (true, false) => {
                            let _ = msg.fail();
                            if stop {
                                return Ok(());
                            }
                            self.receive()
                        }
                        (false, _) => {
                            drop(msg);
                            if stop {
                                return Ok(());
                            }
                            self.receive()
                        }
                    }
                }
                msg_type::MT_DEATH_NOTIFY => {
                    let dead = msg.dead_handle();
                    drop(msg);
                    handler.on_death(dead);
                    if !handler.keep_serving() {
                        return Ok(());
                    }
                    self.receive()
                }
                _ => {
                    drop(msg);
                    self.receive()
                }
            };
            // A reply that could not be sent (the requester gave up: ETIME) also skipped
            // the receive; wait for the next message normally.
            if let Err(e) = next
                && e != Errno::EINTR
            {
                next = self.receive();
            }
        }
    }
}

/// The header of an outgoing message for `io`.
fn outgoing(kind: u32, target: SvcIdentity, code: u32, flag: u32, io: &IpcIo) -> IpcMsg {
    answer_header(kind, target, code, flag, 0, io)
}

/// What a reply to a request must carry (upstream SendReply copies these from the
/// request): kept separately so a server can still answer after the request is freed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyTo {
    /// The requesting task (replies are addressed to it).
    pub task_id: u32,
    /// Token and cookie of the request's target, echoed.
    pub token: u32,
    /// Echoed cookie.
    pub cookie: u32,
    /// Echoed code.
    pub code: u32,
    /// Echoed flag.
    pub flag: u32,
    /// The request's timestamp, which the kernel matches.
    pub timestamp: u64,
}

impl ReplyTo {
    /// The reply header.
    pub fn message(&self, kind: u32, io: &IpcIo) -> IpcMsg {
        let target = SvcIdentity {
            handle: self.task_id,
            token: self.token,
            cookie: self.cookie,
        };
        answer_header(kind, target, self.code, self.flag, self.timestamp, io)
    }
}

/// The header of an answer of `kind` to the request that had `code`, `flag` and
/// `timestamp`, addressed to `to` (the requesting task, the request's token and cookie).
fn answer_header(
    kind: u32,
    to: SvcIdentity,
    code: u32,
    flag: u32,
    timestamp: u64,
    io: &IpcIo,
) -> IpcMsg {
    IpcMsg {
        msg_type: kind,
        target: to,
        code,
        flag,
        timestamp,
        data_size: io.data().len() as u32,
        reserved0: 0,
        data: io.data().as_ptr() as u64,
        sp_obj_num: io.offsets().len() as u32,
        reserved1: 0,
        offsets: io.offsets().as_ptr() as u64,
        process_id: 0,
        task_id: 0,
        user_id: 0,
        gid: 0,
    }
}

/// A reply, read in place; freed when dropped.
#[derive(Debug)]
pub struct Reply<'c> {
    reader: IpcIoReader<Delivered<'c>>,
}

impl<'c> Reply<'c> {
    /// The header as the kernel delivered it.
    pub fn header(&self) -> &IpcMsg {
        self.reader.source().header()
    }

    /// Pool address of the reply.
    pub fn addr(&self) -> usize {
        self.reader.source().addr()
    }
}

impl<'c> Deref for Reply<'c> {
    type Target = IpcIoReader<Delivered<'c>>;

    fn deref(&self) -> &Self::Target {
        &self.reader
    }
}

/// A received message (request, death notification, ...), read in place; freed when
/// dropped, or by [`Message::reply`]/[`Message::fail`].
#[derive(Debug)]
pub struct Message<'c> {
    ctx: &'c IpcContext,
    reader: IpcIoReader<Delivered<'c>>,
}

impl<'c> Message<'c> {
    fn new(ctx: &'c IpcContext, delivered: Delivered<'c>) -> Self {
        Message {
            ctx,
            reader: IpcIoReader::new(delivered),
        }
    }

    /// The header as the kernel delivered it.
    pub fn header(&self) -> &IpcMsg {
        self.reader.source().header()
    }

    /// The context it arrived on.
    pub fn context(&self) -> &'c IpcContext {
        self.ctx
    }

    /// Pool address of the message.
    pub fn addr(&self) -> usize {
        self.reader.source().addr()
    }

    /// `msg_type::*`.
    pub fn msg_type(&self) -> u32 {
        self.header().msg_type
    }

    /// The service function code.
    pub fn code(&self) -> u32 {
        self.header().code
    }

    /// `msg_flag::*`.
    pub fn flag(&self) -> u32 {
        self.header().flag
    }

    /// True for a request whose sender waits for a reply.
    pub fn wants_reply(&self) -> bool {
        self.msg_type() == msg_type::MT_REQUEST && self.flag() == msg_flag::LITEIPC_FLAG_DEFAULT
    }

    /// The target the sender addressed (for a death notification: token = dead handle).
    pub fn target(&self) -> SvcIdentity {
        self.header().target
    }

    /// The handle a death notification is about.
    pub fn dead_handle(&self) -> u32 {
        self.header().target.token
    }

    /// Sender's process id (stamped by the kernel).
    pub fn pid(&self) -> u32 {
        self.header().process_id
    }

    /// Sender's thread id.
    pub fn tid(&self) -> u32 {
        self.header().task_id
    }

    /// Sender's uid.
    pub fn uid(&self) -> u32 {
        self.header().user_id
    }

    /// Sender's gid.
    pub fn gid(&self) -> u32 {
        self.header().gid
    }

    /// The kernel's timestamp of a request.
    pub fn timestamp(&self) -> u64 {
        self.header().timestamp
    }

    /// What a reply to this request needs.
    pub fn reply_to(&self) -> ReplyTo {
        let h = self.header();
        ReplyTo {
            task_id: h.task_id,
            token: h.target.token,
            cookie: h.target.cookie,
            code: h.code,
            flag: h.flag,
            timestamp: h.timestamp,
        }
    }

    /// The header of an answer of `kind` carrying `io`, built straight from the request's
    /// header (what [`ReplyTo::message`] builds, without a [`ReplyTo`] to copy in between).
    fn answer(&self, kind: u32, io: &IpcIo) -> IpcMsg {
        let h = self.header();
        let to = SvcIdentity {
            handle: h.task_id,
            token: h.target.token,
            cookie: h.target.cookie,
        };
        answer_header(kind, to, h.code, h.flag, h.timestamp, io)
    }

    /// Replies with `io` and frees the request, in one ioctl (`SEND|BUFF_FREE`). The
    /// request is freed even when the reply cannot be sent.
    pub fn reply(self, io: &IpcIo) -> Result<(), Errno> {
        let msg = self.answer(msg_type::MT_REPLY, io);
        let ctx = self.ctx;
        ctx.pool.send(Some(&msg), Some(self.reader.into_source()))
    }

    /// Replies with `io`, frees the request and waits for the next message, in one ioctl
    /// (`SEND|BUFF_FREE|RECV`). If the reply fails its error is returned and nothing is
    /// received (the request is freed all the same).
    pub fn reply_and_receive(self, io: &IpcIo) -> Result<Message<'c>, Errno> {
        let msg = self.answer(msg_type::MT_REPLY, io);
        let ctx = self.ctx;
        let next = ctx
            .pool
            .send_receive(Some(&msg), Some(self.reader.into_source()))?;
        Ok(Message::new(ctx, next))
    }

    /// Sends a failed reply (the caller gets ENOENT) and frees the request.
    pub fn fail(self) -> Result<(), Errno> {
        let msg = self.answer(msg_type::MT_FAILED_REPLY, &IpcIo::new());
        let ctx = self.ctx;
        ctx.pool.send(Some(&msg), Some(self.reader.into_source()))
    }
}

impl<'c> Deref for Message<'c> {
    type Target = IpcIoReader<Delivered<'c>>;

    fn deref(&self) -> &Self::Target {
        &self.reader
    }
}

/// What [`IpcContext::serve`] dispatches to.
pub trait IpcHandler {
    /// Handles a request, writing the answer into `reply` (empty on entry); false sends a
    /// failed reply instead. For one-way requests the answer is dropped.
    fn on_request(&mut self, msg: &Message<'_>, reply: &mut IpcIo) -> bool;

    /// A service this process could reach has died.
    fn on_death(&mut self, _handle: u32) {}

    /// Checked after each message; `serve` returns once it is false.
    fn keep_serving(&self) -> bool {
        true
    }
}
