//! The CMS of the test run: pid 1's IPC thread serves the demo protocol (REG/GET/STOP, by
//! `liteipc::cms::DemoCms`) plus notes from test servers, and records what it saw so the
//! tests can wait for it (a condition variable, never a sleep).

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use liteipc::cms::DemoCms;
use liteipc::{IpcContext, IpcHandler, IpcIo, Message};
use ulib::check::Context;
use ulib::sync::{Condvar, Mutex};
use ulib::thread::{self, JoinHandle};

/// One-way note from a test server: "I am inside a HANG request now".
pub const NOTE_HANG: u32 = 50;
/// Empty reply (for size-limit tests of messages to handle 0).
pub const CMS_NOP: u32 = 51;

/// What the CMS thread saw.
#[derive(Default)]
pub struct Seen {
    /// (name, handle) of each successful REG.
    pub registered: Vec<(String, u32)>,
    /// Sender pids of NOTE_HANG notes.
    pub hang_notes: Vec<u32>,
    /// Handles whose death notification arrived.
    pub deaths: Vec<u32>,
}

static SEEN: Mutex<Option<Seen>> = Mutex::new(None);
static CHANGED: Condvar = Condvar::new();

fn record(f: impl FnOnce(&mut Seen)) {
    let mut seen = SEEN.lock();
    f(seen.get_or_insert_with(Seen::default));
    drop(seen);
    CHANGED.notify_all();
}

/// Waits up to `timeout` until `found` returns something from the record.
pub fn wait_for<T>(timeout: Duration, mut found: impl FnMut(&Seen) -> Option<T>) -> Option<T> {
    let deadline = ulib::time::Instant::now() + timeout;
    let mut seen = SEEN.lock();
    loop {
        if let Some(v) = seen.as_ref().and_then(&mut found) {
            return Some(v);
        }
        let now = ulib::time::Instant::now();
        if now >= deadline {
            return None;
        }
        seen = CHANGED.wait_timeout(seen, deadline - now).0;
    }
}

/// The handle `name` was registered under (waits up to 10 s for the REG).
pub fn registered(name: &str) -> Result<u32, String> {
    wait_for(Duration::from_secs(10), |s| {
        s.registered
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, h)| *h)
    })
    .context(&alloc::format!("registration of {name}"))
}

struct TestCms {
    demo: DemoCms,
}

impl IpcHandler for TestCms {
    fn on_request(&mut self, msg: &Message<'_>, reply: &mut IpcIo) -> bool {
        self.answer(msg).map(|answer| *reply = answer).is_some()
    }

    fn on_death(&mut self, handle: u32) {
        self.demo.forget(handle);
        record(|s| s.deaths.push(handle));
    }

    fn keep_serving(&self) -> bool {
        !self.demo.stopped()
    }
}

impl TestCms {
    fn answer(&mut self, msg: &Message<'_>) -> Option<IpcIo> {
        match msg.code() {
            NOTE_HANG => {
                let pid = msg.pid();
                record(|s| s.hang_notes.push(pid));
                None
            }
            CMS_NOP => Some(IpcIo::new()),
            liteipc::cms::REG => {
                let name = liteipc::cms::parse_name(msg).ok().map(String::from);
                msg.rewind();
                let answer = self.demo.handle(msg)?;
                let reply = liteipc::IpcIoReader::new(&answer);
                if let (Some(name), Ok((0, handle))) = (name, liteipc::cms::parse_reply(&reply)) {
                    record(|s| s.registered.push((name, handle)));
                }
                Some(answer)
            }
            _ => self.demo.handle(msg),
        }
    }
}

/// Starts the CMS thread on `ctx` (already SET_CMS'd); it returns after a STOP request.
pub fn start(ctx: &'static IpcContext) -> Result<JoinHandle, ulib::Errno> {
    thread::spawn(
        move || {
            if let Err(e) = ctx.set_ipc_thread() {
                ulib::eprintln!("liteipc_test cms: set_ipc_thread: {e:?}");
                return 1;
            }
            let mut cms = TestCms {
                demo: DemoCms::new(),
            };
            match ctx.serve(&mut cms) {
                Ok(()) => 0,
                Err(e) => {
                    ulib::eprintln!("liteipc_test cms: serve: {e:?}");
                    2
                }
            }
        },
        thread::USER_PRIORITY_MIN,
    )
}
