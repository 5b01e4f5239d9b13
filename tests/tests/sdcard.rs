//! SD card images: `cargo xtask image` writes a raw disk image (MBR, one bootable FAT32
//! partition with `Image`, `initramfs.cpio` and `extlinux/extlinux.conf`); Debian's U-Boot for
//! QEMU (`-bios`) finds it on virtio-blk through its standard distro boot and boots the kernel
//! with `booti`. Checked here: the boot reaches the same milestones as a `-kernel` boot on
//! GICv2 + Cortex-A53 and GICv3 + Cortex-A72, with the command line from `extlinux.conf`; the
//! partition passes `fsck.vfat -n` (when dosfstools is installed); two builds are identical.
//! The image holds the release build that `cargo xtask image` makes, not `$KERNEL_IMAGE`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use systest::{Qemu, QemuConfig, SDCARD_BOOTARGS, SDCARD_MEM, UBOOT_BIOS, target_dir, write_card};

/// Bound on each wait up to `boot complete` (U-Boot counts down 2 s before it boots).
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);
/// Bound on each userland milestone after `boot complete`.
const USERLAND_TIMEOUT: Duration = Duration::from_secs(120);

/// What U-Boot prints on the way: its banner, the configuration file distro boot found on the
/// card ("Found ..." / "Retrieving file: ..."), the hand-over to the kernel.
const UBOOT_MILESTONES: &[&str] = &["U-Boot 20", "/extlinux/extlinux.conf", "Starting kernel"];

/// Userland milestones, in order: the same ones the `-kernel` boot reaches. Later issues add
/// registered services and the shell prompt here.
/// In the order init prints them (the shell's first `OHOS # ` prompt shares a line with
/// init's "service shell started").
const USERLAND_MILESTONES: &[&str] = &[
    "init: started (pid 1)",
    "init: service shell started",
    "init: job post-init done",
];

/// The first partition must start here (1 MiB), as `cargo xtask image` promises.
const PARTITION_START_LBA: u64 = 2048;
const SECTOR: u64 = 512;
/// FAT32 has at least this many clusters (fewer make it FAT16 whatever the label says).
const FAT32_MIN_CLUSTERS: u64 = 65525;

/// Where this test writes its images.
fn work_dir() -> PathBuf {
    target_dir().join("systest")
}

/// The image the tests share, built once per test process.
fn sdcard_image() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let dir = work_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let out = dir.join("sdcard.img");
        write_card(&[], &out)?;
        Ok(out)
    });
    match built {
        Ok(path) => path,
        Err(e) => panic!("{e}"),
    }
}

/// Boots the shared image through U-Boot on `gic`/`cpu` and checks every milestone in order.
fn boot(gic: u8, cpu: &str) {
    let image = sdcard_image();
    let bios = Path::new(UBOOT_BIOS);
    assert!(
        bios.is_file(),
        "{UBOOT_BIOS} not found: install Debian's u-boot-qemu (`cargo xtask test` and \
         `cargo xtask run --sdcard` install it when run as root)"
    );
    let config = QemuConfig {
        gic,
        cpu: cpu.into(),
        mem: SDCARD_MEM.into(),
        // Guest writes go to a temporary overlay: the image stays as built, and parallel
        // boots of it do not fight over QEMU's write lock.
        extra: vec!["-snapshot".into()],
        ..QemuConfig::default()
    };
    let mut qemu = Qemu::start_disk(&config, bios, image).unwrap_or_else(|e| panic!("{e}"));
    let mut expect = |pattern: &str, timeout: Duration| {
        qemu.wait_for(pattern, timeout)
            .unwrap_or_else(|e| panic!("{config:?}: {e}"))
    };
    for milestone in UBOOT_MILESTONES {
        expect(milestone, BOOT_TIMEOUT);
    }
    let booting = expect("kernel: booting on ", BOOT_TIMEOUT);
    assert!(
        booting.contains(&format!("booting on {cpu} at EL1")),
        "expected {cpu} at EL1: {booting:?}"
    );
    // `/chosen/bootargs` came from the card's extlinux.conf, through U-Boot.
    let bootargs = expect("bootargs \"", BOOT_TIMEOUT);
    assert!(
        bootargs.contains(&format!("bootargs \"{SDCARD_BOOTARGS}\"")),
        "expected the kernel to get {SDCARD_BOOTARGS:?} from extlinux.conf: {bootargs:?}"
    );
    expect(&format!("gic: GICv{gic} at"), BOOT_TIMEOUT);
    expect("kernel: boot complete", BOOT_TIMEOUT);
    for milestone in USERLAND_MILESTONES {
        expect(milestone, USERLAND_TIMEOUT);
    }
    qemu.assert_no_panic();
}

#[test]
fn uboot_boots_the_sdcard_on_gicv2_cortex_a53() {
    boot(2, "cortex-a53");
}

#[test]
fn uboot_boots_the_sdcard_on_gicv3_cortex_a72() {
    boot(3, "cortex-a72");
}

/// The first partition entry of the MBR in `disk`: (boot flag, type, first LBA, sectors).
fn first_partition(disk: &[u8]) -> (u8, u8, u64, u64) {
    assert!(disk.len() >= 512, "image shorter than one sector");
    assert_eq!(&disk[510..512], &[0x55, 0xAA], "no MBR boot signature");
    let entry = &disk[446..462];
    let le32 = |at: usize| {
        u64::from(u32::from_le_bytes([
            entry[at],
            entry[at + 1],
            entry[at + 2],
            entry[at + 3],
        ]))
    };
    (entry[0], entry[4], le32(8), le32(12))
}

/// Number of data clusters of the FAT volume whose boot sector is `boot`.
fn fat_clusters(boot: &[u8]) -> u64 {
    let le16 = |at: usize| u64::from(u16::from_le_bytes([boot[at], boot[at + 1]]));
    let le32 = |at: usize| {
        u64::from(u32::from_le_bytes([
            boot[at],
            boot[at + 1],
            boot[at + 2],
            boot[at + 3],
        ]))
    };
    let total = if le16(0x13) != 0 {
        le16(0x13)
    } else {
        le32(0x20)
    };
    let fat_sectors = if le16(0x16) != 0 {
        le16(0x16)
    } else {
        le32(0x24)
    };
    let root_sectors = (le16(0x11) * 32).div_ceil(le16(0x0B));
    let data = total - le16(0x0E) - u64::from(boot[0x10]) * fat_sectors - root_sectors;
    data / u64::from(boot[0x0D])
}

/// `fsck.vfat` (or `fsck.fat`) on `PATH` or in the sbin directories root's `PATH` has.
fn find_fsck() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .collect();
    ["fsck.vfat", "fsck.fat"]
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

#[test]
fn partition_table_and_fat32_pass_fsck() {
    let disk = std::fs::read(sdcard_image()).expect("image readable");
    let (boot, kind, start, sectors) = first_partition(&disk);
    assert_eq!(boot, 0x80, "partition 1 is not bootable");
    assert_eq!(kind, 0x0C, "partition 1 is not FAT32 (LBA)");
    assert_eq!(
        start, PARTITION_START_LBA,
        "partition 1 does not start at 1 MiB"
    );
    let (from, to) = (start * SECTOR, (start + sectors) * SECTOR);
    assert!(to <= disk.len() as u64, "partition 1 ends past the image");
    let volume = &disk[from as usize..to as usize];
    assert_eq!(
        &volume[0x52..0x5A],
        b"FAT32   ",
        "boot sector says not FAT32"
    );
    let clusters = fat_clusters(volume);
    assert!(
        clusters >= FAT32_MIN_CLUSTERS,
        "{clusters} clusters: too few for FAT32"
    );

    let Some(fsck) = find_fsck() else {
        // Straight to stderr: libtest would swallow eprintln! of a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "partition_table_and_fat32_pass_fsck: SKIPPED the fsck.vfat check: fsck.vfat not \
             found (install dosfstools)"
        );
        return;
    };
    let partition = work_dir().join("sdcard-partition.img");
    std::fs::write(&partition, volume).expect("partition written");
    let output = Command::new(&fsck)
        .arg("-n")
        .arg(&partition)
        .output()
        .expect("fsck.vfat runs");
    let _ = std::fs::remove_file(&partition);
    assert!(
        output.status.success(),
        "{} -n found problems ({}):\n{}{}",
        fsck.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn rebuilt_image_is_byte_identical() {
    let first = std::fs::read(sdcard_image()).expect("image readable");
    let again_path = work_dir().join("sdcard-again.img");
    write_card(&[], &again_path).unwrap_or_else(|e| panic!("{e}"));
    let again = std::fs::read(&again_path).expect("second image readable");
    let _ = std::fs::remove_file(&again_path);
    assert_eq!(first.len(), again.len(), "the two images differ in size");
    if let Some(at) = first.iter().zip(&again).position(|(a, b)| a != b) {
        panic!(
            "the two images differ first at byte {at:#x} (sector {}): not reproducible",
            at as u64 / SECTOR
        );
    }
}
