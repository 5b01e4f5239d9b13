//! One `services` entry: the keys of startup_init_lite's service object
//! (openharmony-facts.md section 3), deserialized by serde with unknown keys rejected, then
//! validated against upstream's limits (conformance checklist section 3, `cfgCheckContent`).
//!
//! Our extension: `priority` (10..=31, default [`DEFAULT_PRIORITY`]), the LiteOS-A task
//! priority of the service's main thread. Upstream keys this init parses but cannot honour
//! (`socket`, `dynamic`, `file`) are accepted and listed in [`Service::unsupported_keys`].

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::Value;

/// Longest service name (upstream `MAX_SERVICE_NAME`).
pub const MAX_NAME: usize = 32;
/// Most argv entries in `path` (upstream `MAX_PATH_ARGS_CNT`).
pub const MAX_PATH_ARGS: usize = 20;
/// Longest single argv entry (upstream `MAX_ONE_ARG_LEN`).
pub const MAX_ARG_LEN: usize = 64;
/// Most entries in `caps` (upstream `MAX_CAPS_CNT_FOR_ONE_SERVICE`).
pub const MAX_CAPS: usize = 100;
/// The `caps` value meaning "every capability"; allowed only as the sole entry.
pub const CAP_ALL: u64 = 4_294_967_295;
/// Priority of a service without a `priority` key.
pub const DEFAULT_PRIORITY: u32 = 20;
/// Highest priority a service may ask for (0..9 belong to the kernel).
pub const MIN_PRIORITY_VALUE: u32 = 10;
/// Lowest priority.
pub const MAX_PRIORITY_VALUE: u32 = 31;
/// Crashes of a `critical` service that reboot the machine, when it gives no count.
pub const DEFAULT_CRITICAL_CRASHES: u32 = 4;
/// Window for those crashes in seconds, when it gives none.
pub const DEFAULT_CRITICAL_WINDOW_S: u32 = 20;

/// A `critical` service: this many exits within the window reboot the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Critical {
    /// Exits that trigger the reboot.
    pub crashes: u32,
    /// Window in seconds.
    pub window_s: u32,
}

/// A validated service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Unique name, 1..=32 characters, no spaces.
    pub name: String,
    /// argv; `path[0]` is the program.
    pub path: Vec<String>,
    /// User id it runs as.
    pub uid: u32,
    /// Group id it runs as.
    pub gid: u32,
    /// Run once: never restarted.
    pub once: bool,
    /// Non-zero: its exit reboots the machine (upstream lite semantics).
    pub importance: i32,
    /// Capabilities (parsed; this kernel has none to grant).
    pub caps: Vec<u32>,
    /// Not started by the jobs; only by an explicit request.
    pub disabled: bool,
    /// Reboot after repeated exits.
    pub critical: Option<Critical>,
    /// Wants the console.
    pub console: bool,
    /// Files that get the service's pid after it starts.
    pub writepid: Vec<String>,
    /// Started on demand (not supported here: treated as disabled).
    pub ondemand: bool,
    /// Main-thread priority, 10..=31.
    pub priority: u32,
    /// Upstream keys present but not supported (`socket`, `dynamic`, `file`).
    pub unsupported_keys: Vec<&'static str>,
}

/// Why a service entry was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceError {
    /// Not an object, a wrong value type, an unknown or a missing key (serde's message).
    Shape(String),
    /// Name empty, longer than 32, or with whitespace.
    BadName(String),
    /// `path` has no entries or more than 20.
    PathCount(usize),
    /// A `path` entry empty or longer than 64.
    PathArgLength(usize),
    /// `path[0]` is not an absolute program path, or is `/bin/sh`.
    BadProgram(String),
    /// More than 100 caps, a cap beyond 32 bits, or "all" mixed with others.
    BadCaps(String),
    /// `priority` outside 10..=31.
    BadPriority(u32),
    /// `critical` is not 0, 1 or `[1, crashes, seconds]`.
    BadCritical(String),
    /// A `writepid` entry that is not an absolute path.
    BadWritepid(String),
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::Shape(msg) => write!(f, "{msg}"),
            ServiceError::BadName(n) => {
                write!(
                    f,
                    "name {n:?} must be 1..={MAX_NAME} characters without spaces"
                )
            }
            ServiceError::PathCount(n) => {
                write!(f, "path has {n} entries; it needs 1..={MAX_PATH_ARGS}")
            }
            ServiceError::PathArgLength(n) => {
                write!(
                    f,
                    "a path entry is {n} bytes; each must be 1..={MAX_ARG_LEN}"
                )
            }
            ServiceError::BadProgram(p) => {
                write!(f, "program {p:?} must be an absolute path and not /bin/sh")
            }
            ServiceError::BadCaps(why) => write!(f, "caps: {why}"),
            ServiceError::BadPriority(p) => write!(
                f,
                "priority {p} is outside {MIN_PRIORITY_VALUE}..={MAX_PRIORITY_VALUE}"
            ),
            ServiceError::BadCritical(why) => write!(f, "critical: {why}"),
            ServiceError::BadWritepid(p) => write!(f, "writepid {p:?} is not an absolute path"),
        }
    }
}

/// The JSON shape of a service, as upstream spells it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: String,
    path: Vec<String>,
    uid: u32,
    gid: u32,
    #[serde(default, deserialize_with = "flag")]
    once: bool,
    #[serde(default)]
    importance: i32,
    #[serde(default)]
    caps: Vec<u64>,
    #[serde(default, deserialize_with = "flag")]
    disabled: bool,
    #[serde(default)]
    critical: Option<Value>,
    #[serde(default, deserialize_with = "flag")]
    console: bool,
    #[serde(default)]
    writepid: Vec<String>,
    #[serde(default, deserialize_with = "flag")]
    ondemand: bool,
    #[serde(default)]
    priority: Option<u32>,
    #[serde(default)]
    socket: Option<Value>,
    #[serde(default)]
    dynamic: Option<Value>,
    #[serde(default)]
    file: Option<Value>,
}

/// Deserializes 0/1 or false/true.
fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    struct FlagVisitor;
    impl Visitor<'_> for FlagVisitor {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("0, 1, false or true")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
            match v {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
            Err(E::invalid_value(de::Unexpected::Signed(v), &self))
        }
    }
    deserializer.deserialize_any(FlagVisitor)
}

/// The `name` of a service object, if it has a string one (for messages about it).
pub fn name_of(value: &Value) -> Option<&str> {
    value.get("name").and_then(Value::as_str)
}

/// Deserializes and validates one service object.
pub fn parse_service(value: Value) -> Result<Service, ServiceError> {
    let raw: RawService =
        serde_json::from_value(value).map_err(|e| ServiceError::Shape(e.to_string()))?;
    if raw.name.is_empty()
        || raw.name.chars().count() > MAX_NAME
        || raw
            .name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ServiceError::BadName(raw.name));
    }
    if raw.path.is_empty() || raw.path.len() > MAX_PATH_ARGS {
        return Err(ServiceError::PathCount(raw.path.len()));
    }
    if let Some(arg) = raw
        .path
        .iter()
        .find(|a| a.is_empty() || a.len() > MAX_ARG_LEN)
    {
        return Err(ServiceError::PathArgLength(arg.len()));
    }
    let program = raw.path.first().map(String::as_str).unwrap_or_default();
    if !program.starts_with('/') || program == "/bin/sh" || program.starts_with("/bin/sh ") {
        return Err(ServiceError::BadProgram(program.to_string()));
    }
    let caps = caps(&raw.caps)?;
    let priority = raw.priority.unwrap_or(DEFAULT_PRIORITY);
    if !(MIN_PRIORITY_VALUE..=MAX_PRIORITY_VALUE).contains(&priority) {
        return Err(ServiceError::BadPriority(priority));
    }
    if let Some(p) = raw.writepid.iter().find(|p| !p.starts_with('/')) {
        return Err(ServiceError::BadWritepid(p.clone()));
    }
    let critical = match &raw.critical {
        None => None,
        Some(value) => critical(value)?,
    };
    let mut unsupported_keys = Vec::new();
    for (key, present) in [
        ("socket", raw.socket.is_some()),
        ("dynamic", raw.dynamic.is_some()),
        ("file", raw.file.is_some()),
    ] {
        if present {
            unsupported_keys.push(key);
        }
    }
    Ok(Service {
        name: raw.name,
        path: raw.path,
        uid: raw.uid,
        gid: raw.gid,
        once: raw.once,
        importance: raw.importance,
        caps,
        disabled: raw.disabled,
        critical,
        console: raw.console,
        writepid: raw.writepid,
        ondemand: raw.ondemand,
        priority,
        unsupported_keys,
    })
}

fn caps(raw: &[u64]) -> Result<Vec<u32>, ServiceError> {
    if raw.len() > MAX_CAPS {
        return Err(ServiceError::BadCaps(alloc::format!(
            "{} entries, at most {MAX_CAPS}",
            raw.len()
        )));
    }
    if raw.len() > 1 && raw.contains(&CAP_ALL) {
        return Err(ServiceError::BadCaps(
            "4294967295 (all) must be the only entry".to_string(),
        ));
    }
    raw.iter()
        .map(|&c| {
            u32::try_from(c).map_err(|_| ServiceError::BadCaps(alloc::format!("{c} is too big")))
        })
        .collect()
}

/// `critical`: 0/1, or `[enabled, crashes, seconds]` (missing entries take the defaults).
fn critical(value: &Value) -> Result<Option<Critical>, ServiceError> {
    let bad = |why: &str| ServiceError::BadCritical(why.to_string());
    let numbers: Vec<u64> = match value {
        Value::Number(n) => alloc::vec![n.as_u64().ok_or_else(|| bad("not 0 or 1"))?],
        Value::Bool(b) => alloc::vec![u64::from(*b)],
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| bad("entries must be numbers >= 0"))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(bad("must be 0, 1 or [1, crashes, seconds]")),
    };
    if numbers.len() > 3 {
        return Err(bad("at most [enabled, crashes, seconds]"));
    }
    match numbers.first() {
        Some(0) => return Ok(None),
        Some(1) => {}
        _ => return Err(bad("first entry must be 0 or 1")),
    }
    let crashes = numbers
        .get(1)
        .copied()
        .unwrap_or(DEFAULT_CRITICAL_CRASHES.into());
    let window_s = numbers
        .get(2)
        .copied()
        .unwrap_or(DEFAULT_CRITICAL_WINDOW_S.into());
    match (u32::try_from(crashes), u32::try_from(window_s)) {
        (Ok(crashes @ 1..), Ok(window_s @ 1..)) => Ok(Some(Critical { crashes, window_s })),
        _ => Err(bad("crashes and seconds must be >= 1")),
    }
}
