//! System capabilities (upstream `SysCapImpl` and `ProcSysCap` in `samgr_server.c`): the samgr
//! server's table, loaded from `/etc/system_capability.json` (`name`, `register-on-startup`),
//! answered for `SYSCAP` `PUT` (mark registered), `GET` (is it registered) and paged `ALL`.
//! Only the data type lives here; the server parses the file and does the IPC.

use crate::errno::Error;
use alloc::string::String;
use alloc::vec::Vec;

/// Capabilities in the table (`MAX_SYSCAP_NUM`).
pub const MAX_SYSCAP_NUM: usize = 512;
/// Longest name in bytes (`MAX_SYSCAP_NAME_LEN`).
pub const MAX_SYSCAP_NAME_LEN: usize = 64;
/// Names per `ALL` reply (`MAX_SYSCAP_NUM_PER_REPLY`).
pub const MAX_SYSCAP_NUM_PER_REPLY: usize = 118;
/// Callers with a uid below this may use SYSCAP requests (`UID_HAP`).
pub const UID_HAP: u32 = 10000;

/// One capability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysCap {
    /// Name, 1..=64 bytes.
    pub name: String,
    /// Whether it is registered (available).
    pub is_register: bool,
}

/// One page of registered capability names (`ProcGetAllSysCap`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysCapPage {
    /// Registered names from the requested start.
    pub names: Vec<String>,
    /// Where the next request starts.
    pub next: usize,
    /// Whether this is the last page.
    pub is_end: bool,
}

/// The capability table, in insertion order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SysCapTable {
    caps: Vec<SysCap>,
}

fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > MAX_SYSCAP_NAME_LEN {
        Err(Error::Invalid)
    } else {
        Ok(())
    }
}

impl SysCapTable {
    /// An empty table.
    pub fn new() -> SysCapTable {
        SysCapTable::default()
    }

    /// Adds a capability from the configuration file. `Invalid`: bad name; `Failure`:
    /// duplicate (ignored upstream with a warning); `NoMemory`: [`MAX_SYSCAP_NUM`] reached.
    pub fn add(&mut self, name: &str, is_register: bool) -> Result<(), Error> {
        check_name(name)?;
        if self.caps.iter().any(|c| c.name == name) {
            return Err(Error::Failure);
        }
        if self.caps.len() >= MAX_SYSCAP_NUM {
            return Err(Error::NoMemory);
        }
        self.caps.push(SysCap {
            name: String::from(name),
            is_register,
        });
        Ok(())
    }

    /// `PUT`: marks a known capability registered. `Invalid`: bad name; `Failure`: unknown.
    pub fn register(&mut self, name: &str) -> Result<(), Error> {
        check_name(name)?;
        let cap = self
            .caps
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or(Error::Failure)?;
        cap.is_register = true;
        Ok(())
    }

    /// `GET`: whether `name` is known and registered.
    pub fn is_registered(&self, name: &str) -> bool {
        check_name(name).is_ok() && self.caps.iter().any(|c| c.name == name && c.is_register)
    }

    /// `ALL`: up to [`MAX_SYSCAP_NUM_PER_REPLY`] registered names from index `start`.
    pub fn page(&self, start: usize) -> SysCapPage {
        let mut names = Vec::new();
        let mut next = start.min(self.caps.len());
        for cap in self.caps.iter().skip(start) {
            if names.len() >= MAX_SYSCAP_NUM_PER_REPLY {
                break;
            }
            next += 1;
            if cap.is_register {
                names.push(cap.name.clone());
            }
        }
        SysCapPage {
            is_end: next == self.caps.len(),
            names,
            next,
        }
    }

    /// Every capability.
    pub fn iter(&self) -> impl Iterator<Item = &SysCap> {
        self.caps.iter()
    }

    /// Number of capabilities.
    pub fn len(&self) -> usize {
        self.caps.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.caps.is_empty()
    }
}
