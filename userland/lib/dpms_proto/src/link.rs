//! DPMS's client for one seed (AliOS `SeedSocketClient`): whether a connection to the
//! seed's socket exists, whether the seed answered the handshake (`is_ready`), and the
//! messages sent before it did, kept in order (`mPendingMessageList`).
//!
//! AliOS queues only while the seed is not ready and sends directly otherwise. Here a
//! message is also queued while older ones wait (a full socket, or the flush that follows
//! `seed ready` not finished), so messages always reach the seed in submission order,
//! across seed restarts. The daemon owns the socket; this type only decides.

use alloc::collections::VecDeque;

/// Where the handshake with the seed stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No connection to the seed's socket.
    Disconnected,
    /// Connected, `pagemanagerd start` sent; waiting for `seed ready`.
    Handshaking,
    /// `seed ready` received: messages go out.
    Ready,
}

/// What to do with a submitted message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submit<M> {
    /// Send it now.
    SendNow(M),
    /// Queued behind `pending` others (the count includes it).
    Queued(usize),
}

/// Why a send to the seed failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendFailure {
    /// The seed's buffer is full (EAGAIN): retry when the socket is writable.
    WouldBlock,
    /// The connection is gone (the seed died or restarted).
    Lost,
}

/// One seed's link; `M` is a message (text, plus whatever the daemon needs to know
/// once it is sent).
#[derive(Clone, Debug)]
pub struct SeedLink<M> {
    phase: Phase,
    pending: VecDeque<M>,
    /// Handshakes completed (for logs and tests).
    handshakes: u32,
}

impl<M> Default for SeedLink<M> {
    fn default() -> Self {
        SeedLink::new()
    }
}

impl<M> SeedLink<M> {
    /// A link with no connection and nothing pending.
    pub const fn new() -> SeedLink<M> {
        SeedLink {
            phase: Phase::Disconnected,
            pending: VecDeque::new(),
            handshakes: 0,
        }
    }

    /// The handshake phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// AliOS `mIsSeedReady`.
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// Messages waiting.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Completed handshakes since DPMS started.
    pub fn handshakes(&self) -> u32 {
        self.handshakes
    }

    /// A message for the seed: send it now if the seed is ready and nothing is older.
    pub fn submit(&mut self, message: M) -> Submit<M> {
        if self.is_ready() && self.pending.is_empty() {
            Submit::SendNow(message)
        } else {
            self.pending.push_back(message);
            Submit::Queued(self.pending.len())
        }
    }

    /// A new connection to the seed's socket, on which `pagemanagerd start` is sent: the
    /// seed is not ready until it answers, whatever it was before.
    pub fn connected(&mut self) {
        self.phase = Phase::Handshaking;
    }

    /// `seed ready` arrived. Returns false (and changes nothing) without a connection to
    /// the seed, where there is nobody to flush to.
    pub fn ready(&mut self) -> bool {
        if self.phase == Phase::Disconnected {
            return false;
        }
        if self.phase == Phase::Handshaking {
            self.handshakes += 1;
        }
        self.phase = Phase::Ready;
        true
    }

    /// The connection to the seed is gone: queue from now on.
    pub fn lost(&mut self) {
        self.phase = Phase::Disconnected;
    }

    /// The oldest pending message, to send now (only when ready). Hand it back with
    /// [`SeedLink::send_failed`] if the send fails.
    pub fn next_to_flush(&mut self) -> Option<M> {
        if self.is_ready() {
            self.pending.pop_front()
        } else {
            None
        }
    }

    /// Sending `message` failed: it goes back to the front, so order is kept; a lost
    /// connection also ends readiness.
    pub fn send_failed(&mut self, message: M, why: SendFailure) {
        self.pending.push_front(message);
        if why == SendFailure::Lost {
            self.lost();
        }
    }

    /// Whether the daemon should wait for the seed socket to become writable.
    pub fn wants_writable(&self) -> bool {
        self.is_ready() && !self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;

    type Link = SeedLink<String>;

    fn flush(link: &mut Link) -> Vec<String> {
        core::iter::from_fn(|| link.next_to_flush()).collect()
    }

    #[test]
    fn queues_until_ready_then_flushes_in_order() {
        let mut link = Link::new();
        assert_eq!(link.submit("a".into()), Submit::Queued(1));
        link.connected();
        assert_eq!(link.submit("b".into()), Submit::Queued(2));
        assert!(
            flush(&mut link).is_empty(),
            "nothing goes out before seed ready"
        );
        assert!(link.ready());
        assert_eq!(link.handshakes(), 1);
        assert_eq!(flush(&mut link), ["a", "b"]);
        assert_eq!(link.submit("c".into()), Submit::SendNow("c".into()));
    }

    #[test]
    fn ready_without_connection_is_ignored() {
        let mut link = Link::new();
        link.submit("a".into());
        assert!(!link.ready());
        assert_eq!(link.phase(), Phase::Disconnected);
        assert!(flush(&mut link).is_empty());
    }

    #[test]
    fn a_lost_seed_requeues_at_the_front_and_a_restart_flushes_in_order() {
        let mut link = Link::new();
        link.connected();
        link.ready();
        link.submit("x".into());
        // The seed dies: the send of "a" fails; "b" comes later.
        link.send_failed("a".into(), SendFailure::Lost);
        assert!(!link.is_ready());
        assert_eq!(link.submit("b".into()), Submit::Queued(2));
        // The restarted seed: seed start -> connect -> pagemanagerd start -> seed ready.
        link.connected();
        assert_eq!(link.submit("c".into()), Submit::Queued(3));
        link.ready();
        assert_eq!(link.handshakes(), 2);
        assert_eq!(flush(&mut link), ["a", "b", "c"]);
    }

    #[test]
    fn a_full_socket_keeps_order_and_readiness() {
        let mut link = Link::new();
        link.connected();
        link.ready();
        // "0" goes out directly, and hits EAGAIN.
        assert_eq!(link.submit("0".into()), Submit::SendNow("0".into()));
        link.send_failed("0".into(), SendFailure::WouldBlock);
        assert!(link.is_ready());
        assert!(link.wants_writable());
        // A newer message waits behind it.
        assert_eq!(link.submit("1".into()), Submit::Queued(2));
        let first = link.next_to_flush();
        assert_eq!(first.as_deref(), Some("0"));
        link.send_failed("0".into(), SendFailure::WouldBlock);
        assert_eq!(flush(&mut link), ["0", "1"]);
        assert!(!link.wants_writable());
    }

    #[test]
    fn repeated_seed_ready_counts_one_handshake() {
        let mut link = Link::new();
        link.connected();
        link.ready();
        link.ready();
        assert_eq!(link.handshakes(), 1);
    }
}
