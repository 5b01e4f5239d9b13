//! Namespace operations: create and remove names, change owner and mode.
//!
//! Error order follows Linux where it is observable: a name that exists gives `EEXIST` before
//! any write-permission check on the parent; removal checks permission before emptiness.

use alloc::string::String;

use abi::Errno;

use super::node::{Body, FileData, Node};
use super::path::Last;
use super::{Access, Cred, Ino, NODE_COST, PERM_MASK, Vfs};

/// The sticky bit: in such a directory only owners may remove names.
const S_ISVTX: u32 = 0o1000;
/// `chown` value meaning "leave unchanged" (`(uid_t)-1`).
const ID_UNCHANGED: u32 = u32::MAX;

/// Write and search: what creating or removing a name needs on the parent.
const WRITE_SEARCH: Access = Access {
    read: false,
    write: true,
    exec: true,
};

impl<'a> Vfs<'a> {
    /// Creates a directory with permission bits `mode & 0o7777`, owned by `cred`.
    ///
    /// `EEXIST` if the name exists (or is `/`, `.`, `..`), `ENOENT` if the parent is missing
    /// (init's "mkdir under a missing parent" case), `ENOTDIR` if it is not a directory,
    /// `EACCES` without write and search permission on it, `ENOSPC` past the capacity.
    pub fn mkdir(&mut self, path: &str, mode: u32, cred: Cred) -> Result<Ino, Errno> {
        let (parent, last, _) = self.resolve_parent(path, Some(cred))?;
        let name = self.new_name(parent, last)?;
        self.check_access(parent, cred, WRITE_SEARCH)?;
        let node = Node::new_dir(parent, mode, cred.uid, cred.gid);
        self.insert(parent, name, node)
    }

    /// Creates an empty regular file with permission bits `mode & 0o7777`, owned by `cred`.
    ///
    /// Errors as [`mkdir`](Self::mkdir); a trailing slash gives `EISDIR`.
    pub fn create_file(&mut self, path: &str, mode: u32, cred: Cred) -> Result<Ino, Errno> {
        let (parent, last, trailing_slash) = self.resolve_parent(path, Some(cred))?;
        let name = self.new_name(parent, last)?;
        if trailing_slash {
            return Err(Errno::EISDIR);
        }
        self.check_access(parent, cred, WRITE_SEARCH)?;
        let node = Node::new(
            parent,
            mode,
            cred.uid,
            cred.gid,
            Body::File(FileData::Owned(alloc::vec::Vec::new())),
        );
        self.insert(parent, name, node)
    }

    /// Creates a device node for the kernel's device `device`, owned by root. Kernel-only:
    /// no permission check. `EEXIST`, `ENOENT`, `ENOTDIR`, `ENOSPC` as for [`mkdir`](Self::mkdir).
    pub fn mknod(&mut self, path: &str, device: u32, mode: u32) -> Result<Ino, Errno> {
        let (parent, last, trailing_slash) = self.resolve_parent(path, None)?;
        let name = self.new_name(parent, last)?;
        if trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        self.insert(
            parent,
            name,
            Node::new(parent, mode, 0, 0, Body::Device(device)),
        )
    }

    /// Removes a file or device node. `EISDIR` for a directory (including `/`, `.`, `..`),
    /// `ENOENT`, `ENOTDIR` (trailing slash on a non-directory), `EACCES` without write and search
    /// on the parent, `EPERM` in a sticky directory the caller owns neither it nor the file.
    pub fn unlink(&mut self, path: &str, cred: Cred) -> Result<(), Errno> {
        let (parent, last, trailing_slash) = self.resolve_parent(path, Some(cred))?;
        let Last::Name(name) = last else {
            return Err(Errno::EISDIR);
        };
        let victim = self.child(parent, name).ok_or(Errno::ENOENT)?;
        if self.is_dir(victim) {
            return Err(Errno::EISDIR);
        }
        if trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        self.may_delete(parent, victim, cred)?;
        self.remove(parent, name, victim)
    }

    /// Removes an empty directory. `EBUSY` for `/`, `EINVAL` for a final `.`, `ENOTEMPTY` for a
    /// final `..` or a directory with entries, `ENOTDIR` for a non-directory, `ENOENT`, and the
    /// permission errors of [`unlink`](Self::unlink).
    pub fn rmdir(&mut self, path: &str, cred: Cred) -> Result<(), Errno> {
        let (parent, last, _) = self.resolve_parent(path, Some(cred))?;
        let name = match last {
            Last::Root => return Err(Errno::EBUSY),
            Last::Dot => return Err(Errno::EINVAL),
            Last::DotDot => return Err(Errno::ENOTEMPTY),
            Last::Name(name) => name,
        };
        let victim = self.child(parent, name).ok_or(Errno::ENOENT)?;
        let Body::Dir(children) = &self.node(victim)?.body else {
            return Err(Errno::ENOTDIR);
        };
        let empty = children.is_empty();
        self.may_delete(parent, victim, cred)?;
        if !empty {
            return Err(Errno::ENOTEMPTY);
        }
        self.remove(parent, name, victim)
    }

    /// Sets the permission bits to `mode & 0o7777`. Only the owner or root: else `EPERM`.
    pub fn chmod(&mut self, path: &str, mode: u32, cred: Cred) -> Result<(), Errno> {
        let ino = self.resolve(path, Some(cred))?;
        let node = self.node_mut(ino)?;
        if cred.uid != 0 && cred.uid != node.uid {
            return Err(Errno::EPERM);
        }
        node.perm = mode & PERM_MASK;
        Ok(())
    }

    /// Sets owner and group; `u32::MAX` leaves that id unchanged (`chown(path, -1, gid)`).
    /// Only root: else `EPERM`.
    pub fn chown(&mut self, path: &str, uid: u32, gid: u32, cred: Cred) -> Result<(), Errno> {
        let ino = self.resolve(path, Some(cred))?;
        if cred.uid != 0 {
            return Err(Errno::EPERM);
        }
        let node = self.node_mut(ino)?;
        if uid != ID_UNCHANGED {
            node.uid = uid;
        }
        if gid != ID_UNCHANGED {
            node.gid = gid;
        }
        Ok(())
    }

    /// The name a create operation may use: `EEXIST` if it (or `/`, `.`, `..`) exists.
    fn new_name<'p>(&self, parent: Ino, last: Last<'p>) -> Result<&'p str, Errno> {
        match last {
            Last::Root | Last::Dot | Last::DotDot => Err(Errno::EEXIST),
            Last::Name(name) if self.child(parent, name).is_some() => Err(Errno::EEXIST),
            Last::Name(name) => Ok(name),
        }
    }

    /// Permission to remove `victim` from `parent`: write and search, and the sticky rule.
    fn may_delete(&self, parent: Ino, victim: Ino, cred: Cred) -> Result<(), Errno> {
        self.check_access(parent, cred, WRITE_SEARCH)?;
        let dir = self.node(parent)?;
        if cred.uid != 0
            && dir.perm & S_ISVTX != 0
            && cred.uid != dir.uid
            && cred.uid != self.node(victim)?.uid
        {
            return Err(Errno::EPERM);
        }
        Ok(())
    }

    /// Adds `node` as `name` in directory `parent`, charging its cost.
    pub(super) fn insert(&mut self, parent: Ino, name: &str, node: Node<'a>) -> Result<Ino, Errno> {
        let cost = NODE_COST + name.len() + node.owned_len();
        if !self.is_dir(parent) {
            return Err(Errno::ENOTDIR);
        }
        self.charge(cost)?;
        let ino = self.alloc_ino();
        self.nodes.insert(ino, node);
        if let Some(Node {
            body: Body::Dir(children),
            ..
        }) = self.nodes.get_mut(&parent)
        {
            children.insert(String::from(name), ino);
        }
        Ok(ino)
    }

    /// Removes `victim`, known as `name` in `parent`, and releases its cost.
    pub(super) fn remove(&mut self, parent: Ino, name: &str, victim: Ino) -> Result<(), Errno> {
        let node = self.nodes.remove(&victim).ok_or(Errno::ENOENT)?;
        if let Some(Node {
            body: Body::Dir(children),
            ..
        }) = self.nodes.get_mut(&parent)
        {
            children.remove(name);
        }
        self.release(NODE_COST + name.len() + node.owned_len());
        Ok(())
    }
}
