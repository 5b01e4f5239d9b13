//! Host tests for the tree: initramfs population, path resolution, namespace operations and
//! permissions (init's conformance cases from the checklist, section 3).

use std::string::String;
use std::vec::Vec;

use abi::syscall::file_type::{S_IFCHR, S_IFDIR, S_IFMT, S_IFREG};

use super::*;
use crate::cpio::CpioWriter;

pub(super) const ROOT: Cred = Cred::ROOT;
pub(super) const USER: Cred = Cred {
    uid: 1000,
    gid: 1000,
};
pub(super) const OTHER: Cred = Cred {
    uid: 2000,
    gid: 2000,
};

/// An initramfs like ours: /bin/init, /etc/init.cfg, a user-owned dir, a deep file.
pub(super) fn archive() -> Vec<u8> {
    let mut w = CpioWriter::new();
    w.add_dir("bin", 0o755, 0, 0);
    w.add_file("bin/init", 0o750, 0, 2, b"\x7fELF-init");
    w.add_dir("etc", 0o755, 0, 0);
    w.add_file("etc/init.cfg", 0o644, 0, 0, b"{\"jobs\":[]}");
    w.add_dir("home", 0o700, 1000, 1000);
    // Parents a/b/c are not listed: they must be created.
    w.add_file("a/b/c/deep.txt", 0o600, 1000, 1000, b"deep");
    w.finish()
}

/// A tree loaded from [`archive`] (the archive is leaked so the tree can borrow it).
pub(super) fn loaded() -> Vfs<'static> {
    let bytes: &'static [u8] = std::boxed::Box::leak(archive().into_boxed_slice());
    let mut vfs = Vfs::new();
    assert_eq!(vfs.populate_from_cpio(bytes), Ok(6));
    vfs
}

/// Mode and owner of a path.
fn meta(vfs: &Vfs<'_>, path: &str) -> (u32, u32, u32) {
    let st = vfs.stat(vfs.lookup(path).expect(path)).expect("stat");
    (st.mode, st.uid, st.gid)
}

/// All names of a directory, via `read_dir`.
pub(super) fn names(vfs: &Vfs<'_>, path: &str) -> Vec<String> {
    let dir = vfs.lookup(path).expect(path);
    (0..)
        .map_while(|i| vfs.read_dir(dir, i).expect("read_dir"))
        .map(|(n, _, _)| n)
        .collect()
}

#[test]
fn new_tree_has_only_root() {
    let vfs = Vfs::new();
    assert_eq!(vfs.lookup("/"), Ok(Ino::ROOT));
    assert_eq!(meta(&vfs, "/"), (S_IFDIR | 0o755, 0, 0));
    assert_eq!(vfs.read_dir(Ino::ROOT, 0), Ok(None));
    assert_eq!(vfs.kind(Ino::ROOT), Ok(NodeKind::Dir));
}

#[test]
fn population_keeps_modes_owners_and_nesting() {
    let vfs = loaded();
    assert_eq!(meta(&vfs, "/bin/init"), (S_IFREG | 0o750, 0, 2));
    assert_eq!(meta(&vfs, "/home"), (S_IFDIR | 0o700, 1000, 1000));
    assert_eq!(
        meta(&vfs, "/a/b"),
        (S_IFDIR | 0o755, 0, 0),
        "implicit parent"
    );
    assert_eq!(meta(&vfs, "/a/b/c/deep.txt"), (S_IFREG | 0o600, 1000, 1000));
    let cfg = vfs.lookup("/etc/init.cfg").expect("cfg");
    assert_eq!(vfs.file_bytes(cfg), Ok(&b"{\"jobs\":[]}"[..]));
    assert_eq!(vfs.stat(cfg).map(|s| s.size), Ok(11));
    assert_eq!(names(&vfs, "/"), ["a", "bin", "etc", "home"]);
    // nlink of a directory: 2 + subdirectories.
    assert_eq!(vfs.stat(Ino::ROOT).map(|s| s.nlink), Ok(6));
}

#[test]
fn population_skips_unsafe_and_unsupported_members() {
    let mut w = CpioWriter::new();
    w.add_dir(".", 0o711, 0, 5); // the root's own entry
    w.add_file("../escape", 0o644, 0, 0, b"x");
    w.add_file("ok/../../escape2", 0o644, 0, 0, b"x"); // and "ok" is not created
    w.add_file(&"n".repeat(256), 0o644, 0, 0, b"x");
    w.add_file("fine", 0o644, 0, 0, b"1");
    w.add_file("fine/under-a-file", 0o644, 0, 0, b"x");
    w.add_dir("fine", 0o755, 0, 0); // a kind change
    w.add_file("fine", 0o600, 7, 7, b"22"); // a later member replaces the earlier
    let bytes = w.finish();
    let mut vfs = Vfs::new();
    let report = vfs.populate_from_cpio_report(&bytes).expect("well-formed");
    assert_eq!(
        report,
        PopulateReport {
            loaded: 3,
            skipped: 5
        }
    );
    assert_eq!(meta(&vfs, "/"), (S_IFDIR | 0o711, 0, 5));
    assert_eq!(names(&vfs, "/"), ["fine"]);
    let fine = vfs.lookup("/fine").expect("fine");
    assert_eq!(vfs.file_bytes(fine), Ok(&b"22"[..]));
    assert_eq!(meta(&vfs, "/fine"), (S_IFREG | 0o600, 7, 7));
}

#[test]
fn population_stops_at_a_malformed_archive() {
    let bytes = archive();
    let mut vfs = Vfs::new();
    // Cut inside the member after "bin/init": what came before stays loaded.
    assert_eq!(
        vfs.populate_from_cpio(&bytes[..300]),
        Err(crate::cpio::CpioError::Truncated)
    );
    assert!(vfs.lookup("/bin/init").is_ok());
    assert_eq!(
        Vfs::new().populate_from_cpio(b"not an archive at all, no sir"),
        Err(crate::cpio::CpioError::BadMagic)
    );
}

#[test]
fn path_edge_cases() {
    let vfs = loaded();
    let cfg = vfs.lookup("/etc/init.cfg").expect("cfg");
    let etc = vfs.lookup("/etc").expect("etc");
    assert_eq!(vfs.lookup("//etc///init.cfg"), Ok(cfg));
    assert_eq!(vfs.lookup("/etc/../etc/init.cfg"), Ok(cfg));
    assert_eq!(vfs.lookup("/./etc/./init.cfg"), Ok(cfg));
    assert_eq!(vfs.lookup("/../../etc/init.cfg"), Ok(cfg), "/.. is /");
    assert_eq!(vfs.lookup("/etc/"), Ok(etc));
    assert_eq!(vfs.lookup("/etc/.."), Ok(Ino::ROOT));
    assert_eq!(vfs.lookup("/etc/init.cfg/"), Err(Errno::ENOTDIR));
    assert_eq!(vfs.lookup("/etc/init.cfg/x"), Err(Errno::ENOTDIR));
    assert_eq!(vfs.lookup("/etc/init.cfg/.."), Err(Errno::ENOTDIR));
    assert_eq!(
        vfs.lookup("/nope/../etc"),
        Err(Errno::ENOENT),
        "walk is physical"
    );
    assert_eq!(vfs.lookup("/etc/missing"), Err(Errno::ENOENT));
    assert_eq!(vfs.lookup(""), Err(Errno::ENOENT));
    assert_eq!(vfs.lookup("etc/init.cfg"), Err(Errno::EINVAL));
    assert_eq!(vfs.lookup("/etc\0/init.cfg"), Err(Errno::EINVAL));
}

#[test]
fn too_long_paths_and_components() {
    let vfs = loaded();
    let long_comp = std::format!("/{}", "x".repeat(NAME_MAX + 1));
    assert_eq!(vfs.lookup(&long_comp), Err(Errno::ENAMETOOLONG));
    let max_comp = std::format!("/{}", "x".repeat(NAME_MAX));
    assert_eq!(vfs.lookup(&max_comp), Err(Errno::ENOENT));
    let long_path = "/.".repeat(abi::syscall::MAX_PATH / 2) + "/";
    assert!(long_path.len() > abi::syscall::MAX_PATH);
    assert_eq!(vfs.lookup(&long_path), Err(Errno::ENAMETOOLONG));
    let max_path = std::format!("/etc{}", "/.".repeat((abi::syscall::MAX_PATH - 4) / 2));
    assert_eq!(max_path.len(), abi::syscall::MAX_PATH);
    assert_eq!(
        vfs.lookup(&max_path),
        vfs.lookup("/etc"),
        "exactly MAX_PATH is fine"
    );
}

#[test]
fn mkdir_creates_and_reports_errors() {
    let mut vfs = loaded();
    let d = vfs.mkdir("/storage", 0o40755, ROOT).expect("mkdir");
    assert_eq!(
        vfs.stat(d).map(|s| s.mode),
        Ok(S_IFDIR | 0o755),
        "type bits in mode ignored"
    );
    vfs.mkdir("/storage/data/", 0o711, USER)
        .expect_err("root-owned parent");
    vfs.chmod("/storage", 0o777, ROOT).expect("chmod");
    let sub = vfs
        .mkdir("/storage/data/", 0o711, USER)
        .expect("trailing slash ok");
    assert_eq!(meta(&vfs, "/storage/data"), (S_IFDIR | 0o711, 1000, 1000));
    assert_eq!(vfs.lookup("/storage/data"), Ok(sub));
    // init's conformance case: mkdir under a missing parent does nothing.
    assert_eq!(
        vfs.mkdir("/storage/missing/child", 0o755, ROOT),
        Err(Errno::ENOENT)
    );
    assert_eq!(vfs.lookup("/storage/missing"), Err(Errno::ENOENT));
    assert_eq!(vfs.mkdir("/storage", 0o755, ROOT), Err(Errno::EEXIST));
    assert_eq!(vfs.mkdir("/etc/init.cfg", 0o755, ROOT), Err(Errno::EEXIST));
    assert_eq!(vfs.mkdir("/", 0o755, ROOT), Err(Errno::EEXIST));
    assert_eq!(vfs.mkdir("/etc/.", 0o755, ROOT), Err(Errno::EEXIST));
    assert_eq!(
        vfs.mkdir("/etc/init.cfg/x", 0o755, ROOT),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(vfs.mkdir("/etc/new", 0o755, USER), Err(Errno::EACCES));
    assert_eq!(
        vfs.mkdir("/home/x", 0o755, OTHER),
        Err(Errno::EACCES),
        "no search on /home"
    );
}

#[test]
fn init_mkdir_chmod_chown_sequence() {
    // Conformance checklist section 3, cmdFuncDoCmdTest_006: mkdir, chmod 0440, chown 888 888.
    let mut vfs = loaded();
    vfs.mkdir("/storage", 0o755, ROOT).expect("mkdir");
    vfs.mkdir("/storage/data", 0o755, ROOT).expect("mkdir");
    vfs.mkdir("/storage/data/StartInitTestDir", 0o700, ROOT)
        .expect("mkdir");
    let f = vfs
        .create_file("/storage/data/StartInitTestDir/test.txt", 0o644, ROOT)
        .expect("create");
    vfs.chown("/storage/data/StartInitTestDir/test.txt", 999, 999, ROOT)
        .expect("chown");
    vfs.chmod("/storage/data/StartInitTestDir", 0o440, ROOT)
        .expect("chmod");
    vfs.chown("/storage/data/StartInitTestDir", 888, 888, ROOT)
        .expect("chown");
    assert_eq!(
        meta(&vfs, "/storage/data/StartInitTestDir"),
        (S_IFDIR | 0o440, 888, 888)
    );
    assert_eq!(
        vfs.stat(f).map(|s| (s.mode, s.uid, s.gid)),
        Ok((S_IFREG | 0o644, 999, 999))
    );
}

#[test]
fn chmod_and_chown_rules() {
    let mut vfs = loaded();
    assert_eq!(
        vfs.chmod("/etc/init.cfg", 0o666, USER),
        Err(Errno::EPERM),
        "non-owner"
    );
    vfs.chmod("/a/b/c/deep.txt", 0o4644, USER)
        .expect("owner may chmod");
    assert_eq!(meta(&vfs, "/a/b/c/deep.txt").0, S_IFREG | 0o4644);
    assert_eq!(
        vfs.chmod("/a/b/c/deep.txt", 0o600, OTHER),
        Err(Errno::EPERM)
    );
    assert_eq!(
        vfs.chown("/a/b/c/deep.txt", 2000, 2000, USER),
        Err(Errno::EPERM),
        "owner is not root"
    );
    assert_eq!(
        vfs.chown("/etc/init.cfg", 1000, 1000, USER),
        Err(Errno::EPERM)
    );
    vfs.chown("/etc/init.cfg", 1000, u32::MAX, ROOT)
        .expect("chown uid only");
    assert_eq!(meta(&vfs, "/etc/init.cfg"), (S_IFREG | 0o644, 1000, 0));
    vfs.chown("/etc/init.cfg", u32::MAX, 3, ROOT)
        .expect("chown gid only");
    assert_eq!(meta(&vfs, "/etc/init.cfg"), (S_IFREG | 0o644, 1000, 3));
    assert_eq!(vfs.chmod("/missing", 0o644, ROOT), Err(Errno::ENOENT));
    assert_eq!(
        vfs.chown("/home/x", 0, 0, OTHER),
        Err(Errno::EACCES),
        "search before EPERM"
    );
}

#[test]
fn unlink_and_rmdir() {
    let mut vfs = loaded();
    assert_eq!(vfs.unlink("/etc", ROOT), Err(Errno::EISDIR));
    assert_eq!(vfs.unlink("/", ROOT), Err(Errno::EISDIR));
    assert_eq!(vfs.unlink("/etc/init.cfg/", ROOT), Err(Errno::ENOTDIR));
    assert_eq!(vfs.unlink("/etc/init.cfg", USER), Err(Errno::EACCES));
    assert_eq!(vfs.unlink("/etc/nope", ROOT), Err(Errno::ENOENT));
    let cfg = vfs.lookup("/etc/init.cfg").expect("cfg");
    vfs.unlink("/etc/init.cfg", ROOT).expect("unlink");
    assert_eq!(vfs.lookup("/etc/init.cfg"), Err(Errno::ENOENT));
    assert_eq!(vfs.stat(cfg), Err(Errno::ENOENT), "stale ino");
    let again = vfs
        .create_file("/etc/init.cfg", 0o644, ROOT)
        .expect("create");
    assert_ne!(again, cfg, "inode numbers are not reused");

    assert_eq!(vfs.rmdir("/", ROOT), Err(Errno::EBUSY));
    assert_eq!(vfs.rmdir("/etc/.", ROOT), Err(Errno::EINVAL));
    assert_eq!(vfs.rmdir("/etc/..", ROOT), Err(Errno::ENOTEMPTY));
    assert_eq!(vfs.rmdir("/etc", ROOT), Err(Errno::ENOTEMPTY));
    assert_eq!(vfs.rmdir("/bin/init", ROOT), Err(Errno::ENOTDIR));
    assert_eq!(vfs.rmdir("/missing", ROOT), Err(Errno::ENOENT));
    assert_eq!(
        vfs.rmdir("/a/b/c", USER),
        Err(Errno::EACCES),
        "c's parent is root's 0755"
    );
    vfs.unlink("/a/b/c/deep.txt", ROOT).expect("unlink");
    vfs.rmdir("/a/b/c/", ROOT).expect("rmdir");
    vfs.rmdir("/a/b", ROOT).expect("rmdir");
    assert_eq!(names(&vfs, "/a"), Vec::<String>::new());
}

#[test]
fn sticky_directory_protects_other_users_files() {
    let mut vfs = Vfs::new();
    vfs.mkdir("/tmp", 0o1777, ROOT).expect("tmp");
    vfs.create_file("/tmp/mine", 0o666, USER).expect("create");
    vfs.mkdir("/tmp/dir", 0o777, USER).expect("mkdir");
    assert_eq!(vfs.unlink("/tmp/mine", OTHER), Err(Errno::EPERM));
    assert_eq!(vfs.rmdir("/tmp/dir", OTHER), Err(Errno::EPERM));
    vfs.unlink("/tmp/mine", USER).expect("owner may remove");
    vfs.rmdir("/tmp/dir", ROOT).expect("root may remove");
}

#[test]
fn non_root_permission_checks() {
    let mut vfs = loaded();
    let init = vfs.lookup("/bin/init").expect("init"); // 0750 root:2
    let rx = Access {
        read: true,
        write: false,
        exec: true,
    };
    assert_eq!(
        vfs.check_access(
            init,
            ROOT,
            Access {
                read: true,
                write: true,
                exec: true
            }
        ),
        Ok(())
    );
    assert_eq!(
        vfs.check_access(init, Cred { uid: 5, gid: 2 }, rx),
        Ok(()),
        "group"
    );
    assert_eq!(
        vfs.check_access(init, Cred { uid: 5, gid: 2 }, Access::WRITE),
        Err(Errno::EACCES)
    );
    assert_eq!(
        vfs.check_access(init, USER, Access::READ),
        Err(Errno::EACCES),
        "other: none"
    );
    // Owner class wins even when it grants less than other.
    vfs.create_file("/home/f", 0o070, ROOT).expect("create");
    let f = vfs.lookup("/home/f").expect("f");
    vfs.chown("/home/f", 1000, 1000, ROOT).expect("chown");
    vfs.chmod("/home/f", 0o077, ROOT).expect("chmod");
    assert_eq!(vfs.check_access(f, USER, Access::READ), Err(Errno::EACCES));
    assert_eq!(
        vfs.check_access(f, Cred { uid: 1, gid: 1000 }, Access::READ),
        Ok(())
    );
    assert_eq!(
        vfs.lookup_as("/home/f", OTHER),
        Err(Errno::EACCES),
        "no search on /home"
    );
    assert_eq!(vfs.lookup_as("/home/f", USER), Ok(f));
    assert_eq!(
        vfs.check_access(Ino(999), ROOT, Access::READ),
        Err(Errno::ENOENT)
    );
}

#[test]
fn device_nodes() {
    let mut vfs = Vfs::new();
    vfs.mkdir("/dev", 0o755, ROOT).expect("dev");
    let con = vfs.mknod("/dev/console", 7, 0o620).expect("mknod");
    assert_eq!(vfs.kind(con), Ok(NodeKind::Device(7)));
    let st = vfs.stat(con).expect("stat");
    assert_eq!(
        (st.mode & S_IFMT, st.mode & 0o7777, st.uid),
        (S_IFCHR, 0o620, 0)
    );
    assert_eq!(vfs.mknod("/dev/console", 8, 0o620), Err(Errno::EEXIST));
    assert_eq!(vfs.mknod("/nodir/x", 8, 0o620), Err(Errno::ENOENT));
    assert_eq!(vfs.read(con, 0, &mut [0; 4]), Err(Errno::ENODEV));
    assert_eq!(vfs.write(con, 0, b"x"), Err(Errno::ENODEV));
    assert_eq!(vfs.truncate(con, 0), Err(Errno::EINVAL));
    assert_eq!(vfs.read_dir(con, 0), Err(Errno::ENOTDIR));
    assert_eq!(
        vfs.read_dir(Ino::ROOT, 0)
            .map(|e| e.map(|(n, _, k)| (n, k))),
        Ok(Some(("dev".into(), NodeKind::Dir)))
    );
    vfs.unlink("/dev/console", ROOT).expect("unlink device");
}

#[test]
fn create_file_errors() {
    let mut vfs = loaded();
    assert_eq!(
        vfs.create_file("/etc/init.cfg", 0o644, ROOT),
        Err(Errno::EEXIST)
    );
    assert_eq!(vfs.create_file("/etc", 0o644, ROOT), Err(Errno::EEXIST));
    assert_eq!(vfs.create_file("/", 0o644, ROOT), Err(Errno::EEXIST));
    assert_eq!(
        vfs.create_file("/etc/new/", 0o644, ROOT),
        Err(Errno::EISDIR)
    );
    assert_eq!(vfs.create_file("/etc/new", 0o644, USER), Err(Errno::EACCES));
    assert_eq!(
        vfs.create_file("/missing/new", 0o644, ROOT),
        Err(Errno::ENOENT)
    );
    assert_eq!(vfs.create_file("relative", 0o644, ROOT), Err(Errno::EINVAL));
    let f = vfs.create_file("/home/new", 0o644, USER).expect("own dir");
    assert_eq!(vfs.stat(f).map(|s| (s.size, s.uid)), Ok((0, 1000)));
}

#[test]
fn read_dir_is_in_name_order() {
    let mut vfs = Vfs::new();
    for name in ["zeta", "alpha", "Beta", "mid", "a0"] {
        vfs.create_file(&std::format!("/{name}"), 0o644, ROOT)
            .expect("create");
    }
    assert_eq!(names(&vfs, "/"), ["Beta", "a0", "alpha", "mid", "zeta"]);
    assert_eq!(vfs.read_dir(Ino::ROOT, 5), Ok(None));
    assert_eq!(vfs.read_dir(Ino::ROOT, usize::MAX), Ok(None));
    let f = vfs.lookup("/mid").expect("mid");
    assert_eq!(vfs.read_dir(f, 0), Err(Errno::ENOTDIR));
    assert_eq!(vfs.read_dir(Ino(12345), 0), Err(Errno::ENOENT));
}
