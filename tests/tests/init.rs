//! init and the shell (issue 5): boot to the `OHOS # ` prompt through the three jobs of
//! /etc/init.cfg, check what the jobs made, ask the shell for `ps`, `ls`, `cat`, watch init
//! supervise services (restart with a count, give up after the 4th crash in the window,
//! never restart a `once` service, reboot for a critical one), and fall back to a console
//! shell when the config has a syntax error. Every QEMU run is bounded and killed on drop.

use std::time::Duration;
use systest::Qemu;

/// Bound on each wait for a console line.
const STEP: Duration = Duration::from_secs(60);
/// The config the image carries.
const INIT_CFG: &str = include_str!("../../userland/etc/init.cfg");

fn boot(append: Option<&str>) -> Qemu {
    Qemu::start_init(append, STEP)
}

fn wait(qemu: &mut Qemu, pattern: &str) -> String {
    qemu.wait_for(pattern, STEP)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a shell command; see [`Qemu::shell`].
fn shell(qemu: &mut Qemu, command: &str) -> Vec<String> {
    qemu.shell(command, STEP)
}

/// Asks init for its service table (`services`) and returns the columns of `name`'s row
/// (name, pid, state, restarts). Init answers after the shell has gone back to reading.
fn service_row(qemu: &mut Qemu, name: &str) -> Vec<String> {
    qemu.send_line("services").unwrap_or_else(|e| panic!("{e}"));
    let row = format!("init: {name} ");
    let line = qemu
        .wait_for_line(&row, STEP, |l| l.contains(&row))
        .unwrap_or_else(|e| panic!("{e}"));
    let at = line.find(&row).unwrap_or(0) + "init: ".len();
    line[at..].split_whitespace().map(String::from).collect()
}

#[test]
fn boot_runs_the_jobs_and_the_shell_answers() {
    let mut qemu = boot(None);
    wait(&mut qemu, "init: /etc/init.cfg: 3 jobs, 17 services");
    wait(&mut qemu, "init: job pre-init: ");
    wait(
        &mut qemu,
        "init: pre-init: mount vfat /dev/mmcblk0 /sdcard: warning",
    );
    wait(&mut qemu, "init: service bundle_daemon is disabled");
    let shell_line = wait(&mut qemu, "init: service shell started (pid ");
    assert!(shell_line.contains(", uid 0"), "{shell_line}");
    let shell_pid = pid_in(&shell_line);
    assert!(shell_line.contains("priority 20"), "{shell_line}");
    wait(&mut qemu, "init: job init: ");
    wait(&mut qemu, "init: service hello started");
    wait(&mut qemu, "init: job post-init: ");
    wait(&mut qemu, "init: jobs done");
    wait(
        &mut qemu,
        "init: service hello exited with status 0 (once: not restarted)",
    );
    qemu.assert_in_order(0, &["job pre-init:", "job init:", "job post-init:"]);
    let console = qemu.console();
    assert!(
        console.contains("hello: argv[2] = b"),
        "argv reached the service"
    );

    // pre-init made the board's folders with their modes and owners.
    let listing = shell(&mut qemu, "ls -l /storage/data");
    let line = |name: &str| {
        listing
            .iter()
            .find(|l| l.ends_with(&format!(" {name}")))
            .unwrap_or_else(|| panic!("no {name} in {listing:#?}"))
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("log"), "drwxr-xr-x 4 4");
    assert_eq!(line("softbus"), "drwx------ 7 7");
    let sdcard = shell(&mut qemu, "ls -l /");
    assert!(
        sdcard
            .iter()
            .any(|l| l.starts_with("drwxrwxrwx") && l.ends_with(" sdcard")),
        "{sdcard:#?}"
    );

    // ps: init is pid 1 (parent 0, uid 0), the shell a child of init (uid 0).
    let ps = shell(&mut qemu, "ps");
    assert!(ps[0].contains("PID") && ps[0].contains("PPID") && ps[0].contains("UID"));
    let row = |pid: &str| -> Vec<String> {
        ps.iter()
            .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
            .find(|cols| cols.first().map(String::as_str) == Some(pid))
            .unwrap_or_else(|| panic!("no pid {pid} in {ps:#?}"))
    };
    let init = row("1");
    assert_eq!(
        (init[1].as_str(), init[6].as_str(), init[7].as_str()),
        ("0", "0", "init")
    );
    assert_eq!(init[3], "28", "init's priority");
    let sh = row(&shell_pid);
    assert_eq!(
        (sh[1].as_str(), sh[6].as_str(), sh[7].as_str()),
        ("1", "0", "shell")
    );
    assert_eq!(sh[4], "RR");

    // ls /etc and cat /etc/init.cfg match the files the image was built from.
    let etc = shell(&mut qemu, "ls /etc");
    let mut want: Vec<String> = std::fs::read_dir(systest::workspace_root().join("userland/etc"))
        .expect("userland/etc")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    want.sort();
    assert_eq!(etc, want);
    // Upstream's cfgCheckStat: root-owned, owner-readable, 1..=102400 bytes.
    let stat = shell(&mut qemu, "ls -l /etc/init.cfg");
    let cols: Vec<&str> = stat[0].split_whitespace().collect();
    assert_eq!(cols[..3], ["-rw-r--r--", "0", "0"], "{stat:#?}");
    assert_eq!(cols[3], INIT_CFG.len().to_string());
    assert!((1..=102_400).contains(&INIT_CFG.len()));
    let cat = shell(&mut qemu, "cat /etc/init.cfg");
    let want: Vec<&str> = INIT_CFG.lines().collect();
    assert_eq!(
        cat, want,
        "cat /etc/init.cfg differs from userland/etc/init.cfg"
    );

    // Bad input never kills the shell.
    let unknown = shell(&mut qemu, "frobnicate now");
    assert_eq!(unknown, ["shell: unknown command: frobnicate"]);
    assert_eq!(shell(&mut qemu, "kill"), ["usage: kill [-9|-15] PID"]);
    assert_eq!(shell(&mut qemu, "kill -9 x"), ["kill: \"x\" is not a pid"]);
    assert!(shell(&mut qemu, "cat /nope")[0].starts_with("cat: /nope: ENOENT"));
    // Backspace (DEL) erases the x; the echo shows "\x08 \x08" for it.
    qemu.send_line("echo abx\x7fc").unwrap();
    qemu.wait_for_line("abc", STEP, |l| l == "abc")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        qemu.console().contains("echo abx\x08 \x08c\n"),
        "erase echo"
    );
    // Kernel log lines (spawn, exit) may come between the shell's own lines.
    let run = shell(&mut qemu, "run true");
    assert!(
        run.iter()
            .any(|l| l.starts_with("run: /bin/true (pid ") && l.ends_with("exited with status 0")),
        "{run:#?}"
    );
    assert!(
        shell(&mut qemu, "uptime")
            .iter()
            .any(|l| l.starts_with("up 0:00:"))
    );
    assert!(
        shell(&mut qemu, "free")
            .iter()
            .any(|l| l.starts_with("Mem:"))
    );
    assert!(
        shell(&mut qemu, "dmesg")
            .iter()
            .any(|l| l.contains("boot complete"))
    );
    qemu.assert_no_panic();
}

#[test]
fn init_restarts_a_crashing_service_and_gives_up_after_the_fourth_crash() {
    let mut qemu = boot(None);
    let shell_pid = pid_in(&wait(&mut qemu, "init: service shell started (pid "));
    wait(&mut qemu, "init: jobs done");
    qemu.send_line("start crashy").unwrap();
    for n in 1..=3 {
        let line = wait(&mut qemu, &format!("; restart {n} of 3"));
        assert!(
            line.contains("init: service crashy killed by signal 11"),
            "{line}"
        );
    }
    let gave_up = wait(
        &mut qemu,
        "init: service crashy killed by signal 11; 4 exits within 240 s",
    );
    assert!(gave_up.ends_with("not restarting it"), "{gave_up}");
    assert_eq!(
        service_row(&mut qemu, "crashy"),
        ["crashy", "-", "failed", "3"]
    );
    let starts = qemu
        .lines()
        .iter()
        .filter(|l| l.contains("init: service crashy started"))
        .count();
    assert_eq!(starts, 4, "one start and three restarts");

    // A `once` service runs once, with its own uid and priority, and stays down.
    qemu.send_line("start oneshot").unwrap();
    let started = wait(&mut qemu, "init: service oneshot started");
    assert!(started.contains("uid 1000, priority 25"), "{started}");
    wait(
        &mut qemu,
        "init: service oneshot exited with status 0 (once: not restarted)",
    );
    assert_eq!(
        service_row(&mut qemu, "oneshot"),
        ["oneshot", "-", "done", "0"]
    );

    // An explicit start of a failed service starts it again (fresh crash budget).
    qemu.send_line("start crashy").unwrap();
    wait(
        &mut qemu,
        "init: service crashy killed by signal 11; restart 1 of 3",
    );
    wait(&mut qemu, "not restarting it");

    // Unknown services and requests are refused, init keeps going.
    qemu.send_line("start nosuch").unwrap();
    wait(&mut qemu, "init: start nosuch: no such service; ignored");

    // Stopping a service on purpose: it is not restarted (the shell stops itself here).
    qemu.send_line("stop shell").unwrap();
    wait(
        &mut qemu,
        &format!("init: stopping service shell (pid {shell_pid})"),
    );
    wait(
        &mut qemu,
        "init: service shell stopped (killed by signal 15)",
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !qemu
            .console()
            .contains("service shell killed by signal 15; restart"),
        "{}",
        qemu.failure("stopped shell was restarted")
    );
    qemu.assert_no_panic();
}

#[test]
fn a_config_with_a_syntax_error_still_boots_to_a_shell() {
    let mut qemu = boot(Some("init.cfg=/etc/test/broken.cfg"));
    let line = wait(
        &mut qemu,
        "init: /etc/test/broken.cfg: syntax error at line 14 column 13",
    );
    assert!(
        line.ends_with("using the built-in minimal config"),
        "{line}"
    );
    wait(&mut qemu, "init: service shell started (pid 2");
    wait(&mut qemu, "init: jobs done");
    assert_eq!(shell(&mut qemu, "echo still alive"), ["still alive"]);
    assert_eq!(
        service_row(&mut qemu, "shell"),
        ["shell", "2", "running", "0"]
    );
    assert!(!qemu.console().contains("/storage/broken"));
    qemu.assert_no_panic();
}

#[test]
fn a_critical_service_reboots_the_machine_in_order() {
    let mut qemu = boot(Some("init.cfg=/etc/test/critical.cfg"));
    wait(&mut qemu, "init: jobs done");
    qemu.send_line("start vital").unwrap();
    wait(
        &mut qemu,
        "init: service vital killed by signal 11; restart 1 of 3",
    );
    let line = wait(&mut qemu, "init: rebooting: vital (critical) died");
    assert!(line.contains("2 exits within 60 s"), "{line}");
    wait(&mut qemu, "init: stopping service shell (pid 2)");
    wait(&mut qemu, "init: service shell stopped");
    wait(&mut qemu, "init: all services stopped");
    wait(&mut qemu, "restart requested by pid 1");
    qemu.expect_clean_exit(Duration::from_secs(20));
}

#[test]
fn an_important_service_reboots_on_its_first_exit() {
    let mut qemu = boot(Some("init.cfg=/etc/test/critical.cfg"));
    wait(&mut qemu, "init: jobs done");
    qemu.send_line("start important").unwrap();
    wait(
        &mut qemu,
        "init: rebooting: important (importance 1) died: exited with status 0",
    );
    wait(&mut qemu, "init: all services stopped");
    qemu.expect_clean_exit(Duration::from_secs(20));
}

#[test]
fn poweroff_from_the_shell_stops_services_and_powers_off() {
    let mut qemu = boot(None);
    wait(&mut qemu, "init: jobs done");
    qemu.send_line("poweroff").unwrap();
    wait(&mut qemu, "init: powering off: requested on /dev/initctl");
    wait(&mut qemu, "init: service shell stopped");
    wait(&mut qemu, "power off requested by pid 1");
    qemu.expect_clean_exit(Duration::from_secs(20));
}

#[test]
fn job_commands_do_real_work() {
    let mut qemu = boot(Some("init.cfg=/etc/test/commands.cfg"));
    let bad = wait(
        &mut qemu,
        "init: /etc/test/commands.cfg: job \"pre-init\" command #14",
    );
    assert!(bad.contains("mode \"755\""), "{bad}");
    wait(&mut qemu, "hello: argv[1] = x");
    wait(&mut qemu, "hello: env GREETING=hi");
    wait(&mut qemu, "init: exec /bin/hello (pid ");
    wait(
        &mut qemu,
        "init: pre-init: loadcfg /etc/init.cfg: not a loadcfg file",
    );
    wait(
        &mut qemu,
        "init: pre-init: setrlimit: unsupported command `setrlimit`; skipped",
    );
    wait(&mut qemu, "init: job pre-init done (2 failed)");
    let started = wait(&mut qemu, "init: service shell started (pid ");
    let pid = started
        .split("(pid ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .expect("pid")
        .to_string();
    wait(&mut qemu, "init: jobs done");
    let ls = shell(&mut qemu, "ls -l /tmp");
    let names: Vec<&str> = ls
        .iter()
        .filter_map(|l| l.split_whitespace().nth(4))
        .collect();
    assert_eq!(names, ["a.txt", "b.txt", "post", "shell.pid"], "{ls:#?}");
    assert!(
        ls.iter()
            .any(|l| l.starts_with("drwx------     5     6") && l.ends_with(" post"))
    );
    assert!(
        ls.iter().any(|l| l.contains(" 15 b.txt")),
        "copy has the content length"
    );
    assert_eq!(shell(&mut qemu, "cat /tmp/shell.pid"), [pid], "writepid");
    assert_eq!(shell(&mut qemu, "hostname"), ["testhost"]);
    let run = shell(&mut qemu, "run hello");
    assert!(
        run.iter().any(|l| l == "hello: env GREETING=hi"),
        "{run:#?}"
    );
    qemu.assert_no_panic();
}

/// The pid in an init line such as `init: service shell started (pid 4, uid 0, ...)`.
fn pid_in(line: &str) -> String {
    let after = line
        .split("(pid ")
        .nth(1)
        .unwrap_or_else(|| panic!("no pid in {line:?}"));
    after.chars().take_while(char::is_ascii_digit).collect()
}
