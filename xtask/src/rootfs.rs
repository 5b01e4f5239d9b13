//! The initramfs: every user program (a binary of a user package of the workspace, see
//! [`crate::workspace`]), built for the user target and stripped, in `/bin`, plus the
//! `userland/etc` tree in `/etc`, packed
//! as a newc cpio with kcore's writer (the same code family the kernel reads it with).
//! Timestamps are zero and entries sorted, so the archive is reproducible.

use crate::workspace::{self, USER_TARGET};
use crate::{Result, cargo, root, run_checked};
use kcore::cpio::CpioWriter;
use std::path::{Path, PathBuf};
use std::process::Command;
use systest::target_dir;

pub use systest::INITRAMFS_NAME;

/// Builds the user programs and writes the archive to `out`.
pub fn build(out: &Path, objcopy: &Path) -> Result<()> {
    let programs = workspace::packages()?.programs;
    let mut build = cargo();
    build.args(["build", "--release", "--target", USER_TARGET, "--bins"]);
    let mut packages: Vec<&str> = programs.iter().map(|p| p.package.as_str()).collect();
    packages.sort_unstable();
    packages.dedup();
    for package in packages {
        build.args(["-p", package]);
    }
    run_checked(&mut build)?;
    let mut cpio = CpioWriter::new();
    for dir in ["bin", "dev", "etc"] {
        cpio.add_dir(dir, 0o755, 0, 0);
    }
    for program in programs.iter().map(|p| &p.name) {
        let elf = program_elf(program);
        let stripped = elf.with_file_name(format!("{program}.stripped"));
        run_checked(
            Command::new(objcopy)
                .arg("--strip-debug")
                .arg(&elf)
                .arg(&stripped),
        )?;
        let bytes = std::fs::read(&stripped)
            .map_err(|e| format!("cannot read {}: {e}", stripped.display()))?;
        cpio.add_file(&format!("bin/{program}"), 0o755, 0, 0, &bytes);
    }
    add_tree(&mut cpio, &root().join("userland/etc"), "etc")?;
    std::fs::write(out, cpio.finish()).map_err(|e| format!("cannot write {}: {e}", out.display()))
}

/// The unstripped ELF of user program `program` (with symbols and DWARF).
pub fn program_elf(program: &str) -> PathBuf {
    target_dir().join(USER_TARGET).join("release").join(program)
}

/// Adds the files and directories under `dir` as `prefix/...`, sorted, root-owned.
fn add_tree(cpio: &mut CpioWriter, dir: &Path, prefix: &str) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let inner = format!("{prefix}/{name}");
        if path.is_dir() {
            cpio.add_dir(&inner, 0o755, 0, 0);
            add_tree(cpio, &path, &inner)?;
        } else {
            let bytes =
                std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            cpio.add_file(&inner, 0o644, 0, 0, &bytes);
        }
    }
    Ok(())
}
