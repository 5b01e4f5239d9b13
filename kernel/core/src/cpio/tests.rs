//! Host tests for the newc reader and writer: round trips, hand-made members, truncated and
//! garbage archives, and GNU cpio reading our output when it is installed.

use std::string::String;
use std::vec;
use std::vec::Vec;

use super::*;
use abi::syscall::file_type::{S_IFDIR, S_IFMT, S_IFREG};

/// A small archive like the initramfs: nested dirs, files with modes and owners.
fn sample() -> Vec<u8> {
    let mut w = CpioWriter::new();
    w.add_dir("bin", 0o755, 0, 0);
    w.add_file("bin/init", 0o755, 0, 0, b"\x7fELF init");
    w.add_dir("etc", 0o755, 0, 0);
    w.add_file("etc/init.cfg", 0o644, 0, 0, b"{\"jobs\":[]}");
    w.add_dir("data", 0o700, 1000, 1000);
    w.add_file("data/empty", 0o600, 1000, 1001, b"");
    w.finish()
}

/// Collects all entries, panicking on the first error.
fn all(archive: &[u8]) -> Vec<CpioEntry<'_>> {
    entries(archive)
        .map(|e| e.expect("valid archive"))
        .collect()
}

/// Hand-writes one member header, name and data (with padding), for malformed cases.
fn raw_member(magic: &str, fields: [u32; 13], name: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(magic.as_bytes());
    for f in fields {
        out.extend_from_slice(std::format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out.extend_from_slice(data);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// Header fields for a regular file member with the given name and data sizes.
fn fields(namesize: usize, filesize: usize) -> [u32; 13] {
    [
        7,
        S_IFREG | 0o644,
        0,
        0,
        1,
        0,
        filesize as u32,
        0,
        0,
        0,
        0,
        namesize as u32,
        0,
    ]
}

#[test]
fn round_trip_preserves_everything() {
    let archive = sample();
    let got = all(&archive);
    let names: Vec<&str> = got.iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        [
            "bin",
            "bin/init",
            "etc",
            "etc/init.cfg",
            "data",
            "data/empty"
        ]
    );
    assert_eq!(got[0].mode, S_IFDIR | 0o755);
    assert_eq!(got[1].mode, S_IFREG | 0o755);
    assert_eq!(got[1].data, b"\x7fELF init");
    assert_eq!(got[3].data, b"{\"jobs\":[]}");
    assert_eq!(
        (got[4].uid, got[4].gid, got[4].mode & 0o7777),
        (1000, 1000, 0o700)
    );
    assert_eq!((got[5].uid, got[5].gid), (1000, 1001));
    assert!(got[5].data.is_empty());
    assert_eq!(got[0].nlink, 2);
    assert_eq!(got[1].nlink, 1);
}

#[test]
fn writer_is_deterministic_and_block_padded() {
    let a = sample();
    assert_eq!(a, sample());
    assert_eq!(a.len() % 512, 0);
    let got = all(&a);
    let inos: Vec<u32> = got.iter().map(|e| e.ino).collect();
    assert_eq!(inos, [1, 2, 3, 4, 5, 6]);
    assert!(got.iter().all(|e| e.mtime == 0));
    // Every header starts 4-aligned with the newc magic.
    assert_eq!(&a[..6], b"070701");
}

#[test]
fn empty_archive_is_just_a_trailer() {
    let a = CpioWriter::new().finish();
    assert_eq!(a.len(), 512);
    assert_eq!(entries(&a).count(), 0);
}

#[test]
fn writer_masks_type_bits_and_strips_slash() {
    let mut w = CpioWriter::new();
    w.add_file("/abs", 0o170777, 0, 0, b"x");
    let a = w.finish();
    let got = all(&a);
    assert_eq!(got[0].name, "abs");
    assert_eq!(got[0].mode & S_IFMT, S_IFREG);
    assert_eq!(got[0].mode & 0o7777, 0o777);
}

#[test]
fn writer_rejects_bad_names() {
    let mut w = CpioWriter::new();
    assert_eq!(
        w.try_add_file("", 0o644, 0, 0, b""),
        Err(CpioError::BadName)
    );
    assert_eq!(
        w.try_add_file("/", 0o644, 0, 0, b""),
        Err(CpioError::BadName)
    );
    assert_eq!(w.try_add_dir("a\0b", 0o755, 0, 0), Err(CpioError::BadName));
    assert_eq!(w.try_add_dir(TRAILER, 0o755, 0, 0), Err(CpioError::BadName));
    let long: String = "a".repeat(MAX_NAME_LEN);
    assert_eq!(w.try_add_dir(&long, 0o755, 0, 0), Err(CpioError::TooLarge));
    // Nothing was written by the failed calls.
    assert_eq!(w.finish(), CpioWriter::new().finish());
}

#[test]
#[should_panic(expected = "cannot add file")]
fn add_file_panics_on_bad_name() {
    CpioWriter::new().add_file("x\0", 0o644, 0, 0, b"");
}

#[test]
fn reader_strips_dot_slash_and_accepts_crc_magic() {
    let mut a = raw_member("070701", fields(6, 1), b"./a/b\0", b"z");
    a.extend(raw_member("070702", fields(2, 0), b".\0", b""));
    a.extend(raw_member("070701", fields(5, 0), b"//c/\0", b""));
    a.extend(raw_member("070701", fields(11, 0), b"TRAILER!!!\0", b""));
    let got = all(&a);
    let names: Vec<&str> = got.iter().map(|e| e.name).collect();
    assert_eq!(names, ["a/b", "", "c/"]);
    assert_eq!(got[0].data, b"z");
}

#[test]
fn reader_stops_at_trailer_and_ignores_what_follows() {
    let mut a = sample();
    a.extend_from_slice(b"garbage after the trailer");
    assert_eq!(all(&a).len(), 6);
}

#[test]
fn missing_trailer_is_truncated() {
    let a = raw_member("070701", fields(2, 0), b"a\0", b"");
    let got: Vec<_> = entries(&a).collect();
    assert_eq!(got.len(), 2);
    assert!(got[0].is_ok());
    assert_eq!(got[1].unwrap_err(), CpioError::Truncated);
    assert_eq!(
        entries(&[]).next().map(|r| r.err()),
        Some(Some(CpioError::Truncated))
    );
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let a = sample();
    // The trailer starts after the last member; cutting anywhere before its end must fail.
    let trailer_end = a.len() - a.iter().rev().take_while(|&&b| b == 0).count();
    for cut in 0..trailer_end {
        let results: Vec<_> = entries(&a[..cut]).collect();
        let last = results.last().expect("at least one item");
        assert_eq!(*last, Err(CpioError::Truncated), "cut at {cut}");
        assert!(results[..results.len() - 1].iter().all(Result::is_ok));
    }
}

#[test]
fn malformed_headers() {
    let cases: [(Vec<u8>, CpioError); 7] = [
        (
            raw_member("070707", fields(2, 0), b"a\0", b""),
            CpioError::BadMagic,
        ),
        (
            raw_member("abcdef", fields(2, 0), b"a\0", b""),
            CpioError::BadMagic,
        ),
        (
            raw_member("070701", fields(0, 0), b"", b""),
            CpioError::BadName,
        ),
        (
            raw_member("070701", fields(2, 0), b"ab", b""),
            CpioError::BadName,
        ),
        (
            raw_member("070701", fields(3, 0), b"a\0\0", b""),
            CpioError::BadName,
        ),
        (
            raw_member("070701", fields(3, 0), b"\xff\xfe\0", b""),
            CpioError::BadName,
        ),
        (
            raw_member("070701", fields(MAX_NAME_LEN + 1, 0), b"a\0", b""),
            CpioError::TooLarge,
        ),
    ];
    for (archive, want) in cases {
        let mut it = entries(&archive);
        assert_eq!(it.next().map(|r| r.err()), Some(Some(want)));
        assert!(it.next().is_none(), "nothing after an error");
    }
}

#[test]
fn non_hex_digits_are_bad_numbers() {
    let mut a = raw_member("070701", fields(2, 0), b"a\0", b"");
    for (pos, byte) in [(6, b'g'), (20, b' '), (109, b'-'), (54, b'+')] {
        let saved = a[pos];
        a[pos] = byte;
        assert_eq!(
            entries(&a).next().map(|r| r.err()),
            Some(Some(CpioError::BadNumber)),
            "{pos}"
        );
        a[pos] = saved;
    }
}

#[test]
fn huge_file_size_is_truncated() {
    let a = raw_member("070701", fields(2, 0xffff_ffff), b"a\0", b"");
    assert_eq!(
        entries(&a).next().map(|r| r.err()),
        Some(Some(CpioError::Truncated))
    );
}

use crate::test_rng::XorShift;

#[test]
fn garbage_never_panics() {
    let base = sample();
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for round in 0..5_000 {
        let mut a = base.clone();
        if round % 2 == 0 {
            // A few flipped bytes in a valid archive: often still parses up to some point.
            for _ in 0..1 + rng.next() % 4 {
                let i = (rng.next() as usize) % a.len();
                a[i] = rng.next() as u8;
            }
        } else {
            // Pure noise that sometimes starts with the magic.
            let len = (rng.next() % 600) as usize;
            a = (0..len).map(|_| rng.next() as u8).collect();
            if len >= 6 && rng.next().is_multiple_of(2) {
                a[..6].copy_from_slice(MAGIC_NEWC);
            }
        }
        let mut count = 0;
        for item in entries(&a) {
            if let Ok(e) = item {
                // Borrowed slices always lie inside the archive.
                assert!(e.data.len() <= a.len());
            }
            count += 1;
            assert!(
                count <= a.len() / HEADER_LEN + 1,
                "iterator must make progress"
            );
        }
    }
}

#[test]
fn gnu_cpio_lists_our_archive() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let Ok(mut child) = Command::new("cpio")
        .args(["-it", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        std::eprintln!("cpio not installed; skipping");
        return;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&sample())
        .expect("write");
    let out = child.wait_with_output().expect("cpio runs");
    assert!(
        out.status.success(),
        "cpio failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8(out.stdout).expect("utf-8");
    let names: Vec<&str> = listing.lines().collect();
    assert_eq!(
        names,
        vec![
            "bin",
            "bin/init",
            "etc",
            "etc/init.cfg",
            "data",
            "data/empty"
        ]
    );
}

#[test]
fn reads_an_archive_made_by_gnu_cpio() {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(std::format!("kcore-cpio-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    std::fs::write(dir.join("sub/file"), b"hello").expect("write");
    std::fs::set_permissions(dir.join("sub/file"), std::fs::Permissions::from_mode(0o640))
        .expect("chmod");
    let child = Command::new("cpio")
        .args(["-o", "-H", "newc", "--quiet"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        std::eprintln!("cpio not installed; skipping");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b".\nsub\nsub/file\n")
        .expect("write");
    let out = child.wait_with_output().expect("cpio runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success());
    let got = all(&out.stdout);
    let names: Vec<&str> = got.iter().map(|e| e.name).collect();
    assert_eq!(names, ["", "sub", "sub/file"]);
    assert_eq!(got[1].mode & S_IFMT, S_IFDIR);
    assert_eq!(got[2].mode, S_IFREG | 0o640);
    assert_eq!(got[2].data, b"hello");
}
