//! Loading the initramfs: every newc member becomes a node that borrows the archive's bytes.
//!
//! Like Linux's `init/initramfs.c`, missing parent directories are created (0755 root:root)
//! and a later member with an existing name replaces the earlier one's content and metadata.
//! Members that cannot be placed are skipped and counted rather than failing the boot: unsafe
//! names (a `..` component, names over `MAX_PATH` or with a component over [`NAME_MAX`]), an
//! empty name that is not a directory, a parent that is not a directory, a kind the tree does
//! not hold (symlinks, device nodes, FIFOs: the kernel makes its own device nodes), or a
//! change of kind. Hard links are not merged. Loading ignores the capacity (the archive is
//! already in memory) but its nodes are charged, so a later cap sees them.

use alloc::vec::Vec;

use abi::Errno;
use abi::syscall::MAX_PATH;
use abi::syscall::file_type::{S_IFDIR, S_IFMT, S_IFREG};

use crate::cpio::{self, CpioEntry, CpioError};

use super::node::{Body, FileData, Node};
use super::{Ino, NAME_MAX, PERM_MASK, Vfs};

/// Outcome of [`Vfs::populate_from_cpio_report`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PopulateReport {
    /// Members that became (or updated) a node.
    pub loaded: usize,
    /// Members skipped because of an unsafe name or a kind the tree does not hold.
    pub skipped: usize,
}

/// Why one member was not loaded.
struct Skip;

impl<'a> Vfs<'a> {
    /// Loads every member of a newc archive: directories created as needed, files referencing
    /// the archive bytes, modes and owners from the archive. Returns the members loaded;
    /// members with unsafe names or unsupported kinds are skipped (see
    /// [`populate_from_cpio_report`](Self::populate_from_cpio_report) for the count).
    ///
    /// A malformed archive stops loading with its [`CpioError`]; members before it stay loaded.
    pub fn populate_from_cpio(&mut self, archive: &'a [u8]) -> Result<usize, CpioError> {
        self.populate_from_cpio_report(archive).map(|r| r.loaded)
    }

    /// [`populate_from_cpio`](Self::populate_from_cpio), also counting the skipped members.
    pub fn populate_from_cpio_report(
        &mut self,
        archive: &'a [u8],
    ) -> Result<PopulateReport, CpioError> {
        let mut report = PopulateReport::default();
        for entry in cpio::entries(archive) {
            match self.load_entry(&entry?) {
                Ok(()) => report.loaded += 1,
                Err(Skip) => report.skipped += 1,
            }
        }
        Ok(report)
    }

    /// Places one member in the tree.
    fn load_entry(&mut self, entry: &CpioEntry<'a>) -> Result<(), Skip> {
        if entry.name.len() > MAX_PATH {
            return Err(Skip);
        }
        let comps: Vec<&str> = entry
            .name
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        // Check every component before creating any parent.
        if comps.iter().any(|c| *c == ".." || c.len() > NAME_MAX) {
            return Err(Skip);
        }
        let kind = entry.mode & S_IFMT;
        let Some((name, dirs)) = comps.split_last() else {
            // The archive's "." entry: it describes the root directory.
            return if kind == S_IFDIR {
                self.set_meta(Ino::ROOT, entry)
            } else {
                Err(Skip)
            };
        };
        let mut parent = Ino::ROOT;
        for dir in dirs {
            parent = self.ensure_dir(parent, dir)?;
        }
        match (kind, self.child(parent, name)) {
            (S_IFDIR, None) => {
                let ino = self.ensure_dir(parent, name)?;
                self.set_meta(ino, entry)
            }
            (S_IFREG, None) => {
                let body = Body::File(FileData::Archive(entry.data));
                let node = Node::new(parent, entry.mode, entry.uid, entry.gid, body);
                self.insert_unbounded(parent, name, node).map(|_| ())
            }
            (S_IFDIR, Some(ino)) if self.is_dir(ino) => self.set_meta(ino, entry),
            (S_IFREG, Some(ino)) => self.replace_file(ino, entry),
            _ => Err(Skip),
        }
    }

    /// The directory `name` in `parent`, created 0755 root:root if missing.
    fn ensure_dir(&mut self, parent: Ino, name: &str) -> Result<Ino, Skip> {
        match self.child(parent, name) {
            Some(ino) if self.is_dir(ino) => Ok(ino),
            Some(_) => Err(Skip),
            None => self.insert_unbounded(parent, name, Node::new_dir(parent, 0o755, 0, 0)),
        }
    }

    /// Copies mode and owner from the archive member.
    fn set_meta(&mut self, ino: Ino, entry: &CpioEntry<'a>) -> Result<(), Skip> {
        let node = self.node_mut(ino).map_err(|_| Skip)?;
        node.perm = entry.mode & PERM_MASK;
        node.uid = entry.uid;
        node.gid = entry.gid;
        Ok(())
    }

    /// Points an existing regular file at a later member's data.
    fn replace_file(&mut self, ino: Ino, entry: &CpioEntry<'a>) -> Result<(), Skip> {
        let node = self.node_mut(ino).map_err(|_| Skip)?;
        let Body::File(data) = &mut node.body else {
            return Err(Skip);
        };
        let freed = data.owned_len();
        *data = FileData::Archive(entry.data);
        self.release(freed);
        self.set_meta(ino, entry)
    }

    /// [`insert`](Self::insert) that charges the node even past the capacity.
    fn insert_unbounded(&mut self, parent: Ino, name: &str, node: Node<'a>) -> Result<Ino, Skip> {
        let saved = self.capacity;
        self.capacity = usize::MAX;
        let result = self.insert(parent, name, node);
        self.capacity = saved;
        result.map_err(|_: Errno| Skip)
    }
}
