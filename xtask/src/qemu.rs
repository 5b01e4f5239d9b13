//! `cargo xtask run` and `cargo xtask gdb`: boot the kernel `Image` under QEMU virt with the
//! console on this terminal; with `--sdcard`, the SD card image through U-Boot instead; with
//! `--board raspi3b`, the Raspberry Pi card through the Pi's U-Boot on QEMU's raspi3b.

use crate::image::{self, Profile};
use crate::{Result, describe, sdcard, setup, stream};
use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;
use systest::milestones::BOOT_COMPLETE;
use systest::{HEADLESS_ARGS, QEMU, QemuConfig, SDCARD_MEM};

/// Default bound on a run without a terminal.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The machine QEMU emulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    /// `virt`, configured by [`QemuConfig`].
    Virt,
    /// `raspi3b` booting the Raspberry Pi card (see [`systest::raspi3b_args`]).
    Raspi3b,
}

/// Options of `run` and `gdb`.
#[derive(Debug, PartialEq)]
pub struct RunOptions {
    /// The machine.
    pub machine: Machine,
    /// The virt board's configuration (and the extra QEMU arguments of either machine).
    pub config: QemuConfig,
    /// Which kernel build to boot.
    pub profile: Profile,
    /// Bound on a run without a terminal.
    pub timeout: Duration,
    /// Boot the SD card image through U-Boot instead of `-kernel`.
    pub sdcard: bool,
}

impl RunOptions {
    /// Parses `[--board virt|raspi3b] [--gic 2|3] [--cpu C] [--mem M] [--el2] [--debug]
    /// [--timeout S] [--sdcard] [-- qemu args]`. `--sdcard` without `--mem` gets
    /// [`SDCARD_MEM`]; raspi3b takes none of the virt board's options.
    pub fn parse(args: &[String]) -> Result<RunOptions> {
        let mut opts = RunOptions {
            machine: Machine::Virt,
            config: QemuConfig::default(),
            profile: Profile::Release,
            timeout: DEFAULT_TIMEOUT,
            sdcard: false,
        };
        let mut mem_given = false;
        let mut virt_only = None;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
            if matches!(
                arg.as_str(),
                "--gic" | "--cpu" | "--mem" | "--el2" | "--sdcard"
            ) {
                virt_only = Some(arg.clone());
            }
            match arg.as_str() {
                "--board" => {
                    opts.machine = match value()?.as_str() {
                        "virt" => Machine::Virt,
                        "raspi3b" => Machine::Raspi3b,
                        other => {
                            return Err(format!("--board must be virt or raspi3b, not {other:?}"));
                        }
                    }
                }
                "--gic" => opts.config.gic = parse_gic(value()?)?,
                "--cpu" => opts.config.cpu = value()?.clone(),
                "--mem" => {
                    opts.config.mem = value()?.clone();
                    mem_given = true;
                }
                "--timeout" => opts.timeout = parse_secs(value()?)?,
                "--el2" => opts.config.el2 = true,
                "--debug" => opts.profile = Profile::Debug,
                "--sdcard" => opts.sdcard = true,
                "--" => {
                    opts.config.extra = args.cloned().collect();
                    break;
                }
                other => return Err(format!("unknown option {other:?} (see cargo xtask help)")),
            }
        }
        if let (Machine::Raspi3b, Some(option)) = (opts.machine, virt_only) {
            return Err(format!(
                "{option} is for the virt machine; raspi3b is a fixed board (4 x Cortex-A53, \
                 1 GiB) that always boots its card"
            ));
        }
        if opts.sdcard && !mem_given {
            opts.config.mem = SDCARD_MEM.into();
        }
        Ok(opts)
    }
}

fn parse_gic(value: &str) -> Result<u8> {
    match value {
        "2" => Ok(2),
        "3" => Ok(3),
        _ => Err(format!("--gic must be 2 or 3, not {value:?}")),
    }
}

fn parse_secs(value: &str) -> Result<Duration> {
    value
        .parse()
        .map(Duration::from_secs)
        .map_err(|_| format!("--timeout takes whole seconds, not {value:?}"))
}

/// Builds and boots the kernel; exits with QEMU's status.
pub fn run(opts: &RunOptions) -> Result<ExitCode> {
    setup::ensure_tools()?;
    let args = build(opts, &opts.config)?;
    boot(opts.machine, &args, Some(opts.timeout))
}

/// Builds what `opts` boots and returns the QEMU arguments for `config`: the `Image` as
/// `-kernel`, or with `--sdcard` the SD card image (at its default path) through U-Boot; on
/// raspi3b the Raspberry Pi card (at its default path).
fn build(opts: &RunOptions, config: &QemuConfig) -> Result<Vec<String>> {
    if opts.machine == Machine::Raspi3b {
        let card = sdcard::build(&sdcard::ImageOptions::rpi(opts.profile))?;
        return Ok(systest::raspi3b_args(
            &systest::rpi_boot_dir(),
            &card,
            &config.extra,
        ));
    }
    if opts.sdcard {
        let bios = setup::ensure_uboot()?;
        let disk = sdcard::build(&sdcard::ImageOptions::new(opts.profile))?;
        Ok(config.disk_args(&bios, &disk))
    } else {
        Ok(config.args(&image::build(opts.profile)?))
    }
}

/// Builds the kernel and boots it halted, waiting for gdb on :1234.
pub fn gdb(opts: &RunOptions) -> Result<ExitCode> {
    setup::ensure_tools()?;
    let mut config = opts.config.clone();
    config
        .extra
        .splice(0..0, ["-s".to_string(), "-S".to_string()]);
    let args = build(opts, &config)?;
    let elf = image::elf_path(opts.profile);
    eprintln!("xtask: QEMU waits for gdb on :1234; in another terminal run:");
    eprintln!(
        "  gdb-multiarch -q -ex 'target remote :1234' {}",
        elf.display()
    );
    eprintln!(
        "  (or with Rust pretty-printers: RUST_GDB=gdb-multiarch rust-gdb -q -ex 'target remote :1234' {})",
        elf.display()
    );
    if setup::which("gdb-multiarch").is_none() {
        eprintln!("  gdb-multiarch is not installed: apt-get install gdb-multiarch");
    }
    boot(opts.machine, &args, None)
}

/// What this process's standard input is, which decides how QEMU gets the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stdin {
    /// A terminal: QEMU owns it (`-nographic`), no time limit.
    Terminal,
    /// A pipe, socket or file (`printf 'ps\n' | cargo xtask run`, an expect-style script):
    /// relayed to the serial console's input once the kernel has booted, under the timeout.
    Stream,
    /// `/dev/null`, another device, or closed (CI): QEMU reads `/dev/null`, under the timeout.
    Nothing,
}

impl Stdin {
    /// Classifies this process's standard input.
    fn current() -> Stdin {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            return Stdin::Terminal;
        }
        // A closed stdin cannot be duplicated; then there is nothing to hand on.
        let kind = stdin
            .as_fd()
            .try_clone_to_owned()
            .and_then(|fd| std::fs::File::from(fd).metadata())
            .map(|m| m.file_type());
        match kind {
            Ok(kind) => Stdin::of(kind),
            Err(_) => Stdin::Nothing,
        }
    }

    /// The class of a non-terminal stdin of file type `kind`.
    fn of(kind: std::fs::FileType) -> Stdin {
        if kind.is_fifo() || kind.is_socket() || kind.is_file() {
            Stdin::Stream
        } else {
            Stdin::Nothing
        }
    }
}

/// Runs QEMU with `args` for `machine`: on a terminal with `-nographic` and no time limit;
/// otherwise headless, killed after `timeout`, with a piped (or file) stdin relayed to the
/// guest console from the kernel's `boot complete` on, and any other stdin replaced by
/// /dev/null.
fn boot(machine: Machine, args: &[String], timeout: Option<Duration>) -> Result<ExitCode> {
    let mut cmd = Command::new(QEMU);
    cmd.args(args);
    let stdin = Stdin::current();
    match stdin {
        Stdin::Terminal => {
            cmd.arg("-nographic");
            if machine == Machine::Raspi3b {
                // The raspi3b arguments name the first serial port, so -nographic adds none:
                // put the mini UART (the second) on the terminal, with QEMU's Ctrl-A commands.
                cmd.args(["-serial", "mon:stdio"]);
            }
        }
        Stdin::Stream => {
            cmd.args(HEADLESS_ARGS)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped());
        }
        Stdin::Nothing => {
            cmd.args(HEADLESS_ARGS).stdin(Stdio::null());
        }
    }
    eprintln!("xtask: {}", describe(&cmd));
    if stdin == Stdin::Stream {
        eprintln!(
            "xtask: standard input goes to the guest console once the kernel has booted; the \
             run ends at power-off (send `poweroff`) or after the timeout"
        );
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {QEMU}: {e}"))?;
    let relay = match (child.stdout.take(), child.stdin.take()) {
        (Some(output), Some(input)) => Some(stream::relay_console(output, input, BOOT_COMPLETE)),
        _ => None,
    };
    let limit = if stdin == Stdin::Terminal {
        None
    } else {
        timeout
    };
    let waited = stream::wait_with_timeout(&mut child, limit)?;
    // QEMU is gone: the relay has the rest of its output.
    if let Some(relay) = relay {
        let _ = relay.join();
    }
    match waited {
        Some(status) => Ok(exit_code(status.code())),
        None => {
            let secs = limit.unwrap_or_default().as_secs();
            eprintln!("xtask: TIMEOUT: QEMU killed after {secs} s (change with --timeout)");
            Ok(ExitCode::from(124))
        }
    }
}

/// QEMU's exit code as ours (killed by a signal counts as failure).
fn exit_code(code: Option<i32>) -> ExitCode {
    match code.and_then(|c| u8::try_from(c).ok()) {
        Some(c) => ExitCode::from(c),
        None => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults() {
        let opts = RunOptions::parse(&[]).expect("parses");
        assert_eq!(opts.machine, Machine::Virt);
        assert_eq!(opts.config, QemuConfig::default());
        assert_eq!(opts.profile, Profile::Release);
        assert!(!opts.sdcard);
    }

    #[test]
    fn sdcard_needs_more_memory_unless_told() {
        let opts = RunOptions::parse(&strings(&["--sdcard"])).expect("parses");
        assert!(opts.sdcard);
        assert_eq!(opts.config.mem, SDCARD_MEM);
        let opts = RunOptions::parse(&strings(&["--mem", "256M", "--sdcard"])).expect("parses");
        assert_eq!(opts.config.mem, "256M");
    }

    #[test]
    fn all_options() {
        let args = strings(&[
            "--gic",
            "2",
            "--cpu",
            "cortex-a53",
            "--mem",
            "128M",
            "--el2",
            "--debug",
            "--timeout",
            "9",
            "--",
            "-d",
            "int",
        ]);
        let opts = RunOptions::parse(&args).expect("parses");
        assert_eq!(opts.config.gic, 2);
        assert_eq!(opts.config.cpu, "cortex-a53");
        assert_eq!(opts.config.mem, "128M");
        assert!(opts.config.el2);
        assert_eq!(opts.config.extra, strings(&["-d", "int"]));
        assert_eq!(opts.profile, Profile::Debug);
        assert_eq!(opts.timeout, Duration::from_secs(9));
    }

    #[test]
    fn raspi3b_takes_no_virt_options() {
        let opts = RunOptions::parse(&strings(&["--board", "raspi3b", "--debug"])).expect("parses");
        assert_eq!(opts.machine, Machine::Raspi3b);
        assert_eq!(opts.profile, Profile::Debug);
        for option in [&["--gic", "2"][..], &["--mem", "1G"], &["--sdcard"]] {
            let mut args = strings(&["--board", "raspi3b"]);
            args.extend(strings(option));
            assert!(RunOptions::parse(&args).is_err(), "{option:?}");
        }
        assert!(RunOptions::parse(&strings(&["--board", "raspi4b"])).is_err());
    }

    #[test]
    fn pipes_and_files_reach_the_guest_devices_do_not() {
        let (reader, _writer) = std::io::pipe().expect("pipe");
        let pipe = std::fs::File::from(std::os::fd::OwnedFd::from(reader));
        let kind = |file: &std::fs::File| file.metadata().expect("metadata").file_type();
        assert_eq!(Stdin::of(kind(&pipe)), Stdin::Stream);
        let script = std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .expect("a regular file");
        assert_eq!(Stdin::of(kind(&script)), Stdin::Stream);
        let null = std::fs::File::open("/dev/null").expect("/dev/null");
        assert_eq!(Stdin::of(kind(&null)), Stdin::Nothing);
    }

    #[test]
    fn bad_options() {
        assert!(RunOptions::parse(&strings(&["--gic", "4"])).is_err());
        assert!(RunOptions::parse(&strings(&["--mem"])).is_err());
        assert!(RunOptions::parse(&strings(&["--fast"])).is_err());
    }
}
