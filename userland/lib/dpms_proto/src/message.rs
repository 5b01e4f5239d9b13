//! Messages on the DPMS and seed sockets. Each SOCK_SEQPACKET message is one text: a
//! handshake word, a page state report, or one JSON object.
//!
//! | from → to      | message                                                         |
//! |----------------|-----------------------------------------------------------------|
//! | seed → DPMS    | `seed start`, `seed ready`, [`SeedEvent`] JSON (`event`)          |
//! | DPMS → seed    | `pagemanagerd start`, `homeshell ready`, [`ProcessInfo`] JSON     |
//! | page → DPMS    | `page <id> running`, `page <id> stopped` ([`PageReport`])         |
//! | DPMS → page    | `exit`                                                          |
//! | client → DPMS  | [`Request`] JSON (`op`: `open`, `close`, `list`); [`Reply`] back  |
//!
//! AliOS matches the handshake words by prefix (seed) or suffix (DPMS); here they must be
//! the whole message (trailing whitespace and NULs aside), so garbage that merely contains
//! `seed ready` cannot mark a seed ready.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

/// seed → DPMS: seed is up (listening) and wants the handshake.
pub const SEED_START: &str = "seed start";
/// seed → DPMS: answer to [`PAGEMANAGERD_START`]; DPMS may now send process messages.
pub const SEED_READY: &str = "seed ready";
/// DPMS → seed: DPMS is up; seed answers [`SEED_READY`].
pub const PAGEMANAGERD_START: &str = "pagemanagerd start";
/// DPMS → seed: the home shell page runs; seed runs its ready callback.
pub const HOMESHELL_READY: &str = "homeshell ready";
/// DPMS → page: exit now (after reporting `stopped`).
pub const PAGE_EXIT: &str = "exit";
/// Longest URI DPMS accepts (it travels in a page's argv).
pub const MAX_URI: usize = 200;

/// Why a message was not understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Not UTF-8 text.
    NotUtf8,
    /// Not a known word and not valid JSON of the expected shape.
    Json(String),
    /// Valid JSON, but a field is missing or out of range.
    Invalid(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotUtf8 => f.write_str("not UTF-8"),
            Error::Json(e) => write!(f, "bad JSON: {e}"),
            Error::Invalid(why) => write!(f, "invalid message: {why}"),
        }
    }
}

fn json_error(e: serde_json::Error) -> Error {
    Error::Json(e.to_string())
}

/// The message as text without trailing whitespace and NULs (C senders add them).
pub fn text(bytes: &[u8]) -> Result<&str, Error> {
    let text = core::str::from_utf8(bytes).map_err(|_| Error::NotUtf8)?;
    Ok(text.trim_end_matches(|c: char| c == '\0' || c.is_whitespace()))
}

/// What a process-info message asks seed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Spawn the page process.
    Fork,
    /// End the page process.
    Kill,
}

/// The JSON process-info message (AliOS `ProcessInfo::parseJson`): DPMS → seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// `fork` or `kill`.
    pub action: Action,
    /// The page id DPMS gave the page.
    pub page: u32,
    /// The page's URI (informational for seed).
    #[serde(default)]
    pub uri: String,
    /// Program to run (`fork`): an absolute path.
    #[serde(default)]
    pub program: String,
    /// Arguments after argv\[0\] (`fork`).
    #[serde(default)]
    pub args: Vec<String>,
    /// User id of the new process (`fork`).
    #[serde(default)]
    pub uid: Option<u32>,
    /// Group id of the new process (`fork`).
    #[serde(default)]
    pub gid: Option<u32>,
    /// Priority of the new process's main thread, 10..=31 (`fork`).
    #[serde(default)]
    pub priority: Option<u32>,
    /// The process to end (`kill`), when DPMS knows it.
    #[serde(default)]
    pub pid: Option<u32>,
}

/// Lowest priority number a user process may have (the highest user priority).
const USER_PRIORITY_MIN: u32 = 10;
/// Highest priority number (the lowest priority).
const PRIORITY_LOWEST: u32 = 31;

impl ProcessInfo {
    /// A `fork` of `program args` for page `page`.
    pub fn fork(page: u32, uri: &str, program: &str, args: Vec<String>) -> ProcessInfo {
        ProcessInfo {
            action: Action::Fork,
            page,
            uri: uri.into(),
            program: program.into(),
            args,
            uid: None,
            gid: None,
            priority: None,
            pid: None,
        }
    }

    /// A `kill` of page `page` (process `pid`, if known).
    pub fn kill(page: u32, pid: Option<u32>) -> ProcessInfo {
        ProcessInfo {
            action: Action::Kill,
            page,
            uri: String::new(),
            program: String::new(),
            args: Vec::new(),
            uid: None,
            gid: None,
            priority: None,
            pid,
        }
    }

    /// Checks the fields the action needs.
    pub fn validate(&self) -> Result<(), Error> {
        match self.action {
            Action::Fork => {
                if !self.program.starts_with('/') {
                    return Err(Error::Invalid("fork needs an absolute program path"));
                }
                if self
                    .priority
                    .is_some_and(|p| !(USER_PRIORITY_MIN..=PRIORITY_LOWEST).contains(&p))
                {
                    return Err(Error::Invalid("priority must be 10..=31"));
                }
                Ok(())
            }
            Action::Kill => {
                if self.pid == Some(0) {
                    return Err(Error::Invalid("kill of pid 0"));
                }
                Ok(())
            }
        }
    }

    /// The JSON text.
    pub fn encode(&self) -> String {
        encode(self)
    }
}

/// A message seed receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToSeed {
    /// `pagemanagerd start`.
    PagemanagerdStart,
    /// `homeshell ready`.
    HomeshellReady,
    /// A validated process-info message.
    Process(ProcessInfo),
}

impl ToSeed {
    /// Parses one message from DPMS (or from anyone: garbage is an error).
    pub fn parse(bytes: &[u8]) -> Result<ToSeed, Error> {
        match text(bytes)? {
            PAGEMANAGERD_START => Ok(ToSeed::PagemanagerdStart),
            HOMESHELL_READY => Ok(ToSeed::HomeshellReady),
            json => {
                let info: ProcessInfo = serde_json::from_str(json).map_err(json_error)?;
                info.validate()?;
                Ok(ToSeed::Process(info))
            }
        }
    }

    /// The message text.
    pub fn encode(&self) -> String {
        match self {
            ToSeed::PagemanagerdStart => PAGEMANAGERD_START.into(),
            ToSeed::HomeshellReady => HOMESHELL_READY.into(),
            ToSeed::Process(info) => info.encode(),
        }
    }
}

/// seed → DPMS: what happened to a page process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SeedEvent {
    /// The page process was spawned.
    Forked {
        /// Page id.
        page: u32,
        /// Its process.
        pid: u32,
    },
    /// The page process could not be spawned.
    ForkFailed {
        /// Page id.
        page: u32,
        /// Why (an errno name).
        error: String,
    },
    /// seed reaped the page process.
    Exited {
        /// Page id.
        page: u32,
        /// The process.
        pid: u32,
        /// How it ended, e.g. `killed by signal 9`.
        status: String,
    },
}

impl SeedEvent {
    /// The JSON text.
    pub fn encode(&self) -> String {
        encode(self)
    }
}

/// State a page process reports about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reported {
    /// Up and connected to DPMS.
    Running,
    /// Exiting on request.
    Stopped,
}

/// `page <id> running|stopped`: page → DPMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageReport {
    /// Page id.
    pub id: u32,
    /// What it reports.
    pub state: Reported,
}

impl PageReport {
    /// Parses `page <id> <state>`; `None` if the text is not a page report.
    pub fn parse(text: &str) -> Option<Result<PageReport, Error>> {
        let rest = text.strip_prefix("page ")?;
        let mut words = rest.split(' ');
        let (Some(id), Some(state), None) = (words.next(), words.next(), words.next()) else {
            return Some(Err(Error::Invalid(
                "page report: page <id> running|stopped",
            )));
        };
        let Ok(id) = id.parse::<u32>() else {
            return Some(Err(Error::Invalid("page report: bad id")));
        };
        let state = match state {
            "running" => Reported::Running,
            "stopped" => Reported::Stopped,
            _ => return Some(Err(Error::Invalid("page report: unknown state"))),
        };
        Some(Ok(PageReport { id, state }))
    }

    /// The message text.
    pub fn encode(&self) -> String {
        let state = match self.state {
            Reported::Running => "running",
            Reported::Stopped => "stopped",
        };
        format!("page {} {state}", self.id)
    }
}

/// A request to DPMS's page service (the socket form of the service interface).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Open a page by URI.
    Open {
        /// The page's URI.
        uri: String,
    },
    /// Close page `id`.
    Close {
        /// Page id.
        id: u32,
    },
    /// List the pages.
    List,
}

impl Request {
    /// Checks field ranges (a URI travels in argv: no spaces or control characters).
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Request::Open { uri } => validate_uri(uri),
            Request::Close { .. } | Request::List => Ok(()),
        }
    }

    /// The JSON text.
    pub fn encode(&self) -> String {
        encode(self)
    }
}

/// A URI DPMS accepts: 1..=[`MAX_URI`] bytes of printable ASCII without spaces.
pub fn validate_uri(uri: &str) -> Result<(), Error> {
    if uri.is_empty() || uri.len() > MAX_URI {
        return Err(Error::Invalid("uri must be 1..=200 bytes"));
    }
    if !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::Invalid("uri must be printable ASCII without spaces"));
    }
    Ok(())
}

/// Where a page is in its life, as DPMS sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageState {
    /// The fork request waits in the seed link's pending list (seed not ready).
    Pending,
    /// The fork request went to seed; the page has not reported yet.
    Starting,
    /// The page process reported `running`.
    Running,
    /// A kill was requested; waiting for the process to go.
    Closing,
    /// The process ended without being asked to (crash), or could not start.
    Dead,
}

impl PageState {
    /// Lower-case name, as in `page list`.
    pub fn name(self) -> &'static str {
        match self {
            PageState::Pending => "pending",
            PageState::Starting => "starting",
            PageState::Running => "running",
            PageState::Closing => "closing",
            PageState::Dead => "dead",
        }
    }
}

/// One row of `page list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageInfo {
    /// Page id.
    pub id: u32,
    /// The URI it was opened with.
    pub uri: String,
    /// Its state.
    pub state: PageState,
    /// Its process, once known.
    pub pid: Option<u32>,
}

/// DPMS's answer to a [`Request`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Whether the request succeeded.
    pub ok: bool,
    /// Why not, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The page concerned (open, close) or all pages (list).
    #[serde(default)]
    pub pages: Vec<PageInfo>,
}

impl Reply {
    /// Success with `pages`.
    pub fn pages(pages: Vec<PageInfo>) -> Reply {
        Reply {
            ok: true,
            error: None,
            pages,
        }
    }

    /// Failure with a reason.
    pub fn error(why: &str) -> Reply {
        Reply {
            ok: false,
            error: Some(why.into()),
            pages: Vec::new(),
        }
    }

    /// Parses DPMS's reply.
    pub fn parse(bytes: &[u8]) -> Result<Reply, Error> {
        serde_json::from_str(text(bytes)?).map_err(json_error)
    }

    /// The JSON text.
    pub fn encode(&self) -> String {
        encode(self)
    }
}

/// A message DPMS receives, from seed, a page or a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToDpms {
    /// `seed start`.
    SeedStart,
    /// `seed ready`.
    SeedReady,
    /// `page <id> running|stopped`.
    Page(PageReport),
    /// seed's report on a page process.
    Seed(SeedEvent),
    /// A page-service request.
    Request(Request),
}

impl ToDpms {
    /// Parses one message.
    pub fn parse(bytes: &[u8]) -> Result<ToDpms, Error> {
        let text = text(bytes)?;
        match text {
            SEED_START => return Ok(ToDpms::SeedStart),
            SEED_READY => return Ok(ToDpms::SeedReady),
            _ => {}
        }
        if let Some(report) = PageReport::parse(text) {
            return report.map(ToDpms::Page);
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(json_error)?;
        let object = value
            .as_object()
            .ok_or(Error::Invalid("not a JSON object"))?;
        if object.contains_key("event") {
            serde_json::from_value(value)
                .map(ToDpms::Seed)
                .map_err(json_error)
        } else if object.contains_key("op") {
            let request: Request = serde_json::from_value(value).map_err(json_error)?;
            request.validate()?;
            Ok(ToDpms::Request(request))
        } else {
            Err(Error::Invalid("JSON object without \"event\" or \"op\""))
        }
    }
}

/// JSON text of a value whose serialization cannot fail (plain structs and enums with
/// string keys); an impossible failure yields `{}`, which every receiver rejects.
fn encode<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| String::from("{}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn handshake_words_are_whole_messages() {
        assert_eq!(ToDpms::parse(b"seed start"), Ok(ToDpms::SeedStart));
        assert_eq!(ToDpms::parse(b"seed ready\0\n"), Ok(ToDpms::SeedReady));
        assert_eq!(
            ToSeed::parse(b"pagemanagerd start"),
            Ok(ToSeed::PagemanagerdStart)
        );
        assert_eq!(
            ToSeed::parse(b"homeshell ready"),
            Ok(ToSeed::HomeshellReady)
        );
        assert!(ToDpms::parse(b"xx seed ready").is_err());
        assert!(ToSeed::parse(b"pagemanagerd start now").is_err());
        assert_eq!(ToSeed::PagemanagerdStart.encode(), PAGEMANAGERD_START);
    }

    #[test]
    fn process_info_round_trips() {
        let mut info = ProcessInfo::fork(3, "page://a", "/bin/page", vec!["3".into()]);
        info.uid = Some(1000);
        info.gid = Some(1000);
        info.priority = Some(20);
        let text = info.encode();
        assert_eq!(
            ToSeed::parse(text.as_bytes()),
            Ok(ToSeed::Process(info.clone()))
        );
        let kill = ProcessInfo::kill(3, Some(9));
        assert_eq!(
            ToSeed::parse(kill.encode().as_bytes()),
            Ok(ToSeed::Process(kill))
        );
    }

    #[test]
    fn process_info_from_hand_written_json() {
        let json = br#"{"action":"fork","page":7,"program":"/bin/page","args":["7","u"],
            "uid":1000,"gid":1000,"priority":25}"#;
        let Ok(ToSeed::Process(info)) = ToSeed::parse(json) else {
            panic!("not parsed")
        };
        assert_eq!(info.action, Action::Fork);
        assert_eq!(info.args, vec!["7", "u"]);
        assert_eq!(info.priority, Some(25));
        assert_eq!(info.pid, None);
    }

    #[test]
    fn process_info_is_validated() {
        let bad = [
            &br#"{"action":"fork","page":1,"program":"page"}"#[..],
            br#"{"action":"fork","page":1}"#,
            br#"{"action":"fork","page":1,"program":"/bin/page","priority":5}"#,
            br#"{"action":"fork","page":1,"program":"/bin/page","priority":32}"#,
            br#"{"action":"kill","page":1,"pid":0}"#,
            br#"{"action":"spawn","page":1,"program":"/bin/page"}"#,
            br#"{"action":"fork","page":-1,"program":"/bin/page"}"#,
            br#"{"action":"fork","page":"1","program":"/bin/page"}"#,
            br#"{"page":1}"#,
        ];
        for text in bad {
            assert!(
                ToSeed::parse(text).is_err(),
                "{}",
                core::str::from_utf8(text).unwrap_or("?")
            );
        }
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        let deep = "[".repeat(10_000);
        let long_number = format!("{{\"action\":\"kill\",\"page\":{}}}", "9".repeat(500));
        let garbage: [&[u8]; 14] = [
            b"",
            b"\0\0\0",
            b"{",
            b"}",
            b"null",
            b"[1,2,3]",
            b"\xff\xfe\x00garbage",
            b"{\"op\":42}",
            b"{\"op\":\"open\"}",
            b"{\"op\":\"fly\"}",
            b"{\"event\":\"forked\",\"page\":1}",
            b"{\"unrelated\":true}",
            deep.as_bytes(),
            long_number.as_bytes(),
        ];
        for bytes in garbage {
            assert!(ToDpms::parse(bytes).is_err(), "{bytes:?}");
            assert!(ToSeed::parse(bytes).is_err(), "{bytes:?}");
            assert!(Reply::parse(bytes).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn page_reports() {
        assert_eq!(
            ToDpms::parse(b"page 12 running"),
            Ok(ToDpms::Page(PageReport {
                id: 12,
                state: Reported::Running
            }))
        );
        let stopped = PageReport {
            id: 3,
            state: Reported::Stopped,
        };
        assert_eq!(
            ToDpms::parse(stopped.encode().as_bytes()),
            Ok(ToDpms::Page(stopped))
        );
        for bad in [
            "page",
            "page x running",
            "page 1",
            "page 1 flying",
            "page 1 running now",
        ] {
            assert!(ToDpms::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn seed_events_round_trip() {
        let events = [
            SeedEvent::Forked { page: 1, pid: 7 },
            SeedEvent::ForkFailed {
                page: 2,
                error: "ENOENT".into(),
            },
            SeedEvent::Exited {
                page: 1,
                pid: 7,
                status: "killed by signal 9".into(),
            },
        ];
        for event in events {
            assert_eq!(
                ToDpms::parse(event.encode().as_bytes()),
                Ok(ToDpms::Seed(event))
            );
        }
    }

    #[test]
    fn requests_round_trip_and_are_validated() {
        for request in [
            Request::Open {
                uri: "page://a".into(),
            },
            Request::Close { id: 4 },
            Request::List,
        ] {
            assert_eq!(
                ToDpms::parse(request.encode().as_bytes()),
                Ok(ToDpms::Request(request))
            );
        }
        assert_eq!(Request::List.encode(), r#"{"op":"list"}"#);
        let long = format!(r#"{{"op":"open","uri":"{}"}}"#, "a".repeat(MAX_URI + 1));
        for bad in [
            r#"{"op":"open","uri":""}"#,
            r#"{"op":"open","uri":"a b"}"#,
            r#"{"op":"open","uri":"a\nb"}"#,
            long.as_str(),
        ] {
            assert!(
                matches!(ToDpms::parse(bad.as_bytes()), Err(Error::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn replies_round_trip() {
        let reply = Reply::pages(vec![PageInfo {
            id: 1,
            uri: "page://a".into(),
            state: PageState::Running,
            pid: Some(9),
        }]);
        assert_eq!(Reply::parse(reply.encode().as_bytes()), Ok(reply));
        let error = Reply::error("no page 4");
        assert_eq!(
            error.encode(),
            r#"{"ok":false,"error":"no page 4","pages":[]}"#
        );
        assert_eq!(Reply::parse(error.encode().as_bytes()), Ok(error));
    }
}
