//! The system's one filesystem tree: an in-memory tmpfs whose first content is the initramfs.
//!
//! OpenHarmony's init (startup_init_lite, see `reference/openharmony-facts.md` section 3 and the
//! conformance checklist section 3) runs `mkdir`, `chmod`, `chown`, `write`, `rm` and `rmdir` on
//! paths such as `/storage` and `/data`, and services then `stat` them; this module is where that
//! work is real. Files loaded from the archive reference the archive bytes in place (`&'a [u8]`)
//! and are copied into RAM on their first write or growth; everything created later lives in RAM.
//!
//! - Nodes are directories, regular files and device nodes (a device id the kernel chose; the
//!   kernel routes I/O on them to its driver, the tree only stores the node and its owner).
//! - Inode numbers are never reused, so a stale [`Ino`] held by an open file after `unlink`
//!   fails with `ENOENT` and can never alias a newer file.
//! - Permissions: owner, group (primary gid only), other; uid 0 bypasses every check. Creating
//!   or removing a name needs write and search on the parent; the sticky bit restricts removal
//!   to the file's or directory's owner, as for `/tmp`.
//! - Memory: [`Vfs::bytes_used`] counts RAM the tree owns — copied or written file bytes plus
//!   [`NODE_COST`] and the name bytes per node. Creation and growth past [`Vfs::set_capacity`]
//!   fail with `ENOSPC`; one file may not grow past [`MAX_FILE_SIZE`] (`EFBIG`).
//!
//! Not yet: symlinks, hard links, rename, timestamps, supplementary groups.

mod data;
mod node;
mod ops;
mod path;
mod populate;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_data;

use alloc::collections::BTreeMap;
use alloc::string::String;

use abi::Errno;
use abi::syscall::Stat;
use abi::syscall::file_type::{S_IFCHR, S_IFDIR, S_IFREG};

use node::{Body, Node};

pub use populate::PopulateReport;

/// Largest size a single file may reach.
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;
/// Longest single path component, as Linux's `NAME_MAX`.
pub const NAME_MAX: usize = 255;
/// Bytes charged to [`Vfs::bytes_used`] for each node, on top of its name.
pub const NODE_COST: usize = 64;
/// Permission bits a node keeps (rwx for all, setuid, setgid, sticky).
pub const PERM_MASK: u32 = 0o7777;

/// Inode number: names one node for as long as it exists; never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ino(pub u64);

impl Ino {
    /// The root directory.
    pub const ROOT: Ino = Ino(1);
}

/// Who is asking: the credentials permission checks use. uid 0 bypasses every check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cred {
    /// Effective user id.
    pub uid: u32,
    /// Effective (primary) group id.
    pub gid: u32,
}

impl Cred {
    /// The superuser.
    pub const ROOT: Cred = Cred { uid: 0, gid: 0 };
}

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A character device node, with the device id the kernel chose in [`Vfs::mknod`].
    Device(u32),
}

/// The access a caller wants, for [`Vfs::check_access`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Read a file, list a directory.
    pub read: bool,
    /// Write a file, create or remove names in a directory.
    pub write: bool,
    /// Execute a file, search (traverse) a directory.
    pub exec: bool,
}

impl Access {
    /// Read only.
    pub const READ: Access = Access {
        read: true,
        write: false,
        exec: false,
    };
    /// Write only.
    pub const WRITE: Access = Access {
        read: false,
        write: true,
        exec: false,
    };
    /// Execute / search only.
    pub const EXEC: Access = Access {
        read: false,
        write: false,
        exec: true,
    };
}

/// The filesystem tree. `'a` is the lifetime of the initramfs bytes files may reference.
#[derive(Debug)]
pub struct Vfs<'a> {
    /// Every live node by inode number.
    nodes: BTreeMap<Ino, Node<'a>>,
    /// Next inode number to hand out.
    next_ino: u64,
    /// Bytes charged so far (see the module docs).
    used: usize,
    /// Most bytes that may be charged.
    capacity: usize,
}

impl Default for Vfs<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Vfs<'a> {
    /// A tree holding only `/` (0755, root:root), with unlimited capacity.
    pub fn new() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(Ino::ROOT, Node::new_dir(Ino::ROOT, 0o755, 0, 0));
        Self {
            nodes,
            next_ino: Ino::ROOT.0 + 1,
            used: NODE_COST,
            capacity: usize::MAX,
        }
    }

    /// Resolves an absolute path without permission checks.
    ///
    /// Empty components (`//`) and `.` are skipped, `..` goes to the parent (`/..` is `/`), a
    /// trailing `/` requires a directory. Errors: `ENOENT` (missing, or empty path), `ENOTDIR`
    /// (a non-directory used as one), `ENAMETOOLONG` (path over `MAX_PATH` bytes or a component
    /// over [`NAME_MAX`]), `EINVAL` (relative path or a NUL byte).
    pub fn lookup(&self, path: &str) -> Result<Ino, Errno> {
        self.resolve(path, None)
    }

    /// [`lookup`](Self::lookup) as `cred`: every directory walked through needs search (exec)
    /// permission, else `EACCES`.
    pub fn lookup_as(&self, path: &str, cred: Cred) -> Result<Ino, Errno> {
        self.resolve(path, Some(cred))
    }

    /// Status of a node; `mode` includes the `S_IF*` type bits.
    pub fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        let node = self.node(ino)?;
        let (kind_bits, size, nlink) = match &node.body {
            Body::Dir(children) => {
                let subdirs = children.values().filter(|c| self.is_dir(**c)).count();
                (
                    S_IFDIR,
                    0,
                    u32::try_from(subdirs).unwrap_or(u32::MAX).saturating_add(2),
                )
            }
            Body::File(data) => (S_IFREG, data.len() as u64, 1),
            Body::Device(_) => (S_IFCHR, 0, 1),
        };
        Ok(Stat {
            ino: ino.0,
            size,
            mode: kind_bits | node.perm,
            uid: node.uid,
            gid: node.gid,
            nlink,
        })
    }

    /// What kind of node `ino` is.
    pub fn kind(&self, ino: Ino) -> Result<NodeKind, Errno> {
        Ok(self.node(ino)?.kind())
    }

    /// Entry `index` of a directory, in name (byte) order; `.` and `..` are not listed.
    /// `Ok(None)` past the end; `ENOTDIR` if `ino` is not a directory.
    pub fn read_dir(
        &self,
        ino: Ino,
        index: usize,
    ) -> Result<Option<(String, Ino, NodeKind)>, Errno> {
        let Body::Dir(children) = &self.node(ino)?.body else {
            return Err(Errno::ENOTDIR);
        };
        let Some((name, child)) = children.iter().nth(index) else {
            return Ok(None);
        };
        Ok(Some((name.clone(), *child, self.kind(*child)?)))
    }

    /// Checks that `cred` may access `ino` as `want` says; `EACCES` if not.
    ///
    /// The owner class applies if the uid matches, else the group class if the gid matches,
    /// else the other class (so an owner without a bit is refused even if others have it).
    pub fn check_access(&self, ino: Ino, cred: Cred, want: Access) -> Result<(), Errno> {
        let node = self.node(ino)?;
        if cred.uid == 0 {
            return Ok(());
        }
        let class = if cred.uid == node.uid {
            node.perm >> 6
        } else if cred.gid == node.gid {
            node.perm >> 3
        } else {
            node.perm
        };
        let denied = (want.read && class & 0o4 == 0)
            || (want.write && class & 0o2 == 0)
            || (want.exec && class & 0o1 == 0);
        if denied { Err(Errno::EACCES) } else { Ok(()) }
    }

    /// Sets the most bytes the tree may own; growth past it fails with `ENOSPC`. Lowering it
    /// below [`bytes_used`](Self::bytes_used) frees nothing but stops all growth.
    pub fn set_capacity(&mut self, bytes: usize) {
        self.capacity = bytes;
    }

    /// Bytes the tree owns now (see the module docs for what counts).
    pub fn bytes_used(&self) -> usize {
        self.used
    }

    /// The node for `ino`, or `ENOENT` if it does not exist (any more).
    fn node(&self, ino: Ino) -> Result<&Node<'a>, Errno> {
        self.nodes.get(&ino).ok_or(Errno::ENOENT)
    }

    /// Mutable access to the node for `ino`, or `ENOENT`.
    fn node_mut(&mut self, ino: Ino) -> Result<&mut Node<'a>, Errno> {
        self.nodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    /// Whether `ino` exists and is a directory.
    fn is_dir(&self, ino: Ino) -> bool {
        self.nodes
            .get(&ino)
            .is_some_and(|n| matches!(n.body, Body::Dir(_)))
    }

    /// Charges `bytes` against the capacity, or fails with `ENOSPC` charging nothing.
    fn charge(&mut self, bytes: usize) -> Result<(), Errno> {
        match self.used.checked_add(bytes) {
            Some(total) if total <= self.capacity => {
                self.used = total;
                Ok(())
            }
            _ => Err(Errno::ENOSPC),
        }
    }

    /// Returns `bytes` to the free pool.
    fn release(&mut self, bytes: usize) {
        self.used = self.used.saturating_sub(bytes);
    }

    /// Hands out a fresh inode number.
    fn alloc_ino(&mut self) -> Ino {
        let ino = Ino(self.next_ino);
        self.next_ino += 1;
        ino
    }
}
