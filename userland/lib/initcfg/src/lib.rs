//! `/etc/init.cfg`: OpenHarmony's init configuration (startup_init_lite, openharmony-facts.md
//! section 3) parsed with serde_json into a typed [`Config`] of [`Job`]s (with parsed
//! [`Command`]s) and [`Service`]s.
//!
//! Bad input is never fatal to init. Only a file that is not JSON at all (a syntax error,
//! reported with line and column), is too large, or is not a JSON object yields a
//! [`FatalError`]; init then runs [`Config::fallback`] (a console shell). Anything else wrong
//! — an unknown key, a wrong type, an empty `path`, an oversize string, a malformed command,
//! more than [`MAX_SERVICES`] services — drops just that entry and adds a [`Diagnostic`];
//! the rest of the file still loads.
//!
//! `no_std` + `alloc` for init; host-tested with `cargo test -p initcfg`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod command;
pub mod service;

#[cfg(test)]
mod tests;

pub use command::{Command, CommandError, RebootKind, parse_command};
pub use service::{Critical, Service, ServiceError};

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde_json::Value;

/// Largest config file accepted (upstream: 100 KB).
pub const MAX_CONFIG_BYTES: usize = 100 * 1024;
/// Most services in one file (upstream `MAX_SERVICES_CNT_IN_FILE`).
pub const MAX_SERVICES: usize = 100;
/// Most commands in one job (upstream `MAX_CMD_CNT_IN_ONE_JOB`).
pub const MAX_JOB_COMMANDS: usize = 200;
/// The jobs init runs, in this order.
pub const JOB_ORDER: [&str; 3] = ["pre-init", "init", "post-init"];

/// A parsed configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Jobs in file order.
    pub jobs: Vec<Job>,
    /// Services in file order (names unique).
    pub services: Vec<Service>,
}

/// A named list of commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// `pre-init`, `init`, `post-init` (others are kept but not run).
    pub name: String,
    /// Commands in order; malformed ones were dropped with a diagnostic.
    pub commands: Vec<Command>,
}

impl Config {
    /// The job called `name`.
    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.name == name)
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The built-in configuration used when the file cannot be read or parsed: the console
    /// shell as root, started by the `init` job.
    pub fn fallback() -> Config {
        Config {
            jobs: alloc::vec![Job {
                name: "init".to_string(),
                commands: alloc::vec![Command::Start("shell".to_string())],
            }],
            services: alloc::vec![Service {
                name: "shell".to_string(),
                path: alloc::vec!["/bin/shell".to_string()],
                uid: 0,
                gid: 0,
                once: false,
                importance: 0,
                caps: alloc::vec![u32::MAX],
                disabled: false,
                critical: None,
                console: true,
                writepid: Vec::new(),
                ondemand: false,
                priority: service::DEFAULT_PRIORITY,
                unsupported_keys: Vec::new(),
            }],
        }
    }
}

/// Why the whole file was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FatalError {
    /// Larger than [`MAX_CONFIG_BYTES`].
    TooLarge(usize),
    /// Empty file.
    Empty,
    /// Not valid JSON.
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// Valid JSON, but not an object.
    NotAnObject,
}

impl fmt::Display for FatalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FatalError::TooLarge(n) => {
                write!(f, "{n} bytes, larger than {MAX_CONFIG_BYTES}")
            }
            FatalError::Empty => write!(f, "empty file"),
            FatalError::Syntax {
                line,
                column,
                message,
            } => write!(f, "syntax error at line {line} column {column}: {message}"),
            FatalError::NotAnObject => write!(f, "the top level is not a JSON object"),
        }
    }
}

/// Where a diagnostic points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A top-level key.
    TopLevel(String),
    /// Job number `index` (0-based), with its name if it has one.
    Job {
        /// Position in `jobs`.
        index: usize,
        /// Its `name`, if readable.
        name: Option<String>,
    },
    /// Command number `index` of a job.
    Command {
        /// The job's name.
        job: String,
        /// Position in `cmds`.
        index: usize,
    },
    /// Service number `index`, with its name if it has one.
    Service {
        /// Position in `services`.
        index: usize,
        /// Its `name`, if readable.
        name: Option<String>,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::TopLevel(key) => write!(f, "key {key:?}"),
            Location::Job { index, name } => match name {
                Some(name) => write!(f, "job {name:?}"),
                None => write!(f, "job #{index}"),
            },
            Location::Command { job, index } => write!(f, "job {job:?} command #{index}"),
            Location::Service { index, name } => match name {
                Some(name) => write!(f, "service #{index} {name:?}"),
                None => write!(f, "service #{index}"),
            },
        }
    }
}

/// What is wrong at a [`Location`], and what the loader did about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// An unknown top-level key (ignored).
    UnknownKey,
    /// A value of the wrong JSON type (the entry is ignored).
    WrongType(&'static str),
    /// A malformed job (skipped).
    BadJob(String),
    /// A job init never runs (kept).
    UnknownJob,
    /// The same job twice (the later one is skipped).
    DuplicateJob,
    /// A malformed command (skipped).
    Command(CommandError),
    /// A malformed service (skipped).
    Service(ServiceError),
    /// The same service name twice (the later one is skipped).
    DuplicateService,
    /// More entries than allowed; the first `limit` are kept.
    TooMany {
        /// The limit.
        limit: usize,
        /// Entries present.
        found: usize,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnknownKey => write!(f, "unknown key, ignored"),
            Problem::WrongType(want) => write!(f, "must be {want}; ignored"),
            Problem::BadJob(why) => write!(f, "{why}; job skipped"),
            Problem::UnknownJob => write!(
                f,
                "not one of pre-init, init, post-init; kept but never run"
            ),
            Problem::DuplicateJob => write!(f, "defined twice; the later one skipped"),
            Problem::Command(e) => write!(f, "{e}; command skipped"),
            Problem::Service(e) => write!(f, "{e}; service skipped"),
            Problem::DuplicateService => write!(f, "name used twice; the later one skipped"),
            Problem::TooMany { limit, found } => {
                write!(f, "{found} entries, at most {limit}; the rest ignored")
            }
        }
    }
}

/// One problem found while loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where.
    pub location: Location,
    /// What.
    pub problem: Problem,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.problem)
    }
}

/// A configuration and what was wrong with the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Everything that loaded.
    pub config: Config,
    /// Everything that did not, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a whole `init.cfg`.
pub fn parse(text: &str) -> Result<Loaded, FatalError> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(FatalError::TooLarge(text.len()));
    }
    if text.trim().is_empty() {
        return Err(FatalError::Empty);
    }
    let root: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json's Display appends the position; it is reported separately here.
        let full = e.to_string();
        let suffix = alloc::format!(" at line {} column {}", e.line(), e.column());
        FatalError::Syntax {
            line: e.line(),
            column: e.column(),
            message: full.strip_suffix(&suffix).unwrap_or(&full).to_string(),
        }
    })?;
    let Value::Object(root) = root else {
        return Err(FatalError::NotAnObject);
    };
    let mut loaded = Loaded::default();
    for (key, value) in root {
        match key.as_str() {
            "jobs" => match value {
                Value::Array(jobs) => parse_jobs(jobs, &mut loaded),
                _ => loaded.diag(Location::TopLevel(key), Problem::WrongType("an array")),
            },
            "services" => match value {
                Value::Array(services) => parse_services(services, &mut loaded),
                _ => loaded.diag(Location::TopLevel(key), Problem::WrongType("an array")),
            },
            _ => loaded.diag(Location::TopLevel(key), Problem::UnknownKey),
        }
    }
    Ok(loaded)
}

impl Loaded {
    fn diag(&mut self, location: Location, problem: Problem) {
        self.diagnostics.push(Diagnostic { location, problem });
    }
}

fn parse_jobs(jobs: Vec<Value>, loaded: &mut Loaded) {
    for (index, value) in jobs.into_iter().enumerate() {
        let name = value.get("name").and_then(Value::as_str).map(String::from);
        let location = Location::Job {
            index,
            name: name.clone(),
        };
        let cmds = match job_shape(&value) {
            Ok(cmds) => cmds,
            Err(why) => {
                loaded.diag(location, Problem::BadJob(why));
                continue;
            }
        };
        let name = name.unwrap_or_default();
        if loaded.config.job(&name).is_some() {
            loaded.diag(location, Problem::DuplicateJob);
            continue;
        }
        if !JOB_ORDER.contains(&name.as_str()) {
            loaded.diag(location.clone(), Problem::UnknownJob);
        }
        if cmds.len() > MAX_JOB_COMMANDS {
            loaded.diag(
                location,
                Problem::TooMany {
                    limit: MAX_JOB_COMMANDS,
                    found: cmds.len(),
                },
            );
        }
        let mut commands = Vec::new();
        for (index, cmd) in cmds.iter().take(MAX_JOB_COMMANDS).enumerate() {
            let location = Location::Command {
                job: name.clone(),
                index,
            };
            match cmd.as_str() {
                Some(line) => match parse_command(line) {
                    Ok(command) => commands.push(command),
                    Err(e) => loaded.diag(location, Problem::Command(e)),
                },
                None => loaded.diag(location, Problem::WrongType("a string")),
            }
        }
        loaded.config.jobs.push(Job { name, commands });
    }
}

/// Checks a job object's keys; returns its `cmds`.
fn job_shape(value: &Value) -> Result<&Vec<Value>, String> {
    let object = value.as_object().ok_or("not an object")?;
    if let Some(key) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "cmds"))
    {
        return Err(alloc::format!(
            "unknown key {key:?} (a job has only \"name\" and \"cmds\")"
        ));
    }
    match object.get("name") {
        Some(Value::String(name)) if !name.is_empty() && name.len() <= service::MAX_NAME => {}
        Some(Value::String(_)) => return Err("name must be 1..=32 characters".into()),
        Some(_) => return Err("name must be a string".into()),
        None => return Err("missing \"name\"".into()),
    }
    match object.get("cmds") {
        Some(Value::Array(cmds)) => Ok(cmds),
        Some(_) => Err("cmds must be an array of strings".into()),
        None => Err("missing \"cmds\"".into()),
    }
}

fn parse_services(services: Vec<Value>, loaded: &mut Loaded) {
    let found = services.len();
    if found > MAX_SERVICES {
        loaded.diag(
            Location::TopLevel("services".to_string()),
            Problem::TooMany {
                limit: MAX_SERVICES,
                found,
            },
        );
    }
    for (index, value) in services.into_iter().take(MAX_SERVICES).enumerate() {
        let location = Location::Service {
            index,
            name: service::name_of(&value).map(String::from),
        };
        match service::parse_service(value) {
            Ok(service) if loaded.config.service(&service.name).is_some() => {
                loaded.diag(location, Problem::DuplicateService);
            }
            Ok(service) => loaded.config.services.push(service),
            Err(e) => loaded.diag(location, Problem::Service(e)),
        }
    }
}

/// Limits of a `loadcfg` file (upstream `LOADCFG_MAX_FILE_LEN`, `LOADCFG_MAX_LOOP`,
/// `LOADCFG_BUF_SIZE`).
pub mod loadcfg {
    use super::{Command, CommandError, parse_command};
    use alloc::vec::Vec;

    /// Files `loadcfg` may read.
    pub const WHITELIST: [&str; 2] = ["/etc/patch.cfg", "/patch/fstab.cfg"];
    /// Largest file.
    pub const MAX_BYTES: usize = 51_200;
    /// Most lines run.
    pub const MAX_LINES: usize = 20;
    /// Longest line.
    pub const MAX_LINE: usize = 128;

    /// Whether `loadcfg` may read `path`.
    pub fn allowed(path: &str) -> bool {
        WHITELIST.contains(&path)
    }

    /// The commands of a `loadcfg` file: one per line, blank lines and `#` comments
    /// skipped; at most [`MAX_LINES`] lines are looked at, longer lines are errors.
    pub fn parse(text: &str) -> Vec<Result<Command, CommandError>> {
        text.lines()
            .take(MAX_LINES)
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|line| {
                if line.len() > MAX_LINE {
                    Err(CommandError::TooLong(line.len()))
                } else {
                    parse_command(line)
                }
            })
            .collect()
    }
}
