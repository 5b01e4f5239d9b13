//! `/bin/pagemanagerd`: DPMS, the dynamic page manager (AliOS `DynamicPageManagerService`
//! and `SocketMessageCenter`, seed document 000). It keeps the page table and has seed
//! spawn and kill page processes.
//!
//! One `poll` loop serves [`DPMS_SOCKET`]'s listener, every accepted connection (seed's,
//! pages', clients'), and DPMS's own connection to seed's socket:
//! - at start: bind and listen, then connect to seed and send `pagemanagerd start`. If
//!   seed is not up, nothing is retried: seed sends `seed start` when it starts (both bind
//!   before they connect, so the second to connect finds the first listening);
//! - `seed start` (root peers only) → reconnect to seed, `pagemanagerd start` again; the
//!   seed is not ready, and messages for it queue, until `seed ready`, which flushes
//!   them in order. A seed that dies (our connection ends) is not ready again;
//! - seed's events: a page process forked, failed to, or ended;
//! - `page <id> running|stopped` from page processes, whose pid is the connection's peer
//!   pid; a page's connection ending means its process ended;
//! - JSON requests (`open`, `close`, `list`) → the [`service::PageService`] interface;
//!   `open` is answered once the page runs (or at once, `pending`, while seed is not
//!   ready), `close` once the process is gone (or at once, `closing`, likewise).
//!
//! Malformed messages are logged and dropped; a connection's end only ends it.
//!
//! The page service is also exported through samgr as service `dpms` ([`export`]), whose
//! calls come back to this loop as socket requests.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod export;
mod service;

use alloc::vec;
use alloc::vec::Vec;
use dpms_proto::DPMS_SOCKET;
use dpms_proto::message::{
    PAGE_EXIT, PageInfo, PageState, Reply, Reported, Request, SeedEvent, ToDpms,
};
use service::{Dpms, PageService};
use ulib::net::{
    self, MAX_MESSAGE, POLLHUP, POLLIN, POLLOUT, PollFd, Ucred, UnixSeqPacket,
    UnixSeqPacketListener,
};
use ulib::{Errno, println, process};

/// Most connections at once (`poll` takes 64 descriptors; two are the listener and seed).
const MAX_CONNECTIONS: usize = 60;

/// What a connection turned out to be, from its first understood message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Nothing understood yet.
    Unknown,
    /// seed's connection to us.
    Seed,
    /// Page `id`'s process.
    Page(u32),
    /// A tool asking the page service.
    Client,
}

/// A reply owed to a client once a page changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    /// `open`: until the page runs (or dies).
    Running(u32),
    /// `close`: until the page is gone.
    Gone(u32),
}

/// An accepted connection.
struct Connection {
    socket: UnixSeqPacket,
    cred: Ucred,
    role: Role,
    wait: Option<Wait>,
}

struct Daemon {
    listener: UnixSeqPacketListener,
    connections: Vec<Connection>,
    dpms: Dpms,
    buf: Vec<u8>,
}

fn main() -> i32 {
    let listener = match UnixSeqPacketListener::bind_nonblocking(DPMS_SOCKET) {
        Ok(l) => l,
        Err(e) => {
            println!("dpms: cannot listen on {DPMS_SOCKET}: {e:?}");
            return 1;
        }
    };
    println!(
        "dpms: pagemanagerd listening on {DPMS_SOCKET} (pid {})",
        process::getpid()
    );
    let mut daemon = Daemon {
        listener,
        connections: Vec::new(),
        dpms: Dpms::new(),
        buf: vec![0; MAX_MESSAGE],
    };
    if let Err(e) = daemon.dpms.connect_seed() {
        println!("dpms: seed is not up ({e:?}); waiting for \"seed start\"");
    }
    samgr::console::init_logger("pagemanagerd", log::LevelFilter::Warn);
    match export::start() {
        Ok(()) => println!(
            "dpms: page service exported through samgr as \"{}\"",
            dpms_proto::SAMGR_SERVICE
        ),
        Err(e) => println!("dpms: no samgr export: {e}"),
    }
    daemon.run()
}

impl Daemon {
    fn run(&mut self) -> ! {
        loop {
            let mut fds: Vec<PollFd> = Vec::with_capacity(self.connections.len() + 2);
            fds.push(net::poll_fd(self.listener.fd(), POLLIN));
            if let Some(seed) = self.dpms.seed_socket() {
                let out = if self.dpms.wants_writable() {
                    POLLOUT
                } else {
                    0
                };
                fds.push(net::poll_fd(seed.fd(), POLLIN | out));
            }
            let first_connection = fds.len();
            fds.extend(
                self.connections
                    .iter()
                    .map(|c| net::poll_fd(c.socket.fd(), POLLIN)),
            );
            match net::poll(&mut fds, None) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => {
                    println!("dpms: poll failed: {e:?}");
                    process::exit(1);
                }
            }
            // Our connection to seed first: it is replaced when a new seed says `seed
            // start`, and its events must not be taken for the new one's.
            if let Some(seed) = fds.get(1).filter(|_| first_connection == 2) {
                if seed.revents & (POLLIN | POLLHUP) != 0 {
                    self.dpms.check_seed();
                }
                if seed.revents & POLLOUT != 0 {
                    self.dpms.flush();
                }
            }
            let ready: Vec<usize> = (0..self.connections.len())
                .filter(|i| {
                    fds.get(first_connection + i)
                        .is_some_and(|f| f.revents != 0)
                })
                .collect();
            for &i in ready.iter().rev() {
                self.serve(i);
            }
            if fds.first().is_some_and(|f| f.revents & POLLIN != 0) {
                self.accept_all();
            }
            self.answer_waiters();
        }
    }

    fn accept_all(&mut self) {
        let room = MAX_CONNECTIONS.saturating_sub(self.connections.len());
        for (socket, cred) in self.listener.accept_queued("dpms", room) {
            self.connections.push(Connection {
                socket,
                cred,
                role: Role::Unknown,
                wait: None,
            });
        }
    }

    /// Reads every queued message of connection `index`; drops it at end-of-stream.
    fn serve(&mut self, index: usize) {
        loop {
            let Some(connection) = self.connections.get(index) else {
                return;
            };
            match connection.socket.try_recv(&mut self.buf) {
                Ok(0) => return self.closed(index),
                Ok(n) => {
                    let message = self.buf.get(..n).unwrap_or_default().to_vec();
                    self.handle(index, &message);
                }
                Err(Errno::EAGAIN) => return,
                Err(_) => return self.closed(index),
            }
        }
    }

    fn closed(&mut self, index: usize) {
        let connection = self.connections.remove(index);
        match connection.role {
            Role::Page(id) => self.dpms.page_gone(id, "its connection closed"),
            Role::Seed => println!(
                "dpms: seed's connection closed (pid {})",
                connection.cred.pid
            ),
            Role::Unknown | Role::Client => {}
        }
    }

    fn handle(&mut self, index: usize, message: &[u8]) {
        let Some(connection) = self.connections.get_mut(index) else {
            return;
        };
        let cred = connection.cred;
        let parsed = ToDpms::parse(message);
        let root = cred.uid == 0;
        match parsed {
            Err(e) => println!("dpms: dropped malformed message from pid {}: {e}", cred.pid),
            Ok(ToDpms::SeedStart | ToDpms::SeedReady | ToDpms::Seed(_)) if !root => println!(
                "dpms: dropped a seed message from pid {} (uid {}): not root",
                cred.pid, cred.uid
            ),
            Ok(ToDpms::SeedStart) => {
                connection.role = Role::Seed;
                println!("dpms: seed start (pid {})", cred.pid);
                if let Err(e) = self.dpms.connect_seed() {
                    println!("dpms: cannot reach seed: {e:?}; waiting for \"seed start\"");
                }
            }
            Ok(ToDpms::SeedReady) => {
                connection.role = Role::Seed;
                self.dpms.seed_ready();
            }
            Ok(ToDpms::Seed(event)) => {
                connection.role = Role::Seed;
                self.seed_event(event);
            }
            Ok(ToDpms::Page(report)) => {
                connection.role = Role::Page(report.id);
                match report.state {
                    Reported::Running => {
                        if !self.dpms.page_running(report.id, cred.pid) {
                            println!(
                                "dpms: unknown page {} (pid {}); told to exit",
                                report.id, cred.pid
                            );
                            let _ = connection.socket.try_send(PAGE_EXIT.as_bytes());
                        }
                    }
                    Reported::Stopped => self.dpms.page_stopped(report.id),
                }
            }
            Ok(ToDpms::Request(request)) => {
                connection.role = Role::Client;
                self.request(index, request);
            }
        }
    }

    fn seed_event(&mut self, event: SeedEvent) {
        match event {
            SeedEvent::Forked { page, pid } => self.dpms.forked(page, pid),
            SeedEvent::ForkFailed { page, error } => {
                self.dpms
                    .page_gone(page, &alloc::format!("seed could not fork it: {error}"));
            }
            SeedEvent::Exited { page, pid, status } => {
                self.dpms
                    .page_gone(page, &alloc::format!("pid {pid} {status}"));
            }
        }
    }

    /// A page-service request: answer now, or once the page has changed.
    fn request(&mut self, index: usize, request: Request) {
        let seed_ready = self.dpms.seed_is_ready();
        let (reply, wait) = match request {
            Request::List => (Reply::pages(self.dpms.list()), None),
            Request::Open { uri } => match self.dpms.open(&uri) {
                Ok(page) if seed_ready => (
                    Reply::pages(vec![page.clone()]),
                    Some(Wait::Running(page.id)),
                ),
                Ok(page) => (Reply::pages(vec![page]), None),
                Err(e) => (Reply::error(&e.text()), None),
            },
            Request::Close { id } => match self.dpms.close(id) {
                Ok(Some(page)) if seed_ready => (Reply::pages(vec![page]), Some(Wait::Gone(id))),
                Ok(Some(page)) => (Reply::pages(vec![page]), None),
                Ok(None) => (Reply::pages(Vec::new()), None),
                Err(e) => (Reply::error(&e.text()), None),
            },
        };
        match (self.connections.get_mut(index), wait) {
            (Some(connection), Some(wait)) => connection.wait = Some(wait),
            (Some(connection), None) => reply_to(connection, &reply),
            (None, _) => {}
        }
    }

    /// Answers the clients whose page reached the state they wait for.
    fn answer_waiters(&mut self) {
        for connection in &mut self.connections {
            let Some(wait) = connection.wait else {
                continue;
            };
            let (id, done) = match wait {
                Wait::Running(id) => (
                    id,
                    self.dpms
                        .page(id)
                        .is_none_or(|p| matches!(p.state, PageState::Running | PageState::Dead)),
                ),
                Wait::Gone(id) => (
                    id,
                    self.dpms
                        .page(id)
                        .is_none_or(|p| p.state == PageState::Dead),
                ),
            };
            if done {
                connection.wait = None;
                let pages: Vec<PageInfo> = self.dpms.page(id).cloned().into_iter().collect();
                reply_to(connection, &Reply::pages(pages));
            }
        }
    }
}

/// Sends a reply without blocking: a client that does not read loses it.
fn reply_to(connection: &Connection, reply: &Reply) {
    if let Err(e) = connection.socket.try_send(reply.encode().as_bytes()) {
        println!("dpms: reply to pid {} lost: {e:?}", connection.cred.pid);
    }
}

ulib::entry!(main);
