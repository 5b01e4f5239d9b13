//! Upstream conformance (ItPosixLiteIpc001 and the demo CMS): the child that runs before
//! any CMS exists, SET_CMS by pid 1 and by another process, the CMS thread, REG/GET/STOP.

use crate::cms_thread;
use crate::suite::{MAIN_POOL, Suite, run_child};
use abi::liteipc::{IPC_SET_CMS, IpcMsg, LITEIPC_VERSION};
use liteipc::{IpcContext, cms};
use ulib::check::{Context, TestResult};
use ulib::{Errno, sys};
use ulib::{ensure, ensure_eq};

/// ItPosixLiteIpc001's child, before anyone is the CMS.
pub fn child_without_cms(_: &mut Suite) -> TestResult {
    run_child(&["conf-001"])
}

/// Pid 1 maps a pool; SET_CMS(0) and below sizeof(IpcMsg) fail; SET_CMS(200) once.
pub fn set_cms(suite: &mut Suite) -> TestResult {
    let ctx = IpcContext::open(MAIN_POOL).context("open")?;
    ensure_eq!(ctx.set_cms(0), Err(Errno::EINVAL));
    ensure_eq!(ctx.set_cms(size_of::<IpcMsg>() - 1), Err(Errno::EINVAL));
    ensure_eq!(ctx.set_cms(200), Ok(()));
    ensure_eq!(ctx.set_cms(200), Err(Errno::EEXIST));
    ensure_eq!(
        sys::ioctl_value(ctx.fd(), IPC_SET_CMS, 4096),
        Err(Errno::EEXIST)
    );
    ensure_eq!(ctx.version(), Ok(LITEIPC_VERSION));
    suite.ctx = Some(alloc::boxed::Box::leak(alloc::boxed::Box::new(ctx)));
    Ok(())
}

/// Another process cannot become the CMS nor use CMS commands.
pub fn set_cms_from_other_process(_: &mut Suite) -> TestResult {
    run_child(&["conf-other"])
}

/// Until the CMS has an IPC thread, WAIT_CMS times out; once it has, WAIT_CMS returns.
pub fn cms_thread_and_wait_cms(suite: &mut Suite) -> TestResult {
    let ctx = suite.ctx()?;
    ensure_eq!(ctx.wait_cms(20), Err(Errno::ETIME));
    suite.cms = Some(cms_thread::start(ctx).context("spawn CMS thread")?);
    ensure_eq!(ctx.wait_cms(5_000), Ok(()));
    Ok(())
}

/// The demo protocol from pid 1's main thread: REG, REG again, GET, GET unknown.
pub fn demo_protocol(suite: &mut Suite) -> TestResult {
    let ctx = suite.ctx()?;
    let handle = cms::register(ctx, "ltest-main").context("REG")?;
    ensure!(
        handle > 0 && (handle as usize) < abi::liteipc::MAX_HANDLES,
        "handle {handle}"
    );
    ensure_eq!(cms::register(ctx, "ltest-main"), Err(Errno::EEXIST));
    ensure_eq!(cms::lookup(ctx, "ltest-main"), Ok(handle));
    ensure_eq!(cms::lookup(ctx, "no-such-service"), Err(Errno::ENOENT));
    // The same task registering a second name: the kernel hands out its existing
    // handle, whose slot is taken, so the demo CMS removes the handle and refuses.
    ensure_eq!(cms::register(ctx, "ltest-second"), Err(Errno::EEXIST));
    ensure_eq!(cms::lookup(ctx, "ltest-main"), Err(Errno::ENOENT));
    ensure_eq!(cms::lookup(ctx, "ltest-second"), Err(Errno::ENOENT));
    let again = cms::register(ctx, "ltest-main").context("REG again")?;
    ensure_eq!(cms::lookup(ctx, "ltest-main"), Ok(again));
    Ok(())
}

/// STOP ends the CMS thread (and is answered first).
pub fn cms_stop(suite: &mut Suite) -> TestResult {
    let ctx = suite.ctx()?;
    let reply = ctx
        .transact(cms::CMS, cms::STOP, &cms::name_request("").context("io")?)
        .context("STOP")?;
    ensure_eq!(cms::parse_reply(&reply), Ok((0, 0)));
    drop(reply);
    let code = suite.cms.take().context("no CMS thread")?.join();
    ensure_eq!(code, Ok(0));
    ensure_eq!(ulib::sys::ipc::live_messages(), 0);
    Ok(())
}
