//! Local sockets: message boundaries, full buffers, poll wake-ups, peer death, naming.

use crate::fs::poll;
use crate::ipc::socket::{Kind, Socket};
use crate::sched::{self, Policy, Priority, WakeReason};
use crate::{kassert, kassert_eq, ksome, ktest, time};
use abi::Errno;
use abi::socket::{SOCKET_BUFFER, Ucred};
use alloc::sync::Arc;
use kcore::vfs::Cred;

const ROOT: Cred = Cred { uid: 0, gid: 0 };
const ME: Ucred = Ucred {
    pid: 0,
    uid: 0,
    gid: 0,
};

/// (client, server end, listener).
type Connection = (Arc<Socket>, Arc<Socket>, Arc<Socket>);

/// A connected pair through a listener bound at `path`.
fn pair(path: &str) -> Result<Connection, Errno> {
    let listener = Socket::new(
        Kind::SeqPacket,
        Ucred {
            pid: 7,
            uid: 7,
            gid: 7,
        },
        false,
    );
    listener.bind(path, ROOT)?;
    listener.listen(4)?;
    let client = Socket::new(
        Kind::SeqPacket,
        Ucred {
            pid: 9,
            uid: 1000,
            gid: 1000,
        },
        false,
    );
    client.connect(path)?;
    let server = listener.accept()?;
    Ok((client, server, listener))
}

ktest!(
    fn seqpacket_keeps_message_boundaries_and_credentials() {
        let (client, server, _listener) = ksome!(pair("/dev/socket/t-boundaries").ok(), "pair");
        kassert_eq!(client.send(b"abc", None, false, ME), Ok(3));
        kassert_eq!(client.send(b"defgh", None, false, ME), Ok(5));
        let mut buf = [0u8; 64];
        kassert_eq!(server.recv(&mut buf, false).map(|(n, _)| n), Ok(3));
        kassert_eq!(&buf[..3], b"abc");
        let mut small = [0u8; 2];
        kassert_eq!(server.recv(&mut small, false).map(|(n, _)| n), Ok(2)); // rest of "defgh" dropped
        kassert_eq!(
            server.recv(&mut buf, true).map(|(n, _)| n),
            Err(Errno::EAGAIN)
        );
        kassert_eq!(
            server.peer_cred(),
            Ok(Ucred {
                pid: 9,
                uid: 1000,
                gid: 1000
            })
        );
        kassert_eq!(
            client.peer_cred(),
            Ok(Ucred {
                pid: 7,
                uid: 7,
                gid: 7
            })
        );
        Ok(())
    }
);

ktest!(
    fn full_nonblocking_socket_gives_eagain() {
        let (client, server, _listener) = ksome!(pair("/dev/socket/t-full").ok(), "pair");
        client.set_nonblocking(true);
        let chunk = [7u8; 4096];
        let mut sent = 0;
        loop {
            match client.send(&chunk, None, false, ME) {
                Ok(n) => sent += n,
                Err(e) => {
                    kassert_eq!(e, Errno::EAGAIN);
                    break;
                }
            }
            kassert!(sent <= SOCKET_BUFFER, "buffer is unbounded");
        }
        kassert_eq!(sent, SOCKET_BUFFER);
        let mut buf = [0u8; 4096];
        kassert_eq!(server.recv(&mut buf, false).map(|(n, _)| n), Ok(4096));
        kassert!(
            client.send(&chunk, None, false, ME).is_ok(),
            "space freed by the read is usable"
        );
        Ok(())
    }
);

static WOKE_AT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

extern "C" fn wait_for_readable(_: usize) {
    let socket = shared_socket();
    let deadline = time::now() + time::ns_to_ticks(2_000_000_000);
    if poll::wait_while(Some(deadline), || !socket.readiness().0) == WakeReason::Woken {
        WOKE_AT.store(time::now(), core::sync::atomic::Ordering::SeqCst);
    }
}

static SHARED: crate::sync::IrqSafeMutex<Option<Arc<Socket>>> =
    crate::sync::IrqSafeMutex::new(None);

/// The socket the test hands to its poller thread.
fn shared_socket() -> Arc<Socket> {
    SHARED.lock().clone().expect("test socket installed")
}

ktest!(
    fn poll_waiters_wake_when_data_arrives() {
        let (client, server, _listener) = ksome!(pair("/dev/socket/t-poll").ok(), "pair");
        *SHARED.lock() = Some(server.clone());
        WOKE_AT.store(0, core::sync::atomic::Ordering::SeqCst);
        let waiter = ksome!(
            sched::spawn_kernel_thread(
                "poller",
                Priority::new(5).expect("valid"),
                Policy::Fifo,
                wait_for_readable,
                0
            )
            .ok(),
            "spawn"
        );
        sched::sleep_until(time::now() + time::ns_to_ticks(5_000_000)); // the poller is asleep now
        kassert_eq!(WOKE_AT.load(core::sync::atomic::Ordering::SeqCst), 0);
        let sent_at = time::now();
        kassert_eq!(client.send(b"wake", None, false, ME), Ok(4));
        let _ = sched::join(waiter);
        *SHARED.lock() = None;
        let woke = WOKE_AT.load(core::sync::atomic::Ordering::SeqCst);
        kassert!(woke >= sent_at, "poller did not wake on the send");
        Ok(())
    }
);

ktest!(
    fn peer_death_is_end_of_stream_and_reset() {
        let (client, server, _listener) = ksome!(pair("/dev/socket/t-death").ok(), "pair");
        kassert_eq!(client.send(b"last", None, false, ME), Ok(4));
        drop(client);
        let mut buf = [0u8; 16];
        kassert_eq!(
            server.recv(&mut buf, false).map(|(n, _)| n),
            Ok(4),
            "queued data survives the peer"
        );
        kassert_eq!(
            server.recv(&mut buf, false).map(|(n, _)| n),
            Ok(0),
            "then end-of-stream, not a hang"
        );
        kassert_eq!(server.send(b"x", None, false, ME), Err(Errno::ECONNRESET));
        kassert!(server.readiness().2, "poll reports the hang-up");
        Ok(())
    }
);

ktest!(
    fn names_are_unique_and_connect_needs_a_listener() {
        let first = Socket::new(Kind::SeqPacket, ME, false);
        kassert_eq!(first.bind("/dev/socket/t-name", ROOT), Ok(()));
        let second = Socket::new(Kind::SeqPacket, ME, false);
        kassert_eq!(
            second.bind("/dev/socket/t-name", ROOT),
            Err(Errno::EADDRINUSE)
        );
        let client = Socket::new(Kind::SeqPacket, ME, false);
        kassert_eq!(
            client.connect("/dev/socket/t-name"),
            Err(Errno::ECONNREFUSED),
            "bound but not listening"
        );
        kassert_eq!(
            client.connect("/dev/socket/nobody"),
            Err(Errno::ECONNREFUSED)
        );
        kassert_eq!(second.bind("/no/such/dir/sock", ROOT), Err(Errno::ENOENT));
        drop(first);
        kassert_eq!(
            second.bind("/dev/socket/t-name", ROOT),
            Ok(()),
            "the name is free once its socket is gone"
        );
        Ok(())
    }
);

ktest!(
    fn datagrams_carry_sender_credentials() {
        let receiver = Socket::new(Kind::Datagram, ME, true);
        kassert_eq!(receiver.bind("/dev/socket/t-dgram", ROOT), Ok(()));
        let sender = Socket::new(Kind::Datagram, ME, true);
        let from = Ucred {
            pid: 42,
            uid: 5,
            gid: 6,
        };
        let target = ksome!(
            crate::ipc::socket::lookup("/dev/socket/t-dgram").ok(),
            "lookup"
        );
        kassert_eq!(
            sender.send(b"one", Some(target.clone()), false, from),
            Ok(3)
        );
        kassert_eq!(sender.send(b"three", Some(target), false, from), Ok(5));
        let mut buf = [0u8; 8];
        kassert_eq!(receiver.recv(&mut buf, false), Ok((3, from)));
        kassert_eq!(receiver.recv(&mut buf, false).map(|(n, _)| n), Ok(5));
        kassert_eq!(
            receiver.recv(&mut buf, false).map(|(n, _)| n),
            Err(Errno::EAGAIN)
        );
        Ok(())
    }
);
