//! `/bin/seed`: spawns every page process, like a zygote (AliOS `Seed.cpp`, seed document
//! 000; OpenHarmony's appspawn plays the same part).
//!
//! seed listens on [`SEED_SOCKET`] and sends to DPMS on a connection of its own to
//! [`DPMS_SOCKET`]. One `poll` loop serves the listener, every accepted connection, the
//! connection to DPMS (to notice it closing) and the reaper's reports:
//! - at start: bind and listen first, then connect to DPMS and send `seed start`. If DPMS
//!   is not up, nothing is retried: DPMS connects to seed when it starts and sends
//!   `pagemanagerd start`. Both daemons bind before they connect, so whichever connects
//!   second finds the other listening: no side polls for the other.
//! - `pagemanagerd start` → answer `seed ready` (reconnecting to DPMS first if the old
//!   connection is gone: DPMS was restarted);
//! - `homeshell ready` → run the ready callback;
//! - JSON process info, from a root peer only: `fork` spawns the page process with the
//!   program, args, uid/gid and priority given; `kill` ends it (SIGKILL);
//! - a child's end (from the reaper) → `{"event":"exited",...}` to DPMS.
//!
//! Anything else is logged and dropped; a peer closing only ends that connection.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod reaper;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use dpms_proto::message::{Action, ProcessInfo, SEED_READY, SEED_START, SeedEvent, ToSeed};
use dpms_proto::{DPMS_SOCKET, SEED_SOCKET};
use ulib::net::{
    self, MAX_MESSAGE, POLLHUP, POLLIN, PollFd, Ucred, UnixSeqPacket, UnixSeqPacketListener,
};
use ulib::process::{self, ExitStatus, Pid, SpawnOptions, signal};
use ulib::{Errno, println};

/// Most connections seed serves at once (DPMS, the reaper, a few tools); more are refused.
const MAX_PEERS: usize = 16;
/// The environment of page processes.
const PAGE_ENV: [&str; 1] = ["PATH=/bin"];

/// An accepted connection.
struct Peer {
    socket: UnixSeqPacket,
    cred: Ucred,
    /// The reaper thread's channel (a connection from seed's own pid).
    reaper: bool,
}

/// Everything the loop owns.
struct Seed {
    listener: UnixSeqPacketListener,
    /// Our connection to DPMS (we send on it; DPMS never answers on it).
    dpms: Option<UnixSeqPacket>,
    peers: Vec<Peer>,
    /// Page processes we spawned and have not reaped: pid → page id.
    children: BTreeMap<u32, u32>,
    pid: u32,
    buf: Vec<u8>,
}

fn main() -> i32 {
    let listener = match UnixSeqPacketListener::bind_nonblocking(SEED_SOCKET) {
        Ok(l) => l,
        Err(e) => {
            println!("seed: cannot listen on {SEED_SOCKET}: {e:?}");
            return 1;
        }
    };
    let pid = process::getpid().as_raw();
    println!("seed: listening on {SEED_SOCKET} (pid {pid})");
    // The reaper's channel is a connection to our own listener, accepted by the loop.
    match UnixSeqPacket::connect(SEED_SOCKET).and_then(reaper::start) {
        Ok(()) => {}
        Err(e) => {
            println!("seed: cannot start the reaper: {e:?}");
            return 1;
        }
    }
    let mut seed = Seed {
        listener,
        dpms: None,
        peers: Vec::new(),
        children: BTreeMap::new(),
        pid,
        buf: vec![0; MAX_MESSAGE],
    };
    match seed.connect_dpms() {
        Ok(()) => {
            if seed.send_to_dpms(SEED_START) {
                println!("seed: sent \"{SEED_START}\" to pagemanagerd");
            }
        }
        Err(e) => {
            println!("seed: pagemanagerd is not up ({e:?}); waiting for \"pagemanagerd start\"")
        }
    }
    seed.run()
}

impl Seed {
    fn run(&mut self) -> ! {
        loop {
            let mut fds: Vec<PollFd> = Vec::with_capacity(self.peers.len() + 2);
            fds.push(net::poll_fd(self.listener.fd(), POLLIN));
            fds.extend(
                self.peers
                    .iter()
                    .map(|p| net::poll_fd(p.socket.fd(), POLLIN)),
            );
            let dpms_index = self.dpms.as_ref().map(|dpms| {
                fds.push(net::poll_fd(dpms.fd(), POLLIN));
                fds.len() - 1
            });
            match net::poll(&mut fds, None) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => {
                    println!("seed: poll failed: {e:?}");
                    process::exit(1);
                }
            }
            // Connections first: the ready ones are indexed by the order above.
            let ready: Vec<usize> = (0..self.peers.len())
                .filter(|i| fds.get(i + 1).is_some_and(|f| f.revents != 0))
                .collect();
            // Walk backwards so removing a closed peer keeps the other indices valid.
            for &i in ready.iter().rev() {
                self.serve_peer(i);
            }
            if dpms_index
                .and_then(|i| fds.get(i))
                .is_some_and(|f| f.revents & (POLLIN | POLLHUP) != 0)
            {
                self.check_dpms();
            }
            if fds.first().is_some_and(|f| f.revents & POLLIN != 0) {
                self.accept_all();
            }
        }
    }

    fn accept_all(&mut self) {
        let room = MAX_PEERS.saturating_sub(self.peers.len());
        for (socket, cred) in self.listener.accept_queued("seed", room) {
            let reaper = cred.pid == self.pid && !self.peers.iter().any(|p| p.reaper);
            self.peers.push(Peer {
                socket,
                cred,
                reaper,
            });
        }
    }

    /// Reads every queued message of peer `index`; drops it at end-of-stream.
    fn serve_peer(&mut self, index: usize) {
        loop {
            let Some(peer) = self.peers.get(index) else {
                return;
            };
            let (cred, reaper) = (peer.cred, peer.reaper);
            match peer.socket.try_recv(&mut self.buf) {
                Ok(0) => {
                    if reaper {
                        println!("seed: the reaper's channel closed");
                    }
                    self.peers.remove(index);
                    return;
                }
                Ok(n) => {
                    let message = self.buf.get(..n).unwrap_or_default().to_vec();
                    if reaper {
                        self.reaped(&message);
                    } else {
                        self.handle(&message, cred);
                    }
                }
                Err(Errno::EAGAIN) => return,
                Err(_) => {
                    self.peers.remove(index);
                    return;
                }
            }
        }
    }

    /// One message from DPMS (or from anyone who connected).
    fn handle(&mut self, message: &[u8], from: Ucred) {
        match ToSeed::parse(message) {
            Err(e) => println!("seed: dropped malformed message from pid {}: {e}", from.pid),
            Ok(ToSeed::PagemanagerdStart) => {
                println!(
                    "seed: pagemanagerd start (from pid {}); answering \"{SEED_READY}\"",
                    from.pid
                );
                if !self.send_to_dpms(SEED_READY) {
                    println!("seed: could not answer pagemanagerd");
                }
            }
            Ok(ToSeed::HomeshellReady) => homeshell_ready(),
            Ok(ToSeed::Process(info)) if from.uid != 0 => println!(
                "seed: refused {:?} of page {} from pid {} (uid {}): not root",
                info.action, info.page, from.pid, from.uid
            ),
            Ok(ToSeed::Process(info)) => match info.action {
                Action::Fork => self.fork(&info),
                Action::Kill => self.kill(&info),
            },
        }
    }

    fn fork(&mut self, info: &ProcessInfo) {
        let args: Vec<&str> = info.args.iter().map(String::as_str).collect();
        let options = SpawnOptions {
            uid: info.uid,
            gid: info.gid,
            priority: info.priority,
        };
        let event = match process::spawn(&info.program, &args, &PAGE_ENV, options) {
            Ok(pid) => {
                self.children.insert(pid.as_raw(), info.page);
                reaper::spawned();
                println!(
                    "seed: fork page {} ({}): {} as pid {pid}",
                    info.page, info.uri, info.program
                );
                SeedEvent::Forked {
                    page: info.page,
                    pid: pid.as_raw(),
                }
            }
            Err(e) => {
                println!(
                    "seed: fork page {} ({}): {}: {e:?}",
                    info.page, info.uri, info.program
                );
                SeedEvent::ForkFailed {
                    page: info.page,
                    error: format!("{e:?}"),
                }
            }
        };
        self.send_to_dpms(&event.encode());
    }

    fn kill(&mut self, info: &ProcessInfo) {
        // Our own child for that page, else the pid DPMS knows (a page of an earlier seed).
        let pid = self
            .children
            .iter()
            .find(|(_, page)| **page == info.page)
            .map(|(pid, _)| *pid)
            .or(info.pid);
        let Some(pid) = pid else {
            return println!("seed: kill page {}: no process known", info.page);
        };
        match process::kill(Pid::from_raw(pid), signal::SIGKILL) {
            Ok(()) => println!("seed: kill page {} (pid {pid})", info.page),
            Err(e) => println!("seed: kill page {} (pid {pid}): {e:?}", info.page),
        }
    }

    /// A report from the reaper thread.
    fn reaped(&mut self, message: &[u8]) {
        let report = core::str::from_utf8(message).ok().and_then(reaper::parse);
        let Some((pid, status)) = report else {
            return println!("seed: bad reaper report");
        };
        let Some(page) = self.children.remove(&pid.as_raw()) else {
            return println!("seed: reaped pid {pid}: {status}");
        };
        println!("seed: page {page} (pid {pid}) {status}");
        let event = exited(page, pid, status);
        self.send_to_dpms(&event.encode());
    }

    fn connect_dpms(&mut self) -> Result<(), Errno> {
        let socket = UnixSeqPacket::connect(DPMS_SOCKET)?;
        socket.set_nonblocking(true)?;
        self.dpms = Some(socket);
        Ok(())
    }

    /// Sends to DPMS, reconnecting once if the connection is gone (DPMS restarted).
    /// A full DPMS buffer drops the message (logged): seed never blocks on DPMS.
    fn send_to_dpms(&mut self, message: &str) -> bool {
        for _ in 0..2 {
            if self.dpms.is_none()
                && let Err(e) = self.connect_dpms()
            {
                println!("seed: pagemanagerd unreachable ({e:?}); dropped {message:?}");
                return false;
            }
            let Some(dpms) = &self.dpms else {
                return false;
            };
            match dpms.try_send(message.as_bytes()) {
                Ok(_) => return true,
                Err(Errno::EAGAIN) => {
                    println!("seed: pagemanagerd is not reading; dropped {message:?}");
                    return false;
                }
                Err(_) => self.dpms = None,
            }
        }
        false
    }

    /// Our connection to DPMS became readable: DPMS sends nothing on it, so this is its
    /// end (DPMS died) or stray data, which is dropped.
    fn check_dpms(&mut self) {
        let Some(dpms) = &self.dpms else {
            return;
        };
        loop {
            match dpms.try_recv(&mut self.buf) {
                Ok(0) => {
                    println!("seed: pagemanagerd went away; waiting for \"pagemanagerd start\"");
                    self.dpms = None;
                    return;
                }
                Ok(_) => println!("seed: dropped a message on the connection to pagemanagerd"),
                Err(_) => return,
            }
        }
    }
}

fn exited(page: u32, pid: Pid, status: ExitStatus) -> SeedEvent {
    SeedEvent::Exited {
        page,
        pid: pid.as_raw(),
        status: format!("{status}"),
    }
}

/// AliOS `invokeHomeshellReadyCB`: the home shell is up. Nothing depends on it here yet;
/// the log line is the observable effect.
fn homeshell_ready() {
    println!("seed: homeshell ready; running the ready callback");
}

ulib::entry!(main);
