//! Host tests: valid configs, every malformed class, the upstream Hi3516DV300 board config
//! (testdata/hi3516dv300.cfg, upstream's format and content) and this project's own
//! /etc/init.cfg and test configs.

use super::*;
use crate::service::{CAP_ALL, DEFAULT_PRIORITY};

const HI3516: &str = include_str!("../testdata/hi3516dv300.cfg");
const OURS: &str = include_str!("../../../etc/init.cfg");
const BROKEN: &str = include_str!("../../../etc/test/broken.cfg");
const CRITICAL: &str = include_str!("../../../etc/test/critical.cfg");

fn load(text: &str) -> Loaded {
    parse(text).unwrap_or_else(|e| panic!("fatal: {e}"))
}

fn service_json(extra: &str) -> String {
    format!(
        r#"{{"services": [{{"name": "svc", "path": ["/bin/svc"], "uid": 1, "gid": 2{extra}}}]}}"#
    )
}

/// The single service of `service_json(extra)`, or the problem it caused.
fn one_service(extra: &str) -> Result<Service, Problem> {
    let loaded = load(&service_json(extra));
    match (loaded.config.services.first(), loaded.diagnostics.first()) {
        (Some(s), None) => Ok(s.clone()),
        (None, Some(d)) => Err(d.problem.clone()),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn minimal_valid_config() {
    let loaded = load(
        r#"{"jobs": [{"name": "init", "cmds": ["start a"]}],
            "services": [{"name": "a", "path": ["/bin/a", "-x"], "uid": 0, "gid": 0}]}"#,
    );
    assert_eq!(loaded.diagnostics, []);
    let a = loaded.config.service("a").expect("a");
    assert_eq!(a.path, ["/bin/a", "-x"]);
    assert_eq!(a.priority, DEFAULT_PRIORITY);
    assert!(!a.once && !a.disabled && a.critical.is_none());
    assert_eq!(
        loaded.config.job("init").map(|j| j.commands.clone()),
        Some(vec![Command::Start("a".into())])
    );
}

#[test]
fn every_service_key_is_understood() {
    let s = one_service(
        r#", "once": 1, "importance": -3, "caps": [1, 2], "disabled": true, "critical": [1, 3, 30],
        "console": 1, "writepid": ["/dev/cpuset/tasks"], "ondemand": 0, "priority": 12,
        "socket": ["x stream 0660 0 0"], "dynamic": true, "file": ["/dev/x rw"]"#,
    )
    .expect("valid");
    assert!(s.once && s.disabled && s.console && !s.ondemand);
    assert_eq!((s.uid, s.gid, s.importance, s.priority), (1, 2, -3, 12));
    assert_eq!(s.caps, [1, 2]);
    assert_eq!(
        s.critical,
        Some(Critical {
            crashes: 3,
            window_s: 30
        })
    );
    assert_eq!(s.writepid, ["/dev/cpuset/tasks"]);
    assert_eq!(s.unsupported_keys, ["socket", "dynamic", "file"]);
    assert_eq!(
        one_service(r#", "critical": 1"#).map(|s| s.critical),
        Ok(Some(Critical {
            crashes: 4,
            window_s: 20
        }))
    );
    assert_eq!(
        one_service(r#", "critical": 0"#).map(|s| s.critical),
        Ok(None)
    );
}

#[test]
fn syntax_error_reports_line_and_column() {
    let err = parse("{\n  \"services\": [\n    {\"name\": \"a\",,}\n  ]\n}").expect_err("bad");
    match err {
        FatalError::Syntax { line, column, .. } => {
            assert_eq!((line, column), (3, 18), "the second comma")
        }
        other => panic!("{other:?}"),
    }
    let text = format!("{}", parse(BROKEN).expect_err("broken.cfg is broken"));
    assert_eq!(
        text,
        "syntax error at line 14 column 13: expected `,` or `}`"
    );
    assert!(matches!(parse("[1, 2]"), Err(FatalError::NotAnObject)));
    assert!(matches!(parse("   "), Err(FatalError::Empty)));
    assert!(matches!(
        parse("{\"jobs\": ["),
        Err(FatalError::Syntax { line: 1, .. })
    ));
}

#[test]
fn oversize_file_is_fatal() {
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(MAX_CONFIG_BYTES));
    assert!(matches!(parse(&big), Err(FatalError::TooLarge(_))));
}

#[test]
fn fallback_is_a_console_shell() {
    let config = Config::fallback();
    let shell = config.service("shell").expect("shell");
    assert_eq!(shell.path, ["/bin/shell"]);
    assert!(shell.console && shell.uid == 0);
    assert_eq!(
        config.job("init").map(|j| j.commands.clone()),
        Some(vec![Command::Start("shell".into())])
    );
}

#[test]
fn wrong_types_skip_only_that_service() {
    for extra in [
        r#", "uid": "7""#,
        r#", "once": 2"#,
        r#", "once": "1""#,
        r#", "importance": "x""#,
        r#", "caps": [-1]"#,
        r#", "caps": "all""#,
        r#", "disabled": [1]"#,
        r#", "critical": "yes""#,
        r#", "critical": [2]"#,
        r#", "critical": [1, 0, 5]"#,
        r#", "priority": 40"#,
        r#", "priority": 5"#,
        r#", "writepid": ["relative"]"#,
    ] {
        // The duplicate key would be a serde error too; replace rather than repeat uid.
        let text =
            service_json(extra).replacen(r#""uid": 1, "#, "", usize::from(extra.contains("uid")));
        let loaded = load(&text);
        assert!(loaded.config.services.is_empty(), "{extra} accepted");
        assert!(
            matches!(
                loaded.diagnostics.as_slice(),
                [Diagnostic {
                    problem: Problem::Service(_),
                    ..
                }]
            ),
            "{extra}: {:?}",
            loaded.diagnostics
        );
    }
    let loaded = load(
        r#"{"services": [
            {"name": "bad", "path": "/bin/bad", "uid": 0, "gid": 0},
            {"name": "good", "path": ["/bin/good"], "uid": 0, "gid": 0}]}"#,
    );
    assert_eq!(loaded.config.services.len(), 1);
    assert_eq!(loaded.config.services[0].name, "good");
    let msg = loaded.diagnostics[0].to_string();
    assert!(msg.starts_with("service #0 \"bad\": invalid type"), "{msg}");
    assert!(msg.ends_with("service skipped"), "{msg}");
}

#[test]
fn missing_required_keys_are_rejected() {
    let loaded = load(r#"{"services": [{"name": "a", "path": ["/bin/a"]}]}"#);
    assert!(loaded.config.services.is_empty());
    assert!(
        loaded.diagnostics[0]
            .to_string()
            .contains("missing field `uid`")
    );
}

#[test]
fn unknown_keys_are_rejected_or_ignored() {
    let loaded = load(&service_json(r#", "colour": "red""#));
    assert!(loaded.config.services.is_empty());
    assert!(
        loaded.diagnostics[0]
            .to_string()
            .contains("unknown field `colour`")
    );
    let loaded = load(r#"{"import": [], "services": []}"#);
    assert_eq!(
        loaded.diagnostics,
        [Diagnostic {
            location: Location::TopLevel("import".into()),
            problem: Problem::UnknownKey
        }]
    );
    let loaded = load(r#"{"jobs": [{"name": "init", "cmds": [], "when": "boot"}]}"#);
    assert!(loaded.config.jobs.is_empty());
    assert!(matches!(loaded.diagnostics[0].problem, Problem::BadJob(_)));
}

#[test]
fn empty_arrays() {
    assert_eq!(
        one_service("").map(|s| s.caps),
        Ok(vec![]),
        "caps may be missing"
    );
    assert_eq!(one_service(r#", "caps": []"#).map(|s| s.caps), Ok(vec![]));
    let loaded = load(r#"{"services": [{"name": "a", "path": [], "uid": 0, "gid": 0}]}"#);
    assert!(loaded.config.services.is_empty());
    assert_eq!(
        loaded.diagnostics[0].problem,
        Problem::Service(ServiceError::PathCount(0))
    );
    let loaded = load(r#"{"jobs": [], "services": []}"#);
    assert_eq!(loaded.config, Config::default());
    assert_eq!(loaded.diagnostics, []);
    let loaded = load(r#"{"jobs": [{"name": "init", "cmds": []}]}"#);
    assert_eq!(loaded.config.job("init").map(|j| j.commands.len()), Some(0));
}

#[test]
fn oversize_strings() {
    let long_name = "n".repeat(33);
    let loaded = load(&format!(
        r#"{{"services": [{{"name": "{long_name}", "path": ["/bin/a"], "uid": 0, "gid": 0}}]}}"#
    ));
    assert!(matches!(
        loaded.diagnostics[0].problem,
        Problem::Service(ServiceError::BadName(_))
    ));
    let ok_name = "n".repeat(32);
    let loaded = load(&format!(
        r#"{{"services": [{{"name": "{ok_name}", "path": ["/bin/a"], "uid": 0, "gid": 0}}]}}"#
    ));
    assert_eq!(loaded.config.services.len(), 1);
    let long_arg = format!("/{}", "a".repeat(64));
    assert_eq!(
        one_service(
            &format!(r#", "path": ["{long_arg}"]"#).replace(r#""path": ["/bin/svc"], "#, "")
        ),
        Err(Problem::Service(ServiceError::PathArgLength(65)))
    );
    let many: Vec<String> = (0..21).map(|i| format!("\"/a{i}\"")).collect();
    let text = service_json("").replace(r#"["/bin/svc"]"#, &format!("[{}]", many.join(",")));
    assert_eq!(
        load(&text).diagnostics[0].problem,
        Problem::Service(ServiceError::PathCount(21))
    );
    let cmd = format!("start {}", "x".repeat(300));
    let loaded = load(&format!(
        r#"{{"jobs": [{{"name": "init", "cmds": ["{cmd}", "start ok"]}}]}}"#
    ));
    assert_eq!(
        loaded.diagnostics[0].problem,
        Problem::Command(CommandError::TooLong(300))
    );
    assert_eq!(
        loaded.config.job("init").map(|j| j.commands.clone()),
        Some(vec![Command::Start("ok".into())])
    );
}

#[test]
fn more_than_100_services_keeps_the_first_100() {
    let services: Vec<String> = (0..101)
        .map(|i| format!(r#"{{"name": "s{i}", "path": ["/bin/s"], "uid": 0, "gid": 0}}"#))
        .collect();
    let loaded = load(&format!(r#"{{"services": [{}]}}"#, services.join(",")));
    assert_eq!(loaded.config.services.len(), MAX_SERVICES);
    assert_eq!(
        loaded.diagnostics,
        [Diagnostic {
            location: Location::TopLevel("services".into()),
            problem: Problem::TooMany {
                limit: 100,
                found: 101
            }
        }]
    );
}

#[test]
fn more_than_200_commands_keeps_the_first_200() {
    let cmds: Vec<String> = (0..201).map(|i| format!("\"start s{i}\"")).collect();
    let loaded = load(&format!(
        r#"{{"jobs": [{{"name": "init", "cmds": [{}]}}]}}"#,
        cmds.join(",")
    ));
    assert_eq!(
        loaded.config.job("init").map(|j| j.commands.len()),
        Some(200)
    );
    assert!(matches!(
        loaded.diagnostics[0].problem,
        Problem::TooMany { .. }
    ));
}

#[test]
fn bad_commands_are_dropped_unknown_ones_kept() {
    let loaded = load(
        r#"{"jobs": [{"name": "pre-init", "cmds": [
            "chmod 755 /a", "chown 888 /a", "mkdir /a 0755 0", "", "setrlimit X 1 1", "mkdir /ok", 7]}]}"#,
    );
    let job = loaded.config.job("pre-init").expect("job");
    assert_eq!(
        job.commands,
        [
            Command::Unsupported {
                name: "setrlimit".into(),
                args: "X 1 1".into()
            },
            Command::Mkdir {
                path: "/ok".into(),
                mode: 0o755,
                owner: None
            }
        ]
    );
    assert_eq!(loaded.diagnostics.len(), 5);
    assert_eq!(
        loaded.diagnostics[4].problem,
        Problem::WrongType("a string")
    );
}

#[test]
fn duplicate_and_unknown_jobs_and_services() {
    let loaded = load(
        r#"{"jobs": [{"name": "init", "cmds": []}, {"name": "init", "cmds": []},
                     {"name": "boot", "cmds": []}],
            "services": [{"name": "a", "path": ["/bin/a"], "uid": 0, "gid": 0},
                         {"name": "a", "path": ["/bin/b"], "uid": 0, "gid": 0}]}"#,
    );
    let problems: Vec<Problem> = loaded
        .diagnostics
        .iter()
        .map(|d| d.problem.clone())
        .collect();
    assert_eq!(
        problems,
        [
            Problem::DuplicateJob,
            Problem::UnknownJob,
            Problem::DuplicateService
        ]
    );
    assert_eq!(loaded.config.jobs.len(), 2);
    assert_eq!(loaded.config.services[0].path, ["/bin/a"]);
}

#[test]
fn caps_rules() {
    assert_eq!(
        one_service(r#", "caps": [4294967295]"#).map(|s| s.caps),
        Ok(vec![u32::MAX])
    );
    assert!(one_service(r#", "caps": [4294967295, 1]"#).is_err());
    assert!(one_service(r#", "caps": [4294967296]"#).is_err());
    let many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
    assert!(one_service(&format!(r#", "caps": [{}]"#, many.join(","))).is_err());
}

#[test]
fn bin_sh_is_not_a_service() {
    let sh = service_json("").replace("/bin/svc", "/bin/sh");
    assert!(load(&sh).config.services.is_empty());
    let relative = service_json("").replace("/bin/svc", "bin/svc");
    assert!(load(&relative).config.services.is_empty());
}

#[test]
fn upstream_hi3516dv300_config_loads_completely() {
    let loaded = load(HI3516);
    assert_eq!(loaded.diagnostics, []);
    let config = &loaded.config;
    let names: Vec<&str> = config.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, JOB_ORDER);
    let pre = config.job("pre-init").expect("pre-init");
    assert_eq!(
        pre.commands[0],
        Command::Mkdir {
            path: "/storage/data/log".into(),
            mode: 0o755,
            owner: None
        }
    );
    assert!(pre.commands.contains(&Command::Chmod {
        mode: 0o700,
        path: "/storage/data/softbus".into()
    }));
    assert!(pre.commands.contains(&Command::Chown {
        uid: 7,
        gid: 7,
        path: "/storage/data/softbus".into()
    }));
    assert!(pre.commands.contains(&Command::Mount {
        fstype: "vfat".into(),
        source: "/dev/mmcblk0".into(),
        target: "/sdcard".into(),
        options: "rw,umask=000".into()
    }));
    let post = config.job("post-init").expect("post-init");
    assert!(post.commands.iter().all(|c| matches!(
        c,
        Command::Chown {
            uid: 0,
            gid: 99,
            ..
        }
    )));
    let services: Vec<&str> = config.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        services,
        [
            "foundation",
            "shell",
            "appspawn",
            "apphilogcat",
            "media_server",
            "wms_server",
            "bundle_daemon",
            "hiview",
            "sensor_service",
            "ai_server",
            "softbus_server"
        ]
    );
    let foundation = config.service("foundation").expect("foundation");
    assert_eq!((foundation.uid, foundation.importance), (7, 1));
    assert_eq!(
        config.service("shell").map(|s| s.caps.clone()),
        Some(vec![u32::MAX])
    );
    assert_eq!(
        config.service("apphilogcat").map(|s| s.path.clone()),
        Some(vec!["/bin/apphilogcat".into(), "-L".into(), "auto".into()])
    );
    assert!(config.service("wms_server").is_some_and(|s| s.once));
    assert!(config.service("media_server").is_some_and(|s| s.once));
}

/// Started by the jobs: every `start` of a job, in job order.
fn started(config: &Config) -> Vec<String> {
    JOB_ORDER
        .iter()
        .filter_map(|name| config.job(name))
        .flat_map(|job| job.commands.iter())
        .filter_map(|c| match c {
            Command::Start(name) => Some(name.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn our_init_cfg_models_the_board_config() {
    let ours = load(OURS);
    assert_eq!(ours.diagnostics, []);
    let board = load(HI3516).config;
    let names: Vec<&str> = ours.config.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, JOB_ORDER);
    // Same service set in the same order (ours adds test and demo services at the end).
    let our_names: Vec<&str> = ours
        .config
        .services
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let board_names: Vec<&str> = board.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(&our_names[..board_names.len()], board_names.as_slice());
    // The jobs start the board's services in the board's order.
    let ours_started = started(&ours.config);
    assert_eq!(
        &ours_started[..board_names.len()],
        started(&board).as_slice()
    );
    // Only the shell holds all caps; programs that do not exist yet are disabled.
    for s in &ours.config.services {
        assert_eq!(
            s.caps.contains(&(CAP_ALL as u32)),
            s.name == "shell",
            "{}",
            s.name
        );
        let exists = [
            "shell",
            "hello",
            "utest",
            "crashy",
            "oneshot",
            "foundation",
            "wms_server",
            "sensor_service",
            "pagemanagerd",
            "seed",
        ]
        .contains(&s.name.as_str());
        assert_eq!(
            s.disabled,
            !exists || ["utest", "crashy", "oneshot"].contains(&s.name.as_str()),
            "{}",
            s.name
        );
    }
    let shell = ours.config.service("shell").expect("shell");
    assert!(shell.console && !shell.disabled && shell.uid == 0);
    // The pre-init folders the board makes, with their modes and owners.
    let pre = &ours.config.job("pre-init").expect("pre-init").commands;
    for cmd in &board.job("pre-init").expect("pre-init").commands {
        if !matches!(cmd, Command::Start(_)) {
            assert!(pre.contains(cmd), "missing {cmd:?}");
        }
    }
}

#[test]
fn critical_test_config_loads() {
    let loaded = load(CRITICAL);
    assert_eq!(loaded.diagnostics, []);
    assert_eq!(
        loaded.config.service("vital").and_then(|s| s.critical),
        Some(Critical {
            crashes: 2,
            window_s: 60
        })
    );
}

#[test]
fn loadcfg_files() {
    assert!(loadcfg::allowed("/patch/fstab.cfg") && loadcfg::allowed("/etc/patch.cfg"));
    assert!(!loadcfg::allowed("/etc/init.cfg"));
    let cmds = loadcfg::parse("# patch\nmount zpfs /patch/etc:/etc /etc\n\nchmod 0644 /etc/x\n");
    assert_eq!(cmds.len(), 2);
    assert!(cmds.iter().all(Result::is_ok));
    let long = format!("write /a {}", "x".repeat(130));
    assert!(loadcfg::parse(&long)[0].is_err());
    let many = "mkdir /a\n".repeat(30);
    assert_eq!(loadcfg::parse(&many).len(), loadcfg::MAX_LINES);
}
