//! Local sockets bound to paths: SOCK_SEQPACKET connections and SOCK_DGRAM datagrams, both
//! keeping message boundaries, with bounded buffers (EAGAIN or blocking when full), peer
//! credentials, and end-of-stream when the peer goes away (its last descriptor closes, e.g.
//! because its process died). A bound path also appears as a file in the tree, so binding
//! an existing path fails and `ls /dev/socket` shows the sockets.

use crate::fs::{StreamFile, poll};
use crate::sched::WakeReason;
use crate::sync::IrqSafeMutex;
use abi::Errno;
use abi::socket::{MAX_MESSAGE, SOCKET_BUFFER, Ucred};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use kcore::vfs::Cred;

/// Connection-oriented or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SOCK_SEQPACKET.
    SeqPacket,
    /// SOCK_DGRAM.
    Datagram,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Fresh,
    Listening,
    Connected,
}

struct Message {
    data: Vec<u8>,
    from: Ucred,
}

struct State {
    role: Role,
    queue: VecDeque<Message>,
    queued_bytes: usize,
    /// The other end of a connection, or a datagram socket's default destination.
    peer: Option<Weak<Socket>>,
    peer_cred: Option<Ucred>,
    /// The connection's other end closed (end-of-stream after the queue drains).
    peer_closed: bool,
    backlog: VecDeque<Arc<Socket>>,
    backlog_max: usize,
    bound: Option<String>,
}

/// A socket.
pub struct Socket {
    kind: Kind,
    /// Who created it (reported to peers).
    owner: Ucred,
    nonblocking: AtomicBool,
    state: IrqSafeMutex<State>,
}

/// Bytes queued in all sockets together: bounded so that sockets cannot exhaust the kernel
/// heap however many a process opens.
static QUEUED_TOTAL: AtomicUsize = AtomicUsize::new(0);
/// The bound on [`QUEUED_TOTAL`].
const QUEUED_TOTAL_MAX: usize = 1 << 20;

/// Bound paths.
static NAMES: IrqSafeMutex<BTreeMap<String, Weak<Socket>>> = IrqSafeMutex::new(BTreeMap::new());

fn blocks(socket: &Socket, flags_dontwait: bool) -> bool {
    !flags_dontwait && !socket.nonblocking.load(Ordering::Relaxed)
}

impl Socket {
    /// A new unbound socket owned by `owner`.
    pub fn new(kind: Kind, owner: Ucred, nonblocking: bool) -> Arc<Socket> {
        Arc::new(Socket {
            kind,
            owner,
            nonblocking: AtomicBool::new(nonblocking),
            state: IrqSafeMutex::new(State {
                role: Role::Fresh,
                queue: VecDeque::new(),
                queued_bytes: 0,
                peer: None,
                peer_cred: None,
                peer_closed: false,
                backlog: VecDeque::new(),
                backlog_max: 0,
                bound: None,
            }),
        })
    }

    /// Sets or clears non-blocking mode.
    pub fn set_nonblocking(&self, on: bool) {
        self.nonblocking.store(on, Ordering::Relaxed);
    }

    /// Whether the socket is non-blocking.
    pub fn is_nonblocking(&self) -> bool {
        self.nonblocking.load(Ordering::Relaxed)
    }

    /// Binds to `path` (which must not exist yet; its directory must).
    pub fn bind(self: &Arc<Self>, path: &str, cred: Cred) -> Result<(), Errno> {
        if path.len() > abi::socket::MAX_SOCKET_PATH || !path.starts_with('/') {
            return Err(Errno::EINVAL);
        }
        let mut state = self.state.lock();
        if state.bound.is_some() || state.role != Role::Fresh {
            return Err(Errno::EINVAL);
        }
        let mut names = NAMES.lock();
        if names.get(path).is_some_and(|w| w.strong_count() > 0) {
            return Err(Errno::EADDRINUSE);
        }
        crate::fs::with_vfs(|vfs| vfs.create_file(path, 0o666, cred)).map_err(|e| match e {
            Errno::EEXIST => Errno::EADDRINUSE,
            other => other,
        })?;
        names.insert(String::from(path), Arc::downgrade(self));
        state.bound = Some(String::from(path));
        Ok(())
    }

    /// Starts accepting connections (SOCK_SEQPACKET, bound).
    pub fn listen(&self, backlog: usize) -> Result<(), Errno> {
        let mut state = self.state.lock();
        if self.kind != Kind::SeqPacket || state.bound.is_none() || state.role == Role::Connected {
            return Err(Errno::EINVAL);
        }
        state.role = Role::Listening;
        state.backlog_max = backlog.clamp(1, 64);
        Ok(())
    }

    /// Connects to the socket bound at `path`.
    pub fn connect(self: &Arc<Self>, path: &str) -> Result<(), Errno> {
        let target = NAMES
            .lock()
            .get(path)
            .and_then(Weak::upgrade)
            .ok_or(Errno::ECONNREFUSED)?;
        if target.kind != self.kind {
            return Err(Errno::ECONNREFUSED);
        }
        match self.kind {
            Kind::Datagram => {
                let mut state = self.state.lock();
                state.peer = Some(Arc::downgrade(&target));
                state.peer_cred = Some(target.owner);
                Ok(())
            }
            Kind::SeqPacket => self.connect_stream(&target),
        }
    }

    fn connect_stream(self: &Arc<Self>, listener: &Arc<Socket>) -> Result<(), Errno> {
        if self.state.lock().role != Role::Fresh {
            return Err(Errno::EINVAL);
        }
        let server_end = Socket::new(Kind::SeqPacket, listener.owner, false);
        {
            let mut end = server_end.state.lock();
            end.role = Role::Connected;
            end.peer = Some(Arc::downgrade(self));
            end.peer_cred = Some(self.owner);
        }
        {
            let mut listening = listener.state.lock();
            if listening.role != Role::Listening {
                return Err(Errno::ECONNREFUSED);
            }
            if listening.backlog.len() >= listening.backlog_max {
                return Err(Errno::EAGAIN);
            }
            let mut state = self.state.lock();
            state.role = Role::Connected;
            state.peer = Some(Arc::downgrade(&server_end));
            state.peer_cred = Some(listener.owner);
            listening.backlog.push_back(server_end);
        }
        poll::notify();
        Ok(())
    }

    /// Takes the next pending connection.
    pub fn accept(&self) -> Result<Arc<Socket>, Errno> {
        loop {
            {
                let mut state = self.state.lock();
                if state.role != Role::Listening {
                    return Err(Errno::EINVAL);
                }
                if let Some(connection) = state.backlog.pop_front() {
                    connection.set_nonblocking(self.is_nonblocking());
                    return Ok(connection);
                }
            }
            if !blocks(self, false) {
                return Err(Errno::EAGAIN);
            }
            if poll::wait_while(None, || self.state.lock().backlog.is_empty())
                == WakeReason::Interrupted
            {
                return Err(Errno::EINTR);
            }
        }
    }

    /// Sends one message to the connected peer, or to the datagram socket at `to`.
    pub fn send(
        &self,
        data: &[u8],
        to: Option<Arc<Socket>>,
        dontwait: bool,
        from: Ucred,
    ) -> Result<usize, Errno> {
        if data.len() > MAX_MESSAGE {
            return Err(Errno::EMSGSIZE);
        }
        let target = match to {
            Some(target) if self.kind == Kind::Datagram && target.kind == Kind::Datagram => target,
            Some(_) => return Err(Errno::EINVAL),
            None => self.peer()?,
        };
        loop {
            match target.push(data, from) {
                Err(Errno::EAGAIN) if blocks(self, dontwait) => {
                    let full = || {
                        target.state.lock().queued_bytes + data.len() > SOCKET_BUFFER
                            && self.peer_alive()
                    };
                    if poll::wait_while(None, full) == WakeReason::Interrupted {
                        return Err(Errno::EINTR);
                    }
                    if !self.peer_alive() {
                        return Err(Errno::ECONNRESET);
                    }
                }
                other => return other,
            }
        }
    }

    fn peer(&self) -> Result<Arc<Socket>, Errno> {
        let state = self.state.lock();
        match &state.peer {
            Some(peer) => peer.upgrade().ok_or(Errno::ECONNRESET),
            None => Err(Errno::ENOTCONN),
        }
    }

    fn peer_alive(&self) -> bool {
        self.kind == Kind::Datagram
            || self
                .state
                .lock()
                .peer
                .as_ref()
                .is_some_and(|p| p.strong_count() > 0)
    }

    /// Queues a message on this socket (the receiving end).
    fn push(&self, data: &[u8], from: Ucred) -> Result<usize, Errno> {
        let mut state = self.state.lock();
        if state.queued_bytes + data.len() > SOCKET_BUFFER
            || QUEUED_TOTAL.load(Ordering::Relaxed) + data.len() > QUEUED_TOTAL_MAX
        {
            return Err(Errno::EAGAIN);
        }
        state.queued_bytes += data.len();
        QUEUED_TOTAL.fetch_add(data.len(), Ordering::Relaxed);
        state.queue.push_back(Message {
            data: data.to_vec(),
            from,
        });
        drop(state);
        poll::notify();
        Ok(data.len())
    }

    /// Receives one message into `buf` (the rest of a longer message is discarded, as for
    /// SOCK_SEQPACKET); 0 means end-of-stream.
    pub fn recv(&self, buf: &mut [u8], dontwait: bool) -> Result<(usize, Ucred), Errno> {
        loop {
            {
                let mut state = self.state.lock();
                if let Some(message) = state.queue.pop_front() {
                    state.queued_bytes -= message.data.len();
                    QUEUED_TOTAL.fetch_sub(message.data.len(), Ordering::Relaxed);
                    drop(state);
                    poll::notify(); // space for blocked senders
                    let n = message.data.len().min(buf.len());
                    buf[..n].copy_from_slice(&message.data[..n]);
                    return Ok((n, message.from));
                }
                if self.kind == Kind::SeqPacket
                    && state.role == Role::Connected
                    && (state.peer_closed || !peer_alive_locked(&state))
                {
                    return Ok((0, Ucred::default()));
                }
                if self.kind == Kind::SeqPacket && state.role != Role::Connected {
                    return Err(Errno::ENOTCONN);
                }
            }
            if !blocks(self, dontwait) {
                return Err(Errno::EAGAIN);
            }
            let empty = || {
                let state = self.state.lock();
                state.queue.is_empty()
                    && (self.kind != Kind::SeqPacket || peer_alive_locked(&state))
            };
            if poll::wait_while(None, empty) == WakeReason::Interrupted {
                return Err(Errno::EINTR);
            }
        }
    }

    /// Credentials of the connected peer.
    pub fn peer_cred(&self) -> Result<Ucred, Errno> {
        self.state.lock().peer_cred.ok_or(Errno::ENOTCONN)
    }

    /// (readable, writable, hung up) for `poll`.
    pub fn readiness(&self) -> (bool, bool, bool) {
        let state = self.state.lock();
        let hung_up = self.kind == Kind::SeqPacket
            && state.role == Role::Connected
            && !peer_alive_locked(&state);
        let readable = !state.queue.is_empty() || !state.backlog.is_empty() || hung_up;
        let writable = match (&state.peer, self.kind) {
            (Some(peer), _) => peer
                .upgrade()
                .is_some_and(|p| p.state.lock().queued_bytes < SOCKET_BUFFER),
            (None, Kind::Datagram) => true,
            (None, Kind::SeqPacket) => false,
        };
        (readable, writable, hung_up)
    }
}

fn peer_alive_locked(state: &State) -> bool {
    !state.peer_closed && state.peer.as_ref().is_some_and(|p| p.strong_count() > 0)
}

/// The datagram socket bound at `path`.
pub fn lookup(path: &str) -> Result<Arc<Socket>, Errno> {
    NAMES
        .lock()
        .get(path)
        .and_then(Weak::upgrade)
        .ok_or(Errno::ECONNREFUSED)
}

impl Drop for Socket {
    fn drop(&mut self) {
        let state = self.state.get_mut();
        QUEUED_TOTAL.fetch_sub(state.queued_bytes, Ordering::Relaxed);
        if let Some(peer) = state.peer.take().and_then(|p| p.upgrade()) {
            peer.state.lock().peer_closed = true;
        }
        if let Some(path) = state.bound.take() {
            let mut names = NAMES.lock();
            if names.get(&path).is_some_and(|w| w.strong_count() == 0) {
                names.remove(&path);
                let root = Cred { uid: 0, gid: 0 };
                let _ = crate::fs::with_vfs(|vfs| vfs.unlink(&path, root));
            }
        }
        poll::notify();
    }
}

/// Reads and writes through a descriptor (`read`/`write` rather than `recvfrom`/`sendto`).
impl StreamFile for Socket {
    fn read(&self, buf: &mut [u8], nonblocking: bool) -> Result<usize, Errno> {
        self.recv(buf, nonblocking).map(|(n, _)| n)
    }

    fn write(&self, data: &[u8], nonblocking: bool) -> Result<usize, Errno> {
        self.send(data, None, nonblocking, caller_ucred())
    }

    fn readiness(&self) -> (bool, bool, bool) {
        Socket::readiness(self)
    }

    fn mode(&self) -> u32 {
        abi::syscall::file_type::S_IFSOCK | 0o666
    }
}

/// The calling process's credentials, as a message's sender.
pub fn caller_ucred() -> Ucred {
    let cred = crate::proc::current_cred();
    Ucred {
        pid: crate::sched::current_pid(),
        uid: cred.uid,
        gid: cred.gid,
    }
}
