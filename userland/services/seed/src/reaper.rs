//! Reaping page processes without a SIGCHLD: a reaper thread blocks in `wait` (as init's
//! main thread does) and reports each ended child to the event loop over a SOCK_SEQPACKET
//! connection to seed's own socket (the self-pipe trick), so the loop learns of deaths
//! through `poll` like any other event. With no children the thread sleeps on a condition
//! variable until the loop spawns one.

use alloc::format;
use ulib::net::UnixSeqPacket;
use ulib::process::{self, ExitStatus, Pid};
use ulib::sync::{Condvar, Mutex};
use ulib::{Errno, println, thread};

/// Bumped after every spawn, so the reaper knows a child may exist again.
static SPAWNS: Mutex<u64> = Mutex::new(0);
static SPAWNED: Condvar = Condvar::new();

/// Prefix of the reaper's reports: `reaped <pid> <raw wait status>`.
const REAPED: &str = "reaped ";

/// Tells the reaper that a child was just spawned.
pub fn spawned() {
    *SPAWNS.lock() += 1;
    SPAWNED.notify_all();
}

/// Starts the reaper thread; it reports on `channel` (connected to seed's socket).
pub fn start(channel: UnixSeqPacket) -> Result<(), Errno> {
    let priority = thread::current_priority().unwrap_or(thread::USER_PRIORITY_MIN);
    thread::spawn(move || reap_forever(&channel), priority).map(drop)
}

fn reap_forever(channel: &UnixSeqPacket) -> i32 {
    loop {
        let generation = *SPAWNS.lock();
        match process::wait_any() {
            Ok((pid, status)) => {
                let report = format!("{REAPED}{pid} {}", status.raw());
                if let Err(e) = channel.send(report.as_bytes()) {
                    println!("seed: reaper cannot report pid {pid}: {e:?}");
                }
            }
            Err(e) => {
                if e != Errno::ECHILD {
                    println!("seed: wait failed: {e:?}");
                }
                let spawns = SPAWNS.lock();
                let _spawns = SPAWNED.wait_while(spawns, |s| *s == generation);
            }
        }
    }
}

/// Parses a reaper report.
pub fn parse(text: &str) -> Option<(Pid, ExitStatus)> {
    let mut words = text.strip_prefix(REAPED)?.split(' ');
    let pid = words.next()?.parse().ok()?;
    let status = words.next()?.parse().ok()?;
    Some((Pid::from_raw(pid), ExitStatus::from_raw(status)))
}
