//! `cargo xtask image`: a raw SD card image that U-Boot's standard distro boot finds and boots.
//!
//! Layout: an MBR partition table with one bootable partition of type 0x0C (FAT32, LBA) from
//! 1 MiB to the end of the image, holding a FAT32 filesystem with the kernel `Image`, the
//! `initramfs.cpio` and `extlinux/extlinux.conf`. U-Boot's `scan_dev_for_extlinux` finds the
//! configuration file on the bootable partition and `sysboot` loads the kernel and initrd
//! and starts them with `booti`, passing its own device tree with `append` as
//! `/chosen/bootargs`.
//!
//! With `--board rpi` the card also carries the Raspberry Pi 3/4 boot files ([`crate::rpi`]:
//! firmware, `config.txt`, U-Boot, device trees) and still boots QEMU's virt, whose U-Boot
//! ignores them.
//!
//! Everything is written on the host with `mbrman` and `fatfs`, without mtools, loop mounts
//! or root. The output is deterministic: fixed disk signature, volume id and label, every FAT
//! timestamp the same fixed time, files written in a fixed order, so rebuilding without
//! changes yields a byte-identical image.

use crate::Result;
use crate::image::{self, Profile};
use fatfs::{Date, DateTime, FatType, FileSystem, FormatVolumeOptions, FsOptions, Time};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use systest::{INITRAMFS_NAME, SDCARD_BOOTARGS};

/// Image size without `--size`, in MiB.
pub const DEFAULT_SIZE_MIB: u32 = 64;
/// The smallest image: FAT32 needs at least 65525 clusters, 32 MiB of 512-byte clusters, plus
/// the FATs and the 1 MiB before the partition.
pub const MIN_SIZE_MIB: u32 = 40;
/// The largest image whose sectors (512 bytes) an MBR can count: just under 2 TiB.
const MAX_SIZE_MIB: u32 = 2 * 1024 * 1024 - 1;

const SECTOR: u64 = 512;
const MIB: u64 = 1024 * 1024;
/// The partition starts at 1 MiB (LBA 2048), the usual alignment for flash media.
const PARTITION_START_LBA: u32 = 2048;
/// MBR partition type: FAT32 with LBA addressing.
const PARTITION_TYPE_FAT32_LBA: u8 = 0x0C;
/// MBR disk signature ("LOSA": LiteOS-A).
const DISK_SIGNATURE: [u8; 4] = *b"LOSA";
/// FAT volume id (serial number), fixed for reproducible images.
const VOLUME_ID: u32 = 0x4C4F_5341;
/// FAT volume label, 11 bytes padded with spaces.
const VOLUME_LABEL: [u8; 11] = *b"LITEOS-BOOT";
/// The CHS geometry the MBR and the FAT boot sector describe (the customary LBA one).
const HEADS: u8 = 255;
const SECTORS_PER_TRACK: u8 = 63;
/// Offset of the "hidden sectors" field (sectors before the volume) in a FAT boot sector.
const BPB_HIDDEN_SECTORS: u64 = 0x1C;
/// Sector of the FAT32 backup boot sector, as `fatfs` formats it.
const BACKUP_BOOT_SECTOR: u64 = 6;

/// Which boards a card is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardBoard {
    /// Boards whose U-Boot is already there (QEMU's virt): the kernel, initramfs, extlinux.
    Virt,
    /// Also the Raspberry Pi 3 and 4: their firmware, U-Boot and device trees ([`crate::rpi`]).
    /// The card still boots QEMU's virt, whose U-Boot ignores those files.
    Rpi,
}

/// Options of `cargo xtask image`.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageOptions {
    /// The boards the card boots.
    pub board: CardBoard,
    /// Where the image goes.
    pub out: PathBuf,
    /// Its size in MiB.
    pub size_mib: u32,
    /// Which kernel build it holds.
    pub profile: Profile,
}

impl ImageOptions {
    /// The defaults: `target/sdcard.img`, 64 MiB, release kernel.
    pub fn new(profile: Profile) -> ImageOptions {
        ImageOptions {
            board: CardBoard::Virt,
            out: default_out(),
            size_mib: DEFAULT_SIZE_MIB,
            profile,
        }
    }

    /// The defaults for a Raspberry Pi card: `target/sdcard-rpi.img`.
    pub fn rpi(profile: Profile) -> ImageOptions {
        ImageOptions {
            board: CardBoard::Rpi,
            out: systest::rpi_card_path(),
            ..ImageOptions::new(profile)
        }
    }

    /// Parses `[--board virt|rpi] [--out FILE] [--size MiB] [--debug]`.
    pub fn parse(args: &[String]) -> Result<ImageOptions> {
        let mut opts = ImageOptions::new(Profile::Release);
        let mut out = None;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--board" => {
                    opts.board = match value()?.as_str() {
                        "virt" => CardBoard::Virt,
                        "rpi" => CardBoard::Rpi,
                        other => return Err(format!("--board must be virt or rpi, not {other:?}")),
                    }
                }
                "--out" => out = Some(PathBuf::from(value()?)),
                "--size" => opts.size_mib = parse_size(value()?)?,
                "--debug" => opts.profile = Profile::Debug,
                other => return Err(format!("unknown option {other:?} (see cargo xtask help)")),
            }
        }
        opts.out = match (out, opts.board) {
            (Some(out), _) => out,
            (None, CardBoard::Rpi) => systest::rpi_card_path(),
            (None, CardBoard::Virt) => default_out(),
        };
        Ok(opts)
    }
}

/// `target/sdcard.img` (under `$CARGO_TARGET_DIR` when set).
fn default_out() -> PathBuf {
    systest::target_dir().join("sdcard.img")
}

fn parse_size(value: &str) -> Result<u32> {
    let size: u32 = value
        .parse()
        .map_err(|_| format!("--size takes whole MiB, not {value:?}"))?;
    if (MIN_SIZE_MIB..=MAX_SIZE_MIB).contains(&size) {
        Ok(size)
    } else {
        Err(format!(
            "--size must be {MIN_SIZE_MIB} to {MAX_SIZE_MIB} MiB (FAT32 in an MBR partition), not {size}"
        ))
    }
}

/// The `extlinux/extlinux.conf` that U-Boot's `sysboot` reads: one default label with the
/// kernel, the initrd and the command line. No `fdt` line, so U-Boot passes its own device
/// tree (on QEMU, the one QEMU generated).
pub fn extlinux_conf(append: &str) -> String {
    format!(
        "# Written by `cargo xtask image`; read by U-Boot's distro boot (sysboot).\n\
         default liteos\n\
         \n\
         label liteos\n\
         \x20   kernel /Image\n\
         \x20   initrd /{INITRAMFS_NAME}\n\
         \x20   append {append}\n"
    )
}

/// Builds the kernel and user programs, then writes the SD card image; returns its path.
/// Tools must be set up first.
pub fn build(opts: &ImageOptions) -> Result<PathBuf> {
    let board_files = match opts.board {
        CardBoard::Virt => Vec::new(),
        CardBoard::Rpi => crate::rpi::ensure_boot_files()?.card_files()?,
    };
    let kernel = image::build(opts.profile)?;
    let initramfs = kernel.with_file_name(INITRAMFS_NAME);
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let files = [
        ("Image", read(&kernel)?),
        (INITRAMFS_NAME, read(&initramfs)?),
        (
            "extlinux/extlinux.conf",
            extlinux_conf(SDCARD_BOOTARGS).into_bytes(),
        ),
    ];
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (*n, b.as_slice()))
        .chain(board_files.iter().map(|(n, b)| (n.as_str(), b.as_slice())))
        .collect();
    write_image_file(&opts.out, opts.size_mib, &files)?;
    Ok(opts.out.clone())
}

/// Writes the image to `out` through a temporary file beside it, so a reader never sees a
/// half-written image.
fn write_image_file(out: &Path, size_mib: u32, files: &[(&str, &[u8])]) -> Result<()> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut tmp_name = out.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let written = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .and_then(|mut file| {
            file.set_len(u64::from(size_mib) * MIB)?;
            write_disk(&mut file, files)?;
            file.sync_all()
        })
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))
        .and_then(|()| {
            std::fs::rename(&tmp, out)
                .map_err(|e| format!("cannot rename {} to {}: {e}", tmp.display(), out.display()))
        });
    if written.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Writes the partition table and the FAT32 filesystem with `files` onto `disk`, a
/// zero-filled device of its final size. Paths are `name` or `dir/name` (one directory level);
/// directories are created first, then the files in the order given.
pub fn write_disk<D: Read + Write + Seek>(disk: &mut D, files: &[(&str, &[u8])]) -> io::Result<()> {
    let disk_sectors = u32::try_from(disk.seek(SeekFrom::End(0))? / SECTOR)
        .map_err(|_| invalid("image too large for an MBR"))?;
    let sectors = disk_sectors
        .checked_sub(PARTITION_START_LBA)
        .filter(|&s| s > 0)
        .ok_or_else(|| invalid("image too small for a partition"))?;
    write_mbr(disk, sectors)?;
    let start = u64::from(PARTITION_START_LBA) * SECTOR;
    let mut volume = Slice::new(disk, start, u64::from(sectors) * SECTOR);
    format(&mut volume)?;
    let dirs = directories(files)?;
    let fs = mount(&mut volume)?;
    for dir in &dirs {
        fs.root_dir().create_dir(dir)?;
    }
    fs.unmount()?;
    fix_dot_entries(&mut volume, dirs.len())?;
    let fs = mount(&mut volume)?;
    for (path, bytes) in files {
        let mut file = fs.root_dir().create_file(path)?;
        file.truncate()?;
        file.write_all(bytes)?;
        file.flush()?;
    }
    // Counting the free clusters records them in the FSInfo sector on unmount, as on a
    // volume that was unmounted cleanly.
    fs.stats()?;
    fs.unmount()
}

/// The directories of `files`' paths, each once, in order of appearance.
fn directories<'a>(files: &[(&'a str, &[u8])]) -> io::Result<Vec<&'a str>> {
    let mut dirs: Vec<&str> = Vec::new();
    for (path, _) in files {
        let Some((dir, name)) = path.split_once('/') else {
            continue;
        };
        if dir.is_empty() || name.is_empty() || name.contains('/') {
            return Err(invalid("only `name` and `dir/name` paths are supported"));
        }
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    Ok(dirs)
}

/// Mounts the FAT32 volume with every timestamp fixed.
fn mount<V: Read + Write + Seek>(volume: &mut V) -> io::Result<FileSystem<&mut V>> {
    volume.seek(SeekFrom::Start(0))?;
    let options = FsOptions::new()
        .update_accessed_date(false)
        .time_provider(&FIXED_TIME);
    let fs = FileSystem::new(volume, options)?;
    if fs.fat_type() != FatType::Fat32 {
        return Err(invalid(
            "the volume came out as FAT12/16, not FAT32; make the image larger",
        ));
    }
    Ok(fs)
}

/// Size of a FAT directory entry.
const DIR_ENTRY: usize = 32;
/// Attribute byte of a long-file-name entry.
const ATTR_LFN: u8 = 0x0F;
const ATTR_VOLUME_ID: u8 = 0x08;
const ATTR_DIRECTORY: u8 = 0x10;

/// Repairs the `.` and `..` entries of the `expected` directories in the root directory.
///
/// fatfs 0.3 (the newest release) writes each with a long-file-name entry before it, and
/// points `..` of a directory in the root at the root's cluster instead of 0; fsck.vfat
/// rejects both. A new directory's first cluster holds exactly `[LFN, ".", LFN, ".."]`; this
/// rewrites it to `[".", ".." (cluster 0)]` followed by the end marker, before any file goes
/// into the directory.
fn fix_dot_entries<V: Read + Write + Seek>(volume: &mut V, expected: usize) -> io::Result<()> {
    let mut boot = [0u8; 512];
    volume.seek(SeekFrom::Start(0))?;
    volume.read_exact(&mut boot)?;
    let le16 = |at: usize| u64::from(u16::from_le_bytes([boot[at], boot[at + 1]]));
    let le32 = |at: usize| {
        u64::from(u32::from_le_bytes([
            boot[at],
            boot[at + 1],
            boot[at + 2],
            boot[at + 3],
        ]))
    };
    // BPB: bytes per sector, sectors per cluster, reserved sectors, FATs, sectors per FAT
    // (FAT32), root directory cluster.
    let sector = le16(0x0B);
    let cluster_bytes = sector * u64::from(boot[0x0D]);
    let data_start = (le16(0x0E) + u64::from(boot[0x10]) * le32(0x24)) * sector;
    let cluster_pos = |cluster: u64| data_start + (cluster - 2) * cluster_bytes;
    let mut root = vec![0u8; cluster_bytes as usize];
    volume.seek(SeekFrom::Start(cluster_pos(le32(0x2C))))?;
    volume.read_exact(&mut root)?;
    let mut fixed = 0;
    for entry in root.chunks_exact(DIR_ENTRY) {
        let attr = entry[11];
        if entry[0] == 0 {
            break;
        }
        if entry[0] == 0xE5
            || attr == ATTR_LFN
            || attr & ATTR_DIRECTORY == 0
            || attr & ATTR_VOLUME_ID != 0
        {
            continue;
        }
        let cluster = u64::from(u16::from_le_bytes([entry[20], entry[21]])) << 16
            | u64::from(u16::from_le_bytes([entry[26], entry[27]]));
        let mut old = [0u8; 4 * DIR_ENTRY];
        volume.seek(SeekFrom::Start(cluster_pos(cluster)))?;
        volume.read_exact(&mut old)?;
        let slot = |i: usize| &old[i * DIR_ENTRY..(i + 1) * DIR_ENTRY];
        let as_written = slot(0)[11] == ATTR_LFN
            && slot(1)[..11] == *b".          "
            && slot(2)[11] == ATTR_LFN
            && slot(3)[..11] == *b"..         ";
        if !as_written {
            return Err(io::Error::other(
                "a new directory does not look as fatfs 0.3 writes it; check fix_dot_entries",
            ));
        }
        let mut new = [0u8; 4 * DIR_ENTRY];
        new[..DIR_ENTRY].copy_from_slice(slot(1));
        new[DIR_ENTRY..2 * DIR_ENTRY].copy_from_slice(slot(3));
        // `..` of a directory in the root names cluster 0 (high and low halves).
        new[DIR_ENTRY + 20..DIR_ENTRY + 22].fill(0);
        new[DIR_ENTRY + 26..DIR_ENTRY + 28].fill(0);
        volume.seek(SeekFrom::Start(cluster_pos(cluster)))?;
        volume.write_all(&new)?;
        fixed += 1;
    }
    if fixed == expected {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "repaired {fixed} of {expected} directories (too many for one root cluster?)"
        )))
    }
}

/// One bootable FAT32-LBA partition of `sectors` sectors from [`PARTITION_START_LBA`].
fn write_mbr<D: Read + Write + Seek>(disk: &mut D, sectors: u32) -> io::Result<()> {
    let mut mbr = mbrman::MBR::new_from(disk, SECTOR as u32, DISK_SIGNATURE).map_err(mbr_error)?;
    let last = PARTITION_START_LBA + (sectors - 1);
    mbr[1] = mbrman::MBRPartitionEntry {
        boot: mbrman::BOOT_ACTIVE,
        first_chs: chs(PARTITION_START_LBA),
        sys: PARTITION_TYPE_FAT32_LBA,
        last_chs: chs(last),
        starting_lba: PARTITION_START_LBA,
        sectors,
    };
    mbr.write_into(disk).map_err(mbr_error)
}

/// The CHS address of `lba` in the 255-head, 63-sector geometry, or the customary "beyond
/// CHS" value 1023/254/63 when it lies past cylinder 1023.
fn chs(lba: u32) -> mbrman::CHS {
    mbrman::CHS::from_lba_exact(lba, 1023, HEADS, SECTORS_PER_TRACK)
        .unwrap_or_else(|_| mbrman::CHS::new(1023, HEADS - 1, SECTORS_PER_TRACK))
}

fn mbr_error(e: mbrman::Error) -> io::Error {
    io::Error::other(format!("partition table: {e}"))
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Formats `volume` as FAT32 (the cluster size `fatfs` picks for FAT32: 512 bytes up to
/// 260 MiB, so a 64 MiB image has ~129000 clusters, well above FAT32's minimum of 65525), then
/// records the sectors before the partition in both boot sectors as FAT expects.
fn format<V: Read + Write + Seek>(volume: &mut V) -> io::Result<()> {
    let options = FormatVolumeOptions::new()
        .fat_type(FatType::Fat32)
        .volume_id(VOLUME_ID)
        .volume_label(VOLUME_LABEL)
        .heads(u16::from(HEADS))
        .sectors_per_track(u16::from(SECTORS_PER_TRACK));
    fatfs::format_volume(&mut *volume, options)?;
    for sector in [0, BACKUP_BOOT_SECTOR] {
        volume.seek(SeekFrom::Start(sector * SECTOR + BPB_HIDDEN_SECTORS))?;
        volume.write_all(&PARTITION_START_LBA.to_le_bytes())?;
    }
    Ok(())
}

/// The time every FAT timestamp gets: 1980-01-01 00:00:00, the FAT epoch.
#[derive(Debug)]
struct FixedTime;

static FIXED_TIME: FixedTime = FixedTime;

impl fatfs::TimeProvider for FixedTime {
    fn get_current_date(&self) -> Date {
        Date {
            year: 1980,
            month: 1,
            day: 1,
        }
    }

    fn get_current_date_time(&self) -> DateTime {
        DateTime {
            date: self.get_current_date(),
            time: Time {
                hour: 0,
                min: 0,
                sec: 0,
                millis: 0,
            },
        }
    }
}

/// The bytes `start..start + len` of `inner` as a device of their own (a partition).
struct Slice<'a, D> {
    inner: &'a mut D,
    start: u64,
    len: u64,
    pos: u64,
}

impl<'a, D: Seek> Slice<'a, D> {
    fn new(inner: &'a mut D, start: u64, len: u64) -> Self {
        Slice {
            inner,
            start,
            len,
            pos: 0,
        }
    }

    /// Moves `inner` to the current position; returns how many bytes of `want` fit before
    /// the end.
    fn prepare(&mut self, want: usize) -> io::Result<usize> {
        self.inner.seek(SeekFrom::Start(self.start + self.pos))?;
        let left = self.len.saturating_sub(self.pos);
        Ok(want.min(usize::try_from(left).unwrap_or(usize::MAX)))
    }
}

impl<D: Read + Seek> Read for Slice<'_, D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.prepare(buf.len())?;
        let n = self.inner.read(&mut buf[..n])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<D: Write + Seek> Write for Slice<'_, D> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.prepare(buf.len())?;
        if n == 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "write past the end of the partition",
            ));
        }
        let n = self.inner.write(&buf[..n])?;
        self.pos += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<D> Seek for Slice<'_, D> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| invalid("seek before the start of the partition"))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fatfs::TimeProvider;
    use std::io::Cursor;

    const KERNEL: &[u8] = b"not really a kernel";

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    /// A minimum-size image with a few files, in memory.
    fn image(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut disk = Cursor::new(vec![0u8; (u64::from(MIN_SIZE_MIB) * MIB) as usize]);
        write_disk(&mut disk, files).expect("image written");
        disk.into_inner()
    }

    fn sample() -> Vec<u8> {
        let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let conf = extlinux_conf(SDCARD_BOOTARGS);
        image(&[
            ("Image", KERNEL),
            (INITRAMFS_NAME, &big),
            ("extlinux/extlinux.conf", conf.as_bytes()),
        ])
    }

    fn read_file(fs: &FileSystem<Cursor<&mut [u8]>>, path: &str) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        fs.root_dir().open_file(path)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    #[test]
    fn options() {
        let opts = ImageOptions::parse(&[]).expect("parses");
        assert_eq!(opts, ImageOptions::new(Profile::Release));
        assert!(opts.out.ends_with("sdcard.img"));
        assert_eq!(opts.size_mib, DEFAULT_SIZE_MIB);
        let opts = ImageOptions::parse(&strings(&["--out", "x.img", "--size", "128", "--debug"]))
            .expect("parses");
        assert_eq!(opts.out, PathBuf::from("x.img"));
        assert_eq!(opts.size_mib, 128);
        assert_eq!(opts.profile, Profile::Debug);
        let opts = ImageOptions::parse(&strings(&["--board", "rpi"])).expect("parses");
        assert_eq!(opts, ImageOptions::rpi(Profile::Release));
        assert!(opts.out.ends_with("sdcard-rpi.img"));
        let opts =
            ImageOptions::parse(&strings(&["--out", "y.img", "--board", "rpi"])).expect("parses");
        assert_eq!(
            (opts.board, opts.out),
            (CardBoard::Rpi, PathBuf::from("y.img"))
        );
        for bad in [
            &["--board", "pi5"][..],
            &["--size", "8"],
            &["--size", "big"],
            &["--out"],
            &["--fast"],
        ] {
            assert!(ImageOptions::parse(&strings(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn extlinux_conf_has_a_default_label_without_fdt() {
        let conf = extlinux_conf("console=ttyAMA0 loglevel=info");
        let lines: Vec<&str> = conf.lines().map(str::trim).collect();
        assert!(lines.contains(&"default liteos"));
        assert!(lines.contains(&"label liteos"));
        assert!(lines.contains(&"kernel /Image"));
        assert!(lines.contains(&"initrd /initramfs.cpio"));
        assert!(lines.contains(&"append console=ttyAMA0 loglevel=info"));
        assert!(!lines.iter().any(|l| l.starts_with("fdt")));
    }

    #[test]
    fn partition_table_has_one_bootable_fat32_partition_at_1_mib() {
        let disk = sample();
        assert_eq!(&disk[510..512], &[0x55, 0xAA]);
        let mbr = mbrman::MBR::read_from(&mut Cursor::new(&disk), 512).expect("MBR");
        let used: Vec<_> = mbr.iter().filter(|(_, p)| p.is_used()).collect();
        assert_eq!(used.len(), 1);
        let (index, part) = used[0];
        assert_eq!(index, 1);
        assert!(part.is_active());
        assert_eq!(part.sys, 0x0C);
        assert_eq!(part.starting_lba, 2048);
        assert_eq!(
            u64::from(part.starting_lba + part.sectors) * SECTOR,
            disk.len() as u64
        );
        assert_eq!(part.first_chs, mbrman::CHS::new(0, 32, 33));
    }

    #[test]
    fn filesystem_is_fat32_with_the_files() {
        let mut disk = sample();
        let start = 2048 * SECTOR as usize;
        let volume = &mut disk[start..];
        // Boot sector: hidden sectors = partition start, FAT32 type label, fixed id and label.
        assert_eq!(&volume[0x1C..0x20], &2048u32.to_le_bytes());
        assert_eq!(&volume[0x52..0x5A], b"FAT32   ");
        assert_eq!(&volume[0x43..0x47], &VOLUME_ID.to_le_bytes());
        assert_eq!(&volume[0x47..0x52], &VOLUME_LABEL);
        let fs = FileSystem::new(Cursor::new(volume), FsOptions::new()).expect("mounts");
        assert_eq!(fs.fat_type(), FatType::Fat32);
        assert!(fs.stats().expect("stats").total_clusters() >= 65525);
        assert_eq!(read_file(&fs, "Image").expect("Image"), KERNEL);
        assert_eq!(
            read_file(&fs, INITRAMFS_NAME).expect("initramfs").len(),
            300_000
        );
        let conf = read_file(&fs, "extlinux/extlinux.conf").expect("extlinux.conf");
        assert_eq!(conf, extlinux_conf(SDCARD_BOOTARGS).as_bytes());
        let status = fs.read_status_flags().expect("status");
        assert!(!status.dirty() && !status.io_error());
        for entry in fs.root_dir().iter() {
            let entry = entry.expect("entry");
            let fixed = FIXED_TIME.get_current_date_time();
            assert_eq!(entry.modified(), fixed, "{}", entry.file_name());
            assert_eq!(entry.created(), fixed, "{}", entry.file_name());
        }
    }

    #[test]
    fn images_are_reproducible() {
        assert!(sample() == sample(), "two builds differ");
    }

    #[test]
    fn files_that_do_not_fit_are_an_error() {
        let huge = vec![1u8; (u64::from(MIN_SIZE_MIB) * MIB) as usize];
        let mut disk = Cursor::new(vec![0u8; (u64::from(MIN_SIZE_MIB) * MIB) as usize]);
        assert!(write_disk(&mut disk, &[("Image", &huge)]).is_err());
    }

    #[test]
    fn slice_stays_inside_its_range() {
        let mut backing = Cursor::new(vec![0u8; 16]);
        let mut slice = Slice::new(&mut backing, 4, 8);
        slice.write_all(b"abcdefgh").expect("fits");
        assert!(slice.write_all(b"i").is_err());
        slice.seek(SeekFrom::Start(6)).expect("seek");
        let mut rest = Vec::new();
        slice.read_to_end(&mut rest).expect("read");
        assert_eq!(rest, b"gh");
        assert!(slice.seek(SeekFrom::Current(-9)).is_err());
        assert_eq!(&backing.into_inner()[..], b"\0\0\0\0abcdefgh\0\0\0\0");
    }
}
