//! A hostile client: bad handles, forged message types and flags, replies nobody waits
//! for, pointers into the kernel or unmapped memory, oversized lengths, bogus frees. Each
//! gets an error, and the server keeps serving (checked with a normal call after each).

use crate::calls::send_msg;
use crate::suite::{Suite, run_child, serving};
use abi::liteipc::{
    IPC_SEND_RECV_MSG, IpcContent, IpcMsg, SEND, SpecialObj, SvcIdentity, msg_type,
};
use alloc::vec;
use liteipc::IpcIo;
use ulib::Errno;
use ulib::check::{Context, TestResult};
use ulib::sys::hostile::{self, Foreign};
use ulib::{ensure, ensure_eq};

/// A kernel address (the kernel image).
const KERNEL_ADDR: u64 = 0xFFFF_FFFF_8000_0000;
/// An address in the unmapped guard at 0.
const UNMAPPED_ADDR: u64 = 0x2000;

/// A request header to `target` over `data`/`offsets`.
fn request(target: SvcIdentity, data: &[u8], offsets: &[u64]) -> IpcMsg {
    IpcMsg {
        target,
        code: crate::server::NOP,
        data_size: data.len() as u32,
        data: data.as_ptr() as u64,
        sp_obj_num: offsets.len() as u32,
        offsets: offsets.as_ptr() as u64,
        ..IpcMsg::default()
    }
}

/// Unregistered and out-of-range handles: EINVAL.
pub fn bad_handles(suite: &mut Suite) -> TestResult {
    let (ctx, main) = (suite.ctx()?, suite.main_server()?);
    for handle in [127, 128, 1000, u32::MAX] {
        let target = SvcIdentity {
            handle,
            ..SvcIdentity::default()
        };
        let result = send_msg(ctx, &request(target, &[], &[]));
        ensure!(result == Err(Errno::EINVAL), "handle {handle}: {result:?}");
    }
    serving(ctx, &main)
}

/// DEATH_NOTIFY and unknown types, unknown flags: EINVAL.
pub fn forged_types_and_flags(suite: &mut Suite) -> TestResult {
    let (ctx, main) = (suite.ctx()?, suite.main_server()?);
    for kind in [msg_type::MT_DEATH_NOTIFY, 4, 99, u32::MAX] {
        let msg = IpcMsg {
            msg_type: kind,
            ..request(main.svc(), &[], &[])
        };
        let result = send_msg(ctx, &msg);
        ensure!(result == Err(Errno::EINVAL), "type {kind}: {result:?}");
    }
    let msg = IpcMsg {
        flag: 7,
        ..request(main.svc(), &[], &[])
    };
    ensure_eq!(send_msg(ctx, &msg), Err(Errno::EINVAL));
    // IpcContent flags: none, or unknown bits.
    for flag in [0, 8, SEND | 0x100] {
        let mut content = IpcContent {
            flag,
            out_msg: core::ptr::from_ref(&msg) as u64,
            ..IpcContent::default()
        };
        let result = ctx.send_recv_raw(&mut content);
        ensure!(
            result == Err(Errno::EINVAL),
            "content flag {flag:#x}: {result:?}"
        );
    }
    serving(ctx, &main)
}

/// Replies to a task that waits for nothing (ETIME), or with a wrong timestamp.
pub fn reply_nobody_waits_for(suite: &mut Suite) -> TestResult {
    let (ctx, main) = (suite.ctx()?, suite.main_server()?);
    for tid in [ulib::thread::current().as_raw(), 1, 9999] {
        let msg = IpcMsg {
            msg_type: msg_type::MT_REPLY,
            timestamp: 12345,
            target: SvcIdentity {
                handle: tid,
                ..SvcIdentity::default()
            },
            ..request(main.svc(), &[], &[])
        };
        let result = send_msg(ctx, &msg);
        ensure!(
            result == Err(Errno::ETIME),
            "reply to tid {tid}: {result:?}"
        );
        let failed = IpcMsg {
            msg_type: msg_type::MT_FAILED_REPLY,
            ..msg
        };
        ensure_eq!(send_msg(ctx, &failed), Err(Errno::ETIME));
    }
    serving(ctx, &main)
}

/// The message, its data, offsets and OBJ_PTR buffers in the kernel or unmapped: EFAULT.
pub fn kernel_and_unmapped_pointers(suite: &mut Suite) -> TestResult {
    let (ctx, main) = (suite.ctx()?, suite.main_server()?);
    let fd = ctx.fd();
    for addr in [0, KERNEL_ADDR as usize, UNMAPPED_ADDR as usize] {
        let at = Foreign::new(addr, 32).context("foreign")?;
        ensure_eq!(
            hostile::ioctl(fd, IPC_SEND_RECV_MSG, at),
            Err(Errno::EFAULT)
        );
    }
    for out in [0, KERNEL_ADDR, UNMAPPED_ADDR] {
        let mut content = IpcContent {
            flag: SEND,
            out_msg: out,
            ..IpcContent::default()
        };
        let result = ctx.send_recv_raw(&mut content);
        ensure!(result == Err(Errno::EFAULT), "out_msg {out:#x}: {result:?}");
    }
    for data in [KERNEL_ADDR, UNMAPPED_ADDR] {
        let msg = IpcMsg {
            data,
            data_size: 16,
            ..request(main.svc(), &[], &[])
        };
        let result = send_msg(ctx, &msg);
        ensure!(
            result == Err(Errno::EFAULT),
            "data at {data:#x}: {result:?}"
        );
    }
    let data = vec![0u8; 64];
    for offsets in [KERNEL_ADDR, UNMAPPED_ADDR] {
        let msg = IpcMsg {
            offsets,
            sp_obj_num: 1,
            ..request(main.svc(), &data, &[])
        };
        let result = send_msg(ctx, &msg);
        ensure!(
            result == Err(Errno::EFAULT),
            "offsets at {offsets:#x}: {result:?}"
        );
    }
    for buffer in [KERNEL_ADDR, UNMAPPED_ADDR, u64::MAX - 8] {
        let mut io = IpcIo::new();
        io.push_special(SpecialObj::ptr(16, buffer))
            .context("push")?;
        let msg = request(main.svc(), io.data(), io.offsets());
        let result = send_msg(ctx, &msg);
        ensure!(
            result == Err(Errno::EFAULT),
            "OBJ_PTR at {buffer:#x}: {result:?}"
        );
    }
    let mut io = IpcIo::new();
    io.push_fd(4000).context("push")?;
    let result = send_msg(ctx, &request(main.svc(), io.data(), io.offsets()));
    ensure!(result == Err(Errno::EBADF), "OBJ_FD 4000: {result:?}");
    serving(ctx, &main)
}

/// Sizes far beyond the limits: EINVAL; a buffer larger than any pool: ENOMEM.
pub fn oversized_lengths(suite: &mut Suite) -> TestResult {
    let (ctx, main) = (suite.ctx()?, suite.main_server()?);
    let data = vec![0u8; 64];
    let huge_data = IpcMsg {
        data_size: u32::MAX,
        ..request(main.svc(), &data, &[])
    };
    ensure_eq!(send_msg(ctx, &huge_data), Err(Errno::EINVAL));
    let huge_count = IpcMsg {
        sp_obj_num: u32::MAX,
        ..request(main.svc(), &data, &[0])
    };
    ensure_eq!(send_msg(ctx, &huge_count), Err(Errno::EINVAL));
    let mut io = IpcIo::new();
    io.push_special(SpecialObj::ptr(u32::MAX, data.as_ptr() as u64))
        .context("push")?;
    let result = send_msg(ctx, &request(main.svc(), io.data(), io.offsets()));
    ensure_eq!(result, Err(Errno::ENOMEM));
    // Many buffers that each fit but together do not.
    let chunk = vec![0u8; 16 * 1024];
    let mut io = IpcIo::new();
    for _ in 0..8 {
        io.push_special(SpecialObj::ptr(chunk.len() as u32, chunk.as_ptr() as u64))
            .context("push")?;
    }
    let result = send_msg(ctx, &request(main.svc(), io.data(), io.offsets()));
    ensure_eq!(result, Err(Errno::ENOMEM));
    serving(ctx, &main)
}

/// Double free, garbage, inside a message, someone else's buffer, and the free/send order,
/// from a single-threaded child.
pub fn frees_in_child(suite: &mut Suite) -> TestResult {
    let main = suite.main_server()?;
    run_child(&["hostile-free", &main.name])?;
    serving(suite.ctx()?, &main)
}
