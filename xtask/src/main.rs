//! `cargo xtask <command>`: builds the kernel, boots it under QEMU and runs the test tiers.
//!
//! Commands: `build [--debug]`, `image [--board virt|rpi] [--out FILE] [--size MiB] [--debug]`,
//! `run [options] [-- qemu args]`, `gdb [options] [-- qemu args]`, `test`, `bench`,
//! `profile [BENCH]`, `layers`. Each first installs what is missing (QEMU via apt when root,
//! rustup targets and components; U-Boot for `run --sdcard`), see `setup`; the Raspberry Pi
//! boot files are fetched on first use, see `rpi`.

mod bench;
mod image;
mod layers;
mod profile;
mod qemu;
mod rootfs;
mod rpi;
mod sdcard;
mod setup;
mod stream;
mod summary;
mod test;
mod workspace;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// Errors are messages for the user.
pub type Result<T, E = String> = std::result::Result<T, E>;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  build [--debug]              build the kernel and its Image; print the Image path
  image [--board virt|rpi] [--out FILE] [--size MiB] [--debug]
                               build, then write an SD card image (MBR, FAT32, extlinux)
                               for U-Boot; default target/sdcard.img, 64 MiB; print its path.
                               --board rpi adds the Raspberry Pi 3/4 firmware, config.txt,
                               U-Boot and device trees (default target/sdcard-rpi.img)
  run [options] [-- qemu args] build, then boot under QEMU with the console on this terminal
  gdb [options] [-- qemu args] like run, but QEMU waits for gdb on :1234 (-s -S)
  test                         run all test tiers; ends with `N passed, N failed`
  layers                       check that kernel modules import only lower layers
  bench                        boot /bin/ipc_bench under -icount and print instructions per
                               operation (also target/bench.json)
  profile [BENCH] [--by symbol|function|line] [--iterations N] [--top N] [--keep-trace]
                               trace one benchmark (default ipc_rt_64, 2000 iterations)
                               under QEMU and print its instructions per operation by
                               kernel and user symbol (or inlined function, source line)

run/gdb options:
  --gic 2|3            GIC version (default 3)
  --cpu NAME           cortex-a53 or cortex-a72 (default cortex-a72)
  --mem SIZE           RAM, e.g. 64M (default 64M)
  --el2                start at EL2 (virtualization=on)
  --debug              boot the debug build instead of release
  --timeout SECS       kill QEMU after SECS when not on a terminal (default 300)
  --sdcard             boot the SD card image (cargo xtask image) through U-Boot
                       (u-boot-qemu as -bios, the image on virtio-blk; default --mem 128M)
  --board virt|raspi3b the machine (default virt); raspi3b boots the Raspberry Pi card
                       (cargo xtask image --board rpi) through its U-Boot, console on the
                       mini UART (takes none of --gic, --cpu, --mem, --el2, --sdcard)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("xtask: error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(args: &[String]) -> Result<ExitCode> {
    let Some((command, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(ExitCode::FAILURE);
    };
    match command.as_str() {
        "build" => {
            let profile = image::Profile::from_args(rest)?;
            setup::ensure_tools()?;
            let image = image::build(profile)?;
            println!("{}", image.display());
            Ok(ExitCode::SUCCESS)
        }
        "image" => {
            let opts = sdcard::ImageOptions::parse(rest)?;
            setup::ensure_tools()?;
            let image = sdcard::build(&opts)?;
            println!("{}", image.display());
            Ok(ExitCode::SUCCESS)
        }
        "run" => qemu::run(&qemu::RunOptions::parse(rest)?),
        "gdb" => qemu::gdb(&qemu::RunOptions::parse(rest)?),
        "test" if rest.is_empty() => test::run_all(),
        "bench" if rest.is_empty() => bench::run(),
        "layers" if rest.is_empty() => layers::run(),
        "profile" => profile::run(&profile::Options::parse(rest)?),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(format!(
            "unknown command or arguments: {}\n{USAGE}",
            args.join(" ")
        )),
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// A `cargo` command (the one running xtask, from `$CARGO`) in the workspace root.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Runs `cmd` with inherited stdio; fails unless it exits with 0.
pub fn run_checked(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(cmd)))
    }
}

/// `cmd` as a shell-like string, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut words = vec![cmd.get_program().to_string_lossy().into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}
