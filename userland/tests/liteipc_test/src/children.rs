//! Helper roles of `/bin/liteipc_test`, spawned by the tests:
//! - `server <name> <pool KiB>`: the test service ([`crate::server`]);
//! - `conf-001`: ItPosixLiteIpc001's child (open flags, read/write, ioctls before mmap,
//!   mmap validation, no CMS yet);
//! - `conf-other`: SET_CMS and CMS_CMD from a process that is not the CMS;
//! - `client-rt <name> <count>`: `count` checked DOUBLE round trips (ItPosixLiteIpc002);
//! - `no-access <handle> <name>`: refused before GET, served after;
//! - `death-client <name>`: calls HANG, expects an error and a death notification;
//! - `hostile-free <name>`: bogus BUFF_FREEs (single-threaded, so the raw frees are allowed).

use crate::server::{self, connect};
use abi::liteipc::{
    CmsCmdContent, IPC_CMS_CMD, IPC_GET_VERSION, IPC_SEND_RECV_MSG, IPC_SET_CMS,
    IPC_SET_IPC_THREAD, IPC_WAIT_CMS, IpcContent, IpcVersion, LITEIPC_DRIVER, LITEIPC_VERSION,
};
use abi::syscall::mman::{MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE};
use abi::syscall::open_flags::{O_CLOEXEC, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY};
use alloc::string::String;
use core::time::Duration;
use liteipc::{IpcIo, SvcIdentity, cms};
use ulib::check::{Case, Context, Runner, TestResult, fail};
use ulib::fs::File;
use ulib::sync::{Condvar, Mutex};
use ulib::sys::{self, hostile, ipc::IpcPool};
use ulib::{Errno, env, eprintln, thread};
use ulib::{ensure, ensure_eq, test_cases};

/// `O_SYNC` (Linux value); the kernel ignores it, the device must still open.
const O_SYNC: usize = 0o4010000;

/// Runs role `role`; returns the exit status.
pub fn run(role: &str) -> i32 {
    let arg = |i: usize| env::arg(i).unwrap_or("");
    match role {
        "server" => server::run(arg(2), arg(3).parse().unwrap_or(16)),
        "conf-001" => checks("conf-001", CONF_001),
        "conf-other" => checks("conf-other", CONF_OTHER),
        "client-rt" => single("client-rt", client_rt(arg(2), arg(3).parse().unwrap_or(0))),
        "no-access" => single(
            "no-access",
            no_access(arg(2).parse().unwrap_or(u32::MAX), arg(3)),
        ),
        "death-client" => single("death-client", death_client(arg(2))),
        "hostile-free" => checks("hostile-free", HOSTILE_FREE),
        _ => {
            eprintln!("liteipc_test: unknown role {role}");
            2
        }
    }
}

fn single(role: &str, result: TestResult) -> i32 {
    match result {
        Ok(()) => 0,
        Err(why) => {
            eprintln!("liteipc_test {role}: {why}");
            1
        }
    }
}

/// Runs checks that share one process (and its one pool), in order; prints each; returns
/// how many failed.
fn checks(role: &str, list: &[Case<Child>]) -> i32 {
    let mut runner = Runner::nested("ltest", role);
    runner.run(&mut Child::default(), list);
    i32::try_from(runner.failed()).unwrap_or(i32::MAX)
}

/// State of a checks child.
#[derive(Default)]
struct Child {
    file: Option<File>,
    pool: Option<IpcPool>,
    ctx: Option<liteipc::IpcContext>,
    target: Option<SvcIdentity>,
}

impl Child {
    fn fd(&self) -> Result<usize, String> {
        self.file.as_ref().map(File::fd).context("device not open")
    }
}

const CONF_001: &[Case<Child>] = test_cases![Child =>
    open_with_any_flags,
    read_write_fail,
    ioctls_before_mmap_enomem,
    mmap_validation,
    mmap_one_byte_then_second_fails,
    pool_cannot_become_writable,
    no_cms_ioctls_fail,
];

const CONF_OTHER: &[Case<Child>] = test_cases![Child =>
    open_and_map,
    set_cms_taken,
    cms_cmd_not_cms_eacces,
];

fn open_with_any_flags(c: &mut Child) -> TestResult {
    for flags in [O_WRONLY | O_CLOEXEC, O_RDONLY | O_CREAT, O_RDWR | O_SYNC] {
        let file = File::open_with(LITEIPC_DRIVER, flags, 0o644).context("open")?;
        ensure_eq!(sys::close(file.fd()).map(drop), Ok(()));
        core::mem::forget(file);
    }
    c.file = Some(File::open_with(LITEIPC_DRIVER, O_RDWR, 0).context("open")?);
    Ok(())
}

fn read_write_fail(c: &mut Child) -> TestResult {
    let fd = c.fd()?;
    let mut buf = [0u8; 8];
    ensure!(sys::read(fd, &mut buf).is_err(), "read succeeded");
    ensure!(sys::write(fd, b"x").is_err(), "write succeeded");
    Ok(())
}

fn ioctls_before_mmap_enomem(c: &mut Child) -> TestResult {
    let fd = c.fd()?;
    let mut version = IpcVersion::default();
    let mut cmd = CmsCmdContent::default();
    let mut content = IpcContent::default();
    ensure_eq!(
        sys::ioctl(fd, IPC_GET_VERSION, &mut version),
        Err(Errno::ENOMEM)
    );
    ensure_eq!(sys::ioctl(fd, IPC_CMS_CMD, &mut cmd), Err(Errno::ENOMEM));
    ensure_eq!(sys::ioctl_value(fd, IPC_SET_CMS, 200), Err(Errno::ENOMEM));
    ensure_eq!(
        sys::ioctl_value(fd, IPC_SET_IPC_THREAD, 0),
        Err(Errno::ENOMEM)
    );
    ensure_eq!(sys::ioctl_value(fd, IPC_WAIT_CMS, 1), Err(Errno::ENOMEM));
    ensure_eq!(
        sys::ipc::send_recv_raw(fd, &mut content),
        Err(Errno::ENOMEM)
    );
    Ok(())
}

fn mmap_validation(c: &mut Child) -> TestResult {
    let fd = c.fd()?;
    let bad = [
        (1024 * 4096, PROT_READ, MAP_PRIVATE, "1024 pages"),
        (usize::MAX, PROT_READ, MAP_PRIVATE, "length -1"),
        (0, PROT_READ, MAP_PRIVATE, "length 0"),
        (256 * 1024 + 1, PROT_READ, MAP_PRIVATE, "256 KiB + 1"),
        (4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, "PROT_WRITE"),
        (4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, "PROT_EXEC"),
        (4096, PROT_READ, MAP_SHARED, "MAP_SHARED"),
    ];
    for (len, prot, flags, what) in bad {
        let result = IpcPool::map(fd, len, prot, flags).map(|p| p.addr());
        ensure!(result == Err(Errno::EINVAL), "mmap {what}: {result:?}");
    }
    Ok(())
}

fn mmap_one_byte_then_second_fails(c: &mut Child) -> TestResult {
    let fd = c.fd()?;
    let pool = IpcPool::map_default(fd, 1).context("mmap 1 byte")?;
    ensure!(
        pool.addr() != 0 && pool.addr() % 4096 == 0 && pool.len() == 4096,
        "pool {pool:?}"
    );
    let again = IpcPool::map_default(fd, 4095).map(|p| p.addr());
    ensure_eq!(again, Err(Errno::EEXIST));
    c.pool = Some(pool);
    Ok(())
}

/// Upstream lacks an mprotect guard on the pool; ours must refuse write and exec.
fn pool_cannot_become_writable(c: &mut Child) -> TestResult {
    let pool = c.pool.as_mut().context("no pool")?;
    let writable = pool.protect(PROT_READ | PROT_WRITE);
    let executable = pool.protect(PROT_READ | PROT_EXEC);
    // Put it back if the kernel let either through.
    let _ = pool.protect(PROT_READ);
    ensure!(writable.is_err(), "mprotect(pool, READ|WRITE) succeeded");
    ensure!(executable.is_err(), "mprotect(pool, READ|EXEC) succeeded");
    Ok(())
}

fn no_cms_ioctls_fail(c: &mut Child) -> TestResult {
    let fd = c.fd()?;
    let mut cmd = CmsCmdContent::default();
    ensure_eq!(sys::ioctl(fd, IPC_CMS_CMD, &mut cmd), Err(Errno::EINVAL));
    ensure_eq!(
        sys::ioctl_value(fd, IPC_SET_IPC_THREAD, 0),
        Err(Errno::EINVAL)
    );
    let null = hostile::Foreign::new(0, 32).context("null")?;
    ensure_eq!(
        hostile::ioctl(fd, IPC_SEND_RECV_MSG, null),
        Err(Errno::EFAULT)
    );
    let mut junk = IpcContent {
        flag: 0xA5A5,
        reserved: 7,
        out_msg: 0x1234_5678,
        in_msg: 42,
        buff_to_free: 0x9999,
    };
    ensure!(
        sys::ipc::send_recv_raw(fd, &mut junk).is_err(),
        "SEND_RECV(junk) succeeded"
    );
    let mut send = IpcContent {
        flag: abi::liteipc::SEND | abi::liteipc::RECV,
        ..IpcContent::default()
    };
    ensure_eq!(sys::ipc::send_recv_raw(fd, &mut send), Err(Errno::EINVAL));
    ensure_eq!(sys::ioctl_value(fd, IPC_WAIT_CMS, 20), Err(Errno::ETIME));
    let mut version = IpcVersion::default();
    sys::ioctl(fd, IPC_GET_VERSION, &mut version).context("GET_VERSION")?;
    ensure_eq!(version.driver_version, LITEIPC_VERSION);
    Ok(())
}

fn open_and_map(c: &mut Child) -> TestResult {
    let file = File::open_with(LITEIPC_DRIVER, O_RDWR, 0).context("open")?;
    ensure_eq!(
        sys::ioctl_value(file.fd(), IPC_SET_CMS, 200),
        Err(Errno::ENOMEM)
    );
    c.pool = Some(IpcPool::map_default(file.fd(), 4096).context("mmap")?);
    c.file = Some(file);
    Ok(())
}

fn set_cms_taken(c: &mut Child) -> TestResult {
    ensure_eq!(
        sys::ioctl_value(c.fd()?, IPC_SET_CMS, 200),
        Err(Errno::EEXIST)
    );
    Ok(())
}

fn cms_cmd_not_cms_eacces(c: &mut Child) -> TestResult {
    let mut cmd = CmsCmdContent {
        cmd: abi::liteipc::cms_cmd::CMS_GEN_HANDLE,
        task_id: thread::current().as_raw(),
        service_handle: 0,
    };
    ensure_eq!(
        sys::ioctl(c.fd()?, IPC_CMS_CMD, &mut cmd),
        Err(Errno::EACCES)
    );
    Ok(())
}

fn client_rt(name: &str, count: u32) -> TestResult {
    let ctx = connect(16).context("connect")?;
    let handle = cms::lookup(&ctx, name).context("GET")?;
    let target = SvcIdentity {
        handle,
        ..SvcIdentity::default()
    };
    let mut io = IpcIo::new();
    for n in 1..=count {
        io.clear();
        io.push_u32(n).context("push")?;
        let reply = ctx.transact(target, server::DOUBLE, &io);
        let reply = reply.context(&alloc::format!("call {n}"))?;
        let answer = (reply.pop_i32(), reply.pop_u32());
        ensure!(answer == (Ok(0), Ok(2 * n)), "call {n}: answer {answer:?}");
    }
    // ItPosixLiteIpc002's tail: a 1 KiB message still goes through.
    io.clear();
    io.push_raw(&[0x5A; 1024]).context("push")?;
    let reply = ctx
        .transact(target, server::SIZE, &io)
        .context("SIZE 1024")?;
    ensure_eq!(reply.pop_u32(), Ok(1024));
    Ok(())
}

fn no_access(handle: u32, name: &str) -> TestResult {
    let ctx = connect(16).context("connect")?;
    let target = SvcIdentity {
        handle,
        ..SvcIdentity::default()
    };
    let before = ctx.transact(target, server::NOP, &IpcIo::new()).map(drop);
    ensure_eq!(before, Err(Errno::EACCES));
    ensure_eq!(cms::lookup(&ctx, name), Ok(handle));
    let after = ctx.transact(target, server::NOP, &IpcIo::new()).map(drop);
    ensure_eq!(after, Ok(()));
    Ok(())
}

/// What the death client's IPC thread received.
static DEATH: Mutex<Option<Result<u32, String>>> = Mutex::new(None);
static DEATH_SEEN: Condvar = Condvar::new();

fn death_client(name: &str) -> TestResult {
    let ctx: &'static liteipc::IpcContext =
        alloc::boxed::Box::leak(alloc::boxed::Box::new(connect(16).context("connect")?));
    let handle = cms::lookup(ctx, name).context("GET")?;
    let ready = Mutex::new(false);
    let ready: &'static Mutex<bool> = alloc::boxed::Box::leak(alloc::boxed::Box::new(ready));
    let listener = thread::spawn(
        move || {
            let outcome = match ctx.set_ipc_thread() {
                Ok(_) => {
                    *ready.lock() = true;
                    DEATH_SEEN.notify_all();
                    match ctx.receive() {
                        Ok(msg) if msg.msg_type() == abi::liteipc::msg_type::MT_DEATH_NOTIFY => {
                            Ok(msg.dead_handle())
                        }
                        Ok(msg) => fail(format_args!("got message type {}", msg.msg_type())),
                        Err(e) => fail(format_args!("receive: {e:?}")),
                    }
                }
                Err(e) => fail(format_args!("set_ipc_thread: {e:?}")),
            };
            *DEATH.lock() = Some(outcome);
            DEATH_SEEN.notify_all();
            0
        },
        thread::current_priority().unwrap_or(thread::DEFAULT_USER_PRIORITY),
    )
    .context("spawn listener")?;
    {
        let mut r = ready.lock();
        while !*r {
            r = DEATH_SEEN.wait_timeout(r, Duration::from_secs(5)).0;
        }
    }
    let target = SvcIdentity {
        handle,
        ..SvcIdentity::default()
    };
    let started = ulib::time::Instant::now();
    let call = ctx.transact(target, server::HANG, &IpcIo::new()).map(drop);
    let took = started.elapsed();
    ensure_eq!(call, Err(Errno::ENOENT));
    ensure!(took < Duration::from_millis(4_500), "error after {took:?}");
    let mut outcome = DEATH.lock();
    let deadline = ulib::time::Instant::now() + Duration::from_secs(3);
    while outcome.is_none() && ulib::time::Instant::now() < deadline {
        outcome = DEATH_SEEN
            .wait_timeout(outcome, Duration::from_millis(500))
            .0;
    }
    let got = outcome
        .take()
        .context("no death notification within 3 s")??;
    ensure_eq!(got, handle);
    drop(outcome);
    let _ = listener.join();
    Ok(())
}

const HOSTILE_FREE: &[Case<Child>] = test_cases![Child =>
    connect_to_server,
    double_free,
    free_garbage,
    free_inside_a_message,
    free_of_any_held_message_is_refused,
    free_foreign_buffer,
    free_runs_even_if_send_fails,
    bad_free_stops_the_send,
];

fn hf_ctx(c: &Child) -> Result<(&liteipc::IpcContext, SvcIdentity), String> {
    Ok((
        c.ctx.as_ref().context("no context")?,
        c.target.context("no target")?,
    ))
}

fn connect_to_server(c: &mut Child) -> TestResult {
    let ctx = connect(16).context("connect")?;
    let name = env::arg(2).context("name")?;
    let handle = cms::lookup(&ctx, name).context("GET")?;
    c.target = Some(SvcIdentity {
        handle,
        ..SvcIdentity::default()
    });
    c.ctx = Some(ctx);
    Ok(())
}

fn raw_free(ctx: &liteipc::IpcContext, addr: u64) -> Result<usize, Errno> {
    let mut content = IpcContent {
        flag: abi::liteipc::BUFF_FREE,
        buff_to_free: addr,
        ..IpcContent::default()
    };
    ctx.send_recv_raw(&mut content)
}

/// A NOP call through raw SEND|RECV: the reply is not tracked, so raw frees may free it.
fn raw_call(ctx: &liteipc::IpcContext, target: SvcIdentity, code: u32) -> Result<u64, Errno> {
    let io = IpcIo::new();
    let msg = abi::liteipc::IpcMsg {
        target,
        code,
        data: io.data().as_ptr() as u64,
        offsets: io.offsets().as_ptr() as u64,
        ..abi::liteipc::IpcMsg::default()
    };
    let mut content = IpcContent {
        flag: abi::liteipc::SEND | abi::liteipc::RECV,
        out_msg: core::ptr::from_ref(&msg) as u64,
        ..IpcContent::default()
    };
    ctx.send_recv_raw(&mut content)?;
    Ok(content.in_msg)
}

fn still_serving(ctx: &liteipc::IpcContext, target: SvcIdentity) -> TestResult {
    crate::suite::double(ctx, target, 1234)
}

fn double_free(c: &mut Child) -> TestResult {
    let (ctx, target) = hf_ctx(c)?;
    let addr = raw_call(ctx, target, server::NOP).context("call")?;
    ensure_eq!(raw_free(ctx, addr), Ok(0));
    ensure_eq!(raw_free(ctx, addr), Err(Errno::EINVAL));
    still_serving(ctx, target)
}

fn free_garbage(c: &mut Child) -> TestResult {
    let (ctx, target) = hf_ctx(c)?;
    let pool = ctx.pool();
    let (start, end) = (pool.addr() as u64, (pool.addr() + pool.len()) as u64);
    for addr in [
        0,
        0x1234,
        start + 8,
        start + 4096 - 16,
        end,
        u64::MAX,
        0xFFFF_0000_0000_0000,
    ] {
        ensure!(
            raw_free(ctx, addr) == Err(Errno::EINVAL),
            "free {addr:#x}: {:?}",
            raw_free(ctx, addr)
        );
    }
    still_serving(ctx, target)
}

fn free_inside_a_message(c: &mut Child) -> TestResult {
    let (ctx, target) = hf_ctx(c)?;
    let reply = ctx
        .transact(target, server::ECHO, &IpcIo::new())
        .context("ECHO")?;
    let addr = reply.addr() as u64;
    // ulib keeps safe code from freeing a message that is being read.
    ensure_eq!(raw_free(ctx, addr), Err(Errno::EBUSY));
    ensure_eq!(raw_free(ctx, addr + 16), Err(Errno::EINVAL));
    ensure_eq!(raw_free(ctx, addr + 80), Err(Errno::EINVAL));
    let still = reply.pop_u32().context("pid after bogus frees")?;
    ensure_eq!(still, ulib::process::getpid().as_raw());
    drop(reply);
    still_serving(ctx, target)
}

/// More messages held at once than ulib's live set has slots: every one of them is still
/// protected from raw frees, and each is freed once dropped.
fn free_of_any_held_message_is_refused(c: &mut Child) -> TestResult {
    let (ctx, target) = hf_ctx(c)?;
    let held = (0..24)
        .map(|i| {
            ctx.transact(target, server::ECHO, &IpcIo::new())
                .context(&alloc::format!("ECHO {i}"))
        })
        .collect::<Result<alloc::vec::Vec<_>, _>>()?;
    ensure_eq!(ulib::sys::ipc::live_messages(), held.len());
    let addrs: alloc::vec::Vec<u64> = held.iter().map(|r| r.addr() as u64).collect();
    for &addr in &addrs {
        ensure_eq!(raw_free(ctx, addr), Err(Errno::EBUSY));
    }
    drop(held);
    ensure_eq!(ulib::sys::ipc::live_messages(), 0);
    for &addr in &addrs {
        ensure_eq!(raw_free(ctx, addr), Err(Errno::EINVAL));
    }
    still_serving(ctx, target)
}

fn free_foreign_buffer(c: &mut Child) -> TestResult {
    let (ctx, target) = hf_ctx(c)?;
    let reply = ctx
        .transact(target, server::POOL_ADDR, &IpcIo::new())
        .context("POOL_ADDR")?;
    let theirs = reply.pop_u64().context("address")?;
    // Keep a message of ours delivered meanwhile, so there is something to confuse it with.
    let held = ctx
        .transact(target, server::NOP, &IpcIo::new())
        .context("NOP")?;
    if theirs != held.addr() as u64 && theirs != reply.addr() as u64 {
        ensure_eq!(raw_free(ctx, theirs), Err(Errno::EINVAL));
    }
    drop(held);
    drop(reply);
    still_serving(ctx, target)
}

fn free_runs_even_if_send_fails(c: &mut Child) -> TestResult {
    let (ctx, target) = hf_ctx(c)?;
    let addr = raw_call(ctx, target, server::NOP).context("call")?;
    let forged = abi::liteipc::IpcMsg {
        msg_type: 99,
        target,
        ..abi::liteipc::IpcMsg::default()
    };
    let mut content = IpcContent {
        flag: abi::liteipc::SEND | abi::liteipc::BUFF_FREE,
        out_msg: core::ptr::from_ref(&forged) as u64,
        buff_to_free: addr,
        ..IpcContent::default()
    };
    ensure_eq!(ctx.send_recv_raw(&mut content), Err(Errno::EINVAL));
    // The free happened all the same.
    ensure_eq!(raw_free(ctx, addr), Err(Errno::EINVAL));
    still_serving(ctx, target)
}

fn bad_free_stops_the_send(c: &mut Child) -> TestResult {
    let (ctx, target) = hf_ctx(c)?;
    let count = |ctx: &liteipc::IpcContext| -> Result<u32, String> {
        let reply = ctx
            .transact(target, server::GET_COUNT, &IpcIo::new())
            .context("GET_COUNT")?;
        reply.pop_u32().context("count")
    };
    let before = count(ctx)?;
    let io = IpcIo::new();
    let msg = abi::liteipc::IpcMsg {
        target,
        code: server::COUNT,
        flag: abi::liteipc::msg_flag::LITEIPC_FLAG_ONEWAY,
        data: io.data().as_ptr() as u64,
        offsets: io.offsets().as_ptr() as u64,
        ..abi::liteipc::IpcMsg::default()
    };
    let mut content = IpcContent {
        flag: abi::liteipc::SEND | abi::liteipc::BUFF_FREE,
        out_msg: core::ptr::from_ref(&msg) as u64,
        buff_to_free: 0x1234,
        ..IpcContent::default()
    };
    ensure_eq!(ctx.send_recv_raw(&mut content), Err(Errno::EINVAL));
    ensure_eq!(count(ctx)?, before);
    content.flag = abi::liteipc::SEND;
    ensure_eq!(ctx.send_recv_raw(&mut content), Ok(0));
    ensure_eq!(count(ctx)?, before + 1);
    still_serving(ctx, target)
}
