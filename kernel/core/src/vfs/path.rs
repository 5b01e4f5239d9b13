//! Path parsing and the directory walk.
//!
//! The walk is physical, not lexical: `/a/../b` first resolves `a` (which must exist and be a
//! directory), then its parent. Without symlinks both give the same node whenever both succeed,
//! but the physical walk also reports `ENOENT`/`ENOTDIR` for a bad `a`, as Linux does.

use alloc::vec::Vec;

use abi::Errno;
use abi::syscall::MAX_PATH;

use super::node::Body;
use super::{Access, Cred, Ino, NAME_MAX, Vfs};

/// A syntactically valid absolute path split into components.
#[derive(Debug)]
pub(super) struct ParsedPath<'p> {
    /// Non-empty components, `.` and `..` included, in order.
    pub(super) comps: Vec<&'p str>,
    /// The path ends in `/` after at least one component: the target must be a directory.
    pub(super) trailing_slash: bool,
}

/// What the last component of a path names, for operations that create or remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Last<'p> {
    /// The path is `/` (or only slashes).
    Root,
    /// The path ends in `.`.
    Dot,
    /// The path ends in `..`.
    DotDot,
    /// An ordinary name.
    Name(&'p str),
}

/// Checks and splits a path: `ENOENT` if empty, `ENAMETOOLONG` if over `MAX_PATH` bytes or a
/// component over [`NAME_MAX`], `EINVAL` if relative or holding a NUL.
pub(super) fn parse(path: &str) -> Result<ParsedPath<'_>, Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() > MAX_PATH {
        return Err(Errno::ENAMETOOLONG);
    }
    if !path.starts_with('/') || path.contains('\0') {
        return Err(Errno::EINVAL);
    }
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if comps.iter().any(|c| c.len() > NAME_MAX) {
        return Err(Errno::ENAMETOOLONG);
    }
    let trailing_slash = !comps.is_empty() && path.ends_with('/');
    Ok(ParsedPath {
        comps,
        trailing_slash,
    })
}

impl<'a> Vfs<'a> {
    /// Resolves `path`, checking search permission on each directory walked if `cred` is given.
    pub(super) fn resolve(&self, path: &str, cred: Option<Cred>) -> Result<Ino, Errno> {
        let parsed = parse(path)?;
        let ino = self.walk(Ino::ROOT, &parsed.comps, cred)?;
        if parsed.trailing_slash && !self.is_dir(ino) {
            return Err(Errno::ENOTDIR);
        }
        Ok(ino)
    }

    /// Resolves all but the last component of `path`; returns the parent directory, what the
    /// last component names and whether a trailing slash was present.
    pub(super) fn resolve_parent<'p>(
        &self,
        path: &'p str,
        cred: Option<Cred>,
    ) -> Result<(Ino, Last<'p>, bool), Errno> {
        let parsed = parse(path)?;
        let Some((last, dirs)) = parsed.comps.split_last() else {
            return Ok((Ino::ROOT, Last::Root, false));
        };
        let parent = self.walk(Ino::ROOT, dirs, cred)?;
        if !self.is_dir(parent) {
            return Err(Errno::ENOTDIR);
        }
        if let Some(cred) = cred {
            self.check_access(parent, cred, Access::EXEC)?;
        }
        let last = match *last {
            "." => Last::Dot,
            ".." => Last::DotDot,
            name => Last::Name(name),
        };
        Ok((parent, last, parsed.trailing_slash))
    }

    /// Walks `comps` from `start`; each step needs a directory (and search permission).
    pub(super) fn walk(
        &self,
        start: Ino,
        comps: &[&str],
        cred: Option<Cred>,
    ) -> Result<Ino, Errno> {
        let mut cur = start;
        for comp in comps {
            let node = self.node(cur)?;
            let Body::Dir(children) = &node.body else {
                return Err(Errno::ENOTDIR);
            };
            if let Some(cred) = cred {
                self.check_access(cur, cred, Access::EXEC)?;
            }
            cur = match *comp {
                "." => cur,
                ".." => node.parent,
                name => *children.get(name).ok_or(Errno::ENOENT)?,
            };
        }
        Ok(cur)
    }

    /// The child `name` of directory `dir`, if present.
    pub(super) fn child(&self, dir: Ino, name: &str) -> Option<Ino> {
        match &self.nodes.get(&dir)?.body {
            Body::Dir(children) => children.get(name).copied(),
            Body::File(_) | Body::Device(_) => None,
        }
    }
}
