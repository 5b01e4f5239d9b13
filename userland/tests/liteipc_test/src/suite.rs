//! State shared by the tests of one run (pid 1's context, the CMS thread, the servers)
//! and helpers to spawn and reap helper processes. The helpers are `#[track_caller]`, so a
//! failure they report names the line of the test that called them.

use crate::server;
use alloc::format;
use alloc::string::String;
use liteipc::{IpcContext, IpcIo, SvcIdentity};
use ulib::check::{Context, TestResult, fail};
use ulib::process::{self, ExitStatus, Pid, SpawnOptions};
use ulib::thread::JoinHandle;

/// This program, spawned for helper roles.
pub const SELF: &str = "/bin/liteipc_test";
/// Pool of pid 1 (the CMS and the client of most tests).
pub const MAIN_POOL: usize = 64 * 1024;

/// A test server process.
#[derive(Clone, Debug)]
pub struct Server {
    /// Its process.
    pub pid: Pid,
    /// Its registered name.
    pub name: String,
    /// Its handle.
    pub handle: u32,
}

impl Server {
    /// Its identity for requests.
    pub fn svc(&self) -> SvcIdentity {
        SvcIdentity {
            handle: self.handle,
            token: 0,
            cookie: 0,
        }
    }
}

/// What the tests share.
#[derive(Default)]
pub struct Suite {
    /// Pid 1's LiteIPC context (mapped by `conf::set_cms`).
    pub ctx: Option<&'static IpcContext>,
    /// The CMS thread.
    pub cms: Option<JoinHandle>,
    /// The main test server (64 KiB pool).
    pub main: Option<Server>,
    /// A second server (4 KiB pool, for pool-full and OBJ_SVC tests).
    pub small: Option<Server>,
    /// Largest OBJ_PTR the main server and pid 1 could receive when the server was new.
    pub probe_start: Option<(usize, usize)>,
    next_name: u32,
}

impl Suite {
    /// Pid 1's context.
    pub fn ctx(&self) -> Result<&'static IpcContext, String> {
        self.ctx
            .context("no LiteIPC context (conf::set_cms failed)")
    }

    /// The main server.
    pub fn main_server(&self) -> Result<Server, String> {
        self.main.clone().context("no main server")
    }

    /// The small server.
    pub fn small_server(&self) -> Result<Server, String> {
        self.small.clone().context("no small server")
    }

    /// A fresh service name.
    pub fn name(&mut self, prefix: &str) -> String {
        self.next_name += 1;
        format!("{prefix}-{}", self.next_name)
    }

    /// Starts a test server with a `pool_kib` pool and waits for its registration; pid 1
    /// gets access to it through the demo protocol's GET.
    pub fn start_server(&mut self, prefix: &str, pool_kib: usize) -> Result<Server, String> {
        let ctx = self.ctx()?;
        let name = self.name(prefix);
        let pid = spawn(&["server", &name, &format!("{pool_kib}")])?;
        let handle = crate::cms_thread::registered(&name)?;
        let got = liteipc::cms::lookup(ctx, &name).context("GET")?;
        if got != handle {
            return fail(format_args!("GET {name} gave {got}, REG gave {handle}"));
        }
        Ok(Server { pid, name, handle })
    }
}

/// Spawns this program with `args`.
#[track_caller]
pub fn spawn(args: &[&str]) -> Result<Pid, String> {
    process::spawn(SELF, args, &[], SpawnOptions::default()).context("spawn")
}

/// Waits for `pid` and requires exit status 0.
#[track_caller]
pub fn expect_success(pid: Pid, what: &str) -> TestResult {
    let status: ExitStatus = process::wait(pid).context("wait")?;
    if status.success() {
        Ok(())
    } else {
        fail(format_args!("{what} {status}"))
    }
}

/// Runs a child role to completion; it must exit with 0.
#[track_caller]
pub fn run_child(args: &[&str]) -> TestResult {
    let pid = spawn(args)?;
    expect_success(pid, &format!("child {args:?}"))
}

/// A `DOUBLE` call that must come back as (0, 2n): the server is serving.
#[track_caller]
pub fn serving(ctx: &IpcContext, server: &Server) -> TestResult {
    double(ctx, server.svc(), 21)
}

/// `DOUBLE(n)` to `target`, checked.
#[track_caller]
pub fn double(ctx: &IpcContext, target: SvcIdentity, n: u32) -> TestResult {
    let mut io = IpcIo::new();
    io.push_u32(n).context("push")?;
    let reply = ctx
        .transact(target, server::DOUBLE, &io)
        .context("DOUBLE")?;
    let answer = (reply.pop_i32(), reply.pop_u32());
    if answer == (Ok(0), Ok(n.wrapping_mul(2))) {
        Ok(())
    } else {
        fail(format_args!("DOUBLE({n}) answered {answer:?}"))
    }
}
