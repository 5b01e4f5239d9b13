//! `/bin/ipc_bench`: micro-benchmarks of system calls, thread switches and LiteIPC, booted
//! as pid 1 by `cargo xtask bench` (`-append "init=/bin/ipc_bench"`) under
//! `-icount shift=0,sleep=off`, where one virtual nanosecond is one guest instruction, so
//! the `clock_gettime` differences printed here are instruction counts.
//!
//! For each operation it prints `bench-start <name>` before and
//! `bench <name> <iterations> <total_ns>` after (xtask times the gap on the host for the
//! wall-clock figure); the run ends with `bench: done`. Benchmarks, not tests: nothing here
//! judges the numbers.
//!
//! `ipc_bench.profile=<name>:<iterations>` on the kernel command line (`cargo xtask profile`)
//! runs benchmark `<name>` for at most `<iterations>` and, after its `bench-start` line,
//! waits for a console byte, so the host can start its instruction trace first. The two
//! clock reads that bound every measurement go through [`window_clock`], which the profiler
//! finds in the trace to cut it to the measured window.
//!
//! - `null_syscall`: `getpid`.
//! - `yield_pingpong`: two threads of one priority yielding to each other; one iteration is
//!   one yield by each (two switches).
//! - `ipc_rt_<n>`: a LiteIPC request carrying `n` data bytes from pid 1 to a server process
//!   and its 4-byte reply (`transact`; the server answers with `SEND|BUFF_FREE|RECV`).
//! - `ipc_oneway_4096`: one-way 4 KiB requests; bytes/ns gives the throughput.
//! - `samgr_lookup`, `samgr_proxy_rt`, `samgr_proxy_queued`: see [`samgr_bench`] (run after the LiteIPC part,
//!   which runs in a child process since it makes its process the CMS).
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod samgr_bench;

use alloc::format;
use core::sync::atomic::{AtomicBool, Ordering};
use liteipc::cms::{self, DemoCms};
use liteipc::{IpcContext, IpcHandler, IpcIo, Message, SvcIdentity};
use ulib::process::{self, SpawnOptions};
use ulib::sync::{Condvar, Mutex};
use ulib::{Errno, env, eprintln, println, sys, thread, time};

/// Server code: reply with the request's data size (u32).
const SIZE: u32 = 1;
/// Server code: one-way, count the bytes.
const SINK: u32 = 2;
/// Server code: reply with (messages, bytes) sunk so far.
const SUNK: u32 = 3;
/// Server code: reply, then exit.
const STOP: u32 = 4;

const SERVICE: &str = "bench";

fn main() -> i32 {
    let result = match env::arg(1) {
        Some("server") => return server(),
        Some("liteipc") => run(),
        Some(other) => {
            eprintln!("ipc_bench: unknown role {other}");
            return 2;
        }
        // The LiteIPC part makes its process the CMS with the demo protocol; it runs in a
        // child so that, once it exits, foundation can be the CMS for the samgr part.
        None => run_child("liteipc").and_then(|()| samgr_bench::run()),
    };
    match result {
        Ok(()) if env::arg(1).is_none() => {
            println!("bench: done");
            0
        }
        Ok(()) => 0,
        Err(why) => {
            println!("bench: FAILED {why}");
            1
        }
    }
}

/// Runs `/bin/ipc_bench <role>` to completion.
fn run_child(role: &str) -> Result<(), alloc::string::String> {
    let priority = thread::current_priority().unwrap_or(thread::DEFAULT_USER_PRIORITY);
    // BOOTARGS passes on only when it asks for a profile: otherwise the child is spawned as
    // it always was (the kernel heap's history shows in the samgr figures).
    let bootargs = env::vars_raw().find(|v| {
        v.strip_prefix("BOOTARGS=")
            .is_some_and(|args| profile_request(args).is_some())
    });
    let pid = process::spawn(
        "/bin/ipc_bench",
        &[role],
        bootargs.as_slice(),
        SpawnOptions {
            priority: Some(priority),
            ..SpawnOptions::default()
        },
    )
    .map_err(fail("spawn"))?;
    match process::wait(pid) {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("ipc_bench {role}: {status}")),
        Err(e) => Err(format!("wait: {e:?}")),
    }
}

/// Runs `op` `iterations` times and prints the lines xtask reads.
fn measure(
    name: &str,
    iterations: u32,
    mut op: impl FnMut() -> Result<(), Errno>,
) -> Result<(), Errno> {
    println!("bench-start {name}");
    let iterations = profiled_iterations(name, iterations)?;
    let start = window_clock();
    for _ in 0..iterations {
        op()?;
    }
    let total = window_clock().saturating_sub(start);
    println!("bench {name} {iterations} {}", total.as_nanos());
    Ok(())
}

/// The clock read at both ends of a measurement. Never inlined: `cargo xtask profile` cuts
/// its trace at this function's entries (both take the same path to the counter read, so
/// the cut window has exactly the instructions the clock difference counts).
#[inline(never)]
fn window_clock() -> core::time::Duration {
    time::now()
}

/// The iterations to run of benchmark `name`: `iterations`, or when the kernel command line
/// has `ipc_bench.profile=<name>:<limit>`, at most `limit`, after the host's go (any console
/// byte). Out of line, so the measured loops compile as they do without it.
#[inline(never)]
fn profiled_iterations(name: &str, iterations: u32) -> Result<u32, Errno> {
    let limit = env::var("BOOTARGS")
        .and_then(profile_request)
        .filter(|(profiled, _)| *profiled == name)
        .and_then(|(_, limit)| limit.parse::<u32>().ok());
    let Some(limit) = limit else {
        return Ok(iterations);
    };
    sys::read(ulib::io::STDIN, &mut [0u8; 1])?;
    Ok(iterations.min(limit))
}

/// (benchmark, iteration limit) of `ipc_bench.profile=<name>:<limit>` in the boot arguments.
fn profile_request(bootargs: &str) -> Option<(&str, &str)> {
    bootargs
        .split_whitespace()
        .find_map(|word| word.strip_prefix("ipc_bench.profile="))?
        .split_once(':')
}

/// An error message maker: `map_err(fail("what"))`.
fn fail(what: &str) -> impl Fn(Errno) -> alloc::string::String + '_ {
    move |e| format!("{what}: {e:?}")
}

fn run() -> Result<(), alloc::string::String> {
    // Warm up caches and lazily built kernel state, then measure.
    measure("warmup", 1000, || sys::getpid().map(drop)).map_err(fail("warmup"))?;
    measure("null_syscall", 100_000, || sys::getpid().map(drop)).map_err(fail("getpid"))?;
    yield_pingpong(20_000).map_err(fail("yield"))?;

    let ctx: &'static IpcContext = alloc::boxed::Box::leak(alloc::boxed::Box::new(
        IpcContext::open(abi::liteipc::MAX_POOL_SIZE).map_err(fail("open"))?,
    ));
    ctx.set_cms(256).map_err(fail("set_cms"))?;
    let cms_thread = thread::spawn(
        move || {
            let _ = ctx.set_ipc_thread();
            let mut demo = BenchCms(DemoCms::new());
            ctx.serve(&mut demo).map_or(1, |()| 0)
        },
        thread::USER_PRIORITY_MIN,
    )
    .map_err(fail("cms thread"))?;
    ctx.wait_cms(5_000).map_err(fail("wait_cms"))?;
    let priority = thread::current_priority().unwrap_or(thread::DEFAULT_USER_PRIORITY);
    let pid = process::spawn(
        "/bin/ipc_bench",
        &["server"],
        &[],
        SpawnOptions {
            priority: Some(priority),
            ..SpawnOptions::default()
        },
    )
    .map_err(fail("spawn server"))?;
    let handle = lookup_when_registered(ctx)?;
    let target = SvcIdentity {
        handle,
        ..SvcIdentity::default()
    };

    let mut io = IpcIo::new();
    for (name, size) in [
        ("ipc_rt_8", 8),
        ("ipc_rt_64", 64),
        ("ipc_rt_1024", 1024),
        ("ipc_rt_4096", 4096),
    ] {
        let payload = alloc::vec![0xA5u8; size];
        io.clear();
        io.push_raw(&payload)
            .map_err(|e| format!("payload: {e:?}"))?;
        let mut call = || -> Result<(), Errno> {
            let reply = ctx.transact(target, SIZE, &io)?;
            match reply.pop_u32() {
                Ok(n) if n as usize == size => Ok(()),
                _ => Err(Errno::EIO),
            }
        };
        measure(&format!("{name}_warmup"), 100, &mut call).map_err(fail(name))?;
        measure(name, 5_000, &mut call).map_err(fail(name))?;
    }

    io.clear();
    io.push_raw(&[0x5Au8; 4096])
        .map_err(|e| format!("payload: {e:?}"))?;
    let oneway = || loop {
        match ctx.send_oneway(target, SINK, &io) {
            // The server's pool is full: let it drain.
            Err(Errno::ENOMEM) => thread::yield_now(),
            other => return other,
        }
    };
    measure("ipc_oneway_4096", 5_000, oneway).map_err(fail("oneway"))?;
    let reply = ctx
        .transact(target, SUNK, &IpcIo::new())
        .map_err(fail("SUNK"))?;
    println!(
        "bench-info sunk {:?} {:?}",
        reply.pop_u32(),
        reply.pop_u64()
    );
    drop(reply);

    ctx.transact(target, STOP, &IpcIo::new())
        .map_err(fail("STOP"))?;
    let _ = process::wait(pid);
    ctx.transact(
        cms::CMS,
        cms::STOP,
        &cms::name_request("").map_err(|e| format!("{e:?}"))?,
    )
    .map_err(fail("CMS STOP"))?;
    let _ = cms_thread.join();
    Ok(())
}

/// Set by the CMS thread when a REG succeeded.
static REGISTERED: Mutex<bool> = Mutex::new(false);
static REGISTERED_CHANGED: Condvar = Condvar::new();

/// The demo CMS, telling the main thread about registrations.
struct BenchCms(DemoCms);

impl IpcHandler for BenchCms {
    fn on_request(&mut self, msg: &Message<'_>, reply: &mut IpcIo) -> bool {
        let answered = self.0.on_request(msg, reply);
        if msg.code() == cms::REG {
            *REGISTERED.lock() = true;
            REGISTERED_CHANGED.notify_all();
        }
        answered
    }

    fn keep_serving(&self) -> bool {
        self.0.keep_serving()
    }
}

/// The server's handle, once it registered (waits up to 10 s for its REG).
fn lookup_when_registered(ctx: &IpcContext) -> Result<u32, alloc::string::String> {
    let mut registered = REGISTERED.lock();
    let deadline = time::Instant::now() + core::time::Duration::from_secs(10);
    while !*registered && time::Instant::now() < deadline {
        registered = REGISTERED_CHANGED
            .wait_timeout(registered, core::time::Duration::from_secs(1))
            .0;
    }
    drop(registered);
    cms::lookup(ctx, SERVICE).map_err(|e| format!("GET {SERVICE}: {e:?}"))
}

static PONG_READY: AtomicBool = AtomicBool::new(false);

fn yield_pingpong(rounds: u32) -> Result<(), Errno> {
    let priority = thread::current_priority()?;
    PONG_READY.store(false, Ordering::Release);
    let other = thread::spawn(
        move || {
            PONG_READY.store(true, Ordering::Release);
            for _ in 0..rounds + 1 {
                thread::yield_now();
            }
            0
        },
        priority,
    )?;
    while !PONG_READY.load(Ordering::Acquire) {
        thread::yield_now();
    }
    let result = measure("yield_pingpong", rounds, || sys::sched_yield().map(drop));
    let _ = other.join();
    result
}

/// The benchmark's server process.
struct Server {
    sunk: u32,
    bytes: u64,
    stop: bool,
}

impl IpcHandler for Server {
    fn on_request(&mut self, msg: &Message<'_>, reply: &mut IpcIo) -> bool {
        match msg.code() {
            SIZE => {
                let _ = reply.push_u32(msg.data().len() as u32);
            }
            SINK => {
                self.sunk += 1;
                self.bytes += msg.data().len() as u64;
            }
            SUNK => {
                let _ = reply.push_u32(self.sunk);
                let _ = reply.push_u64(self.bytes);
            }
            STOP => self.stop = true,
            _ => return false,
        }
        true
    }

    fn keep_serving(&self) -> bool {
        !self.stop
    }
}

fn server() -> i32 {
    let Ok(ctx) = IpcContext::open(abi::liteipc::MAX_POOL_SIZE) else {
        return 2;
    };
    if ctx.wait_cms(10_000).is_err() || cms::register(&ctx, SERVICE).is_err() {
        return 3;
    }
    let mut server = Server {
        sunk: 0,
        bytes: 0,
        stop: false,
    };
    ctx.serve(&mut server).map_or(4, |()| 0)
}

ulib::entry!(main);
