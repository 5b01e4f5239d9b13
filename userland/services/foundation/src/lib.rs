//! `foundation`'s pure part: reading `/etc/system_capability.json` (upstream
//! `samgr_server.c` `ParseSysCap`: an object whose `systemCapability` array holds
//! `{"name": ..., "register-on-startup": bool}` entries) into a [`SysCapTable`].
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use samgr::syscap::SysCapTable;
use serde::Deserialize;

/// Where the capability list lives.
pub const SYSCAP_FILE: &str = "/etc/system_capability.json";

#[derive(Deserialize)]
struct SysCapFile {
    #[serde(rename = "systemCapability")]
    system_capability: Vec<SysCapEntry>,
}

#[derive(Deserialize)]
struct SysCapEntry {
    name: String,
    #[serde(rename = "register-on-startup", default)]
    register_on_startup: bool,
}

/// Why the file was not used.
#[derive(Debug, PartialEq, Eq)]
pub enum SysCapError {
    /// Not JSON of the expected shape.
    Syntax,
}

/// Parses the file's bytes. Bad entries (empty or too long names, duplicates, beyond
/// `MAX_SYSCAP_NUM`) are skipped with a warning, as upstream does; returns the table and the
/// number skipped.
pub fn parse_syscaps(json: &[u8]) -> Result<(SysCapTable, usize), SysCapError> {
    let file: SysCapFile = serde_json::from_slice(json).map_err(|_| SysCapError::Syntax)?;
    let mut table = SysCapTable::new();
    let mut skipped = 0;
    for entry in file.system_capability {
        if let Err(e) = table.add(&entry.name, entry.register_on_startup) {
            log::warn!("foundation: syscap {:?} skipped: {e}", entry.name);
            skipped += 1;
        }
    }
    Ok((table, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_parses() {
        let json = include_bytes!("../../../etc/system_capability.json");
        let (table, skipped) = parse_syscaps(json).unwrap();
        assert_eq!(skipped, 0);
        assert!(table.len() > 40);
        assert!(table.is_registered("SystemCapability.Startup.SystemInfo"));
        assert!(!table.is_registered("SystemCapability.Communication.WiFi.STA"));
    }

    #[test]
    fn bad_entries_are_skipped_and_bad_files_refused() {
        let json = br#"{"systemCapability": [{"name": "A", "register-on-startup": true},
            {"name": "A"}, {"name": ""}, {"name": "B"}]}"#;
        let (table, skipped) = parse_syscaps(json).unwrap();
        assert_eq!((table.len(), skipped), (2, 2));
        assert!(!table.is_registered("B"));
        assert_eq!(parse_syscaps(b"[1, 2]").err(), Some(SysCapError::Syntax));
    }
}
