//! System-test harness: boot the kernel `Image` under QEMU virt (or an SD card on virt or
//! raspi3b) and talk to its console.
//!
//! A [`Qemu`] runs one QEMU process. A reader thread copies its serial console into a shared
//! buffer; [`Qemu::wait_for`] waits (bounded) for a console line, [`Qemu::send_line`] types a
//! line, [`Qemu::wait_exit`] waits (bounded) for QEMU to exit. QEMU is always killed on drop,
//! so a failing test never leaves it running.
//!
//! The image comes from the `KERNEL_IMAGE` environment variable (`cargo xtask test` sets it);
//! without it, [`kernel_image`] runs `cargo xtask build` once and uses the release `Image`.
//! [`QemuConfig`] and [`raspi3b_args`] are also the one definition of the QEMU command lines
//! that `cargo xtask run` and `cargo xtask gdb` use.

mod machine;
pub mod milestones;

pub use machine::{
    HEADLESS_ARGS, INITRAMFS_NAME, KERNEL_TARGET, QEMU, QemuConfig, RASPI3B_ACCEL, RASPI3B_DTB,
    RPI_UBOOT, SDCARD_BOOTARGS, SDCARD_MEM, UBOOT_BIOS, debug_kernel_image, default_image_path,
    kernel_image, raspi3b_args, rpi_boot_dir, rpi_card_path, target_dir, workspace_root,
    write_card,
};

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How many console lines an error message shows.
const TAIL_LINES: usize = 60;

/// The counts in a suite's summary line `<prefix>: N passed, M failed` -> (N, M).
pub fn summary_counts(line: &str, prefix: &str) -> Option<(u32, u32)> {
    let rest = line.split(&format!("{prefix}: ")).nth(1)?;
    let mut numbers = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty());
    Some((numbers.next()?.parse().ok()?, numbers.next()?.parse().ok()?))
}

/// Console output shared between the reader thread and the test.
#[derive(Default)]
struct Console {
    state: Mutex<ConsoleState>,
    changed: Condvar,
}

#[derive(Default)]
struct ConsoleState {
    bytes: Vec<u8>,
    closed: bool,
}

impl Console {
    fn state(&self) -> std::sync::MutexGuard<'_, ConsoleState> {
        // A poisoned lock only means a reader thread panicked; the bytes are still valid.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Copies `source` into the buffer until end of file.
    fn fill_from(&self, mut source: impl Read) {
        let mut chunk = [0u8; 4096];
        loop {
            match source.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => self.state().bytes.extend_from_slice(&chunk[..n]),
            }
            self.changed.notify_all();
        }
        self.state().closed = true;
        self.changed.notify_all();
    }

    /// The text so far with `\r` removed.
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.state().bytes).replace('\r', "")
    }
}

/// A running QEMU with the kernel on it. Killed on drop.
pub struct Qemu {
    child: Child,
    stdin: Option<ChildStdin>,
    console: Arc<Console>,
    stderr: Arc<Console>,
    /// Byte offset (in the `\r`-free text) after the last line `wait_for` matched.
    cursor: usize,
}

impl Qemu {
    /// Boots [`kernel_image`] with `config`.
    pub fn start(config: &QemuConfig) -> Result<Qemu, String> {
        Qemu::start_image(config, &kernel_image()?)
    }

    /// Boots `image` with `config`, console on a pipe.
    pub fn start_image(config: &QemuConfig, image: &Path) -> Result<Qemu, String> {
        if !image.is_file() {
            return Err(format!("kernel image {} not found", image.display()));
        }
        Qemu::spawn(&config.args(image))
    }

    /// Boots the default system with `-no-reboot` (so a restart ends QEMU) and the kernel
    /// command line `append`, if given, and waits up to `timeout` for init to start.
    pub fn start_init(append: Option<&str>, timeout: Duration) -> Qemu {
        let mut extra: Vec<String> = vec!["-no-reboot".into()];
        if let Some(args) = append {
            extra.extend(["-append".into(), args.into()]);
        }
        let config = QemuConfig {
            extra,
            ..QemuConfig::default()
        };
        let mut qemu = Qemu::start(&config).unwrap_or_else(|e| panic!("{e}"));
        if let Err(e) = qemu.wait_for("init: started (pid 1)", timeout) {
            panic!("{e}");
        }
        qemu
    }

    /// Boots the disk image `disk` through the firmware `bios` with `config` (see
    /// [`QemuConfig::disk_args`]), console on a pipe.
    pub fn start_disk(config: &QemuConfig, bios: &Path, disk: &Path) -> Result<Qemu, String> {
        for (what, path) in [("firmware", bios), ("disk image", disk)] {
            if !path.is_file() {
                return Err(format!("{what} {} not found", path.display()));
            }
        }
        Qemu::spawn(&config.disk_args(bios, disk))
    }

    /// Boots the Raspberry Pi card `card` on QEMU's raspi3b through the Pi's U-Boot from
    /// [`rpi_boot_dir`] (see [`raspi3b_args`]), `extra` QEMU arguments last, console on a pipe.
    pub fn start_raspi3b(card: &Path, extra: &[String]) -> Result<Qemu, String> {
        let boot = rpi_boot_dir();
        for path in [
            boot.join(RPI_UBOOT),
            boot.join(RASPI3B_DTB),
            card.to_path_buf(),
        ] {
            if !path.is_file() {
                return Err(format!("{} not found", path.display()));
            }
        }
        Qemu::spawn(&raspi3b_args(&boot, card, extra))
    }

    /// Starts QEMU with `args` and the headless console arguments.
    fn spawn(args: &[String]) -> Result<Qemu, String> {
        let mut child = Command::new(QEMU)
            .args(args)
            .args(HEADLESS_ARGS)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {QEMU}: {e}"))?;
        let console = Arc::new(Console::default());
        let stderr = Arc::new(Console::default());
        if let Some(out) = child.stdout.take() {
            let console = Arc::clone(&console);
            thread::spawn(move || console.fill_from(out));
        }
        if let Some(err) = child.stderr.take() {
            let stderr = Arc::clone(&stderr);
            thread::spawn(move || stderr.fill_from(err));
        }
        let stdin = child.stdin.take();
        Ok(Qemu {
            child,
            stdin,
            console,
            stderr,
            cursor: 0,
        })
    }

    /// Types `command` at the shell prompt and returns the lines printed until the shell took
    /// the next command (an `echo` marker typed after it), other processes' log lines
    /// included. Panics with the console tail if a step takes longer than `step`.
    pub fn shell(&mut self, command: &str, step: Duration) -> Vec<String> {
        let start = self.lines().len().saturating_sub(1);
        let marker = format!("--done {start}--");
        let fail = |e: String| -> ! { panic!("{e}") };
        self.send_line(command).unwrap_or_else(|e| fail(e));
        // The echo follows the prompt (or the last log line); waiting for it before typing
        // more keeps each burst of input short.
        let echoed = |l: &str| l == command || l.ends_with(&format!("# {command}"));
        self.wait_for_line(&format!("the echo of {command:?}"), step, echoed)
            .unwrap_or_else(|e| fail(e));
        self.send_line(&format!("echo {marker}"))
            .unwrap_or_else(|e| fail(e));
        self.wait_for_line(&marker, step, |l| l == marker)
            .unwrap_or_else(|e| fail(e));
        let lines = self.lines();
        let Some(from) = lines[start..].iter().position(|l| echoed(l)) else {
            panic!("{}", self.failure(&format!("no echo of {command:?}")))
        };
        let typed_marker = format!("echo {marker}");
        lines[start + from + 1..]
            .iter()
            .take_while(|l| !l.ends_with(&typed_marker))
            .cloned()
            .collect()
    }

    /// Waits until a console line after the last matched one contains `pattern`, and returns
    /// that line (without `\r\n`). Fails after `timeout`, or when QEMU closes its console first,
    /// with the console tail in the message.
    pub fn wait_for(&mut self, pattern: &str, timeout: Duration) -> Result<String, String> {
        self.wait_for_line(&format!("a line containing {pattern:?}"), timeout, |line| {
            line.contains(pattern)
        })
    }

    /// Like [`Qemu::wait_for`] with a predicate; `what` names the awaited line in errors.
    pub fn wait_for_line(
        &mut self,
        what: &str,
        timeout: Duration,
        matches: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        let mut state = self.console.state();
        loop {
            let text = String::from_utf8_lossy(&state.bytes).replace('\r', "");
            if let Some((line, end)) = find_line(&text, self.cursor, &matches) {
                self.cursor = end;
                return Ok(line);
            }
            let now = Instant::now();
            if state.closed || now >= deadline {
                drop(state);
                let msg = if now >= deadline {
                    format!("timed out after {timeout:?} waiting for {what}")
                } else {
                    format!("QEMU closed its console (exited?) before printing {what}")
                };
                return Err(self.failure(&msg));
            }
            state = match self.console.changed.wait_timeout(state, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Types `line` on the console, ending it with `\r` as a terminal in raw mode does.
    pub fn send_line(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("QEMU stdin is closed")?;
        stdin
            .write_all(format!("{line}\r").as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("cannot write to QEMU: {e}"))
    }

    /// Waits up to `timeout` for QEMU to exit by itself and returns its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.wait_console_closed(Duration::from_secs(2));
                    return Ok(status);
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                Ok(None) => {
                    let msg = format!("QEMU still running {timeout:?} later (no power-off)");
                    return Err(self.failure(&msg));
                }
                Err(e) => return Err(self.failure(&format!("cannot wait for QEMU: {e}"))),
            }
        }
    }

    /// Waits up to `timeout` for the summary line `<prefix>: N passed, M failed` of an
    /// on-target suite and asserts that no case failed (in the summary or as a
    /// `<prefix> ... FAILED` line) and that at least `min` cases passed; returns how many did.
    pub fn expect_suite(&mut self, prefix: &str, timeout: Duration, min: u32) -> u32 {
        let summary = self
            .wait_for_line(&format!("the {prefix} summary"), timeout, |l| {
                l.strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with(": ") && rest.contains(" passed, "))
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let case_prefix = format!("{prefix} ");
        let failed: Vec<String> = self
            .lines()
            .into_iter()
            .filter(|l| l.starts_with(&case_prefix) && l.contains("FAILED"))
            .collect();
        let (passed, failures) = summary_counts(&summary, prefix).unwrap_or_else(|| {
            panic!(
                "{}",
                self.failure(&format!("unreadable summary {summary:?}"))
            )
        });
        assert!(
            failures == 0 && failed.is_empty(),
            "{}",
            self.failure(&format!("{prefix}: {failures} cases failed: {failed:#?}"))
        );
        assert!(
            passed >= min,
            "{}",
            self.failure(&format!(
                "{prefix}: only {passed} cases ran, expected {min}"
            ))
        );
        passed
    }

    /// Waits up to `timeout` for QEMU to exit by itself (a power-off, or a restart, which
    /// `-no-reboot` turns into an exit) and asserts that it exited successfully and that the
    /// kernel never panicked.
    pub fn expect_clean_exit(&mut self, timeout: Duration) {
        let status = self.wait_exit(timeout).unwrap_or_else(|e| panic!("{e}"));
        self.assert_no_panic();
        assert!(
            status.success(),
            "{}",
            self.failure("QEMU did not exit cleanly")
        );
    }

    /// Asserts that the console shows no kernel panic so far.
    pub fn assert_no_panic(&self) {
        assert!(
            !self.console().contains("KERNEL PANIC"),
            "{}",
            self.failure("kernel panic")
        );
    }

    /// Where the first `pattern` the console printed from byte `since` on starts (0: from
    /// the start; [`Qemu::console`]'s length: only what comes next); fails the test if there
    /// is none.
    pub fn position(&self, since: usize, pattern: &str) -> usize {
        self.console()
            .get(since..)
            .and_then(|tail| tail.find(pattern))
            .map(|at| since + at)
            .unwrap_or_else(|| panic!("{}", self.failure(&format!("no {pattern:?}"))))
    }

    /// Asserts that the first of each of `patterns` printed from byte `since` on came in
    /// this order.
    pub fn assert_in_order(&self, since: usize, patterns: &[impl AsRef<str>]) {
        let at: Vec<usize> = patterns
            .iter()
            .map(|p| self.position(since, p.as_ref()))
            .collect();
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "{}",
            self.failure(&format!(
                "out of order: {:?} at {at:?}",
                patterns.iter().map(AsRef::as_ref).collect::<Vec<&str>>()
            ))
        );
    }

    /// Everything the console printed so far, `\r` removed.
    pub fn console(&self) -> String {
        self.console.text()
    }

    /// The console lines printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.console().lines().map(str::to_owned).collect()
    }

    /// `msg` followed by the last console lines and whatever QEMU wrote to stderr.
    pub fn failure(&self, msg: &str) -> String {
        let text = self.console();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
        let mut out = format!("{msg}\n--- console (last {TAIL_LINES} lines) ---\n{tail}\n");
        let stderr = self.stderr.text();
        if !stderr.trim().is_empty() {
            out.push_str(&format!("--- QEMU stderr ---\n{stderr}\n"));
        }
        out
    }

    /// Gives the reader thread time to copy the last output after QEMU exited.
    fn wait_console_closed(&self, timeout: Duration) {
        let mut state = self.console.state();
        let deadline = Instant::now() + timeout;
        while !state.closed {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            state = match self.console.changed.wait_timeout(state, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        // Errors mean QEMU has already exited; there is nothing else to clean up.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first complete line starting at or after byte `from` of `text` that `matches`, with
/// the byte offset just past it.
fn find_line(text: &str, from: usize, matches: impl Fn(&str) -> bool) -> Option<(String, usize)> {
    let mut start = from.min(text.len());
    while let Some(len) = text[start..].find('\n') {
        let line = &text[start..start + len];
        start += len + 1;
        if matches(line) {
            return Some((line.to_owned(), start));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_reads_both_numbers() {
        assert_eq!(
            summary_counts("utest: 52 passed, 3 failed", "utest"),
            Some((52, 3))
        );
        assert_eq!(summary_counts("ltest   conf-001::x ... ok", "ltest"), None);
        assert_eq!(summary_counts("garbage", "utest"), None);
    }

    #[test]
    fn find_line_skips_consumed_and_partial_lines() {
        let text = "a one\nb two\na three\npartial a";
        let (line, end) = find_line(text, 0, |l| l.starts_with('a')).expect("first");
        assert_eq!(line, "a one");
        let (line, end) = find_line(text, end, |l| l.starts_with('a')).expect("second");
        assert_eq!(line, "a three");
        assert_eq!(find_line(text, end, |l| l.contains('a')), None);
    }
}
