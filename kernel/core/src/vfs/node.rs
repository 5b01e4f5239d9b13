//! One node of the tree and the two ways a file's bytes can be held.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Ino, NodeKind, PERM_MASK};

/// A directory, file or device node with its owner and permission bits.
#[derive(Debug)]
pub(super) struct Node<'a> {
    /// The directory holding this node; the root is its own parent.
    pub(super) parent: Ino,
    /// Permission bits (no type bits).
    pub(super) perm: u32,
    /// Owner user id.
    pub(super) uid: u32,
    /// Owner group id.
    pub(super) gid: u32,
    /// What the node holds.
    pub(super) body: Body<'a>,
}

/// The content of a node.
#[derive(Debug)]
pub(super) enum Body<'a> {
    /// Children by name (names are single components; `.` and `..` are not stored).
    Dir(BTreeMap<String, Ino>),
    /// A regular file's bytes.
    File(FileData<'a>),
    /// A device node and the kernel's device id.
    Device(u32),
}

/// A file's bytes: still the archive's, or copied into RAM.
#[derive(Debug)]
pub(super) enum FileData<'a> {
    /// Unmodified initramfs content, borrowed in place; costs no RAM of its own.
    Archive(&'a [u8]),
    /// Bytes the tree owns (charged to `bytes_used`).
    Owned(Vec<u8>),
}

impl FileData<'_> {
    /// The file's bytes.
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Self::Archive(bytes) => bytes,
            Self::Owned(bytes) => bytes,
        }
    }

    /// The file's size.
    pub(super) fn len(&self) -> usize {
        self.bytes().len()
    }

    /// Bytes of RAM this content is charged for.
    pub(super) fn owned_len(&self) -> usize {
        match self {
            Self::Archive(_) => 0,
            Self::Owned(bytes) => bytes.len(),
        }
    }
}

impl<'a> Node<'a> {
    /// An empty directory.
    pub(super) fn new_dir(parent: Ino, perm: u32, uid: u32, gid: u32) -> Self {
        Self {
            parent,
            perm: perm & PERM_MASK,
            uid,
            gid,
            body: Body::Dir(BTreeMap::new()),
        }
    }

    /// A node with the given body.
    pub(super) fn new(parent: Ino, perm: u32, uid: u32, gid: u32, body: Body<'a>) -> Self {
        Self {
            parent,
            perm: perm & PERM_MASK,
            uid,
            gid,
            body,
        }
    }

    /// The node's kind.
    pub(super) fn kind(&self) -> NodeKind {
        match self.body {
            Body::Dir(_) => NodeKind::Dir,
            Body::File(_) => NodeKind::File,
            Body::Device(id) => NodeKind::Device(id),
        }
    }

    /// RAM charged for this node's content (not its name or [`NODE_COST`](super::NODE_COST)).
    pub(super) fn owned_len(&self) -> usize {
        match &self.body {
            Body::File(data) => data.owned_len(),
            Body::Dir(_) | Body::Device(_) => 0,
        }
    }
}
