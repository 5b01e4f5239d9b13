//! Uid access policies of exported interfaces (upstream `policy_define.h`, `JudgePolicy` and
//! `GetRemotePolicy` in `endpoint.c`, `TransmitPolicy` in `samgr_server.c`). The samgr server
//! answers a feature registration with the policies of that feature; the endpoint keeps them on
//! the router and checks each caller's uid before invoking (except for the samgr service).

use crate::ipc::{IoError, IpcReader, IpcWriter};
use alloc::vec::Vec;

/// Uids in a `FIXED` policy (`UID_SIZE`).
pub const UID_SIZE: usize = 8;
/// Policies per feature in the server's table (`POLICY_SIZE`).
pub const POLICY_SIZE: usize = 8;
/// Policies kept per router (`MAX_POLICY_NUM`).
pub const MAX_POLICY_NUM: usize = 8;

/// Wire value of a range policy (`RANGE`).
pub const RANGE: i32 = 1;
/// Wire value of a fixed-uid policy (`FIXED`).
pub const FIXED: i32 = 2;
/// Wire value of a bundle-name policy (`BUNDLENAME`; resolved to one uid).
pub const BUNDLENAME: i32 = 3;

/// One policy (upstream `PolicyTrans`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyTrans {
    /// Uids `uid_min..=uid_max`.
    Range {
        /// Lowest uid.
        uid_min: i32,
        /// Highest uid.
        uid_max: i32,
    },
    /// Any of these uids (unused slots are 0 upstream — and so admit uid 0).
    Fixed {
        /// The uids.
        uids: [i32; UID_SIZE],
    },
    /// The uid of a bundle; upstream's `JudgePolicy` never admits by it.
    BundleName {
        /// The bundle's uid.
        uid: i32,
    },
    /// A type this side does not know (kept so counts stay right); admits nobody.
    Unknown(i32),
}

impl PolicyTrans {
    /// The wire type.
    pub fn type_code(&self) -> i32 {
        match self {
            PolicyTrans::Range { .. } => RANGE,
            PolicyTrans::Fixed { .. } => FIXED,
            PolicyTrans::BundleName { .. } => BUNDLENAME,
            PolicyTrans::Unknown(t) => *t,
        }
    }

    /// Whether this policy admits `uid`. Comparisons are unsigned, as upstream compares a
    /// `uid_t` with the `int` bounds.
    pub fn admits(&self, uid: u32) -> bool {
        match *self {
            PolicyTrans::Range { uid_min, uid_max } => {
                uid >= uid_min as u32 && uid <= uid_max as u32
            }
            PolicyTrans::Fixed { uids } => uids.iter().any(|&u| u as u32 == uid),
            PolicyTrans::BundleName { .. } | PolicyTrans::Unknown(_) => false,
        }
    }
}

/// `JudgePolicy`: whether any policy admits `calling_uid`; no policies admit nobody.
pub fn judge_policy(calling_uid: u32, policies: &[PolicyTrans]) -> bool {
    policies.iter().any(|p| p.admits(calling_uid))
}

/// Writes `policies` as the samgr server does after a successful `FEATURE/PUT`
/// (`TransmitPolicy`, without the leading result and identity): count, then per policy its type
/// and payload (range: min, max; fixed: [`UID_SIZE`] uids; bundle name: one uid).
pub fn write_policies(policies: &[PolicyTrans], out: &mut dyn IpcWriter) -> Result<(), IoError> {
    out.push_u32(u32::try_from(policies.len()).map_err(|_| IoError::Overflow)?)?;
    for policy in policies {
        out.push_i32(policy.type_code())?;
        match *policy {
            PolicyTrans::Range { uid_min, uid_max } => {
                out.push_i32(uid_min)?;
                out.push_i32(uid_max)?;
            }
            PolicyTrans::Fixed { uids } => {
                for uid in uids {
                    out.push_i32(uid)?;
                }
            }
            PolicyTrans::BundleName { uid } => out.push_i32(uid)?,
            PolicyTrans::Unknown(_) => {}
        }
    }
    Ok(())
}

/// Reads policies written by [`write_policies`] (`GetRemotePolicy`): at most
/// [`MAX_POLICY_NUM`] are read, as upstream.
pub fn read_policies(input: &mut dyn IpcReader) -> Result<Vec<PolicyTrans>, IoError> {
    let count = (input.pop_u32()? as usize).min(MAX_POLICY_NUM);
    let mut policies = Vec::with_capacity(count);
    for _ in 0..count {
        let policy = match input.pop_i32()? {
            RANGE => PolicyTrans::Range {
                uid_min: input.pop_i32()?,
                uid_max: input.pop_i32()?,
            },
            FIXED => {
                let mut uids = [0; UID_SIZE];
                for uid in &mut uids {
                    *uid = input.pop_i32()?;
                }
                PolicyTrans::Fixed { uids }
            }
            BUNDLENAME => PolicyTrans::BundleName {
                uid: input.pop_i32()?,
            },
            other => PolicyTrans::Unknown(other),
        };
        policies.push(policy);
    }
    Ok(policies)
}
