//! pagemanagerd (DPMS) and seed (issue 8): boot with both started by init, open pages
//! through `page_ctl` (the shell's `page` command), check their processes with `ps`, close
//! one, kill seed and watch init restart it and the handshake run again, queue requests
//! while seed is down and see them delivered in order, start the pair in both orders, and
//! feed both sockets malformed messages. Every QEMU run is bounded and killed on drop.

use std::time::Duration;
use systest::Qemu;

/// Bound on each wait for a console line.
const STEP: Duration = Duration::from_secs(60);

fn boot(config_path: Option<&str>) -> Qemu {
    let append = config_path.map(|path| format!("init.cfg={path}"));
    Qemu::start_init(append.as_deref(), STEP)
}

/// Where the console is now, for [`wait_since`].
fn mark(qemu: &Qemu) -> usize {
    qemu.console().len()
}

/// Waits for a line containing `pattern` printed after `mark`, wherever the line cursor
/// of [`Qemu::wait_for`] is: daemons log while the shell runs a command, so a line may
/// come before the shell's own output ends.
fn wait_since(qemu: &mut Qemu, mark: usize, pattern: &str) -> String {
    let deadline = std::time::Instant::now() + STEP;
    loop {
        let console = qemu.console();
        if let Some(at) = console.get(mark..).and_then(|tail| tail.find(pattern)) {
            let start = console[..mark + at].rfind('\n').map_or(0, |i| i + 1);
            let end = console[mark + at..]
                .find('\n')
                .map_or(console.len(), |i| mark + at + i);
            return console[start..end].trim_end_matches('\r').to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            qemu.failure(&format!("timed out waiting for {pattern:?}"))
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs a shell command; see [`Qemu::shell`].
fn shell(qemu: &mut Qemu, command: &str) -> Vec<String> {
    qemu.shell(command, STEP)
}

/// The number after `key` in `line` (e.g. `pid ` → 12).
fn number_after(line: &str, key: &str) -> u32 {
    let at = line
        .find(key)
        .unwrap_or_else(|| panic!("no {key:?} in {line:?}"));
    line[at + key.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("no number after {key:?} in {line:?}"))
}

/// `page open URI` (through `run page_ctl`): returns (id, state, pid if any).
fn open(qemu: &mut Qemu, uri: &str) -> (u32, String, Option<u32>) {
    let out = shell(qemu, &format!("run page_ctl open {uri}"));
    let line = out
        .iter()
        .find(|l| l.starts_with("page ") && l.contains(&format!(": {uri} pid ")))
        .unwrap_or_else(|| panic!("{}", qemu.failure(&format!("no open answer in {out:#?}"))));
    let words: Vec<&str> = line.split_whitespace().collect();
    let id = words[1].parse().expect("page id");
    let state = words[2].trim_end_matches(':').to_string();
    let pid = words.last().and_then(|p| p.parse().ok());
    assert_exit_ok(qemu, &out);
    (id, state, pid)
}

/// One row of `page list`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    id: u32,
    uri: String,
    state: String,
    pid: Option<u32>,
}

fn list(qemu: &mut Qemu) -> Vec<Row> {
    let out = shell(qemu, "run page_ctl list");
    let header = out
        .iter()
        .position(|l| l.split_whitespace().collect::<Vec<_>>() == ["ID", "URI", "STATE", "PID"])
        .unwrap_or_else(|| panic!("{}", qemu.failure(&format!("no list header in {out:#?}"))));
    let total = out
        .iter()
        .find(|l| l.ends_with(" page(s)"))
        .unwrap_or_else(|| panic!("no count in {out:#?}"));
    let count: usize = total.split_whitespace().next().unwrap().parse().unwrap();
    let rows: Vec<Row> = out[header + 1..]
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.len() == 4 && w[0].parse::<u32>().is_ok())
        .map(|w| Row {
            id: w[0].parse().unwrap(),
            uri: w[1].to_string(),
            state: w[2].to_string(),
            pid: w[3].parse().ok(),
        })
        .take(count)
        .collect();
    assert_eq!(rows.len(), count, "{out:#?}");
    assert_exit_ok(qemu, &out);
    rows
}

fn assert_exit_ok(qemu: &Qemu, out: &[String]) {
    assert!(
        out.iter()
            .any(|l| l.starts_with("run: /bin/page_ctl (pid ")
                && l.ends_with("exited with status 0")),
        "{}",
        qemu.failure(&format!("page_ctl failed: {out:#?}"))
    );
}

/// `ps` rows as (pid, ppid, uid, name), one per process (its first thread).
fn processes(qemu: &mut Qemu) -> Vec<(u32, u32, u32, String)> {
    let ps = shell(qemu, "ps");
    let mut rows: Vec<(u32, u32, u32, String)> = ps
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|c| c.len() == 8 && c[0].parse::<u32>().is_ok() && c[2].parse::<u32>().is_ok())
        .map(|c| {
            (
                c[0].parse().unwrap(),
                c[1].parse().unwrap(),
                c[6].parse().unwrap(),
                c[7].to_string(),
            )
        })
        .collect();
    rows.dedup_by_key(|r| r.0);
    rows
}

fn process(qemu: &mut Qemu, pid: u32) -> Option<(u32, u32, u32, String)> {
    processes(qemu).into_iter().find(|p| p.0 == pid)
}

/// Waits for DPMS's handshake number `n` (since `mark`).
fn wait_handshake(qemu: &mut Qemu, mark: usize, n: u32) {
    wait_since(qemu, mark, &format!("dpms: seed ready (handshake {n})"));
}

/// Boots and waits until both daemons shook hands and init's jobs are done.
fn boot_ready(config_path: Option<&str>) -> Qemu {
    let mut qemu = boot(config_path);
    wait_handshake(&mut qemu, 0, 1);
    wait_since(&mut qemu, 0, "init: jobs done");
    qemu
}

#[test]
fn pages_open_list_close_and_seed_restarts() {
    let mut qemu = boot_ready(None);
    let seed_pid = number_after(
        &wait_since(&mut qemu, 0, "seed: listening on /dev/socket/seed"),
        "(pid ",
    );

    // Three pages, each a real process: a child of seed, running as the page uid.
    let mut opened = Vec::new();
    for uri in ["page://a", "page://b", "page://c"] {
        let (id, state, pid) = open(&mut qemu, uri);
        assert_eq!(state, "running", "page {uri}");
        opened.push((id, uri, pid.expect("a running page has a pid")));
    }
    let rows = list(&mut qemu);
    assert_eq!(rows.len(), 3, "{rows:#?}");
    for ((id, uri, pid), row) in opened.iter().zip(&rows) {
        assert_eq!(
            row,
            &Row {
                id: *id,
                uri: uri.to_string(),
                state: "running".into(),
                pid: Some(*pid)
            }
        );
        let (_, ppid, uid, name) =
            process(&mut qemu, *pid).unwrap_or_else(|| panic!("page pid {pid} not in ps"));
        assert_eq!((ppid, uid, name.as_str()), (seed_pid, 1000, "page"));
    }

    // Close the second: its process is gone from ps, the others stay.
    let (closed_id, _, closed_pid) = opened[1];
    let out = shell(&mut qemu, &format!("run page_ctl close {closed_id}"));
    assert!(
        out.iter().any(|l| l == &format!("page {closed_id} closed")),
        "{out:#?}"
    );
    assert!(
        process(&mut qemu, closed_pid).is_none(),
        "pid {closed_pid} still in ps"
    );
    let rows = list(&mut qemu);
    let ids: Vec<u32> = rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, [opened[0].0, opened[2].0]);
    assert!(rows.iter().all(|r| r.state == "running"));

    // Kill seed: init restarts it, the handshake runs again, and pages work.
    let m = mark(&qemu);
    shell(&mut qemu, &format!("kill -9 {seed_pid}"));
    wait_since(
        &mut qemu,
        m,
        "init: service seed killed by signal 9; restart 1 of 3",
    );
    let new_seed = number_after(
        &wait_since(&mut qemu, m, "seed: listening on /dev/socket/seed"),
        "(pid ",
    );
    assert_ne!(new_seed, seed_pid);
    wait_since(&mut qemu, m, "seed: sent \"seed start\" to pagemanagerd");
    wait_handshake(&mut qemu, m, 2);
    // The pages of the first seed live on (reparented) and are still listed.
    assert_eq!(list(&mut qemu).len(), 2);
    let (id, state, pid) = open(&mut qemu, "page://d");
    assert_eq!(state, "running");
    let pid = pid.expect("pid");
    assert_eq!(
        process(&mut qemu, pid).map(|p| p.1),
        Some(new_seed),
        "forked by the new seed"
    );
    // A page of the first seed can still be closed (the new seed kills it by pid).
    let first = opened[0];
    let out = shell(&mut qemu, &format!("run page_ctl close {}", first.0));
    assert!(
        out.iter().any(|l| l == &format!("page {} closed", first.0)),
        "{out:#?}"
    );
    assert!(process(&mut qemu, first.2).is_none());
    let ids: Vec<u32> = list(&mut qemu).iter().map(|r| r.id).collect();
    assert_eq!(ids, [opened[2].0, id]);
    qemu.assert_no_panic();
}

#[test]
fn requests_queued_while_seed_is_down_are_delivered_in_order() {
    let mut qemu = boot_ready(None);
    let (first, _, _) = open(&mut qemu, "page://before");

    // Kill seed: init restarts it at once and the handshake is redone.
    let seed_pid = number_after(&qemu.console(), "seed: listening on /dev/socket/seed (pid ");
    let m = mark(&qemu);
    shell(&mut qemu, &format!("kill -9 {seed_pid}"));
    wait_since(&mut qemu, m, "dpms: seed went away");
    wait_handshake(&mut qemu, m, 2);

    // Hold seed down (init's stop), queue three opens and a close, then start it again.
    let m = mark(&qemu);
    shell(&mut qemu, "stop seed");
    wait_since(&mut qemu, m, "init: service seed stopped");
    wait_since(&mut qemu, m, "dpms: seed went away");
    let mut queued = Vec::new();
    for uri in ["page://q1", "page://q2", "page://q3"] {
        let (id, state, pid) = open(&mut qemu, uri);
        assert_eq!(
            (state.as_str(), pid),
            ("pending", None),
            "{uri} while seed is down"
        );
        queued.push(id);
    }
    let out = shell(&mut qemu, &format!("run page_ctl close {first}"));
    assert!(
        out.iter().any(|l| l == &format!("page {first} closing")),
        "{out:#?}"
    );
    let rows = list(&mut qemu);
    let pending: Vec<u32> = rows
        .iter()
        .filter(|r| r.state == "pending")
        .map(|r| r.id)
        .collect();
    assert_eq!(pending, queued);

    let m = mark(&qemu);
    shell(&mut qemu, "start seed");
    wait_since(
        &mut qemu,
        m,
        "dpms: seed ready (handshake 3); 4 pending message(s)",
    );
    for id in &queued {
        wait_since(&mut qemu, m, &format!("dpms: page {id} running"));
    }
    wait_since(&mut qemu, m, &format!("dpms: page {first} closed"));
    // seed got them in the order they were asked for.
    let forks: Vec<String> = queued
        .iter()
        .map(|id| format!("seed: fork page {id} (page://q"))
        .collect();
    qemu.assert_in_order(m, &forks);
    let last_fork = qemu.position(m, &forks[2]);
    let kill = qemu.position(m, &format!("seed: kill page {first} "));
    assert!(last_fork < kill, "the close was asked for after the opens");
    let rows = list(&mut qemu);
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), queued);
    let pids: Vec<u32> = rows.iter().map(|r| r.pid.expect("pid")).collect();
    assert!(
        pids.windows(2).all(|w| w[0] < w[1]),
        "spawned in order: {pids:?}"
    );
    assert!(rows.iter().all(|r| r.state == "running"));
    qemu.assert_no_panic();
}

#[test]
fn pagemanagerd_first_then_seed() {
    let mut qemu = boot_ready(Some("/etc/test/pages_dpms_first.cfg"));
    qemu.assert_in_order(
        0,
        &[
            "dpms: seed is not up (ECONNREFUSED); waiting for \"seed start\"",
            "seed: listening on /dev/socket/seed",
            "seed: sent \"seed start\" to pagemanagerd",
            "dpms: seed start",
            "seed: pagemanagerd start",
            "dpms: seed ready (handshake 1)",
        ],
    );
    let (_, state, _) = open(&mut qemu, "page://x");
    assert_eq!(state, "running");

    // The home shell page makes DPMS send `homeshell ready`; seed runs its callback.
    let m = mark(&qemu);
    open(&mut qemu, "page://homeshell");
    wait_since(
        &mut qemu,
        m,
        "seed: homeshell ready; running the ready callback",
    );

    // A page that crashes is marked dead, not left running; closing it removes it.
    let m = mark(&qemu);
    let out = shell(&mut qemu, "run page_ctl open page://crash");
    assert_exit_ok(&qemu, &out);
    let line = wait_since(&mut qemu, m, "died (");
    let id = number_after(&line, "dpms: page ");
    let rows = list(&mut qemu);
    let row = rows
        .iter()
        .find(|r| r.id == id)
        .expect("crashed page listed");
    assert_eq!(row.state, "dead");
    if let Some(pid) = row.pid {
        assert!(
            process(&mut qemu, pid).is_none(),
            "a dead page's process is gone"
        );
    }
    let out = shell(&mut qemu, &format!("run page_ctl close {id}"));
    assert!(
        out.iter().any(|l| l == &format!("page {id} closed")),
        "{out:#?}"
    );
    assert_eq!(list(&mut qemu).len(), 2);
    qemu.assert_no_panic();
}

#[test]
fn seed_first_then_pagemanagerd() {
    let mut qemu = boot_ready(Some("/etc/test/pages_seed_first.cfg"));
    qemu.assert_in_order(
        0,
        &[
            "seed: listening on /dev/socket/seed",
            "seed: pagemanagerd is not up (ECONNREFUSED); waiting for \"pagemanagerd start\"",
            "dpms: pagemanagerd listening on /dev/socket/dpms",
            "dpms: sent \"pagemanagerd start\" to seed",
            "seed: pagemanagerd start",
            "dpms: seed ready (handshake 1)",
        ],
    );
    assert!(
        !qemu.console().contains("dpms: seed start"),
        "seed never needed to say start"
    );
    let (_, state, pid) = open(&mut qemu, "page://y");
    assert_eq!(state, "running");
    let page_pid = pid.expect("pid");
    assert!(process(&mut qemu, page_pid).is_some());

    // Restart pagemanagerd: its pages exit with it; seed answers the new one.
    let dpms_pid = number_after(
        &qemu.console(),
        "dpms: pagemanagerd listening on /dev/socket/dpms (pid ",
    );
    let m = mark(&qemu);
    shell(&mut qemu, &format!("kill -9 {dpms_pid}"));
    wait_since(
        &mut qemu,
        m,
        "init: service pagemanagerd killed by signal 9; restart 1 of 3",
    );
    wait_since(&mut qemu, m, "seed: pagemanagerd start");
    wait_handshake(&mut qemu, m, 1);
    wait_since(&mut qemu, m, "went away; exiting");
    assert!(list(&mut qemu).is_empty());
    let (_, state, _) = open(&mut qemu, "page://z");
    assert_eq!(state, "running");
    assert!(
        process(&mut qemu, page_pid).is_none(),
        "the old page exited"
    );
    qemu.assert_no_panic();
}

#[test]
fn both_daemons_survive_malformed_messages() {
    let mut qemu = boot_ready(None);
    let before = processes(&mut qemu);
    let pid_of = |rows: &[(u32, u32, u32, String)], name: &str| {
        rows.iter()
            .find(|r| r.3 == name)
            .map(|r| r.0)
            .unwrap_or_else(|| panic!("no {name} in ps"))
    };
    let (dpms, seed) = (pid_of(&before, "pagemanagerd"), pid_of(&before, "seed"));

    let m = mark(&qemu);
    let out = shell(&mut qemu, "run page_ctl fuzz");
    assert!(
        out.iter()
            .any(|l| l.starts_with("fuzz: sent ") && l.ends_with("/dev/socket/dpms")),
        "{out:#?}"
    );
    assert!(
        out.iter()
            .any(|l| l.starts_with("fuzz: sent ") && l.ends_with("/dev/socket/seed")),
        "{out:#?}"
    );
    assert_exit_ok(&qemu, &out);
    wait_since(&mut qemu, m, "dpms: dropped malformed message from pid");
    wait_since(&mut qemu, m, "seed: dropped malformed message from pid");

    // Same processes, no restarts, and the service still answers.
    let after = processes(&mut qemu);
    assert_eq!(
        (pid_of(&after, "pagemanagerd"), pid_of(&after, "seed")),
        (dpms, seed)
    );
    assert!(!qemu.console().contains("restart 1 of 3"));
    let (_, state, _) = open(&mut qemu, "page://after-fuzz");
    assert_eq!(state, "running");
    assert_eq!(list(&mut qemu).len(), 1);
    qemu.assert_no_panic();
}

#[test]
fn the_page_service_is_reachable_through_samgr() {
    let mut qemu = boot_ready(Some("/etc/test/pages_samgr.cfg"));
    wait_since(
        &mut qemu,
        0,
        "dpms: page service exported through samgr as \"dpms\"",
    );
    // The same requests over LiteIPC (samgr service "dpms") instead of the socket.
    let out = shell(&mut qemu, "run page_ctl --samgr open page://s");
    assert_exit_ok(&qemu, &out);
    let line = out
        .iter()
        .find(|l| l.starts_with("page ") && l.contains(": page://s pid "))
        .unwrap_or_else(|| panic!("{}", qemu.failure(&format!("no answer in {out:#?}"))));
    assert!(line.contains(" running: "), "{line}");
    let id = number_after(line, "page ");
    let pid = number_after(line, " pid ");
    assert!(process(&mut qemu, pid).is_some());
    let out = shell(&mut qemu, "run page_ctl --samgr list");
    assert_exit_ok(&qemu, &out);
    assert!(
        out.iter().any(|l| l.split_whitespace().collect::<Vec<_>>()
            == [
                id.to_string().as_str(),
                "page://s",
                "running",
                pid.to_string().as_str()
            ]),
        "{out:#?}"
    );
    let out = shell(&mut qemu, &format!("run page_ctl --samgr close {id}"));
    assert!(
        out.iter().any(|l| l == &format!("page {id} closed")),
        "{out:#?}"
    );
    assert!(process(&mut qemu, pid).is_none());
    // And the socket sees the same table.
    assert!(list(&mut qemu).is_empty());
    qemu.assert_no_panic();
}
