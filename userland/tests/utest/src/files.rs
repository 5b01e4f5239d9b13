//! Initramfs tests: reading a known file, fstat, lseek, directory listing, and the
//! errors for writing a directory or opening a missing path.

use alloc::string::String;
use alloc::vec::Vec;
use ulib::Errno;
use ulib::check::{Context, TestResult};
use ulib::fs::{self, File, open_flags};
use ulib::{ensure, ensure_eq};

/// Content of `/etc/hostname` in the initramfs.
const HOSTNAME: &str = "ohos-rs\n";

/// /etc/hostname holds the expected text.
pub fn hostname() -> TestResult {
    ensure_eq!(
        fs::read_to_string("/etc/hostname").context("read /etc/hostname")?,
        HOSTNAME
    );
    Ok(())
}

/// Fstat reports a regular file with the right size, and /bin as a directory.
pub fn fstat_regular() -> TestResult {
    let meta = fs::metadata("/etc/hostname").context("metadata")?;
    ensure!(meta.is_file(), "mode {:o} is not S_IFREG", meta.mode());
    ensure_eq!(meta.len(), HOSTNAME.len() as u64);
    let dir = fs::metadata("/bin").context("metadata /bin")?;
    ensure!(dir.is_dir(), "/bin mode {:o} is not S_IFDIR", dir.mode());
    Ok(())
}

/// Reads stop at end of file; lseek moves back.
pub fn seek_and_reread() -> TestResult {
    let mut file = File::open("/etc/hostname").context("open")?;
    let mut first = String::new();
    file.read_to_string(&mut first).context("read")?;
    let mut buf = [0u8; 4];
    ensure_eq!(file.read(&mut buf), Ok(0));
    ensure_eq!(file.seek_to(5), Ok(5));
    let mut rest = Vec::new();
    file.read_to_end(&mut rest).context("reread")?;
    ensure_eq!(first.as_str(), HOSTNAME);
    ensure_eq!(rest.as_slice(), &HOSTNAME.as_bytes()[5..]);
    Ok(())
}

/// Getdents of /bin lists the programs.
pub fn getdents_bin() -> TestResult {
    let entries = fs::read_dir("/bin").context("read_dir /bin")?;
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    for wanted in ["init", "utest", "hello", "crasher", "true"] {
        ensure!(names.contains(&wanted), "/bin lacks {wanted}: {names:?}");
    }
    let hello = entries
        .iter()
        .find(|e| e.name == "hello")
        .context("hello entry")?;
    ensure!(
        hello.is_file(),
        "hello is not a regular file (kind {})",
        hello.kind
    );
    Ok(())
}

/// Opening a directory for writing fails with EISDIR.
pub fn open_dir_for_write() -> TestResult {
    ensure_eq!(
        File::open_with("/bin", open_flags::O_WRONLY, 0).map(|f| f.fd()),
        Err(Errno::EISDIR)
    );
    ensure_eq!(
        File::open_with("/etc", open_flags::O_RDWR, 0).map(|f| f.fd()),
        Err(Errno::EISDIR)
    );
    Ok(())
}

/// Opening missing paths fails with ENOENT (or ENOTDIR through a file).
pub fn open_missing() -> TestResult {
    ensure_eq!(
        File::open("/etc/no-such-file").map(|f| f.fd()),
        Err(Errno::ENOENT)
    );
    let through_file = File::open("/etc/hostname/x").map(|f| f.fd());
    ensure!(
        matches!(through_file, Err(Errno::ENOTDIR | Errno::ENOENT)),
        "open through a file: {through_file:?}"
    );
    Ok(())
}
