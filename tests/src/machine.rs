//! The machine a system test boots: the QEMU command line of a board ([`QemuConfig`] for
//! `virt`, [`raspi3b_args`] for the Raspberry Pi 3 B, also what `cargo xtask run` and `gdb`
//! use), the kernel images and SD cards to boot on it, and where the build puts them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The QEMU binary every run uses.
pub const QEMU: &str = "qemu-system-aarch64";

/// Console arguments for a run without a terminal: serial on stdio, no window, no monitor.
pub const HEADLESS_ARGS: [&str; 6] = ["-display", "none", "-serial", "stdio", "-monitor", "none"];

/// The kernel target triple.
pub const KERNEL_TARGET: &str = "aarch64-unknown-none-softfloat";

/// The board QEMU emulates: the `virt` machine with a GIC version, a CPU model and a RAM size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QemuConfig {
    /// GIC version, 2 or 3.
    pub gic: u8,
    /// QEMU CPU model, e.g. `cortex-a53` or `cortex-a72`.
    pub cpu: String,
    /// RAM size as QEMU's `-m` takes it, e.g. `64M`.
    pub mem: String,
    /// Start the kernel at EL2 (`virtualization=on`).
    pub el2: bool,
    /// Arguments appended after the standard ones.
    pub extra: Vec<String>,
}

impl Default for QemuConfig {
    fn default() -> Self {
        QemuConfig {
            gic: 3,
            cpu: "cortex-a72".into(),
            mem: "64M".into(),
            el2: false,
            extra: Vec::new(),
        }
    }
}

impl QemuConfig {
    /// The machine, CPU, memory and (no) NIC arguments every boot of this board starts with.
    /// Always `-nic none`: the default NIC needs an option ROM that these machines lack.
    fn board_args(&self) -> Vec<String> {
        let mut machine = format!("virt,gic-version={}", self.gic);
        if self.el2 {
            machine.push_str(",virtualization=on");
        }
        vec![
            "-machine".into(),
            machine,
            "-cpu".into(),
            self.cpu.clone(),
            "-m".into(),
            self.mem.clone(),
            "-nic".into(),
            "none".into(),
        ]
    }

    /// The QEMU arguments that boot `image` on this board, without the console arguments
    /// (add [`HEADLESS_ARGS`] or `-nographic`).
    pub fn args(&self, image: &Path) -> Vec<String> {
        let initrd = image.with_file_name(INITRAMFS_NAME);
        let mut args = self.board_args();
        args.extend(["-kernel".into(), image.display().to_string()]);
        if initrd.is_file() {
            args.extend(["-initrd".into(), initrd.display().to_string()]);
        }
        args.extend(self.extra.iter().cloned());
        args
    }
}

/// The initramfs `cargo xtask build` writes next to the kernel `Image`; QEMU gets it as
/// `-initrd` whenever it exists.
pub const INITRAMFS_NAME: &str = "initramfs.cpio";

/// U-Boot for QEMU's arm64 `virt` machine, from Debian's `u-boot-qemu`: the firmware (`-bios`)
/// of SD card boots.
pub const UBOOT_BIOS: &str = "/usr/lib/u-boot/qemu_arm64/u-boot.bin";

/// The kernel command line `cargo xtask image` writes into `extlinux.conf` (`append`); U-Boot
/// passes it to the kernel as `/chosen/bootargs`. No `console=`: the kernel takes the
/// device tree's `stdout-path`, which is the PL011 on QEMU's virt and the mini UART on GPIO
/// 14/15 on a Raspberry Pi 3 or 4 (whose PL011, `ttyAMA0`, is wired to Bluetooth).
pub const SDCARD_BOOTARGS: &str = "loglevel=info";

/// RAM for SD card boots: U-Boot for QEMU loads the initrd at `ramdisk_addr_r`, 64 MiB into
/// RAM, so 64 MiB is too little.
pub const SDCARD_MEM: &str = "128M";

impl QemuConfig {
    /// The QEMU arguments that boot a disk image through firmware on this board: `bios` (e.g.
    /// [`UBOOT_BIOS`]) as `-bios` and `disk` as a raw virtio-blk drive, without the console
    /// arguments. `extra` comes last, as in [`QemuConfig::args`].
    pub fn disk_args(&self, bios: &Path, disk: &Path) -> Vec<String> {
        let mut args = self.board_args();
        args.extend([
            "-bios".into(),
            bios.display().to_string(),
            "-drive".into(),
            format!("if=none,file={},format=raw,id=sd", qemu_escaped(disk)),
            "-device".into(),
            "virtio-blk-device,drive=sd".into(),
        ]);
        args.extend(self.extra.iter().cloned());
        args
    }
}

/// U-Boot for the 64-bit Raspberry Pis (Debian's `u-boot-rpi`, `rpi_arm64`: Pi 3 and 4), in
/// [`rpi_boot_dir`].
pub const RPI_UBOOT: &str = "u-boot.bin";

/// The device tree of the Pi 3 Model B (upstream Linux name), in [`rpi_boot_dir`].
pub const RASPI3B_DTB: &str = "bcm2837-rpi-3-b.dtb";

/// QEMU's TCG for raspi3b: all four vCPUs on one host thread. The three cores the kernel does
/// not start yet wait in QEMU's spin-table stub, a WFE loop that TCG runs as a busy loop: on
/// threads of their own they would take three host CPUs, on one they yield at each WFE.
pub const RASPI3B_ACCEL: &str = "tcg,thread=single";

/// Where xtask keeps the Raspberry Pi boot files taken from Debian's packages
/// (`<target>/rpi/boot`).
pub fn rpi_boot_dir() -> PathBuf {
    target_dir().join("rpi").join("boot")
}

/// The Raspberry Pi card `cargo xtask image --board rpi` writes by default.
pub fn rpi_card_path() -> PathBuf {
    target_dir().join("sdcard-rpi.img")
}

/// The QEMU arguments that boot `card` on `raspi3b` (a Raspberry Pi 3 Model B: four
/// Cortex-A53, 1 GiB) through U-Boot from `boot`, without the console arguments. QEMU does not
/// run the Pi's GPU firmware, so its loader does the firmware's part: U-Boot as `-kernel`,
/// the device tree as `-dtb` (QEMU fills in the memory node and the spin-table stubs); U-Boot
/// then boots the card's `extlinux.conf` as on the real board. The first serial port (the
/// PL011, Bluetooth on the real board) is discarded, so the console arguments' `-serial` is
/// the mini UART, which carries GPIO 14/15. `extra` comes last.
pub fn raspi3b_args(boot: &Path, card: &Path, extra: &[String]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "-machine".into(),
        "raspi3b".into(),
        "-accel".into(),
        RASPI3B_ACCEL.into(),
        "-kernel".into(),
        boot.join(RPI_UBOOT).display().to_string(),
        "-dtb".into(),
        boot.join(RASPI3B_DTB).display().to_string(),
        "-drive".into(),
        format!("if=sd,file={},format=raw", qemu_escaped(card)),
        "-serial".into(),
        "null".into(),
    ];
    args.extend(extra.iter().cloned());
    args
}

/// A path as a QEMU option value, which escapes a comma by doubling it.
fn qemu_escaped(path: &Path) -> String {
    path.display().to_string().replace(',', ",,")
}

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// The cargo target directory: `$CARGO_TARGET_DIR`, else `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Where `cargo xtask build` puts the release kernel `Image`.
pub fn default_image_path() -> PathBuf {
    image_path("release")
}

/// Where `cargo xtask build` puts the `Image` of cargo profile directory `profile`.
fn image_path(profile: &str) -> PathBuf {
    target_dir().join(KERNEL_TARGET).join(profile).join("Image")
}

/// The kernel `Image` to boot: `$KERNEL_IMAGE`, or else the release `Image` built (once per
/// test process) by `cargo xtask build`.
pub fn kernel_image() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("KERNEL_IMAGE") {
        return Ok(PathBuf::from(path));
    }
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_image(&[]).map(|()| default_image_path()))
        .clone()
}

/// The debug kernel `Image` (overflow checks and debug assertions on): `$KERNEL_IMAGE_DEBUG`,
/// or else built (once per test process) by `cargo xtask build --debug`.
pub fn debug_kernel_image() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("KERNEL_IMAGE_DEBUG") {
        return Ok(PathBuf::from(path));
    }
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_image(&["--debug"]).map(|()| image_path("debug")))
        .clone()
}

/// Runs `cargo xtask build ARGS` in the workspace root.
fn build_image(args: &[&str]) -> Result<(), String> {
    let status = xtask(&["build"])
        .args(args)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run `cargo xtask build`: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`cargo xtask build {}` failed ({status})",
            args.join(" ")
        ));
    }
    Ok(())
}

/// Writes an SD card image to `out` with `cargo xtask image ARGS --out OUT` (ARGS e.g.
/// `--board rpi`).
pub fn write_card(args: &[&str], out: &Path) -> Result<(), String> {
    let output = xtask(&["image"])
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .map_err(|e| format!("cannot run `cargo xtask image`: {e}"))?;
    if output.status.success() && out.is_file() {
        Ok(())
    } else {
        Err(format!(
            "`cargo xtask image {} --out {}` failed ({}):\n{}",
            args.join(" "),
            out.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// `cargo xtask COMMAND` (the cargo running the tests, from `$CARGO`) in the workspace root.
fn xtask(command: &[&str]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("xtask").args(command).current_dir(workspace_root());
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_describe_the_board() {
        let config = QemuConfig {
            gic: 2,
            el2: true,
            extra: vec!["-s".into()],
            ..Default::default()
        };
        let args = config.args(Path::new("/tmp/Image"));
        let joined = args.join(" ");
        assert_eq!(
            joined,
            "-machine virt,gic-version=2,virtualization=on -cpu cortex-a72 -m 64M -nic none \
             -kernel /tmp/Image -s"
        );
    }

    #[test]
    fn raspi3b_boots_uboot_with_the_pi3_device_tree_and_the_card() {
        let args = raspi3b_args(
            Path::new("/b"),
            Path::new("/c,d.img"),
            &["-snapshot".into()],
        );
        assert_eq!(
            args.join(" "),
            "-machine raspi3b -accel tcg,thread=single -kernel /b/u-boot.bin \
             -dtb /b/bcm2837-rpi-3-b.dtb -drive if=sd,file=/c,,d.img,format=raw -serial null \
             -snapshot"
        );
    }

    #[test]
    fn disk_args_boot_firmware_and_a_virtio_disk() {
        let config = QemuConfig {
            mem: SDCARD_MEM.into(),
            extra: vec!["-snapshot".into()],
            ..Default::default()
        };
        let args = config.disk_args(Path::new("/fw/u-boot.bin"), Path::new("/tmp/sd.img"));
        assert_eq!(
            args.join(" "),
            "-machine virt,gic-version=3 -cpu cortex-a72 -m 128M -nic none -bios /fw/u-boot.bin \
             -drive if=none,file=/tmp/sd.img,format=raw,id=sd -device virtio-blk-device,drive=sd \
             -snapshot"
        );
    }
}
