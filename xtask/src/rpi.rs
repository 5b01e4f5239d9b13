//! The Raspberry Pi boot files for `cargo xtask image --board rpi`, taken from Debian's arm64
//! packages: the GPU firmware (`raspi-firmware`, component `non-free-firmware`: `bootcode.bin`
//! for the Pi 3, `start*.elf` and `fixup*.dat`), U-Boot for the 64-bit Pis (`u-boot-rpi`,
//! `rpi_arm64/u-boot.bin`) and the upstream device trees of the 64-bit Pis (`broadcom/` in
//! the arm64 kernel package that `linux-image-arm64` names).
//!
//! They are fetched once with `apt-get download` under a private apt configuration in
//! `<target>/rpi/apt` (its own sources list with the arm64 architecture and the
//! `non-free-firmware` component, its own package lists and cache), so the machine's apt setup
//! is neither needed as root nor changed; the mirror and suite are the machine's own Debian
//! ones. Only the files the card needs are unpacked, into [`systest::rpi_boot_dir`], with
//! `versions.txt` naming the packages; later images reuse them, so rebuilding an image is
//! byte-identical. Delete `<target>/rpi` to fetch the then-current versions.

use crate::{Result, describe, run_checked};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use systest::{RASPI3B_DTB, RPI_UBOOT, rpi_boot_dir};

/// Package with the GPU firmware.
const FIRMWARE_PACKAGE: &str = "raspi-firmware";
/// Package with U-Boot for the Pis.
const UBOOT_PACKAGE: &str = "u-boot-rpi";
/// Metapackage naming the current arm64 kernel package (which holds the device trees).
const KERNEL_METAPACKAGE: &str = "linux-image-arm64";
/// Written last into the boot directory: its presence means the directory is complete.
const VERSIONS: &str = "versions.txt";
/// Firmware files the card carries: the Pi 3's second-stage loader and every start/fixup pair
/// (the Pi 4 boots from its EEPROM and reads only `start4*.elf`/`fixup4*.dat`).
const FIRMWARE_FILES: [&str; 3] = ["bootcode.bin", "start*.elf", "fixup*.dat"];

/// The boot files, unpacked.
pub struct BootFiles {
    dir: PathBuf,
}

impl BootFiles {
    /// `(name on the card, contents)` of every Pi boot file, in a fixed order: `config.txt`,
    /// U-Boot, the firmware, the device trees.
    pub fn card_files(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let versions = read(&self.dir.join(VERSIONS))?;
        let mut files = vec![(
            "config.txt".to_string(),
            config_txt(&String::from_utf8_lossy(&versions)).into_bytes(),
        )];
        let mut names = listing(&self.dir)?;
        names.retain(|n| n != VERSIONS);
        // U-Boot first, then the rest by name: firmware (b..., f..., s...) and bcm*.dtb.
        names.sort_by_key(|n| (n != RPI_UBOOT, n.clone()));
        for name in names {
            let bytes = read(&self.dir.join(&name))?;
            files.push((name, bytes));
        }
        Ok(files)
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The file names in `dir`.
fn listing(dir: &Path) -> Result<Vec<String>> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

/// The firmware's `config.txt`: 64-bit mode, U-Boot as the "kernel", upstream device tree
/// names, the mini UART on. `versions` (the packages the files came from) goes in as comments.
pub fn config_txt(versions: &str) -> String {
    let mut text = String::from(
        "# Written by `cargo xtask image --board rpi`; read by the Raspberry Pi firmware\n\
         # (Pi 3: bootcode.bin then start.elf; Pi 4: its EEPROM then start4.elf).\n",
    );
    for line in versions.lines().filter(|l| !l.trim().is_empty()) {
        text.push_str(&format!("# from {line}\n"));
    }
    text.push_str(
        "\n\
         # Start the ARM cores in AArch64 state.\n\
         arm_64bit=1\n\
         # The firmware starts U-Boot (rpi_arm64: Pi 3 and 4), linked at 0x80000 and not\n\
         # position-independent; U-Boot boots /extlinux/extlinux.conf.\n\
         kernel=u-boot.bin\n\
         kernel_address=0x80000\n\
         # Pick the device tree by its upstream Linux name (bcm2837-rpi-3-b.dtb, bcm2711-rpi-4-b.dtb).\n\
         upstream_kernel=1\n\
         # The console is the mini UART on GPIO 14/15 (115200 8N1). Its baud rate divides the\n\
         # VideoCore core clock; enable_uart=1 turns it on and holds that clock fixed (on the\n\
         # Pi 3 at 250 MHz), which nothing later changes: neither U-Boot nor the kernel\n\
         # touches the clocks.\n\
         enable_uart=1\n",
    );
    text
}

/// The boot files, fetched and unpacked first if they are not there yet.
pub fn ensure_boot_files() -> Result<BootFiles> {
    let dir = rpi_boot_dir();
    if !dir.join(VERSIONS).is_file() {
        fetch(&dir).map_err(|e| {
            format!(
                "{e}\nthe Raspberry Pi boot files come from Debian's arm64 packages {FIRMWARE_PACKAGE}, \
                 {UBOOT_PACKAGE} and the kernel package {KERNEL_METAPACKAGE} names; this needs \
                 apt-get and dpkg-deb (Debian or a derivative with a Debian mirror in its apt \
                 sources) and network access to that mirror, or put u-boot.bin (rpi_arm64), \
                 bootcode.bin, start*.elf, fixup*.dat, the bcm2837-*/bcm2711-* .dtb files and \
                 a {VERSIONS} into {} by hand",
                dir.display()
            )
        })?;
    }
    Ok(BootFiles { dir })
}

/// Downloads the packages with a private apt configuration and unpacks the boot files into
/// `dest`.
fn fetch(dest: &Path) -> Result<()> {
    let work = dest.with_file_name("apt");
    let source = debian_source()?;
    let apt = PrivateApt::create(&work, &source)?;
    eprintln!(
        "xtask: fetching the Raspberry Pi boot files ({} {}, arm64) into {}",
        source.uri,
        source.suite,
        dest.display()
    );
    run_checked(apt.command("apt-get").arg("update"))?;
    let kernel = apt.kernel_package()?;
    let debs = work.join("debs");
    recreate(&debs)?;
    let packages = [FIRMWARE_PACKAGE, UBOOT_PACKAGE, kernel.as_str()];
    run_checked(
        apt.command("apt-get")
            .arg("download")
            .args(packages)
            .current_dir(&debs),
    )?;
    let staging = dest.with_file_name("boot.partial");
    recreate(&staging)?;
    let mut versions = String::new();
    for package in packages {
        let deb = find_deb(&debs, package)?;
        versions.push_str(&deb_version(&deb)?);
        versions.push('\n');
        let (prefix, patterns): (&str, &[&str]) = match package {
            FIRMWARE_PACKAGE => ("usr/lib/raspi-firmware/", &FIRMWARE_FILES),
            UBOOT_PACKAGE => ("usr/lib/u-boot/rpi_arm64/", &[RPI_UBOOT]),
            _ => (
                "usr/lib/linux-image-*/broadcom/",
                &["bcm2837-*.dtb", "bcm2711-*.dtb"],
            ),
        };
        unpack(&deb, prefix, patterns, &staging)?;
    }
    for wanted in [
        RPI_UBOOT,
        "bootcode.bin",
        "start.elf",
        "start4.elf",
        RASPI3B_DTB,
    ] {
        if !staging.join(wanted).is_file() {
            return Err(format!("the packages did not provide {wanted}"));
        }
    }
    std::fs::write(staging.join(VERSIONS), versions)
        .map_err(|e| format!("cannot write {VERSIONS}: {e}"))?;
    if dest.exists() {
        std::fs::remove_dir_all(dest)
            .map_err(|e| format!("cannot remove {}: {e}", dest.display()))?;
    }
    std::fs::rename(&staging, dest)
        .map_err(|e| format!("cannot move {} into place: {e}", staging.display()))?;
    // The kernel package is large and no longer needed; the lists stay for the next fetch.
    let _ = std::fs::remove_dir_all(&debs);
    Ok(())
}

fn recreate(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// The `.deb` of `package` in `dir` (apt names them `<package>_<version>_<arch>.deb`).
fn find_deb(dir: &Path, package: &str) -> Result<PathBuf> {
    listing(dir)?
        .into_iter()
        .find(|n| {
            n.strip_prefix(package).is_some_and(|r| r.starts_with('_')) && n.ends_with(".deb")
        })
        .map(|n| dir.join(n))
        .ok_or_else(|| {
            format!(
                "apt-get download left no {package}_*.deb in {}",
                dir.display()
            )
        })
}

/// `<package> <version>` of a `.deb`.
fn deb_version(deb: &Path) -> Result<String> {
    let out = Command::new("dpkg-deb")
        .args(["--show", "--showformat=${Package} ${Version}"])
        .arg(deb)
        .output()
        .map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
    if !out.status.success() {
        return Err(format!("dpkg-deb --show {} failed", deb.display()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Unpacks the files of `deb` under `prefix` that match `patterns` (shell wildcards), flat,
/// into `dest`: `dpkg-deb --fsys-tarfile` piped into `tar`.
fn unpack(deb: &Path, prefix: &str, patterns: &[&str], dest: &Path) -> Result<()> {
    let mut dpkg = Command::new("dpkg-deb");
    dpkg.arg("--fsys-tarfile").arg(deb).stdout(Stdio::piped());
    let mut archive = dpkg
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", describe(&dpkg)))?;
    let stdout = archive.stdout.take().ok_or("dpkg-deb has no stdout")?;
    let components = prefix.matches('/').count() + 1; // the leading "./" too
    let mut tar = Command::new("tar");
    tar.args(["-x", "--wildcards", "--no-anchored"])
        .arg(format!("--strip-components={components}"))
        .arg("-C")
        .arg(dest)
        .args(patterns.iter().map(|p| format!("{prefix}{p}")))
        .stdin(stdout);
    let untar = run_checked(&mut tar);
    let status = archive
        .wait()
        .map_err(|e| format!("cannot wait for dpkg-deb: {e}"))?;
    untar?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(&dpkg)))
    }
}

/// A Debian mirror and suite from the machine's apt sources.
#[derive(Debug, PartialEq, Eq)]
struct DebianSource {
    uri: String,
    suite: String,
    /// The `signed-by` keyring, if the entry names one.
    keyring: Option<String>,
}

/// The first Debian archive entry (a URI ending in `/debian`, a release suite without
/// `-updates`/`-security`/`-backports`) in `/etc/apt/sources.list` and
/// `/etc/apt/sources.list.d/` (one-line and deb822 formats).
fn debian_source() -> Result<DebianSource> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut parts: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        parts.sort();
        files.extend(parts);
    }
    files
        .iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            match path.extension().and_then(|e| e.to_str()) {
                Some("sources") => parse_deb822(&text),
                Some("list") => parse_one_line(&text),
                _ => None,
            }
        })
        .next()
        .ok_or_else(|| {
            "no Debian archive (…/debian with a release suite) in the apt sources".into()
        })
}

fn is_debian_archive(uri: &str) -> bool {
    uri.trim_end_matches('/').ends_with("/debian")
}

fn is_release_suite(suite: &str) -> bool {
    !suite.contains('-') && !suite.contains('/')
}

/// The first usable entry of a one-line-format sources list
/// (`deb [options] URI SUITE COMPONENTS...`).
fn parse_one_line(text: &str) -> Option<DebianSource> {
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("deb ")?;
        let (options, rest) = match rest.trim_start().strip_prefix('[') {
            Some(bracketed) => bracketed.split_once(']')?,
            None => ("", rest),
        };
        let mut words = rest.split_whitespace();
        let (uri, suite) = (words.next()?, words.next()?);
        let keyring = options
            .split_whitespace()
            .find_map(|o| o.strip_prefix("signed-by="))
            .map(String::from);
        (is_debian_archive(uri) && is_release_suite(suite)).then(|| DebianSource {
            uri: uri.to_string(),
            suite: suite.to_string(),
            keyring,
        })
    })
}

/// The first usable stanza of a deb822 `.sources` file.
fn parse_deb822(text: &str) -> Option<DebianSource> {
    text.split("\n\n").find_map(|stanza| {
        let field = |name: &str| {
            stanza.lines().find_map(|l| {
                let (key, value) = l.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_string())
            })
        };
        let enabled = field("Enabled").is_none_or(|v| v != "no");
        let types = field("Types")?;
        if !enabled || !types.split_whitespace().any(|t| t == "deb") {
            return None;
        }
        let uris = field("URIs")?;
        let uri = uris.split_whitespace().find(|u| is_debian_archive(u))?;
        let suites = field("Suites")?;
        let suite = suites.split_whitespace().find(|s| is_release_suite(s))?;
        Some(DebianSource {
            uri: uri.to_string(),
            suite: suite.to_string(),
            keyring: field("Signed-By").filter(|k| k.starts_with('/')),
        })
    })
}

/// apt with its own sources, lists, cache and (empty) dpkg status under one directory.
struct PrivateApt {
    options: Vec<String>,
}

impl PrivateApt {
    fn create(dir: &Path, source: &DebianSource) -> Result<PrivateApt> {
        for sub in ["lists/partial", "cache/archives/partial", "sources.list.d"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| format!("cannot create {}: {e}", dir.join(sub).display()))?;
        }
        let signed = source
            .keyring
            .as_ref()
            .map(|k| format!(" signed-by={k}"))
            .unwrap_or_default();
        let list = format!(
            "deb [arch=arm64{signed}] {} {} main non-free-firmware\n",
            source.uri, source.suite
        );
        let write = |name: &str, text: &str| {
            std::fs::write(dir.join(name), text)
                .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
        };
        write("sources.list", &list)?;
        write("status", "")?;
        let path = |sub: &str| dir.join(sub).display().to_string();
        let options = [
            ("Dir::Etc::sourcelist", path("sources.list")),
            ("Dir::Etc::sourceparts", path("sources.list.d")),
            ("Dir::State", path("")),
            ("Dir::State::Lists", path("lists")),
            ("Dir::State::status", path("status")),
            ("Dir::Cache", path("cache")),
            ("APT::Architecture", "arm64".into()),
            ("APT::Architectures", "arm64".into()),
            // The lists and cache are ours alone: no need for the system's apt lock.
            ("Debug::NoLocking", "1".into()),
            // Downloads land in our own directory, which apt's _apt user may not write to.
            ("APT::Sandbox::User", "root".into()),
        ];
        Ok(PrivateApt {
            options: options
                .iter()
                .flat_map(|(k, v)| ["-o".to_string(), format!("{k}={v}")])
                .collect(),
        })
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(&self.options)
            .env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    }

    /// The versioned kernel package the metapackage depends on (e.g. linux-image-6.1.0-50-arm64).
    fn kernel_package(&self) -> Result<String> {
        let mut cmd = self.command("apt-cache");
        cmd.args(["depends", KERNEL_METAPACKAGE]);
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {}: {e}", describe(&cmd)))?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .filter_map(|l| l.trim().strip_prefix("Depends: "))
            .map(str::trim)
            .find(|p| p.starts_with("linux-image-"))
            .map(String::from)
            .ok_or_else(|| format!("{} names no kernel package", describe(&cmd)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_txt_boots_uboot_in_64_bit_mode_with_the_mini_uart() {
        let text = config_txt("raspi-firmware 1.2\nu-boot-rpi 2023.01\n");
        let settings: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect();
        assert_eq!(
            settings,
            [
                "arm_64bit=1",
                "kernel=u-boot.bin",
                "kernel_address=0x80000",
                "upstream_kernel=1",
                "enable_uart=1"
            ]
        );
        assert!(text.contains("# from raspi-firmware 1.2\n# from u-boot-rpi 2023.01\n"));
    }

    #[test]
    fn card_files_put_config_and_uboot_first_then_the_rest_by_name() {
        let dir = std::env::temp_dir().join(format!("xtask-rpi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for name in [
            "start4.elf",
            "bcm2837-rpi-3-b.dtb",
            RPI_UBOOT,
            "bootcode.bin",
        ] {
            std::fs::write(dir.join(name), name).expect("write");
        }
        std::fs::write(dir.join(VERSIONS), "raspi-firmware 9\n").expect("write");
        let files = BootFiles { dir: dir.clone() }.card_files().expect("files");
        let _ = std::fs::remove_dir_all(&dir);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "config.txt",
                RPI_UBOOT,
                "bcm2837-rpi-3-b.dtb",
                "bootcode.bin",
                "start4.elf"
            ]
        );
        assert_eq!(files[1].1, RPI_UBOOT.as_bytes());
        assert!(String::from_utf8_lossy(&files[0].1).contains("# from raspi-firmware 9"));
    }

    #[test]
    fn sources_in_both_formats() {
        let deb822 = "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\n\
                      Types: deb deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n\
                      Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";
        assert_eq!(
            parse_deb822(deb822),
            Some(DebianSource {
                uri: "http://mirror.example/debian".into(),
                suite: "bookworm".into(),
                keyring: Some("/usr/share/keyrings/debian-archive-keyring.gpg".into()),
            })
        );
        assert_eq!(
            parse_deb822("Types: deb\nEnabled: no\nURIs: http://m/debian\nSuites: trixie\n"),
            None
        );
        let list = "# comment\ndeb http://m/debian bookworm-updates main\n\
                    deb [arch=amd64 signed-by=/k.gpg] http://m/debian/ trixie main contrib\n";
        assert_eq!(
            parse_one_line(list),
            Some(DebianSource {
                uri: "http://m/debian/".into(),
                suite: "trixie".into(),
                keyring: Some("/k.gpg".into()),
            })
        );
        assert_eq!(
            parse_one_line("deb http://archive.example/ubuntu noble main\n"),
            None
        );
    }
}
