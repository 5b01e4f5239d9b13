//! Error codes: upstream's `ohos_errno.h` (`OHOSLiteErrorCode`, commonlibrary_utils_lite) values,
//! and [`Error`], the enum samgr's `Result`s carry. Use [`Error::code`] where an `EC_*` integer
//! goes on the wire (IPC replies, `IServerProxy::invoke` results).
//!
//! Note: upstream numbers `EC_FAILURE` -1 and `EC_INVALID` -9 (not -9/-10).

use core::fmt;

/// OK, no error.
pub const EC_SUCCESS: i32 = 0;
/// Execution failed.
pub const EC_FAILURE: i32 = -1;
/// Bad pointer value.
pub const EC_BADPTR: i32 = -2;
/// Not enough memory.
pub const EC_NOMEMORY: i32 = -3;
/// Memory or bus address error.
pub const EC_ADDRESS: i32 = -4;
/// I/O error.
pub const EC_IOERROR: i32 = -5;
/// Bus busy: upstream's `QUEUE_Put` result for a full message queue.
pub const EC_BUSBUSY: i32 = -6;
/// No response.
pub const EC_NORESPONCE: i32 = -7;
/// No such device.
pub const EC_NODEVICE: i32 = -8;
/// Invalid argument.
pub const EC_INVALID: i32 = -9;
/// Device or resource busy.
pub const EC_BUSY: i32 = -10;
/// No service.
pub const EC_NOSERVICE: i32 = -11;
/// Permission denied.
pub const EC_PERMISSION: i32 = -12;
/// Timer expired.
pub const EC_TIMEOUT: i32 = -19;
/// Communication error on send.
pub const EC_COMMU: i32 = -20;
/// No handler to execute.
pub const EC_NOHANDLER: i32 = -24;
/// Flow control.
pub const EC_FLOWCTRL: i32 = -25;
/// Not initialised.
pub const EC_NOINIT: i32 = -26;
/// Broadcast: the consumer already subscribed to the topic (`EC_SUCCESS + 1`).
pub const EC_ALREADY_SUBSCRIBED: i32 = 1;

/// A samgr failure; each maps to one upstream `EC_*` code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// `EC_FAILURE`: the operation did not apply (duplicate, not found where upstream says so).
    Failure,
    /// `EC_INVALID`: a bad argument, an unknown target, a name out of limits.
    Invalid,
    /// `EC_NOMEMORY`: a limit (services, features, pool references) is reached.
    NoMemory,
    /// `EC_BUSBUSY`: the target's message queue is full; the sender is not blocked.
    BusBusy,
    /// `EC_BUSY`: the object is in use (a service with features or an API, a feature with an API).
    Busy,
    /// `EC_NOSERVICE`: no such service or feature.
    NoService,
    /// `EC_PERMISSION`: the policy refuses the caller.
    Permission,
    /// `EC_TIMEOUT`: a wait ended by its timeout.
    Timeout,
    /// `EC_ALREADY_SUBSCRIBED` (Broadcast).
    AlreadySubscribed,
}

impl Error {
    /// The upstream `EC_*` value.
    pub const fn code(self) -> i32 {
        match self {
            Error::Failure => EC_FAILURE,
            Error::Invalid => EC_INVALID,
            Error::NoMemory => EC_NOMEMORY,
            Error::BusBusy => EC_BUSBUSY,
            Error::Busy => EC_BUSY,
            Error::NoService => EC_NOSERVICE,
            Error::Permission => EC_PERMISSION,
            Error::Timeout => EC_TIMEOUT,
            Error::AlreadySubscribed => EC_ALREADY_SUBSCRIBED,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?} ({})", self.code())
    }
}

/// `EC_SUCCESS` for `Ok`, the error's code otherwise.
pub fn code_of<T>(result: &Result<T, Error>) -> i32 {
    match result {
        Ok(_) => EC_SUCCESS,
        Err(e) => e.code(),
    }
}

impl Error {
    /// The error an `EC_*` code names (the inverse of [`Error::code`]); codes without a
    /// variant of their own become [`Error::Failure`]. `EC_SUCCESS` is not an error and also
    /// maps to `Failure`: check for it first.
    pub const fn from_code(code: i32) -> Error {
        match code {
            EC_INVALID => Error::Invalid,
            EC_NOMEMORY => Error::NoMemory,
            EC_BUSBUSY => Error::BusBusy,
            EC_BUSY | EC_FLOWCTRL => Error::Busy,
            EC_NOSERVICE => Error::NoService,
            EC_PERMISSION => Error::Permission,
            EC_TIMEOUT => Error::Timeout,
            EC_ALREADY_SUBSCRIBED => Error::AlreadySubscribed,
            _ => Error::Failure,
        }
    }
}
