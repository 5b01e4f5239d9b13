//! The DPMS page service behind one small interface, [`PageService`] (open a page by URI,
//! close one, list them), so every front end asks the same code: the socket requests of
//! `page_ctl` today, a samgr feature later. [`Dpms`] implements it over the page table
//! and the seed link of `dpms_proto`, and owns the connection to seed's socket: every
//! message for seed goes through the link, so it waits in order while seed is not ready.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use dpms_proto::link::{Phase, SeedLink, SendFailure, Submit};
use dpms_proto::message::{
    self, HOMESHELL_READY, PAGEMANAGERD_START, PageInfo, ProcessInfo, ToSeed,
};
use dpms_proto::pages::{Close, Gone, PageError, PageTable};
use dpms_proto::{HOMESHELL_URI, PAGE_GID, PAGE_PRIORITY, PAGE_PROGRAM, PAGE_UID, SEED_SOCKET};
use ulib::Errno;
use ulib::net::UnixSeqPacket;
use ulib::println;

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceError {
    /// The request's fields are out of range (e.g. a URI with spaces).
    Invalid(String),
    /// No such page.
    NoSuchPage(u32),
    /// The page table is full.
    Full,
}

impl ServiceError {
    /// The text sent back to the client.
    pub fn text(&self) -> String {
        match self {
            ServiceError::Invalid(why) => why.clone(),
            ServiceError::NoSuchPage(id) => format!("no page {id}"),
            ServiceError::Full => String::from("too many pages"),
        }
    }
}

impl From<PageError> for ServiceError {
    fn from(e: PageError) -> Self {
        match e {
            PageError::NoSuchPage(id) => ServiceError::NoSuchPage(id),
            PageError::Full => ServiceError::Full,
        }
    }
}

/// What DPMS offers, whoever asks.
pub trait PageService {
    /// Opens a page for `uri`: it is spawned by seed as soon as seed is ready.
    fn open(&mut self, uri: &str) -> Result<PageInfo, ServiceError>;
    /// Closes page `id` (seed kills its process); a dead page is just removed.
    fn close(&mut self, id: u32) -> Result<Option<PageInfo>, ServiceError>;
    /// Every page with its state and pid.
    fn list(&self) -> Vec<PageInfo>;
}

/// A message for seed, and the page whose fork it is (to mark it `starting` once sent).
#[derive(Clone, Debug)]
pub struct Outgoing {
    text: String,
    fork_of: Option<u32>,
}

/// DPMS: the page table, the seed link and the connection to seed.
pub struct Dpms {
    pages: PageTable,
    link: SeedLink<Outgoing>,
    seed: Option<UnixSeqPacket>,
}

impl Dpms {
    /// No pages, no seed.
    pub fn new() -> Dpms {
        Dpms {
            pages: PageTable::new(),
            link: SeedLink::new(),
            seed: None,
        }
    }

    /// The connection to seed's socket, for `poll`.
    pub fn seed_socket(&self) -> Option<&UnixSeqPacket> {
        self.seed.as_ref()
    }

    /// Whether there is a backlog to push when the seed socket becomes writable.
    pub fn wants_writable(&self) -> bool {
        self.link.wants_writable()
    }

    /// (Re)connects to seed's socket and sends `pagemanagerd start`: at DPMS's start
    /// (seed may be up already) and on every `seed start` (seed restarted).
    pub fn connect_seed(&mut self) -> Result<(), Errno> {
        self.seed = None;
        self.link.lost();
        let socket = UnixSeqPacket::connect(SEED_SOCKET)?;
        socket.set_nonblocking(true)?;
        socket.try_send(ToSeed::PagemanagerdStart.encode().as_bytes())?;
        self.seed = Some(socket);
        self.link.connected();
        println!("dpms: sent \"{PAGEMANAGERD_START}\" to seed");
        Ok(())
    }

    /// `seed ready`: flush what waited, in order.
    pub fn seed_ready(&mut self) {
        if !self.link.ready() {
            return println!("dpms: \"seed ready\" without a connection to seed; ignored");
        }
        println!(
            "dpms: seed ready (handshake {}); {} pending message(s)",
            self.link.handshakes(),
            self.link.pending()
        );
        self.flush();
    }

    /// Sends queued messages while seed is ready and its socket takes them.
    pub fn flush(&mut self) {
        while let Some(message) = self.link.next_to_flush() {
            if !self.send(message) {
                return;
            }
        }
    }

    /// Our connection to seed is readable: seed never sends on it, so this is its end.
    pub fn check_seed(&mut self) {
        let mut buf = [0u8; 64];
        let Some(seed) = &self.seed else {
            return;
        };
        loop {
            match seed.try_recv(&mut buf) {
                Ok(0) => return self.seed_lost(),
                Ok(_) => println!("dpms: dropped a message on the connection to seed"),
                Err(Errno::EAGAIN) => return,
                Err(_) => return self.seed_lost(),
            }
        }
    }

    fn seed_lost(&mut self) {
        self.seed = None;
        self.link.lost();
        println!("dpms: seed went away; queueing for it until \"seed ready\"");
    }

    /// Queues or sends one message for seed.
    fn for_seed(&mut self, text: String, fork_of: Option<u32>) {
        match self.link.submit(Outgoing { text, fork_of }) {
            Submit::SendNow(message) => {
                self.send(message);
            }
            Submit::Queued(n) => {
                if self.link.phase() != Phase::Ready {
                    println!("dpms: seed not ready; queued ({n} pending)");
                }
            }
        }
    }

    /// Sends one message; on failure it goes back to the front of the queue.
    fn send(&mut self, message: Outgoing) -> bool {
        let result = match &self.seed {
            Some(seed) => seed.try_send(message.text.as_bytes()),
            None => Err(Errno::ENOTCONN),
        };
        match result {
            Ok(_) => {
                if let Some(id) = message.fork_of {
                    self.pages.fork_sent(id);
                }
                true
            }
            Err(Errno::EAGAIN) => {
                self.link.send_failed(message, SendFailure::WouldBlock);
                false
            }
            Err(_) => {
                self.link.send_failed(message, SendFailure::Lost);
                self.seed = None;
                println!("dpms: seed went away; queueing for it until \"seed ready\"");
                false
            }
        }
    }

    /// The page table (read-only), for the front end's waiters.
    pub fn page(&self, id: u32) -> Option<&PageInfo> {
        self.pages.get(id)
    }

    /// Whether seed has answered the handshake.
    pub fn seed_is_ready(&self) -> bool {
        self.link.is_ready()
    }

    /// seed spawned page `id`.
    pub fn forked(&mut self, id: u32, pid: u32) {
        if self.pages.forked(id, pid).is_err() {
            println!("dpms: seed forked unknown page {id} (pid {pid})");
        }
    }

    /// Page `id` reported `running` from `pid`; false if DPMS does not know it.
    pub fn page_running(&mut self, id: u32, pid: u32) -> bool {
        if self.pages.running(id, pid).is_err() {
            return false;
        }
        println!("dpms: page {id} running (pid {pid})");
        if self.pages.get(id).is_some_and(|p| p.uri == HOMESHELL_URI) {
            self.for_seed(String::from(HOMESHELL_READY), None);
        }
        true
    }

    /// Page `id` reported `stopped`.
    pub fn page_stopped(&mut self, id: u32) {
        if self.pages.stopped(id) == Gone::Removed {
            println!("dpms: page {id} stopped");
        }
    }

    /// Page `id` ended (seed reaped it, or its connection closed); `how` is for the log.
    pub fn page_gone(&mut self, id: u32, how: &str) {
        match self.pages.gone(id) {
            Gone::Removed => println!("dpms: page {id} closed ({how})"),
            Gone::Died => println!("dpms: page {id} died ({how}); marked dead"),
            Gone::Unchanged => {}
        }
    }
}

impl PageService for Dpms {
    fn open(&mut self, uri: &str) -> Result<PageInfo, ServiceError> {
        message::validate_uri(uri).map_err(|e| ServiceError::Invalid(format!("{e}")))?;
        let id = self.pages.open(uri)?;
        let mut fork = ProcessInfo::fork(id, uri, PAGE_PROGRAM, vec![format!("{id}"), uri.into()]);
        fork.uid = Some(PAGE_UID);
        fork.gid = Some(PAGE_GID);
        fork.priority = Some(PAGE_PRIORITY);
        println!("dpms: open page {id} ({uri})");
        self.for_seed(fork.encode(), Some(id));
        self.pages
            .get(id)
            .cloned()
            .ok_or(ServiceError::NoSuchPage(id))
    }

    fn close(&mut self, id: u32) -> Result<Option<PageInfo>, ServiceError> {
        match self.pages.close(id)? {
            Close::Kill { pid } => {
                println!("dpms: close page {id}");
                self.for_seed(ProcessInfo::kill(id, pid).encode(), None);
            }
            Close::AlreadyClosing => {}
            Close::Removed => println!("dpms: removed dead page {id}"),
        }
        Ok(self.pages.get(id).cloned())
    }

    fn list(&self) -> Vec<PageInfo> {
        self.pages.list()
    }
}
