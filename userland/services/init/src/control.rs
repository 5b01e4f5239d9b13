//! The control thread: reads `/dev/initctl` (one whole message per read, blocking) and acts
//! on `start NAME`, `stop NAME`, `status`, `reboot` and `poweroff`. Replies go to the
//! console log, as init's other messages do.

use crate::supervisor::{self, Origin, Shutdown};
use abi::syscall::{INITCTL_MAX_MESSAGE, INITCTL_PATH};
use ulib::fs::File;
use ulib::{Errno, println, thread};

/// Starts the control thread at `priority`.
pub fn spawn(priority: u32) -> Result<(), Errno> {
    thread::spawn(run, priority).map(drop)
}

fn run() -> i32 {
    let mut channel = match File::open(INITCTL_PATH) {
        Ok(file) => file,
        Err(e) => {
            println!("init: cannot open {INITCTL_PATH}: {e:?}; no control requests");
            return 1;
        }
    };
    let mut buf = [0u8; INITCTL_MAX_MESSAGE];
    loop {
        match channel.read(&mut buf) {
            Ok(n) => handle(buf.get(..n).unwrap_or_default()),
            Err(Errno::EINTR) => {}
            Err(e) => {
                println!("init: {INITCTL_PATH}: {e:?}; control thread ends");
                return 1;
            }
        }
    }
}

/// Acts on one message.
fn handle(message: &[u8]) {
    let text = core::str::from_utf8(message).unwrap_or("").trim();
    let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
    let arg = arg.trim();
    match (verb, arg) {
        ("start", name) if !name.is_empty() => supervisor::start(name, Origin::Request),
        ("stop", name) if !name.is_empty() => supervisor::stop(name),
        ("status", "") => supervisor::print_status(),
        ("reboot", "") => supervisor::shut_down(Shutdown::Restart, "requested on /dev/initctl"),
        ("poweroff", "") => supervisor::shut_down(Shutdown::PowerOff, "requested on /dev/initctl"),
        _ => println!(
            "init: initctl: unknown request {text:?} (start NAME, stop NAME, status, reboot, poweroff)"
        ),
    }
}
