//! `wms_server`'s shared part: the WMS/IMS protocol, typed clients ([`WmsClient`],
//! [`ImsClient`]) for other processes, and [`Windows`], the window state (host-tested).
//!
//! WMS (service [`WMS_SERVICE`], default API): windows with an owner pid, a position, a size,
//! a title, a z-order and one focused window. A new window goes on top and takes the focus;
//! destroying the focused window gives the focus to the new top. Only the owner (or uid 0)
//! may change a window.
//!
//! IMS (service [`IMS_SERVICE`], default API): input routing. A client registers a listener
//! identity ([`ims::REGISTER_LISTENER`], an `OBJ_SVC`, e.g. from `Endpoint::add_callback`);
//! a key (injected with [`ims::INJECT_KEY`], or typed into `wms_ctl key`) goes to the
//! focused window's owner as a one-way [`ims::EVENT_KEY`] message to that identity. IMS
//! learns focus changes from WMS through the in-process Broadcast topic [`TOPIC_FOCUS`].
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use samgr::Error;
use samgr::client::{RemoteProxy, get_remote};
use samgr::ipc::{IoError, IpcReader, IpcWriter};

/// The window manager service.
pub const WMS_SERVICE: &str = "WMS";
/// The input manager service.
pub const IMS_SERVICE: &str = "IMS";
/// Broadcast topic WMS publishes focus changes on: `u32 window, u32 owner pid` (LE);
/// window 0 = no focus.
pub const TOPIC_FOCUS: u32 = 0x574D_5301;
/// Most windows.
pub const MAX_WINDOWS: usize = 32;
/// Longest title in bytes.
pub const MAX_TITLE: usize = 31;

/// WMS function codes.
pub mod wms {
    /// `i32 x, i32 y, u32 w, u32 h, string title` → `u32 id`.
    pub const CREATE: u32 = 1;
    /// `u32 id` → —.
    pub const DESTROY: u32 = 2;
    /// `u32 id, i32 x, i32 y` → —.
    pub const MOVE: u32 = 3;
    /// `u32 id, u32 w, u32 h` → —.
    pub const RESIZE: u32 = 4;
    /// `u32 id` → — (to the top).
    pub const RAISE: u32 = 5;
    /// `u32 id` → — (to the bottom).
    pub const LOWER: u32 = 6;
    /// `u32 id` → —.
    pub const FOCUS: u32 = 7;
    /// — → `u32 n`, then `n` windows top first (see [`super::Window`]).
    pub const LIST: u32 = 8;
    /// `u32 frames` → `u64 frame` after waiting that many 16 ms frames (at most 250): the
    /// compositor's "present and wait for vsync"; it holds the WMS thread meanwhile.
    pub const PRESENT: u32 = 9;
}

/// IMS function codes.
pub mod ims {
    /// `svc listener` → — (replaces the caller's earlier listener).
    pub const REGISTER_LISTENER: u32 = 1;
    /// `u32 keycode, bool down` → `u32 window, u32 owner pid` it was routed to.
    pub const INJECT_KEY: u32 = 2;
    /// One-way to a listener: `u32 window, u32 keycode, bool down, u64 sequence`.
    pub const EVENT_KEY: u32 = 1;
}

/// A window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Id (1..).
    pub id: u32,
    /// Owner process.
    pub owner: u32,
    /// Position.
    pub x: i32,
    /// Position.
    pub y: i32,
    /// Size.
    pub w: u32,
    /// Size.
    pub h: u32,
    /// Z position, 0 = bottom.
    pub z: u32,
    /// Whether it has the focus.
    pub focused: bool,
    /// Title.
    pub title: String,
}

impl Window {
    /// Writes it as LIST does.
    pub fn write(&self, out: &mut dyn IpcWriter) -> Result<(), IoError> {
        out.push_u32(self.id)?;
        out.push_u32(self.owner)?;
        out.push_i32(self.x)?;
        out.push_i32(self.y)?;
        out.push_u32(self.w)?;
        out.push_u32(self.h)?;
        out.push_u32(self.z)?;
        out.push_bool(self.focused)?;
        out.push_string(&self.title)
    }

    /// Reads one written by [`Window::write`].
    pub fn read(input: &mut dyn IpcReader) -> Result<Window, IoError> {
        Ok(Window {
            id: input.pop_u32()?,
            owner: input.pop_u32()?,
            x: input.pop_i32()?,
            y: input.pop_i32()?,
            w: input.pop_u32()?,
            h: input.pop_u32()?,
            z: input.pop_u32()?,
            focused: input.pop_bool()?,
            title: String::from(input.pop_string()?),
        })
    }
}

/// The window state WMS keeps.
#[derive(Debug, Default)]
pub struct Windows {
    /// Bottom to top.
    stack: Vec<Window>,
    focus: Option<u32>,
    next_id: u32,
}

impl Windows {
    /// No windows.
    pub fn new() -> Windows {
        Windows::default()
    }

    fn index(&self, id: u32) -> Result<usize, Error> {
        self.stack
            .iter()
            .position(|w| w.id == id)
            .ok_or(Error::NoService)
    }

    fn check_owner(&self, id: u32, pid: u32, uid: u32) -> Result<usize, Error> {
        let i = self.index(id)?;
        if self.stack[i].owner != pid && uid != 0 {
            return Err(Error::Permission);
        }
        Ok(i)
    }

    /// A new window on top, focused.
    pub fn create(
        &mut self,
        owner: u32,
        x: i32,
        y: i32,
        w: u32,
        h: u32,
        title: &str,
    ) -> Result<u32, Error> {
        if title.len() > MAX_TITLE || w == 0 || h == 0 {
            return Err(Error::Invalid);
        }
        if self.stack.len() >= MAX_WINDOWS {
            return Err(Error::NoMemory);
        }
        self.next_id += 1;
        let id = self.next_id;
        self.stack.push(Window {
            id,
            owner,
            x,
            y,
            w,
            h,
            z: 0,
            focused: false,
            title: String::from(title),
        });
        self.focus = Some(id);
        Ok(id)
    }

    /// Removes a window; the focus goes to the new top if it had it.
    pub fn destroy(&mut self, id: u32, pid: u32, uid: u32) -> Result<(), Error> {
        let i = self.check_owner(id, pid, uid)?;
        self.stack.remove(i);
        if self.focus == Some(id) {
            self.focus = self.stack.last().map(|w| w.id);
        }
        Ok(())
    }

    /// Moves a window.
    pub fn move_to(&mut self, id: u32, x: i32, y: i32, pid: u32, uid: u32) -> Result<(), Error> {
        let i = self.check_owner(id, pid, uid)?;
        (self.stack[i].x, self.stack[i].y) = (x, y);
        Ok(())
    }

    /// Resizes a window.
    pub fn resize(&mut self, id: u32, w: u32, h: u32, pid: u32, uid: u32) -> Result<(), Error> {
        if w == 0 || h == 0 {
            return Err(Error::Invalid);
        }
        let i = self.check_owner(id, pid, uid)?;
        (self.stack[i].w, self.stack[i].h) = (w, h);
        Ok(())
    }

    /// To the top (`top`) or the bottom.
    pub fn restack(&mut self, id: u32, top: bool, pid: u32, uid: u32) -> Result<(), Error> {
        let i = self.check_owner(id, pid, uid)?;
        let window = self.stack.remove(i);
        if top {
            self.stack.push(window);
        } else {
            self.stack.insert(0, window);
        }
        Ok(())
    }

    /// Gives a window the focus.
    pub fn focus(&mut self, id: u32, pid: u32, uid: u32) -> Result<(), Error> {
        self.check_owner(id, pid, uid)?;
        self.focus = Some(id);
        Ok(())
    }

    /// The focused window and its owner.
    pub fn focused(&self) -> Option<(u32, u32)> {
        let id = self.focus?;
        self.stack
            .iter()
            .find(|w| w.id == id)
            .map(|w| (w.id, w.owner))
    }

    /// Every window, top first, with z and focus filled in.
    pub fn list(&self) -> Vec<Window> {
        self.stack
            .iter()
            .enumerate()
            .rev()
            .map(|(z, w)| Window {
                z: z as u32,
                focused: self.focus == Some(w.id),
                ..w.clone()
            })
            .collect()
    }
}

/// A client of WMS in another process.
pub struct WmsClient(pub Arc<RemoteProxy>);

impl WmsClient {
    /// Looks WMS up through samgr.
    pub fn connect() -> Result<WmsClient, Error> {
        get_remote(WMS_SERVICE, None).map(WmsClient)
    }

    fn id_call(&self, code: u32, id: u32, a: i32, b: i32, args: usize) -> Result<(), Error> {
        self.0.invoke(
            code,
            |w| {
                w.push_u32(id)?;
                if args == 2 {
                    w.push_i32(a)?;
                    w.push_i32(b)?;
                }
                Ok(())
            },
            |_| Ok(()),
        )
    }

    /// CREATE.
    pub fn create(&self, x: i32, y: i32, w: u32, h: u32, title: &str) -> Result<u32, Error> {
        self.0.invoke(
            wms::CREATE,
            |o| {
                o.push_i32(x)?;
                o.push_i32(y)?;
                o.push_u32(w)?;
                o.push_u32(h)?;
                o.push_string(title)
            },
            |r| r.pop_u32(),
        )
    }

    /// DESTROY.
    pub fn destroy(&self, id: u32) -> Result<(), Error> {
        self.id_call(wms::DESTROY, id, 0, 0, 0)
    }

    /// MOVE.
    pub fn move_to(&self, id: u32, x: i32, y: i32) -> Result<(), Error> {
        self.id_call(wms::MOVE, id, x, y, 2)
    }

    /// RESIZE.
    pub fn resize(&self, id: u32, w: u32, h: u32) -> Result<(), Error> {
        self.0.invoke(
            wms::RESIZE,
            |o| {
                o.push_u32(id)?;
                o.push_u32(w)?;
                o.push_u32(h)
            },
            |_| Ok(()),
        )
    }

    /// RAISE.
    pub fn raise(&self, id: u32) -> Result<(), Error> {
        self.id_call(wms::RAISE, id, 0, 0, 0)
    }

    /// LOWER.
    pub fn lower(&self, id: u32) -> Result<(), Error> {
        self.id_call(wms::LOWER, id, 0, 0, 0)
    }

    /// FOCUS.
    pub fn focus(&self, id: u32) -> Result<(), Error> {
        self.id_call(wms::FOCUS, id, 0, 0, 0)
    }

    /// LIST, top first.
    pub fn list(&self) -> Result<Vec<Window>, Error> {
        self.0.invoke(
            wms::LIST,
            |_| Ok(()),
            |r| {
                let n = r.pop_u32()?;
                (0..n).map(|_| Window::read(r)).collect()
            },
        )
    }

    /// PRESENT: waits `frames` frames in the server.
    pub fn present(&self, frames: u32) -> Result<u64, Error> {
        self.0
            .invoke(wms::PRESENT, |w| w.push_u32(frames), |r| r.pop_u64())
    }
}

/// A client of IMS in another process.
pub struct ImsClient(pub Arc<RemoteProxy>);

impl ImsClient {
    /// Looks IMS up through samgr.
    pub fn connect() -> Result<ImsClient, Error> {
        get_remote(IMS_SERVICE, None).map(ImsClient)
    }

    /// REGISTER_LISTENER.
    pub fn register_listener(&self, listener: abi::liteipc::SvcIdentity) -> Result<(), Error> {
        self.0
            .invoke(ims::REGISTER_LISTENER, |w| w.push_svc(listener), |_| Ok(()))
    }

    /// INJECT_KEY: (window, owner pid) it went to.
    pub fn inject_key(&self, keycode: u32, down: bool) -> Result<(u32, u32), Error> {
        self.0.invoke(
            ims::INJECT_KEY,
            |w| {
                w.push_u32(keycode)?;
                w.push_bool(down)
            },
            |r| Ok((r.pop_u32()?, r.pop_u32()?)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_focuses_and_stacks_on_top() {
        let mut w = Windows::new();
        let a = w.create(10, 0, 0, 100, 50, "a").unwrap();
        let b = w.create(11, 5, 5, 20, 20, "b").unwrap();
        assert_eq!(w.focused(), Some((b, 11)));
        let list = w.list();
        assert_eq!(
            list.iter()
                .map(|x| (x.id, x.z, x.focused))
                .collect::<Vec<_>>(),
            vec![(b, 1, true), (a, 0, false)]
        );
        w.restack(b, false, 11, 5).unwrap();
        assert_eq!(w.list()[0].id, a);
        w.destroy(b, 11, 5).unwrap();
        assert_eq!(w.focused(), Some((a, 10)));
    }

    #[test]
    fn only_the_owner_or_root_changes_a_window() {
        let mut w = Windows::new();
        let a = w.create(10, 0, 0, 100, 50, "a").unwrap();
        assert_eq!(w.move_to(a, 1, 2, 11, 5), Err(Error::Permission));
        w.move_to(a, 1, 2, 11, 0).unwrap();
        w.resize(a, 7, 8, 10, 5).unwrap();
        assert_eq!(w.resize(a, 0, 8, 10, 5), Err(Error::Invalid));
        let win = &w.list()[0];
        assert_eq!((win.x, win.y, win.w, win.h), (1, 2, 7, 8));
        assert_eq!(w.focus(99, 10, 0), Err(Error::NoService));
    }

    #[test]
    fn limits_and_round_trip() {
        let mut w = Windows::new();
        assert_eq!(
            w.create(1, 0, 0, 1, 1, &"t".repeat(MAX_TITLE + 1)),
            Err(Error::Invalid)
        );
        for _ in 0..MAX_WINDOWS {
            w.create(1, 0, 0, 1, 1, "x").unwrap();
        }
        assert_eq!(w.create(1, 0, 0, 1, 1, "x"), Err(Error::NoMemory));
        let mut io = samgr::MemIo::new();
        let win = w.list().remove(0);
        win.write(&mut io).unwrap();
        assert_eq!(Window::read(&mut io), Ok(win));
    }
}
