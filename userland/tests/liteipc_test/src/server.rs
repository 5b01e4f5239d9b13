//! The test service: `liteipc_test server <name> <pool KiB>` registers `name` with the CMS
//! and serves the codes below until STOP. Each answer is computed from the request, so the
//! tests can check every reply.

use alloc::vec::Vec;
use liteipc::{IpcContext, IpcHandler, IpcIo, Message, SvcIdentity, cms};
use ulib::Errno;
use ulib::fs::File;
use ulib::{eprintln, thread};

/// Empty reply.
pub const NOP: u32 = 100;
/// Reply: sender pid, tid, uid, gid as the server saw them, then the request data as a
/// flat object.
pub const ECHO: u32 = 101;
/// Request u32 n; reply (0, 2n), as upstream's ItPosixLiteIpc002 server.
pub const DOUBLE: u32 = 102;
/// Reply: u32 data size of the request.
pub const SIZE: u32 = 103;
/// Request: u32 tag, one OBJ_PTR; reply: the tag, u32 byte sum, the same bytes as an OBJ_PTR.
pub const PTR: u32 = 104;
/// Request: one OBJ_FD; reply: up to 64 bytes read from it, as a flat object.
pub const FD: u32 = 105;
/// Request: u32 handle; the server calls NOP on it; reply: i32 errno (0 = ok).
pub const CALL: u32 = 106;
/// Request: an OBJ_SVC; the server calls NOP on it; reply: i32 errno.
pub const CALL_SVC: u32 = 107;
/// Reply: OBJ_SVC(u32::MAX, 1): a new handle for the serving thread.
pub const NEW_SVC: u32 = 108;
/// A failed reply.
pub const FAIL: u32 = 109;
/// Tells the CMS (one-way [`crate::cms_thread::NOTE_HANG`]) and never answers.
pub const HANG: u32 = 110;
/// Sleeps 5.5 s (past the caller's 5 s), then replies; the reply's error is kept.
pub const SLOW: u32 = 111;
/// Reply: i32 errno of the last SLOW reply.
pub const LAST_ERR: u32 = 112;
/// Request u32 n; reply with an n-byte OBJ_PTR, or, if that cannot be sent, with
/// i32 errno and no buffer.
pub const BIG_REPLY: u32 = 113;
/// One-way: count it.
pub const COUNT: u32 = 114;
/// Reply: u32 count of COUNT messages.
pub const GET_COUNT: u32 = 115;
/// Reply: u64 pool address of this request in the server's pool.
pub const POOL_ADDR: u32 = 116;
/// Reply, then exit 0.
pub const STOP: u32 = 117;

/// The byte pattern tests put in buffers: position-dependent, so shifts are caught.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Sum of bytes (wrapping), the PTR checksum.
pub fn byte_sum(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(0u32, |s, &b| s.wrapping_add(u32::from(b)))
}

fn errno_code(result: Result<(), Errno>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => e as i32,
    }
}

struct TestService {
    count: u32,
    last_err: i32,
    stop: bool,
}

fn reply_i32(value: i32) -> IpcIo {
    let mut io = IpcIo::new();
    let _ = io.push_i32(value);
    io
}

impl TestService {
    fn call_nop(ctx: &IpcContext, target: SvcIdentity) -> i32 {
        errno_code(ctx.transact(target, NOP, &IpcIo::new()).map(drop))
    }

    fn answer(&mut self, msg: &Message<'_>) -> Result<Option<IpcIo>, liteipc::IpcIoError> {
        let ctx = msg.context();
        let mut io = IpcIo::new();
        match msg.code() {
            NOP => {}
            ECHO => {
                io.push_u32(msg.pid())?;
                io.push_u32(msg.tid())?;
                io.push_u32(msg.uid())?;
                io.push_u32(msg.gid())?;
                io.push_flat_obj(msg.data())?;
            }
            DOUBLE => {
                let n = msg.pop_u32()?;
                io.push_i32(0)?;
                io.push_u32(n.wrapping_mul(2))?;
            }
            SIZE => io.push_u32(msg.data().len() as u32)?,
            PTR => {
                let tag = msg.pop_u32()?;
                let bytes = msg.pop_buffer()?;
                io.push_u32(tag)?;
                io.push_u32(byte_sum(bytes))?;
                io.push_buffer(bytes)?;
            }
            FD => {
                let fd = msg.pop_fd()? as usize;
                let mut buf = [0u8; 64];
                let n = ulib::sys::read(fd, &mut buf).unwrap_or(0);
                let _ = ulib::sys::close(fd);
                io.push_flat_obj(buf.get(..n).unwrap_or_default())?;
            }
            CALL => {
                let handle = msg.pop_u32()?;
                let target = SvcIdentity {
                    handle,
                    ..SvcIdentity::default()
                };
                io.push_i32(Self::call_nop(ctx, target))?;
            }
            CALL_SVC => {
                let target = msg.pop_svc()?;
                io.push_i32(Self::call_nop(ctx, target))?;
            }
            NEW_SVC => io.push_svc(SvcIdentity {
                handle: u32::MAX,
                token: 1,
                cookie: 0,
            })?,
            FAIL => return Ok(None),
            HANG => {
                let _ = ctx.send_oneway(cms::CMS, crate::cms_thread::NOTE_HANG, &IpcIo::new());
                loop {
                    thread::sleep_ms(60_000);
                }
            }
            SLOW => {
                let to = msg.reply_to();
                thread::sleep_ms(5_500);
                self.last_err = errno_code(ctx.reply(&to, &IpcIo::new()));
                // Already answered (or refused): the failed reply serve sends is dropped.
                return Ok(None);
            }
            LAST_ERR => io.push_i32(self.last_err)?,
            BIG_REPLY => {
                let n = msg.pop_u32()? as usize;
                let to = msg.reply_to();
                let mut big = IpcIo::new();
                big.push_i32(0)?;
                big.push_buffer(&pattern(n, 7))?;
                if let Err(e) = ctx.reply(&to, &big) {
                    let _ = ctx.reply(&to, &reply_i32(e as i32));
                }
                return Ok(None);
            }
            COUNT => self.count += 1,
            GET_COUNT => io.push_u32(self.count)?,
            POOL_ADDR => io.push_u64(msg.addr() as u64)?,
            STOP => self.stop = true,
            _ => return Ok(None),
        }
        Ok(Some(io))
    }
}

impl IpcHandler for TestService {
    fn on_request(&mut self, msg: &Message<'_>, reply: &mut IpcIo) -> bool {
        match self.answer(msg) {
            Ok(answer) => answer.map(|answer| *reply = answer).is_some(),
            Err(e) => {
                eprintln!("liteipc_test server: code {}: {e:?}", msg.code());
                false
            }
        }
    }

    fn keep_serving(&self) -> bool {
        !self.stop
    }
}

/// Opens a context with a `pool_kib` pool and waits (at most 10 s) for the CMS.
pub fn connect(pool_kib: usize) -> Result<IpcContext, Errno> {
    let ctx = IpcContext::open(pool_kib * 1024)?;
    ctx.wait_cms(10_000)?;
    Ok(ctx)
}

/// The `server` role.
pub fn run(name: &str, pool_kib: usize) -> i32 {
    // Nothing works before the pool is mapped, not even talking to the CMS.
    match File::open_with(
        abi::liteipc::LITEIPC_DRIVER,
        ulib::fs::open_flags::O_RDWR,
        0,
    ) {
        Ok(file) => {
            let mut probe = abi::liteipc::CmsCmdContent::default();
            let early = ulib::sys::ioctl(file.fd(), abi::liteipc::IPC_CMS_CMD, &mut probe);
            if early != Err(Errno::ENOMEM) {
                eprintln!("liteipc_test server: ioctl before mmap gave {early:?}");
                return 3;
            }
        }
        Err(e) => {
            eprintln!("liteipc_test server: open: {e:?}");
            return 2;
        }
    }
    let ctx = match connect(pool_kib) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("liteipc_test server: connect: {e:?}");
            return 2;
        }
    };
    if let Err(e) = cms::register(&ctx, name) {
        eprintln!("liteipc_test server: register {name}: {e:?}");
        return 4;
    }
    let mut service = TestService {
        count: 0,
        last_err: 0,
        stop: false,
    };
    match ctx.serve(&mut service) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("liteipc_test server {name}: serve: {e:?}");
            5
        }
    }
}
