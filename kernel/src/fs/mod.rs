//! Files: the one in-memory tree (kcore's `Vfs`, filled from the initramfs), open files (as
//! the process layer's descriptor tables hold them), the character devices `/dev/console`
//! and `/dev/initctl`, the node of `/dev/lite_ipc`, and readiness events for `poll`.
//! Files whose I/O another layer implements (local sockets) plug in as [`StreamFile`]s.

pub mod console;
pub mod initctl;
pub mod poll;

use crate::proc;
pub use crate::proc::{FileObject, OpenFile, StreamFile};
use crate::sync::IrqSafeMutex;
use abi::Errno;
use abi::syscall::{Dirent, Stat, open_flags as of, seek};
use alloc::sync::Arc;
use alloc::vec::Vec;
use kcore::vfs::{Access, Cred, NodeKind, Vfs};
use zerocopy::IntoBytes;

/// Device id of `/dev/console`.
pub const DEV_CONSOLE: u32 = 1;
/// Device id of `/dev/initctl`.
pub const DEV_INITCTL: u32 = 2;
/// Device id of `/dev/lite_ipc`.
pub const DEV_LITEIPC: u32 = 3;
/// Kernel heap the writable part of the tree may use: well under the heap itself, so no
/// process can exhaust kernel memory by writing files (the initramfs is referenced in place).
const FS_CAPACITY: usize = 1 << 20;

static VFS: IrqSafeMutex<Option<Vfs<'static>>> = IrqSafeMutex::new(None);

/// Runs `f` on the filesystem tree.
pub fn with_vfs<R>(f: impl FnOnce(&mut Vfs<'static>) -> R) -> R {
    let mut guard = VFS.lock();
    let vfs = guard.get_or_insert_with(Vfs::new);
    f(vfs)
}

/// Builds the tree from the initramfs (if any) and adds the device nodes.
pub fn init(initrd: Option<&'static [u8]>) -> Result<usize, Errno> {
    with_vfs(|vfs| {
        vfs.set_capacity(FS_CAPACITY);
        let loaded = match initrd {
            Some(archive) => vfs.populate_from_cpio(archive).map_err(|_| Errno::EINVAL)?,
            None => 0,
        };
        let root = Cred { uid: 0, gid: 0 };
        if vfs.lookup("/dev").is_err() {
            vfs.mkdir("/dev", 0o755, root)?;
        }
        vfs.mknod("/dev/console", DEV_CONSOLE, 0o666)?;
        vfs.mknod(abi::syscall::INITCTL_PATH, DEV_INITCTL, 0o600)?;
        vfs.mknod(abi::liteipc::LITEIPC_DRIVER, DEV_LITEIPC, 0o666)?;
        vfs.mkdir("/dev/socket", 0o755, root)?;
        Ok(loaded)
    })
}

/// Opens `path` for a process with credentials `cred`.
pub fn open(path: &str, flags: usize, mode: u32, cred: Cred) -> Result<Arc<OpenFile>, Errno> {
    with_vfs(|vfs| {
        let ino = match vfs.lookup(path) {
            Ok(_) if flags & of::O_CREAT != 0 && flags & of::O_EXCL != 0 => {
                return Err(Errno::EEXIST);
            }
            Ok(ino) => ino,
            Err(Errno::ENOENT) if flags & of::O_CREAT != 0 => {
                vfs.create_file(path, mode & 0o7777, cred)?
            }
            Err(e) => return Err(e),
        };
        let kind = vfs.kind(ino)?;
        let want_write = flags & of::O_ACCMODE != of::O_RDONLY;
        if kind == NodeKind::Dir && want_write {
            return Err(Errno::EISDIR);
        }
        if flags & of::O_DIRECTORY != 0 && kind != NodeKind::Dir {
            return Err(Errno::ENOTDIR);
        }
        let want_read = flags & of::O_ACCMODE != of::O_WRONLY;
        vfs.check_access(
            ino,
            cred,
            Access {
                read: want_read,
                write: want_write,
                exec: false,
            },
        )?;
        if flags & of::O_TRUNC != 0 && want_write && kind == NodeKind::File {
            vfs.truncate(ino, 0)?;
        }
        let object = match kind {
            NodeKind::Device(id) => FileObject::Device(id),
            _ => FileObject::Node(ino),
        };
        Ok(OpenFile::new(object, flags))
    })
}

/// Reads into `buf` at the file's position.
pub fn read(file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    match &file.object {
        FileObject::Stream(stream) => stream.read(buf, file.flags & of::O_NONBLOCK != 0),
        FileObject::Device(DEV_CONSOLE) => console::read(buf, file.flags & of::O_NONBLOCK != 0),
        FileObject::Device(DEV_INITCTL) => initctl::read(buf, file.flags & of::O_NONBLOCK != 0),
        FileObject::Device(_) => Err(Errno::EINVAL),
        FileObject::Node(ino) => {
            let mut offset = file.offset.lock();
            let n = with_vfs(|vfs| vfs.read(*ino, *offset, buf))?;
            *offset += n as u64;
            Ok(n)
        }
    }
}

/// Moves a file's position back by `n` bytes after a read whose data could not be delivered.
pub fn unread(file: &OpenFile, n: usize) {
    if let FileObject::Node(_) = &file.object {
        let mut offset = file.offset.lock();
        *offset = offset.saturating_sub(n as u64);
    }
}

/// Writes `data` at the file's position (or its end with O_APPEND).
pub fn write(file: &OpenFile, data: &[u8]) -> Result<usize, Errno> {
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    match &file.object {
        FileObject::Stream(stream) => stream.write(data, file.flags & of::O_NONBLOCK != 0),
        FileObject::Device(DEV_CONSOLE) => Ok(console::write(data)),
        FileObject::Device(DEV_INITCTL) => initctl::write(data),
        FileObject::Device(_) => Err(Errno::EINVAL),
        FileObject::Node(ino) => {
            let mut offset = file.offset.lock();
            let n = with_vfs(|vfs| {
                if file.flags & of::O_APPEND != 0 {
                    *offset = vfs.stat(*ino)?.size;
                }
                vfs.write(*ino, *offset, data)
            })?;
            *offset += n as u64;
            Ok(n)
        }
    }
}

/// File status.
pub fn fstat(file: &OpenFile) -> Result<Stat, Errno> {
    match &file.object {
        FileObject::Node(ino) => with_vfs(|vfs| vfs.stat(*ino)),
        FileObject::Stream(stream) => Ok(Stat {
            mode: stream.mode(),
            nlink: 1,
            ..Stat::default()
        }),
        FileObject::Device(_) => Ok(Stat {
            ino: 0,
            size: 0,
            mode: abi::syscall::file_type::S_IFCHR | 0o666,
            uid: 0,
            gid: 0,
            nlink: 1,
        }),
    }
}

/// Moves the file position.
pub fn lseek(file: &OpenFile, offset: i64, whence: usize) -> Result<u64, Errno> {
    let FileObject::Node(ino) = file.object.clone() else {
        return Err(Errno::ESPIPE);
    };
    let mut position = file.offset.lock();
    let base = match whence {
        seek::SET => 0,
        seek::CUR => *position as i64,
        seek::END => with_vfs(|vfs| vfs.stat(ino))?.size as i64,
        _ => return Err(Errno::EINVAL),
    };
    let new = base
        .checked_add(offset)
        .filter(|p| *p >= 0)
        .ok_or(Errno::EINVAL)?;
    *position = new as u64;
    Ok(new as u64)
}

/// Fills `buf` with packed directory records from the file's position; returns bytes used.
pub fn getdents(file: &OpenFile, buf_len: usize) -> Result<Vec<u8>, Errno> {
    let FileObject::Node(ino) = file.object.clone() else {
        return Err(Errno::ENOTDIR);
    };
    let mut index = file.offset.lock();
    let mut out = Vec::new();
    while let Some((name, child, kind)) = with_vfs(|vfs| vfs.read_dir(ino, *index as usize))? {
        let name = name.as_bytes();
        let name_len = name.len().min(255);
        let reclen = (core::mem::size_of::<Dirent>() + name_len).next_multiple_of(8);
        if out.len() + reclen > buf_len {
            if out.is_empty() {
                return Err(Errno::EINVAL);
            }
            break;
        }
        let type_bits = match kind {
            NodeKind::Dir => abi::syscall::file_type::S_IFDIR,
            NodeKind::File => abi::syscall::file_type::S_IFREG,
            NodeKind::Device(_) => abi::syscall::file_type::S_IFCHR,
        };
        let header = Dirent {
            ino: child.0,
            reclen: reclen as u16,
            kind: (type_bits >> 12) as u8,
            name_len: name_len as u8,
            reserved: 0,
        };
        let start = out.len();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&name[..name_len]);
        out.resize(start + reclen, 0);
        *index += 1;
    }
    Ok(out)
}

/// `mount(fstype on target)`: everything lives in RAM, so `tmpfs`/`ramfs` mounts only need
/// an existing directory (and root); other types are ENODEV.
pub fn mount(target: &str, fstype: &str, cred: Cred) -> Result<(), Errno> {
    if cred.uid != 0 {
        return Err(Errno::EPERM);
    }
    let kind = with_vfs(|vfs| vfs.lookup(target).and_then(|ino| vfs.kind(ino)))?;
    if kind != NodeKind::Dir {
        return Err(Errno::ENOTDIR);
    }
    match fstype {
        "tmpfs" | "ramfs" => {
            log::info!(target: "fs", "mounted {fstype} on {target}");
            Ok(())
        }
        _ => {
            log::warn!(target: "fs", "mount of {fstype} on {target}: no such filesystem here");
            Err(Errno::ENODEV)
        }
    }
}

/// The whole content of the file at `path`, if `cred` may execute it.
pub fn read_executable(path: &str, cred: Cred) -> Result<Vec<u8>, Errno> {
    with_vfs(|vfs| {
        let ino = vfs.lookup(path)?;
        if vfs.kind(ino)? != NodeKind::File {
            return Err(Errno::EACCES);
        }
        vfs.check_access(
            ino,
            cred,
            Access {
                read: false,
                write: false,
                exec: true,
            },
        )?;
        let size = vfs.stat(ino)?.size as usize;
        // A big program must be refused, not abort the kernel on a failed allocation.
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(size).map_err(|_| Errno::ENOMEM)?;
        bytes.resize(size, 0);
        let n = vfs.read(ino, 0, &mut bytes)?;
        bytes.truncate(n);
        Ok(bytes)
    })
}

/// The console as an open file: the standard descriptors of the kernel's children.
pub fn console_file() -> Arc<OpenFile> {
    OpenFile::new(FileObject::Device(DEV_CONSOLE), of::O_RDWR)
}

/// The open file behind descriptor `fd` of the calling process.
pub fn file(fd: usize) -> Result<Arc<OpenFile>, Errno> {
    proc::with_fds(|fds| fds.get(fd))?
}

/// Whether descriptor `fd` of the calling process is open on device `dev` (EBADF if not
/// open), without taking a reference to the file (the ioctl path checks this every call).
pub fn fd_is_device(fd: usize, dev: u32) -> Result<bool, Errno> {
    proc::with_fds(|fds| fds.peek(fd, |file| file.is_device(dev)))?
}

/// Gives `file` the lowest free descriptor of the calling process.
pub fn install(file: Arc<OpenFile>, cloexec: bool) -> Result<usize, Errno> {
    proc::with_fds(|fds| fds.insert(file, cloexec))?
}
