//! Installs what a fresh machine lacks: QEMU (Debian's `qemu-system-arm`, via apt when root),
//! the rustup targets and components the kernel build needs, and U-Boot for SD card boots.

use crate::{Result, root, run_checked};
use std::path::PathBuf;
use std::process::Command;
use systest::{QEMU, UBOOT_BIOS};

/// The Debian package with [`UBOOT_BIOS`].
const UBOOT_PACKAGE: &str = "u-boot-qemu";

/// Rust targets the project builds for.
const TARGETS: [&str; 2] = ["aarch64-unknown-none", "aarch64-unknown-none-softfloat"];
/// Rustup components the build needs (`llvm-tools` brings `rust-objcopy`).
const COMPONENTS: [&str; 3] = ["rust-src", "llvm-tools", "clippy"];
/// The Debian package that provides `qemu-system-aarch64`.
const QEMU_PACKAGE: &str = "qemu-system-arm";

/// Makes sure QEMU and the Rust targets and components are installed.
pub fn ensure_tools() -> Result<()> {
    ensure_qemu()?;
    ensure_rustup("target", &TARGETS)?;
    ensure_rustup("component", &COMPONENTS)
}

/// The path of `program` if it is on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn ensure_qemu() -> Result<()> {
    if which(QEMU).is_some() {
        return Ok(());
    }
    apt_install(QEMU_PACKAGE, &format!("{QEMU} not found"))?;
    match which(QEMU) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{QEMU_PACKAGE} installed but {QEMU} is still not on PATH"
        )),
    }
}

/// Installs the Debian `package` with apt-get (update, then install without recommends) when
/// root; otherwise fails with `missing` and what to install.
pub fn apt_install(package: &str, missing: &str) -> Result<()> {
    if !is_root() {
        return Err(format!(
            "{missing}; install it (Debian/Ubuntu: sudo apt-get install \
             --no-install-recommends {package}) or run this command as root"
        ));
    }
    eprintln!("xtask: {missing}; installing {package} with apt-get");
    run_checked(Command::new("apt-get").arg("update"))?;
    run_checked(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// U-Boot for QEMU's arm64 `virt` machine: installs Debian's `u-boot-qemu` when it is missing
/// (with apt when root), and returns the path of its `u-boot.bin`.
pub fn ensure_uboot() -> Result<PathBuf> {
    let bios = PathBuf::from(UBOOT_BIOS);
    if bios.is_file() {
        return Ok(bios);
    }
    apt_install(UBOOT_PACKAGE, &format!("{UBOOT_BIOS} not found"))?;
    if bios.is_file() {
        Ok(bios)
    } else {
        Err(format!(
            "{UBOOT_PACKAGE} installed but {UBOOT_BIOS} is still missing"
        ))
    }
}

/// Adds the rustup `kind` ("target" or "component") items in `wanted` that are missing, for
/// the toolchain pinned in the workspace root.
fn ensure_rustup(kind: &str, wanted: &[&str]) -> Result<()> {
    let mut list = Command::new("rustup");
    list.args([kind, "list", "--installed"]).current_dir(root());
    let output = match list.output() {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "`rustup {kind} list --installed` failed: {}",
                err.trim()
            ));
        }
        Err(e) => {
            eprintln!("xtask: warning: rustup not usable ({e}); assuming {wanted:?} are installed");
            return Ok(());
        }
    };
    let installed = String::from_utf8_lossy(&output.stdout);
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !is_installed(&installed, w))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: adding rustup {kind}s {missing:?}");
    run_checked(
        Command::new("rustup")
            .args([kind, "add"])
            .args(&missing)
            .current_dir(root()),
    )
}

/// Whether rustup's `--installed` listing has `name`; components are listed with a host
/// suffix (`clippy-x86_64-unknown-linux-gnu`), targets and `rust-src` without.
fn is_installed(listing: &str, name: &str) -> bool {
    listing.lines().map(str::trim).any(|line| {
        line == name
            || line
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|host| host.split('-').count() >= 3)
    })
}

#[cfg(test)]
mod tests {
    use super::is_installed;

    #[test]
    fn installed_listing() {
        let listing = "cargo-x86_64-unknown-linux-gnu\nllvm-tools-x86_64-unknown-linux-gnu\nrust-src\n\
                       rust-std-aarch64-unknown-none-softfloat\n";
        assert!(is_installed(listing, "llvm-tools"));
        assert!(is_installed(listing, "rust-src"));
        assert!(!is_installed(listing, "clippy"));
        assert!(!is_installed(listing, "rust-std-aarch64-unknown-none"));
        assert!(!is_installed(
            "aarch64-unknown-none-softfloat\n",
            "aarch64-unknown-none"
        ));
        assert!(is_installed(
            "aarch64-unknown-none\n",
            "aarch64-unknown-none"
        ));
    }
}
