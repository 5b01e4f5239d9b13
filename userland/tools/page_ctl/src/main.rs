//! `/bin/page_ctl`: the shell's `page` command, a client of DPMS's page service over
//! [`DPMS_SOCKET`] (one JSON request, one JSON reply):
//! - `open URI`: opens a page; prints it once it runs (or `pending` while seed is not
//!   ready: the request waits in DPMS's queue for seed);
//! - `close ID`: closes a page; returns once its process is gone (or `closing` while seed
//!   is not ready);
//! - `list`: prints every page: id, uri, state, pid;
//! - `fuzz`: sends malformed messages to both daemons' sockets (a robustness test: both
//!   must log and drop them and keep serving).
//!
//! With `--samgr` first, `open`/`close`/`list` go over LiteIPC to the samgr service
//! `dpms` instead of the socket (same requests, same answers).
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;
use dpms_proto::message::{PageInfo, Reply, Request};
use dpms_proto::{DPMS_SOCKET, SAMGR_SERVICE, SEED_SOCKET, code};
use samgr::ipc::{IpcReader, pop_owned_string};
use ulib::net::{self, MAX_MESSAGE, POLLIN, UnixSeqPacket};
use ulib::{Errno, env, println};

/// How long to wait for DPMS's answer (opening a page spawns a process).
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// Exit status: DPMS refused the request or could not be asked.
const FAILED: i32 = 1;
/// Exit status: bad command line.
const USAGE: i32 = 2;

/// How a request reaches DPMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    /// Its socket.
    Socket,
    /// samgr (LiteIPC).
    Samgr,
}

fn main() -> i32 {
    let mut args: Vec<&str> = env::args().skip(1).collect();
    let via = if args.first() == Some(&"--samgr") {
        args.remove(0);
        Via::Samgr
    } else {
        Via::Socket
    };
    match args.as_slice() {
        ["open", uri] => request(&Request::Open { uri: (*uri).into() }, via),
        ["close", id] => match id.parse() {
            Ok(id) => request(&Request::Close { id }, via),
            Err(_) => usage(),
        },
        ["list"] => request(&Request::List, via),
        ["fuzz"] if via == Via::Socket => fuzz(),
        _ => usage(),
    }
}

fn usage() -> i32 {
    println!("usage: page_ctl [--samgr] open URI | close ID | list; page_ctl fuzz");
    USAGE
}

/// Sends `request` and prints DPMS's reply.
fn request(request: &Request, via: Via) -> i32 {
    let answer = match via {
        Via::Socket => ask(request),
        Via::Samgr => ask_samgr(request),
    };
    let reply = match answer {
        Ok(reply) => reply,
        Err(why) => {
            println!("page: {why}");
            return FAILED;
        }
    };
    if !reply.ok {
        println!("page: {}", reply.error.as_deref().unwrap_or("refused"));
        return FAILED;
    }
    match request {
        Request::List => print_list(&reply.pages),
        Request::Open { uri } => match reply.pages.first() {
            Some(page) => println!(
                "page {} {}: {} pid {}",
                page.id,
                page.state.name(),
                page.uri,
                pid_text(page)
            ),
            None => println!("page: {uri}: no page"),
        },
        Request::Close { id } => match reply.pages.first() {
            Some(page) => println!("page {id} {}", page.state.name()),
            None => println!("page {id} closed"),
        },
    }
    0
}

fn ask(request: &Request) -> Result<Reply, String> {
    let socket = UnixSeqPacket::connect(DPMS_SOCKET)
        .map_err(|e| format!("pagemanagerd unreachable at {DPMS_SOCKET}: {e:?}"))?;
    socket
        .send(request.encode().as_bytes())
        .map_err(|e| format!("send: {e:?}"))?;
    let mut fds = [net::poll_fd(socket.fd(), POLLIN)];
    match net::poll(&mut fds, Some(REPLY_TIMEOUT)) {
        Ok(0) => return Err(format!("no answer within {} s", REPLY_TIMEOUT.as_secs())),
        Ok(_) => {}
        Err(e) => return Err(format!("poll: {e:?}")),
    }
    let mut buf = vec![0u8; MAX_MESSAGE];
    match socket.try_recv(&mut buf) {
        Ok(0) => Err(String::from("pagemanagerd closed the connection")),
        Ok(n) => {
            Reply::parse(buf.get(..n).unwrap_or_default()).map_err(|e| format!("bad answer: {e}"))
        }
        Err(e) => Err(format!("recv: {e:?}")),
    }
}

/// The same request over LiteIPC, to the samgr service `dpms`.
fn ask_samgr(request: &Request) -> Result<Reply, String> {
    let proxy = samgr::client::get_remote(SAMGR_SERVICE, None)
        .map_err(|e| format!("samgr has no {SAMGR_SERVICE:?}: {e}"))?;
    let read = |r: &mut dyn IpcReader| pop_owned_string(r);
    let text = match request {
        Request::Open { uri } => proxy.invoke(code::OPEN, |w| w.push_string(uri), read),
        Request::Close { id } => proxy.invoke(code::CLOSE, |w| w.push_u32(*id), read),
        Request::List => proxy.invoke(code::LIST, |_| Ok(()), read),
    }
    .map_err(|e| format!("samgr call failed: {e}"))?;
    Reply::parse(text.as_bytes()).map_err(|e| format!("bad answer: {e}"))
}

fn pid_text(page: &PageInfo) -> String {
    page.pid
        .map_or_else(|| String::from("-"), |p| format!("{p}"))
}

fn print_list(pages: &[PageInfo]) {
    println!("{:>4} {:<24} {:<8} {:>5}", "ID", "URI", "STATE", "PID");
    for page in pages {
        println!(
            "{:>4} {:<24} {:<8} {:>5}",
            page.id,
            page.uri,
            page.state.name(),
            pid_text(page)
        );
    }
    println!("{} page(s)", pages.len());
}

/// Malformed messages both daemons must survive: not UTF-8, broken and deep JSON, JSON
/// of the wrong shape or with out-of-range fields, near-miss handshake words, a message
/// of the largest size.
fn garbage() -> Vec<Vec<u8>> {
    let mut messages: Vec<Vec<u8>> = [
        &b"\xff\xfe\x00\x01binary"[..],
        b"{",
        b"}",
        b"null",
        b"[1,2,3]",
        b"{\"action\":\"fork\"}",
        b"{\"action\":\"fork\",\"page\":1,\"program\":\"relative/path\"}",
        b"{\"action\":\"fork\",\"page\":1,\"program\":\"/bin/page\",\"priority\":99}",
        b"{\"action\":\"explode\",\"page\":1}",
        b"{\"event\":\"exited\"}",
        b"{\"op\":\"open\",\"uri\":\"has space\"}",
        b"{\"op\":42}",
        b"{\"page\":4294967296}",
        b"page x running",
        b"page 1 flying",
        b"seed ready!",
        b"pagemanagerd start please",
        b"\0\0\0\0",
    ]
    .iter()
    .map(|m| m.to_vec())
    .collect();
    messages.push("[".repeat(4096).into_bytes());
    messages.push(vec![b'x'; MAX_MESSAGE]);
    messages
}

/// Sends [`garbage`] to one socket on one connection, then opens and drops a connection
/// without a word, and one that sends an empty message; returns how many were sent.
fn fuzz_one(path: &str) -> Result<usize, Errno> {
    let socket = UnixSeqPacket::connect(path)?;
    let mut sent = 0;
    for message in garbage() {
        socket.send(&message)?;
        sent += 1;
    }
    // Too long for the kernel: refused at our end, never delivered.
    if socket.send(&vec![b'y'; MAX_MESSAGE + 1]) != Err(Errno::EMSGSIZE) {
        println!("fuzz: {path}: an oversized message was not refused with EMSGSIZE");
    }
    drop(UnixSeqPacket::connect(path)?);
    UnixSeqPacket::connect(path)?.send(b"")?;
    Ok(sent + 1)
}

fn fuzz() -> i32 {
    let mut status = 0;
    for path in [DPMS_SOCKET, SEED_SOCKET] {
        match fuzz_one(path) {
            Ok(n) => println!("fuzz: sent {n} malformed messages to {path}"),
            Err(e) => {
                println!("fuzz: {path}: {e:?}");
                status = FAILED;
            }
        }
    }
    status
}

ulib::entry!(main);
