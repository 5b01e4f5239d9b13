//! `/bin/page <id> <uri>`: a page process, as seed spawns it for DPMS. It connects to
//! [`DPMS_SOCKET`], reports `page <id> running`, then waits on that connection: `exit`
//! makes it report `page <id> stopped` and exit 0; the connection ending (DPMS died: the
//! page table that knew this page is gone) makes it exit too. Otherwise it lives until
//! killed. DPMS takes the page's pid from the connection's peer credentials.
//!
//! The URI [`CRASH_URI`] makes the page crash (panic, status 101) right after reporting
//! `running`, so tests can watch DPMS mark a crashed page dead.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use dpms_proto::DPMS_SOCKET;
use dpms_proto::message::{PAGE_EXIT, PageReport, Reported, text};
use ulib::net::UnixSeqPacket;
use ulib::{env, println, process, sys};

/// A page opened with this URI crashes once running.
const CRASH_URI: &str = "page://crash";
/// Descriptors a process can have (the kernel's `MAX_FDS`).
const FD_LIMIT: usize = 64;
/// Bytes of a message from DPMS the page reads (it only expects `exit`).
const MESSAGE_BUFFER: usize = 256;
/// Exit status for a bad command line or no DPMS.
const FAILURE: i32 = 1;

fn main() -> i32 {
    close_inherited();
    let (Some(id), Some(uri)) = (env::arg(1).and_then(|a| a.parse::<u32>().ok()), env::arg(2))
    else {
        println!("usage: page ID URI");
        return FAILURE;
    };
    let dpms = match UnixSeqPacket::connect(DPMS_SOCKET) {
        Ok(s) => s,
        Err(e) => {
            println!("page {id}: cannot reach pagemanagerd: {e:?}");
            return FAILURE;
        }
    };
    let report = |state| PageReport { id, state }.encode();
    if let Err(e) = dpms.send(report(Reported::Running).as_bytes()) {
        println!("page {id}: cannot report to pagemanagerd: {e:?}");
        return FAILURE;
    }
    println!(
        "page {id} ({uri}): running as pid {} (uid {})",
        process::getpid(),
        process::getuid()
    );
    if uri == CRASH_URI {
        panic!("page {id}: crashing as its URI asks");
    }
    let mut buf = [0u8; MESSAGE_BUFFER];
    loop {
        match dpms.recv(&mut buf) {
            Ok(0) | Err(_) => {
                println!("page {id}: pagemanagerd went away; exiting");
                return 0;
            }
            Ok(n) => match text(buf.get(..n).unwrap_or_default()) {
                Ok(PAGE_EXIT) => {
                    let _ = dpms.send(report(Reported::Stopped).as_bytes());
                    println!("page {id}: stopped");
                    return 0;
                }
                _ => println!("page {id}: dropped an unknown message"),
            },
        }
    }
}

/// Closes every descriptor but the console's 0, 1 and 2. `spawn` passes on every
/// descriptor not marked close-on-exec, and connections seed accepted cannot be (the
/// kernel's `accept` takes no flags): a page holding one would keep DPMS's connection to
/// a dead seed open. Android's zygote children close the zygote socket the same way.
fn close_inherited() {
    for fd in 3..FD_LIMIT {
        let _ = sys::close(fd);
    }
}

ulib::entry!(main);
