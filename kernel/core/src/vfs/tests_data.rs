//! Host tests for file contents: reads, copy-on-write of archive data, truncate, size and
//! capacity limits, and a randomized operation sequence that must never panic.

use std::vec;
use std::vec::Vec;

use super::tests::{ROOT, USER, archive, loaded};
use super::*;

#[test]
fn read_at_offsets() {
    let vfs = loaded();
    let cfg = vfs.lookup("/etc/init.cfg").expect("cfg");
    let mut buf = [0u8; 4];
    assert_eq!(vfs.read(cfg, 0, &mut buf), Ok(4));
    assert_eq!(&buf, b"{\"jo");
    assert_eq!(vfs.read(cfg, 9, &mut buf), Ok(2));
    assert_eq!(&buf[..2], b"]}");
    assert_eq!(vfs.read(cfg, 11, &mut buf), Ok(0));
    assert_eq!(vfs.read(cfg, u64::MAX, &mut buf), Ok(0));
    assert_eq!(vfs.read(cfg, 0, &mut []), Ok(0));
    assert_eq!(vfs.read(Ino::ROOT, 0, &mut buf), Err(Errno::EISDIR));
    assert_eq!(vfs.read(Ino(4242), 0, &mut buf), Err(Errno::ENOENT));
}

#[test]
fn write_copies_archive_data_and_leaves_archive_untouched() {
    let bytes = archive();
    let pristine = bytes.clone();
    let mut vfs = Vfs::new();
    vfs.populate_from_cpio(&bytes).expect("load");
    let cfg = vfs.lookup("/etc/init.cfg").expect("cfg");
    let init = vfs.lookup("/bin/init").expect("init");
    // Before any write the file's bytes are the archive's own.
    let in_archive = vfs.file_bytes(cfg).expect("bytes").as_ptr_range();
    assert!(bytes.as_ptr_range().contains(&in_archive.start));
    let used = vfs.bytes_used();

    assert_eq!(vfs.write(cfg, 2, b"JOBS"), Ok(4));
    assert_eq!(vfs.file_bytes(cfg), Ok(&b"{\"JOBS\":[]}"[..]));
    assert_eq!(vfs.bytes_used(), used + 11, "the whole file was copied");
    assert!(
        !bytes
            .as_ptr_range()
            .contains(&vfs.file_bytes(cfg).expect("bytes").as_ptr())
    );
    // Growing past the end zero-fills the gap.
    assert_eq!(vfs.write(cfg, 13, b"!"), Ok(1));
    assert_eq!(vfs.file_bytes(cfg), Ok(&b"{\"JOBS\":[]}\0\0!"[..]));
    assert_eq!(vfs.bytes_used(), used + 14);
    // An empty write copies nothing.
    assert_eq!(vfs.write(init, 0, b""), Ok(0));
    assert_eq!(vfs.bytes_used(), used + 14);
    drop(vfs);
    assert_eq!(bytes, pristine, "the archive is never modified");
}

#[test]
fn truncate_shrinks_in_place_and_grows_with_zeroes() {
    let bytes = archive();
    let mut vfs = Vfs::new();
    vfs.populate_from_cpio(&bytes).expect("load");
    let cfg = vfs.lookup("/etc/init.cfg").expect("cfg");
    let used = vfs.bytes_used();
    vfs.truncate(cfg, 3).expect("shrink");
    assert_eq!(vfs.file_bytes(cfg), Ok(&b"{\"j"[..]));
    assert_eq!(
        vfs.bytes_used(),
        used,
        "a prefix of the archive costs nothing"
    );
    vfs.truncate(cfg, 5).expect("grow");
    assert_eq!(vfs.file_bytes(cfg), Ok(&b"{\"j\0\0"[..]));
    assert_eq!(vfs.bytes_used(), used + 5);
    vfs.truncate(cfg, 0).expect("empty");
    assert_eq!(vfs.bytes_used(), used);
    assert_eq!(vfs.stat(cfg).map(|s| s.size), Ok(0));
    assert_eq!(vfs.truncate(cfg, MAX_FILE_SIZE + 1), Err(Errno::EFBIG));
    assert_eq!(vfs.truncate(Ino::ROOT, 0), Err(Errno::EISDIR));
}

#[test]
fn file_size_cap_is_efbig() {
    let mut vfs = Vfs::new();
    let f = vfs.create_file("/big", 0o644, ROOT).expect("create");
    assert_eq!(vfs.write(f, MAX_FILE_SIZE, b"x"), Err(Errno::EFBIG));
    assert_eq!(vfs.write(f, u64::MAX, b"x"), Err(Errno::EFBIG));
    // A write straddling the cap is cut short at it.
    assert_eq!(vfs.write(f, MAX_FILE_SIZE - 2, b"abcd"), Ok(2));
    assert_eq!(vfs.stat(f).map(|s| s.size), Ok(MAX_FILE_SIZE));
    vfs.unlink("/big", ROOT).expect("unlink");
    assert_eq!(
        vfs.bytes_used(),
        Vfs::new().bytes_used(),
        "everything released"
    );
}

#[test]
fn capacity_limits_writes_and_creation() {
    let mut vfs = Vfs::new();
    let f = vfs.create_file("/f", 0o644, ROOT).expect("create");
    vfs.set_capacity(vfs.bytes_used() + 10);
    assert_eq!(vfs.write(f, 0, b"0123456"), Ok(7));
    assert_eq!(
        vfs.write(f, 7, b"789abc"),
        Ok(3),
        "short write of what fits"
    );
    assert_eq!(vfs.write(f, 10, b"x"), Err(Errno::ENOSPC));
    assert_eq!(vfs.truncate(f, 11), Err(Errno::ENOSPC));
    // Overwriting in place needs no new space.
    assert_eq!(vfs.write(f, 0, b"ZZ"), Ok(2));
    assert_eq!(vfs.mkdir("/d", 0o755, ROOT), Err(Errno::ENOSPC));
    assert_eq!(vfs.create_file("/g", 0o644, ROOT), Err(Errno::ENOSPC));
    assert_eq!(vfs.mknod("/h", 1, 0o600), Err(Errno::ENOSPC));
    vfs.truncate(f, 0).expect("free space");
    assert_eq!(
        vfs.mkdir("/d", 0o755, ROOT),
        Err(Errno::ENOSPC),
        "10 bytes are not a node"
    );
    vfs.set_capacity(vfs.bytes_used() + NODE_COST + 1);
    assert!(vfs.mkdir("/d", 0o755, ROOT).is_ok());
    assert_eq!(
        vfs.bytes_used(),
        Vfs::new().bytes_used() + 2 * NODE_COST + 2
    );
}

#[test]
fn copy_on_write_needs_room_for_the_whole_file() {
    let bytes = archive();
    let mut vfs = Vfs::new();
    vfs.populate_from_cpio(&bytes).expect("load");
    let cfg = vfs.lookup("/etc/init.cfg").expect("cfg"); // 11 bytes
    vfs.set_capacity(vfs.bytes_used() + 10);
    assert_eq!(vfs.write(cfg, 0, b"x"), Err(Errno::ENOSPC));
    assert_eq!(vfs.file_bytes(cfg), Ok(&b"{\"jobs\":[]}"[..]));
    vfs.set_capacity(vfs.bytes_used() + 12);
    assert_eq!(vfs.write(cfg, 10, b"abc"), Ok(2));
    assert_eq!(vfs.file_bytes(cfg), Ok(&b"{\"jobs\":[]ab"[..]));
}

use crate::test_rng::XorShift;

#[test]
fn random_operations_never_panic_and_keep_accounting() {
    let bytes = archive();
    let mut vfs = Vfs::new();
    vfs.populate_from_cpio(&bytes).expect("load");
    vfs.set_capacity(vfs.bytes_used() + 4096);
    let paths = [
        "/",
        "/etc",
        "/etc/init.cfg",
        "/x",
        "/x/y",
        "/x/y/z",
        "/x/../x/y/",
        "//x//y",
        "/bin/init/",
        "/a/b/c/deep.txt",
        "/a/b",
        "/..",
        "/x/.",
        "/home/q",
        "rel",
        "",
    ];
    let creds = [ROOT, USER, Cred { uid: 7, gid: 0 }];
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut buf = vec![0u8; 64];
    for _ in 0..20_000 {
        let path = rng.pick(&paths);
        let cred = creds[(rng.next() % 3) as usize];
        let n = rng.next();
        let _ = match n % 9 {
            0 => vfs.mkdir(path, n as u32, cred).map(|_| ()),
            1 => vfs.create_file(path, n as u32, cred).map(|_| ()),
            2 => vfs.unlink(path, cred),
            3 => vfs.rmdir(path, cred),
            4 => vfs.chmod(path, n as u32, cred),
            5 => vfs.chown(path, (n >> 8) as u32 % 3, 0, cred),
            6 => vfs.lookup(path).and_then(|i| {
                vfs.write(i, n % 300, &buf[..(n >> 32) as usize % 64])
                    .map(|_| ())
            }),
            7 => vfs.lookup(path).and_then(|i| vfs.truncate(i, n % 5000)),
            _ => vfs
                .lookup(path)
                .and_then(|i| vfs.read(i, n % 50, &mut buf).map(|_| ())),
        };
        assert!(vfs.bytes_used() <= vfs.capacity || vfs.bytes_used() == 0);
    }
    // Recompute the charge from scratch: it must match the running counter.
    let mut expected = NODE_COST;
    let mut stack: Vec<Ino> = vec![Ino::ROOT];
    while let Some(dir) = stack.pop() {
        for i in 0.. {
            let Some((name, ino, kind)) = vfs.read_dir(dir, i).expect("dir") else {
                break;
            };
            expected += NODE_COST + name.len();
            match kind {
                NodeKind::Dir => stack.push(ino),
                NodeKind::File => expected += vfs.nodes[&ino].owned_len(),
                NodeKind::Device(_) => {}
            }
        }
    }
    assert_eq!(vfs.bytes_used(), expected);
    assert_eq!(bytes, archive(), "the archive is never modified");
}
