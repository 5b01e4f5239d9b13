//! `/bin/wms_ctl`: lists the windows of `wms_server` top first (id, title, owner, geometry,
//! z, focus); `wms_ctl key CODE` injects a key press through IMS (a key typed at the
//! console), which IMS routes to the focused window's owner. Run by the shell's `wms`.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use ulib::println;
use wms_server::{ImsClient, WmsClient};

fn main() -> i32 {
    if ulib::env::arg(1) == Some("key") {
        let Some(code) = ulib::env::arg(2).and_then(|c| c.parse().ok()) else {
            println!("usage: wms key CODE");
            return 2;
        };
        return match ImsClient::connect().and_then(|ims| ims.inject_key(code, true)) {
            Ok((window, pid)) => {
                println!("key {code} -> window {window} (pid {pid})");
                0
            }
            Err(e) => {
                println!("wms: key not delivered: {e}");
                1
            }
        };
    }
    let list = match WmsClient::connect().and_then(|wms| wms.list()) {
        Ok(list) => list,
        Err(e) => {
            println!("wms: cannot reach WMS: {e}");
            return 1;
        }
    };
    println!("  ID  TITLE                             PID      X      Y      W      H   Z");
    for w in &list {
        println!(
            "{}{:>3}  {:<32} {:>4} {:>6} {:>6} {:>6} {:>6} {:>3}",
            if w.focused { '*' } else { ' ' },
            w.id,
            w.title,
            w.owner,
            w.x,
            w.y,
            w.w,
            w.h,
            w.z
        );
    }
    println!("{} window(s)", list.len());
    0
}

ulib::entry!(main);
