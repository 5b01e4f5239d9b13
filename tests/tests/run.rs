//! `cargo xtask run` without a terminal. With its stdin a pipe, what is written there reaches
//! the guest's shell once the kernel has booted: `ps` is answered with the system's process
//! table, and `poweroff` ends the run, on virt and on raspi3b (`--board raspi3b`, the
//! Raspberry Pi card, console on the mini UART). With stdin `/dev/null` (as in CI) the guest
//! gets nothing and the run ends at its `--timeout`. Like the SD card tests, this boots the
//! release build `cargo xtask run` makes, not `$KERNEL_IMAGE`.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use systest::workspace_root;

/// `--timeout` of the piped run (it ends at the power-off, long before).
const PIPED_TIMEOUT_S: &str = "120";
/// `--timeout` of the run with nothing on stdin, which must end there.
const NULL_TIMEOUT_S: &str = "5";
/// xtask's exit status when it killed QEMU at the timeout.
const TIMEOUT_STATUS: i32 = 124;

/// Runs `cargo xtask run ARGS --timeout SECS` with `stdin`, first writing `input` to it when
/// it is a pipe; returns what it printed.
fn xtask_run(args: &[&str], timeout_s: &str, stdin: Stdio, input: &[u8]) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args(["xtask", "run"])
        .args(args)
        .args(["--timeout", timeout_s])
        .current_dir(workspace_root())
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run `cargo xtask run`");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(input).expect("write to the run's stdin");
    }
    child
        .wait_with_output()
        .expect("wait for `cargo xtask run`")
}

/// The pid init reports for service `name` (`init: service NAME started (pid N, ...`).
fn started_pid(console: &str, name: &str) -> u32 {
    let tag = format!("init: service {name} started (pid ");
    let at = console
        .find(&tag)
        .unwrap_or_else(|| panic!("no {tag:?} in\n{console}"));
    let digits: String = console[at + tag.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("a pid")
}

/// The rows of `ps` (`PID PPID TID PRI POLICY STATE UID NAME`) as (pid, ppid, name).
fn ps_rows(console: &str) -> Vec<(u32, u32, String)> {
    let header = console.find("PID  PPID").expect("a ps header");
    console[header..]
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .take_while(|c| c.len() == 8 && c[0].parse::<u32>().is_ok())
        .map(|c| {
            (
                c[0].parse().unwrap(),
                c[1].parse().unwrap(),
                c[7].to_string(),
            )
        })
        .collect()
}

/// `printf 'ps\npoweroff\n' | cargo xtask run ARGS`: the running system's process table, then
/// a clean power-off.
fn piped_ps_is_answered(args: &[&str]) {
    let out = xtask_run(args, PIPED_TIMEOUT_S, Stdio::piped(), b"ps\npoweroff\n");
    let console = String::from_utf8_lossy(&out.stdout);
    let log = format!("{console}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the run did not power off: {log}");
    assert!(!console.contains("KERNEL PANIC"), "{log}");
    let rows = ps_rows(&console);
    assert!(rows.contains(&(1, 0, "init".into())), "{rows:?}\n{log}");
    // The table is the running system's: the services have the pids init gave them.
    for service in ["shell", "foundation", "wms_server"] {
        let pid = started_pid(&console, service);
        assert!(
            rows.contains(&(pid, 1, service.into())),
            "{service} (pid {pid}) missing from {rows:?}\n{log}"
        );
    }
    assert!(console.contains("init: all services stopped"), "{log}");
}

#[test]
fn piped_input_reaches_the_shell() {
    piped_ps_is_answered(&[]);
}

#[test]
fn piped_input_reaches_the_shell_on_raspi3b() {
    piped_ps_is_answered(&["--board", "raspi3b"]);
}

#[test]
fn with_stdin_null_the_guest_gets_nothing_and_the_timeout_ends_the_run() {
    let out = xtask_run(&[], NULL_TIMEOUT_S, Stdio::null(), b"");
    let console = String::from_utf8_lossy(&out.stdout);
    let log = format!("{console}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(TIMEOUT_STATUS), "{log}");
    assert!(console.contains("OHOS # "), "no shell prompt: {log}");
    assert!(!console.contains("PID  PPID"), "{log}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("xtask: TIMEOUT"),
        "{log}"
    );
}
