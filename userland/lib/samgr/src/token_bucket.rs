//! Per-endpoint flow control (upstream `token_bucket.c`, seed 003's `Dispatch`): each incoming
//! IPC message costs [`TOKEN_PRE_MSG`] tokens; tokens come back at `rate` per millisecond; a
//! message that would push the debt to `burst * TOKEN_PRE_MSG` is refused with
//! [`BucketStatus::Busy`] (the endpoint then drops it and frees its buffer). With the defaults
//! (rate [`MAX_BUCKET_RATE`], burst [`MAX_BURST_RATE`]) that is 1000 messages per second
//! sustained and bursts of 1500 messages from a full bucket (its first message is free: the
//! refill since `last` covers it).

/// Tokens one message costs (`TOKEN_PRE_MSG`).
pub const TOKEN_PRE_MSG: i64 = 1000;
/// Default refill: tokens per millisecond (`MAX_BUCKET_RATE`), i.e. 1000 messages/s.
pub const MAX_BUCKET_RATE: i64 = 1000;
/// Default burst in messages (`MAX_BURST_RATE` = rate + rate/2).
pub const MAX_BURST_RATE: i64 = MAX_BUCKET_RATE + (MAX_BUCKET_RATE >> 1);

/// Result of [`TokenBucket::check_message`] (upstream `BucketStatus`, minus `BUCKET_INVALID`,
/// which only a NULL bucket could produce).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketStatus {
    /// Refused: flow control.
    Busy,
    /// Accepted.
    Idle,
}

/// A token bucket (upstream `TokenBucket`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    rate: i64,
    burst: i64,
    /// Time of the last accepted message, ms.
    last_ms: u64,
    /// Tokens owed (`used`).
    used: i64,
}

impl Default for TokenBucket {
    fn default() -> Self {
        TokenBucket::new(MAX_BUCKET_RATE, MAX_BURST_RATE)
    }
}

impl TokenBucket {
    /// A full bucket (`TB_InitBucket`).
    pub const fn new(rate: i64, burst: i64) -> TokenBucket {
        TokenBucket {
            rate,
            burst,
            last_ms: 0,
            used: 0,
        }
    }

    /// `TB_CheckMessage` at the current time.
    pub fn check_message(&mut self) -> BucketStatus {
        self.check_message_at(crate::os::now_ms())
    }

    /// `TB_CheckMessage` at `now_ms` (monotonic milliseconds).
    pub fn check_message_at(&mut self, now_ms: u64) -> BucketStatus {
        let elapsed = i64::try_from(now_ms.saturating_sub(self.last_ms)).unwrap_or(i64::MAX);
        let generated = elapsed.saturating_mul(self.rate);
        let used = self.used + TOKEN_PRE_MSG;
        let used = if generated > used {
            0
        } else {
            used - generated
        };
        if used >= self.burst.saturating_mul(TOKEN_PRE_MSG) {
            return BucketStatus::Busy;
        }
        self.used = used;
        self.last_ms = now_ms;
        BucketStatus::Idle
    }
}
