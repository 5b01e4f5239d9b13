//! `cargo xtask profile [BENCH]`: where one benchmark operation's instructions go, by
//! kernel and user symbol.
//!
//! Boots the release kernel with `init=/bin/ipc_bench ipc_bench.profile=BENCH:N` under
//! `-icount shift=0,sleep=off`, a QEMU log file (`-D`) and a monitor socket. `ipc_bench`
//! prints `bench-start BENCH` and waits for a console byte; meanwhile the monitor turns on
//! `-d in_asm,nochain,exec` (every translated block, and a line per block run; turning
//! `nochain` on makes QEMU retranslate every block, so each one's `IN:` record is in the
//! log). Then a byte lets the benchmark run its N iterations between two calls of
//! `ipc_bench::window_clock`, and once it prints its result the log goes off and QEMU is
//! killed. [`trace`] cuts the log to the window between those two calls (exactly what the
//! benchmark's clock difference covers) and counts each block's instructions;
//! [`symbols`] attributes them to kernel and user symbols (or, with `--by function|line`,
//! to the innermost inlined function or source line from DWARF). The report compares the
//! window's total with the benchmark's own clock figure. The trace (about 80 bytes per
//! block run, ~100 MB for 2,000 LiteIPC round trips) is deleted afterwards unless
//! `--keep-trace`.

mod report;
mod symbols;
mod trace;

use crate::image::{self, Profile};
use crate::{Result, bench, rootfs, setup, workspace};
use std::io::{BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use symbols::{Image, Images};
use systest::{Qemu, QemuConfig};

/// The program that runs the benchmarks, and the function whose two calls bound each
/// measurement.
const BENCH_PROGRAM: &str = "ipc_bench";
const WINDOW_MARKER: &str = "ipc_bench::window_clock";

/// Bound on the whole run (the traced part runs ~30 times slower than untraced).
const TIMEOUT: Duration = Duration::from_secs(900);

/// Which kind of site instructions are attributed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Granularity {
    /// ELF symbols (functions as linked; inlined code counts to its caller).
    Symbol,
    /// The innermost function at each address, inlined or not, that is not the standard
    /// library's (DWARF).
    Function,
    /// The source line in that function (DWARF).
    Line,
}

impl Granularity {
    fn parse(word: &str) -> Result<Granularity> {
        match word {
            "symbol" => Ok(Granularity::Symbol),
            "function" => Ok(Granularity::Function),
            "line" => Ok(Granularity::Line),
            _ => Err(format!("--by takes symbol, function or line, not {word:?}")),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Granularity::Symbol => "symbol",
            Granularity::Function => "function (innermost, inlined or not)",
            Granularity::Line => "source line",
        }
    }
}

/// Kernel or user code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Space {
    /// The kernel (upper half).
    Kernel,
    /// A user program (lower half).
    User,
}

impl Space {
    fn as_str(self) -> &'static str {
        match self {
            Space::Kernel => "kernel",
            Space::User => "user",
        }
    }
}

/// Where instructions are counted: a symbol, function or line of one program (or of the
/// programs, `a|b`, whose code is identical there; `?` for code in no ELF).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Site {
    /// Symbol, function or `file:line function`.
    pub name: String,
    /// `kernel`, a program name, or several joined with `|`.
    pub place: String,
    /// Kernel or user.
    pub space: Space,
}

/// `profile`'s options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The benchmark (a `bench` operation name).
    pub benchmark: String,
    /// Iterations to trace (at most the benchmark's own count).
    pub iterations: u32,
    /// The view.
    pub granularity: Granularity,
    /// Rows to show.
    pub top: usize,
    /// Keep the trace file.
    pub keep_trace: bool,
}

impl Options {
    /// Parses `[BENCH] [--iterations N] [--by symbol|function|line] [--top N] [--keep-trace]`.
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            benchmark: "ipc_rt_64".into(),
            iterations: 2000,
            granularity: Granularity::Symbol,
            top: 30,
            keep_trace: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |what: &str| {
                args.next()
                    .ok_or_else(|| format!("{arg} needs {what}"))
                    .cloned()
            };
            match arg.as_str() {
                "--iterations" => {
                    options.iterations = value("a count")?
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or("--iterations takes a positive count")?;
                }
                "--by" => options.granularity = Granularity::parse(&value("a view")?)?,
                "--top" => {
                    options.top = value("a count")?
                        .parse()
                        .map_err(|_| "--top takes a count")?;
                }
                "--keep-trace" => options.keep_trace = true,
                name if !name.starts_with('-') && bench::is_operation(name) => {
                    options.benchmark = name.into();
                }
                other => {
                    return Err(format!(
                        "profile: unknown argument {other:?} (benchmarks: {})",
                        bench::operation_names().join(", ")
                    ));
                }
            }
        }
        Ok(options)
    }
}

/// Runs the profile and prints it.
pub fn run(options: &Options) -> Result<ExitCode> {
    setup::ensure_tools()?;
    let kernel_image = image::build(Profile::Release)?;
    let dir = systest::target_dir().join("profile");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let trace = dir.join(format!("{}.trace", options.benchmark));
    // A Unix socket path has a short length limit, so not under the target directory.
    let socket = std::env::temp_dir().join(format!("xtask-profile-{}.sock", std::process::id()));
    let traced = trace_benchmark(options, &kernel_image, &trace, &socket);
    let _ = std::fs::remove_file(&socket);
    let result = traced.and_then(|run| analyse(options, &trace, &run));
    if options.keep_trace {
        println!("xtask: trace kept in {}", trace.display());
    } else {
        let _ = std::fs::remove_file(&trace);
    }
    print!("{}", result?);
    Ok(ExitCode::SUCCESS)
}

/// What the traced run reported.
struct TracedRun {
    iterations: u64,
    clock_instructions: u64,
    /// Programs the kernel logged spawning.
    spawned: Vec<String>,
}

/// Boots the benchmark and records the trace of its measured iterations into `trace`.
fn trace_benchmark(
    options: &Options,
    kernel_image: &Path,
    trace: &Path,
    socket: &Path,
) -> Result<TracedRun> {
    let name = &options.benchmark;
    let config = QemuConfig {
        extra: vec![
            "-icount".into(),
            "shift=0,sleep=off".into(),
            "-append".into(),
            format!(
                "init=/bin/{BENCH_PROGRAM} {BENCH_PROGRAM}.profile={name}:{}",
                options.iterations
            ),
            "-D".into(),
            trace.display().to_string(),
            "-monitor".into(),
            format!("unix:{},server=on,wait=off", socket.display()),
        ],
        ..QemuConfig::default()
    };
    let _ = std::fs::remove_file(trace);
    let mut qemu = Qemu::start_image(&config, kernel_image)?;
    let deadline = Instant::now() + TIMEOUT;
    let left = || deadline.saturating_duration_since(Instant::now());
    let mut monitor = Monitor::connect(socket, Duration::from_secs(20))?;
    let start = format!("bench-start {name}");
    qemu.wait_for_line(&start, left(), |l| l.trim() == start)?;
    monitor.command("log in_asm,nochain,exec")?;
    eprintln!("xtask: tracing {name} (the traced run is ~30x slower)");
    let started = Instant::now();
    qemu.send_line("")?;
    let line = qemu.wait_for_line(&format!("the result of {name}"), left(), |l| {
        bench::parse_line(l).is_some_and(|(n, _, _)| n == *name)
    })?;
    monitor.command("log none")?;
    let (_, iterations, clock_instructions) =
        bench::parse_line(&line).ok_or_else(|| format!("unreadable line {line:?}"))?;
    eprintln!("xtask: traced in {:.1} s", started.elapsed().as_secs_f64());
    let spawned = qemu
        .lines()
        .iter()
        .filter_map(|l| spawned_program(l))
        .collect();
    drop(qemu);
    Ok(TracedRun {
        iterations,
        clock_instructions,
        spawned,
    })
}

/// The program of a kernel log line `... proc: spawned NAME as pid N ...`.
fn spawned_program(line: &str) -> Option<String> {
    let (_, rest) = line.split_once("proc: spawned ")?;
    let (name, _) = rest.split_once(" as pid ")?;
    Some(name.to_owned())
}

/// Reads the trace and renders the report.
fn analyse(options: &Options, trace: &Path, run: &TracedRun) -> Result<String> {
    let kernel_bytes = read(&image::elf_path(Profile::Release))?;
    let mut program_names: Vec<String> = workspace::packages()?
        .programs
        .into_iter()
        .map(|p| p.name)
        .collect();
    // Only the programs that ran can own user code (all of them if none was logged).
    if run.spawned.iter().any(|p| p == BENCH_PROGRAM) {
        program_names.retain(|p| run.spawned.contains(p));
    }
    let program_bytes: Vec<(String, Vec<u8>)> = program_names
        .into_iter()
        .map(|p| read(&rootfs::program_elf(&p)).map(|bytes| (p, bytes)))
        .collect::<Result<_>>()?;
    let kernel = Image::from_elf("kernel", &kernel_bytes)?;
    let programs = program_bytes
        .iter()
        .map(|(name, bytes)| Image::from_elf(name, bytes))
        .collect::<Result<Vec<_>>>()?;
    let mut images = Images::new(
        kernel,
        programs,
        options.granularity,
        (BENCH_PROGRAM, WINDOW_MARKER),
    )?;
    let file = std::fs::File::open(trace)
        .map_err(|e| format!("cannot open the trace {}: {e}", trace.display()))?;
    let window = trace::window(BufReader::with_capacity(1 << 20, file), &mut images)?;
    let mut text = report::render(
        &window,
        &report::Summary {
            benchmark: &options.benchmark,
            operations: run.iterations,
            clock_instructions: run.clock_instructions,
            granularity: options.granularity,
            top: options.top,
        },
    );
    if images.unmatched_blocks > 0 {
        text.push_str(&format!(
            "warning: {} translated blocks matched no ELF (counted as `?`; is the build stale?)\n",
            images.unmatched_blocks
        ));
    }
    Ok(text)
}

fn read(path: &PathBuf) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// QEMU's human monitor on a Unix socket.
struct Monitor {
    stream: UnixStream,
}

/// What the monitor prints when it is ready for a command.
const PROMPT: &str = "(qemu) ";

impl Monitor {
    /// Connects (QEMU creates the socket shortly after it starts) and reads the greeting.
    fn connect(socket: &Path, timeout: Duration) -> Result<Monitor> {
        let deadline = Instant::now() + timeout;
        let stream = loop {
            match UnixStream::connect(socket) {
                Ok(stream) => break stream,
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!(
                        "cannot reach the QEMU monitor at {}: {e}",
                        socket.display()
                    ));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| format!("monitor socket: {e}"))?;
        let mut monitor = Monitor { stream };
        monitor.until_prompt()?;
        Ok(monitor)
    }

    /// Runs `command`; fails if the monitor answers anything (these commands print nothing
    /// when they succeed).
    fn command(&mut self, command: &str) -> Result<()> {
        self.stream
            .write_all(format!("{command}\n").as_bytes())
            .map_err(|e| format!("monitor: cannot send {command:?}: {e}"))?;
        let answer = self.until_prompt()?;
        // The monitor echoes the command (with line-editing escapes) up to a CR LF.
        let reply = answer.split_once("\r\n").map_or("", |(_, r)| r).trim();
        if reply.is_empty() {
            Ok(())
        } else {
            Err(format!("monitor: {command:?} answered {reply:?}"))
        }
    }

    fn until_prompt(&mut self) -> Result<String> {
        let mut text = Vec::new();
        let mut chunk = [0u8; 4096];
        while !text.ends_with(PROMPT.as_bytes()) {
            let n = self
                .stream
                .read(&mut chunk)
                .map_err(|e| format!("monitor: {e}"))?;
            if n == 0 {
                return Err("the QEMU monitor closed".into());
            }
            text.extend_from_slice(&chunk[..n]);
        }
        text.truncate(text.len() - PROMPT.len());
        Ok(String::from_utf8_lossy(&text).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn options_default_to_the_64_byte_round_trip() {
        let options = Options::parse(&[]).unwrap();
        assert_eq!(options.benchmark, "ipc_rt_64");
        assert_eq!(options.granularity, Granularity::Symbol);
        let options = Options::parse(&args(&[
            "null_syscall",
            "--iterations",
            "500",
            "--by",
            "line",
            "--top",
            "5",
            "--keep-trace",
        ]))
        .unwrap();
        assert_eq!(
            options,
            Options {
                benchmark: "null_syscall".into(),
                iterations: 500,
                granularity: Granularity::Line,
                top: 5,
                keep_trace: true,
            }
        );
    }

    #[test]
    fn bad_options_are_errors() {
        for bad in [
            &["no_such_bench"][..],
            &["--iterations", "0"],
            &["--iterations"],
            &["--by", "file"],
            &["--top", "x"],
            &["--verbose"],
        ] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn spawned_programs_come_from_the_kernel_log() {
        assert_eq!(
            spawned_program("[    0.051678] INFO  proc: spawned ipc_bench as pid 1 (uid 0)"),
            Some("ipc_bench".into())
        );
        assert_eq!(spawned_program("bench-start ipc_rt_64"), None);
    }

    /// A profile end to end from a synthetic trace and symbol table: a client (`ipc_bench`,
    /// its marker at 0x400100) and a server (`srv`, whose first block is the same code) at
    /// the same addresses, and the kernel.
    #[test]
    fn profiles_a_synthetic_trace() {
        let words = |w: &[u32]| -> Vec<u8> { w.iter().flat_map(|x| x.to_le_bytes()).collect() };
        let client = words(&[1, 2, 3, 4, 5]);
        let server = words(&[1, 2, 3, 9, 9]);
        let kernel_code = words(&[7, 7, 7, 7]);
        const K: u64 = 0xffff_ffff_8000_0000;
        let kernel = Image::new(
            "kernel",
            vec![(K, &kernel_code)],
            &[
                (K, 8, "kernel::syscall::entry"),
                (K + 8, 8, "kernel::ipc::send"),
            ],
        );
        let bench_image = Image::new(
            BENCH_PROGRAM,
            vec![(0x40_00f8, &client)],
            &[
                (0x40_00f8, 8, "ulib::start"),
                (0x40_0100, 12, WINDOW_MARKER),
            ],
        );
        let srv = Image::new(
            "srv",
            vec![(0x40_00f8, &server)],
            &[(0x40_00f8, 8, "ulib::start"), (0x40_0100, 12, "srv::serve")],
        );
        let mut images = Images::new(
            kernel,
            vec![bench_image, srv],
            Granularity::Symbol,
            (BENCH_PROGRAM, WINDOW_MARKER),
        )
        .unwrap();
        let block = |insns: &[(u64, u32)]| {
            let mut out = String::from("IN: \n");
            for (a, w) in insns {
                out += &format!("0x{a:016x}:  {w:08x}  x\n");
            }
            out + "\n"
        };
        let ran = |host: u64, pc: u64| {
            format!("Trace 0: 0x{host:x} [0000000000004000/{pc:016x}/00000021/ff020200] \n")
        };
        let kernel_block = block(&[(K, 7), (K + 4, 7), (K + 8, 7), (K + 12, 7)]);
        let server_block = block(&[(0x40_0100, 3), (0x40_0104, 9), (0x40_0108, 9)]);
        // One operation: kernel entry and send, the server's serve (at the marker's address,
        // other code), the start code both programs share.
        let operation = ran(0xb000, K) + &ran(0xc000, 0x40_0100) + &ran(0xa000, 0x40_00f8);
        let mut log = String::new();
        log += &block(&[(0x40_00f8, 1), (0x40_00fc, 2)]);
        log += &ran(0xa000, 0x40_00f8); // before the window
        log += &block(&[(0x40_0100, 3), (0x40_0104, 4)]); // the marker: ipc_bench's code
        log += &ran(0xa100, 0x40_0100);
        log += &kernel_block;
        log += &ran(0xb000, K);
        log += &server_block;
        log += &ran(0xc000, 0x40_0100);
        log += &ran(0xa000, 0x40_00f8);
        log += &operation;
        log += &ran(0xa100, 0x40_0100); // closing marker
        log += &ran(0xb000, K); // after the window

        let window = trace::window(log.as_bytes(), &mut images).unwrap();
        assert_eq!(window.markers, 2);
        let text = report::render(
            &window,
            &report::Summary {
                benchmark: "ipc_rt_64",
                operations: 2,
                clock_instructions: 2 + 2 * (4 + 3 + 2),
                granularity: Granularity::Symbol,
                top: 10,
            },
        );
        let row = |name: &str, place: &str| {
            window
                .sites
                .iter()
                .find(|s| s.site.name == name && s.site.place == place)
                .map(|s| (s.instructions, s.entries))
                .unwrap_or_else(|| panic!("no {name} in {place}:\n{text}"))
        };
        assert_eq!(row("kernel::syscall::entry", "kernel"), (4, 2));
        assert_eq!(row("kernel::ipc::send", "kernel"), (4, 0));
        assert_eq!(row("srv::serve", "srv"), (6, 2));
        assert_eq!(row("ulib::start", "ipc_bench|srv"), (4, 2));
        assert_eq!(row(WINDOW_MARKER, BENCH_PROGRAM), (2, 1));
        assert_eq!(window.instructions, 20);
        assert!(
            text.contains("trace - clock: +0 instructions, +0.000%"),
            "{text}"
        );
        assert!(text.contains("10.0 per operation"), "{text}");
        assert_eq!(images.unmatched_blocks, 0);
    }
}
