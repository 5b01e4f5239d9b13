//! Builds the kernel ELF for its target and turns it into an arm64 Linux `Image` with the
//! sysroot's `rust-objcopy` (from the `llvm-tools` component).

use crate::{Result, cargo, root, run_checked};
use std::path::PathBuf;
use std::process::Command;
use systest::{KERNEL_TARGET, target_dir};

/// Which cargo profile the kernel is built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// `--release` (the default).
    Release,
    /// The dev profile (`--debug`).
    Debug,
}

impl Profile {
    /// Parses `build`'s arguments: nothing or `--debug`.
    pub fn from_args(args: &[String]) -> Result<Profile> {
        match args {
            [] => Ok(Profile::Release),
            [flag] if flag == "--debug" => Ok(Profile::Debug),
            _ => Err(format!("build takes only --debug, got {args:?}")),
        }
    }

    /// The directory name under `target/<triple>/`.
    fn dir(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "debug",
        }
    }
}

/// The kernel ELF of `profile` (for gdb).
pub fn elf_path(profile: Profile) -> PathBuf {
    target_dir()
        .join(KERNEL_TARGET)
        .join(profile.dir())
        .join("kernel")
}

/// Builds the kernel and its `Image`, and the user programs into `initramfs.cpio` beside it
/// (QEMU runs pass it with `-initrd`); returns the `Image` path. Tools must be set up first.
pub fn build(profile: Profile) -> Result<PathBuf> {
    let mut build = cargo();
    build.args(["build", "-p", "kernel", "--target", KERNEL_TARGET]);
    if profile == Profile::Release {
        build.arg("--release");
    }
    run_checked(&mut build)?;
    let elf = elf_path(profile);
    let image = elf.with_file_name("Image");
    let objcopy = objcopy()?;
    run_checked(
        Command::new(&objcopy)
            .args(["-O", "binary"])
            .arg(&elf)
            .arg(&image),
    )?;
    crate::rootfs::build(
        &image.with_file_name(crate::rootfs::INITRAMFS_NAME),
        &objcopy,
    )?;
    Ok(image)
}

/// `rust-objcopy` in the pinned toolchain's sysroot.
fn objcopy() -> Result<PathBuf> {
    let sysroot = rustc_output(&["--print", "sysroot"])?;
    let version = rustc_output(&["-vV"])?;
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .ok_or("`rustc -vV` names no host triple")?;
    let path = PathBuf::from(sysroot.trim())
        .join("lib/rustlib")
        .join(host.trim())
        .join("bin/rust-objcopy");
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} missing; run `rustup component add llvm-tools`",
            path.display()
        ))
    }
}

/// What `rustc <args>` prints, run in the workspace root (so the pinned toolchain is used).
fn rustc_output(args: &[&str]) -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .args(args)
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "rustc {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
