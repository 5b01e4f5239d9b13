//! Job commands: one `"name args"` string each, parsed into a typed [`Command`].
//!
//! Follows startup_init_lite's command rules (openharmony-facts.md section 3, conformance
//! checklist section 3): the name is split from its content at the first space; the content
//! is at most [`MAX_COMMAND_CONTENT`] bytes; a known command without its argument is
//! rejected; `chmod` takes exactly `0ddd path` (octal digits only); `chown` exactly three
//! tokens separated by single spaces. Unknown names are kept as [`Command::Unsupported`] so
//! init can log and skip them; malformed known commands are a [`CommandError`].

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Longest command content (the part after the name), as upstream's `MAX_CMD_CONTENT_LEN`.
pub const MAX_COMMAND_CONTENT: usize = 256;
/// Longest `sleep` a job may ask for, in seconds (keeps boot bounded).
pub const MAX_SLEEP_SECONDS: u32 = 5;
/// Mode of a directory `mkdir` creates when the command gives none.
pub const DEFAULT_DIR_MODE: u32 = 0o755;

/// What `reboot` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RebootKind {
    /// Restart the machine (`reboot`, or any target such as `reboot updater`).
    Restart,
    /// Power off (`reboot shutdown`).
    PowerOff,
}

/// One parsed job command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `start NAME`: start a service.
    Start(String),
    /// `stop NAME`: stop a service on purpose (it is not restarted).
    Stop(String),
    /// `mkdir PATH [MODE [UID GID]]`.
    Mkdir {
        /// Directory to create.
        path: String,
        /// Permission bits (default [`DEFAULT_DIR_MODE`]).
        mode: u32,
        /// New owner, if given.
        owner: Option<(u32, u32)>,
    },
    /// `chmod 0ddd PATH`.
    Chmod {
        /// Permission bits.
        mode: u32,
        /// Target.
        path: String,
    },
    /// `chown UID GID PATH`.
    Chown {
        /// New owner.
        uid: u32,
        /// New group.
        gid: u32,
        /// Target.
        path: String,
    },
    /// `mount FSTYPE SOURCE TARGET [OPTIONS...]`.
    Mount {
        /// Filesystem type (`tmpfs`, `vfat`, ...).
        fstype: String,
        /// Device or `none`.
        source: String,
        /// Directory to mount on.
        target: String,
        /// Flags and data, comma-joined (`rw,umask=000`).
        options: String,
    },
    /// `export KEY VALUE`: set init's environment for services started later.
    Export {
        /// Variable name.
        key: String,
        /// Value (may be empty).
        value: String,
    },
    /// `write PATH CONTENT`: replace a file's content.
    Write {
        /// Target file.
        path: String,
        /// Text written (the rest of the line).
        content: String,
    },
    /// `rm PATH`.
    Rm(String),
    /// `rmdir PATH`.
    Rmdir(String),
    /// `copy FROM TO`.
    Copy {
        /// Source file.
        from: String,
        /// Destination file.
        to: String,
    },
    /// `sleep SECONDS` (at most [`MAX_SLEEP_SECONDS`]).
    Sleep(u32),
    /// `hostname NAME`.
    Hostname(String),
    /// `reboot [shutdown|TARGET]`.
    Reboot(RebootKind),
    /// `exec PROGRAM [ARGS...]`: run a program and wait for it.
    Exec(Vec<String>),
    /// `loadcfg PATH`: run the commands in a whitelisted file.
    LoadCfg(String),
    /// A command init does not implement (kept so it can be logged, then skipped).
    Unsupported {
        /// The command name.
        name: String,
        /// Its content, unparsed.
        args: String,
    },
}

impl Command {
    /// The command's name as written in the config.
    pub fn name(&self) -> &str {
        match self {
            Command::Start(_) => "start",
            Command::Stop(_) => "stop",
            Command::Mkdir { .. } => "mkdir",
            Command::Chmod { .. } => "chmod",
            Command::Chown { .. } => "chown",
            Command::Mount { .. } => "mount",
            Command::Export { .. } => "export",
            Command::Write { .. } => "write",
            Command::Rm(_) => "rm",
            Command::Rmdir(_) => "rmdir",
            Command::Copy { .. } => "copy",
            Command::Sleep(_) => "sleep",
            Command::Hostname(_) => "hostname",
            Command::Reboot(_) => "reboot",
            Command::Exec(_) => "exec",
            Command::LoadCfg(_) => "loadcfg",
            Command::Unsupported { name, .. } => name,
        }
    }
}

/// Why a command string was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// The string is empty or only spaces.
    Empty,
    /// The content after the name is longer than [`MAX_COMMAND_CONTENT`].
    TooLong(usize),
    /// A known command without its argument.
    MissingArgument(&'static str),
    /// The wrong number of space-separated arguments.
    WrongArgCount {
        /// The command.
        command: &'static str,
        /// What it takes.
        expected: &'static str,
    },
    /// An argument with leading, trailing or doubled spaces.
    BadSpacing(&'static str),
    /// A mode that is not `0` followed by three octal digits.
    BadMode(String),
    /// A uid or gid that is not a decimal number.
    BadId(String),
    /// A path that is not absolute or contains `..`.
    BadPath(String),
    /// A `sleep` that is not a number of seconds in range.
    BadSleep(String),
    /// An argument that does not fit (e.g. a service name with spaces).
    BadArgument {
        /// The command.
        command: &'static str,
        /// The offending text.
        arg: String,
    },
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Empty => write!(f, "empty command"),
            CommandError::TooLong(n) => {
                write!(f, "content is {n} bytes, longer than {MAX_COMMAND_CONTENT}")
            }
            CommandError::MissingArgument(c) => write!(f, "`{c}` needs an argument"),
            CommandError::WrongArgCount { command, expected } => {
                write!(f, "`{command}` takes {expected}")
            }
            CommandError::BadSpacing(c) => {
                write!(f, "`{c}` arguments must be separated by single spaces")
            }
            CommandError::BadMode(m) => {
                write!(
                    f,
                    "mode {m:?} is not 0 followed by three octal digits (e.g. 0755)"
                )
            }
            CommandError::BadId(id) => write!(f, "{id:?} is not a numeric uid/gid"),
            CommandError::BadPath(p) => {
                write!(f, "path {p:?} must be absolute and must not contain \"..\"")
            }
            CommandError::BadSleep(s) => {
                write!(f, "sleep {s:?} is not 0..={MAX_SLEEP_SECONDS} seconds")
            }
            CommandError::BadArgument { command, arg } => {
                write!(f, "`{command}`: bad argument {arg:?}")
            }
        }
    }
}

/// Parses one command string, e.g. `"chmod 0755 /storage/data/log"`.
pub fn parse_command(line: &str) -> Result<Command, CommandError> {
    if line.trim().is_empty() {
        return Err(CommandError::Empty);
    }
    let (name, content) = line.split_once(' ').unwrap_or((line, ""));
    if name.is_empty() {
        return Err(CommandError::Empty);
    }
    if content.len() > MAX_COMMAND_CONTENT {
        return Err(CommandError::TooLong(content.len()));
    }
    match name {
        "start" => one_word("start", content).map(|s| Command::Start(s.to_string())),
        "stop" => one_word("stop", content).map(|s| Command::Stop(s.to_string())),
        "mkdir" => mkdir(content),
        "chmod" => chmod(content),
        "chown" => chown(content),
        "mount" => mount(content),
        "export" => export(content),
        "write" => {
            let (path, text) = content
                .split_once(' ')
                .ok_or(CommandError::MissingArgument("write"))?;
            Ok(Command::Write {
                path: path_arg(path)?,
                content: text.to_string(),
            })
        }
        "rm" => one_path("rm", content).map(Command::Rm),
        "rmdir" => one_path("rmdir", content).map(Command::Rmdir),
        "copy" | "cp" => {
            let args = words("copy", content)?;
            match args.as_slice() {
                [from, to] => Ok(Command::Copy {
                    from: path_arg(from)?,
                    to: path_arg(to)?,
                }),
                _ => Err(CommandError::WrongArgCount {
                    command: "copy",
                    expected: "FROM TO",
                }),
            }
        }
        "sleep" => {
            let word = one_word("sleep", content)?;
            match word.parse::<u32>() {
                Ok(secs) if secs <= MAX_SLEEP_SECONDS => Ok(Command::Sleep(secs)),
                _ => Err(CommandError::BadSleep(word.to_string())),
            }
        }
        "hostname" => {
            let word = one_word("hostname", content)?;
            if word.len() > 64 {
                return Err(CommandError::BadArgument {
                    command: "hostname",
                    arg: word.to_string(),
                });
            }
            Ok(Command::Hostname(word.to_string()))
        }
        "reboot" => match content.trim() {
            "" => Ok(Command::Reboot(RebootKind::Restart)),
            "shutdown" => Ok(Command::Reboot(RebootKind::PowerOff)),
            _ => Ok(Command::Reboot(RebootKind::Restart)),
        },
        "exec" => {
            let args = words("exec", content)?;
            let program = args.first().ok_or(CommandError::MissingArgument("exec"))?;
            path_arg(program)?;
            Ok(Command::Exec(args.iter().map(|s| s.to_string()).collect()))
        }
        "loadcfg" => {
            if content.starts_with(' ') {
                return Err(CommandError::BadSpacing("loadcfg"));
            }
            one_path("loadcfg", content).map(Command::LoadCfg)
        }
        _ => Ok(Command::Unsupported {
            name: name.to_string(),
            args: content.to_string(),
        }),
    }
}

/// Space-separated arguments; empty tokens (leading, trailing or doubled spaces) are errors.
fn words<'a>(command: &'static str, content: &'a str) -> Result<Vec<&'a str>, CommandError> {
    if content.is_empty() {
        return Err(CommandError::MissingArgument(command));
    }
    let words: Vec<&str> = content.split(' ').collect();
    if words.iter().any(|w| w.is_empty()) {
        return Err(CommandError::BadSpacing(command));
    }
    Ok(words)
}

/// Exactly one argument with no spaces.
fn one_word<'a>(command: &'static str, content: &'a str) -> Result<&'a str, CommandError> {
    match words(command, content)?.as_slice() {
        [word] => Ok(word),
        _ => Err(CommandError::BadArgument {
            command,
            arg: content.to_string(),
        }),
    }
}

fn one_path(command: &'static str, content: &str) -> Result<String, CommandError> {
    path_arg(one_word(command, content)?)
}

/// An absolute path without `..` components.
fn path_arg(path: &str) -> Result<String, CommandError> {
    if !path.starts_with('/') || path.split('/').any(|c| c == "..") {
        return Err(CommandError::BadPath(path.to_string()));
    }
    Ok(path.to_string())
}

/// `0ddd` with octal digits, exactly four characters (upstream's `chmod` rule).
pub fn parse_mode(text: &str) -> Result<u32, CommandError> {
    let bad = || CommandError::BadMode(text.to_string());
    let digits = text.strip_prefix('0').ok_or_else(bad)?;
    if digits.len() != 3 || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(bad());
    }
    u32::from_str_radix(digits, 8).map_err(|_| bad())
}

/// A decimal uid or gid.
pub fn parse_id(text: &str) -> Result<u32, CommandError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CommandError::BadId(text.to_string()));
    }
    text.parse()
        .map_err(|_| CommandError::BadId(text.to_string()))
}

fn mkdir(content: &str) -> Result<Command, CommandError> {
    let args = words("mkdir", content)?;
    let (path, mode, owner) = match args.as_slice() {
        [path] => (path, DEFAULT_DIR_MODE, None),
        [path, mode] => (path, parse_mode(mode)?, None),
        [path, mode, uid, gid] => (
            path,
            parse_mode(mode)?,
            Some((parse_id(uid)?, parse_id(gid)?)),
        ),
        _ => {
            return Err(CommandError::WrongArgCount {
                command: "mkdir",
                expected: "PATH [MODE [UID GID]]",
            });
        }
    };
    Ok(Command::Mkdir {
        path: path_arg(path)?,
        mode,
        owner,
    })
}

fn chmod(content: &str) -> Result<Command, CommandError> {
    match words("chmod", content)?.as_slice() {
        [mode, path] => Ok(Command::Chmod {
            mode: parse_mode(mode)?,
            path: path_arg(path)?,
        }),
        _ => Err(CommandError::WrongArgCount {
            command: "chmod",
            expected: "MODE PATH",
        }),
    }
}

fn chown(content: &str) -> Result<Command, CommandError> {
    match words("chown", content)?.as_slice() {
        [uid, gid, path] => Ok(Command::Chown {
            uid: parse_id(uid)?,
            gid: parse_id(gid)?,
            path: path_arg(path)?,
        }),
        _ => Err(CommandError::WrongArgCount {
            command: "chown",
            expected: "UID GID PATH",
        }),
    }
}

fn mount(content: &str) -> Result<Command, CommandError> {
    if content.starts_with(' ') {
        return Err(CommandError::BadSpacing("mount"));
    }
    let args = words("mount", content)?;
    match args.as_slice() {
        [fstype, source, target, options @ ..] => Ok(Command::Mount {
            fstype: fstype.to_string(),
            source: source.to_string(),
            target: path_arg(target)?,
            options: options.join(","),
        }),
        _ => Err(CommandError::WrongArgCount {
            command: "mount",
            expected: "FSTYPE SOURCE TARGET [OPTIONS]",
        }),
    }
}

fn export(content: &str) -> Result<Command, CommandError> {
    let args = words("export", content)?;
    let (key, value) = match args.as_slice() {
        [key] => (*key, ""),
        [key, value] => (*key, *value),
        _ => {
            return Err(CommandError::WrongArgCount {
                command: "export",
                expected: "KEY [VALUE]",
            });
        }
    };
    if key.contains('=') {
        return Err(CommandError::BadArgument {
            command: "export",
            arg: key.to_string(),
        });
    }
    Ok(Command::Export {
        key: key.to_string(),
        value: value.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Command {
        parse_command(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    #[test]
    fn splits_name_and_content() {
        assert_eq!(ok("start X"), Command::Start("X".into()));
        assert_eq!(
            ok("mkdir /storage/x"),
            Command::Mkdir {
                path: "/storage/x".into(),
                mode: 0o755,
                owner: None
            }
        );
        assert_eq!(
            ok("chmod 0500 /bin/x"),
            Command::Chmod {
                mode: 0o500,
                path: "/bin/x".into()
            }
        );
        assert_eq!(
            ok("chown 1000 1000 /bin/x"),
            Command::Chown {
                uid: 1000,
                gid: 1000,
                path: "/bin/x".into()
            }
        );
        assert_eq!(
            ok("mount vfat /dev/mmcblk1 /sdcard rw,umask=000"),
            Command::Mount {
                fstype: "vfat".into(),
                source: "/dev/mmcblk1".into(),
                target: "/sdcard".into(),
                options: "rw,umask=000".into()
            }
        );
        assert_eq!(
            ok("mkdir /data/a 0700 7 8"),
            Command::Mkdir {
                path: "/data/a".into(),
                mode: 0o700,
                owner: Some((7, 8))
            }
        );
        assert_eq!(
            ok("exec /bin/hello a b"),
            Command::Exec(vec!["/bin/hello".into(), "a".into(), "b".into()])
        );
        assert_eq!(
            ok("write /tmp/x hello world"),
            Command::Write {
                path: "/tmp/x".into(),
                content: "hello world".into()
            }
        );
        assert_eq!(
            ok("export LANG C"),
            Command::Export {
                key: "LANG".into(),
                value: "C".into()
            }
        );
        assert_eq!(ok("reboot shutdown"), Command::Reboot(RebootKind::PowerOff));
        assert_eq!(ok("reboot"), Command::Reboot(RebootKind::Restart));
        assert_eq!(ok("sleep 1"), Command::Sleep(1));
        assert_eq!(
            ok("loadcfg /patch/fstab.cfg"),
            Command::LoadCfg("/patch/fstab.cfg".into())
        );
    }

    #[test]
    fn unknown_commands_are_kept_as_unsupported() {
        assert_eq!(
            ok("xxxxxxxx"),
            Command::Unsupported {
                name: "xxxxxxxx".into(),
                args: String::new()
            }
        );
        assert_eq!(ok("setrlimit RLIMIT_NICE 0 0").name(), "setrlimit");
        assert_eq!(parse_command(""), Err(CommandError::Empty));
        assert_eq!(parse_command("   "), Err(CommandError::Empty));
    }

    #[test]
    fn known_commands_without_argument_are_rejected() {
        for line in [
            "start ", "mkdir ", "chmod ", "chown ", "mount ", "loadcfg ", "start",
        ] {
            assert!(parse_command(line).is_err(), "{line:?} accepted");
        }
    }

    #[test]
    fn content_longer_than_256_is_rejected() {
        let line = format!("start {}", "a".repeat(257));
        assert_eq!(parse_command(&line), Err(CommandError::TooLong(257)));
        let line = format!("start {}", "a".repeat(256));
        assert!(parse_command(&line).is_ok());
    }

    #[test]
    fn chmod_modes_must_be_four_octal_digits() {
        for mode in ["755", "0855", "07b5", "075", "00755", "-755"] {
            let line = format!("chmod {mode} /bin/x");
            assert!(
                matches!(parse_command(&line), Err(CommandError::BadMode(_))),
                "{line}"
            );
        }
        assert!(matches!(
            parse_command("chmod  0755 /bin/x"),
            Err(CommandError::BadSpacing(_))
        ));
        assert!(matches!(
            parse_command("chmod 0755 /bin/x "),
            Err(CommandError::BadSpacing(_))
        ));
    }

    #[test]
    fn chown_needs_three_numeric_tokens() {
        assert!(parse_command("chown 888 /bin/x").is_err());
        assert!(matches!(
            parse_command("chown 888 8b9 /bin/x"),
            Err(CommandError::BadId(_))
        ));
        assert!(parse_command("chown 888  888 /bin/x").is_err());
    }

    #[test]
    fn mkdir_takes_one_two_or_four_arguments() {
        assert!(parse_command("mkdir /a 0755 0").is_err());
        assert!(parse_command("mkdir /a 0755 0 0 0").is_err());
        assert!(parse_command("mkdir relative").is_err());
        assert!(parse_command("mkdir /a/../b").is_err());
        assert!(parse_command("mkdir   /path 0755 system").is_err());
        assert!(parse_command("  /path 0755 system").is_err());
    }

    #[test]
    fn sleep_is_bounded() {
        assert!(parse_command("sleep 6").is_err());
        assert!(parse_command("sleep x").is_err());
    }
}
