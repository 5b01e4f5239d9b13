//! The samgr server protocol (upstream `endpoint.c` / `samgr_server.c`, seeds 001/003), as
//! both sides write and read it through [`IpcWriter`]/[`IpcReader`]. Pure code, host-tested.
//!
//! A request to samgr goes to the well-known identity {[`SAMGR_HANDLE`], [`SAMGR_TOKEN`],
//! [`SAMGR_COOKIE`]} with code [`SAMGR_CODE`] and starts, as upstream, with `u32 resource,
//! u32 option`; what follows depends on the pair. Requests must fit the CMS limit
//! ([`SAMGR_MSG_LIMIT`] bytes with the 80-byte header), which names < 16 bytes always do.
//!
//! Every reply of a samgr-routed call (the samgr server's and any exported service's, see
//! `endpoint`) starts with an `i32` status: `EC_SUCCESS` followed by the body, or an error
//! code and nothing else. (Upstream sends nothing back when flow control or a policy refuses
//! a call, so the caller waits for its timeout; a status is cheaper and says why.)
//!
//! | request                      | payload                                  | reply body |
//! |------------------------------|------------------------------------------|------------|
//! | ENDPOINT/POST                | —                                        | `u32` handle of the calling thread |
//! | ENDPOINT/ALL (ours)          | —                                        | count, then `pid uid handle` each |
//! | FEATURE/PUT                  | name, `u32` token                        | identity, policies |
//! | FEATURE/GET                  | name                                     | identity |
//! | FEATURE/DELETE (ours)        | name                                     | — |
//! | FEATURE/ALL (ours)           | `u32` start                              | count, records, `u32` next, `bool` end |
//! | SYSCAP/PUT, SYSCAP/GET       | `string` name                            | —, `bool` registered |
//! | SYSCAP/ALL                   | `u32` start                              | count, names, `u32` next, `bool` end |
//!
//! A name is `string service, bool is_default, [string feature]` (upstream's layout);
//! an identity is `u32 handle, u32 token, u32 cookie`.

use crate::errno::{EC_SUCCESS, Error};
use crate::ipc::{IoError, IpcReader, IpcWriter};
use crate::policy::{PolicyTrans, read_policies};
use crate::remote::SaName;
use abi::liteipc::SvcIdentity;
use alloc::string::String;
use alloc::vec::Vec;

pub use crate::remote::{
    OP_ALL, OP_DELETE, OP_GET, OP_POST, OP_PUT, RES_ENDPOINT, RES_FEATURE, RES_SYSCAP,
    SAMGR_COOKIE, SAMGR_HANDLE, SAMGR_TOKEN,
};

/// Largest message to samgr, header included (`IPC_SET_CMS` argument upstream uses).
pub const SAMGR_MSG_LIMIT: usize = 256;
/// Code of samgr requests (upstream passes `INVALID_INDEX`; samgr reads resource/option).
pub const SAMGR_CODE: u32 = u32::MAX;
/// The samgr server's well-known identity.
pub const SAMGR_IDENTITY: SvcIdentity = SvcIdentity {
    handle: SAMGR_HANDLE,
    token: SAMGR_TOKEN,
    cookie: SAMGR_COOKIE,
};

/// Writes a request header.
pub fn write_header(out: &mut dyn IpcWriter, resource: u32, option: u32) -> Result<(), IoError> {
    out.push_u32(resource)?;
    out.push_u32(option)
}

/// Writes a (service, feature) name.
pub fn write_name(out: &mut dyn IpcWriter, name: &SaName) -> Result<(), IoError> {
    out.push_string(&name.service)?;
    out.push_bool(name.feature.is_none())?;
    if let Some(feature) = &name.feature {
        out.push_string(feature)?;
    }
    Ok(())
}

/// Reads a (service, feature) name.
pub fn read_name(input: &mut dyn IpcReader) -> Result<SaName, IoError> {
    let service = String::from(input.pop_string()?);
    let feature = if input.pop_bool()? {
        None
    } else {
        Some(String::from(input.pop_string()?))
    };
    Ok(SaName { service, feature })
}

/// Writes an identity as three `u32`s.
pub fn write_identity(out: &mut dyn IpcWriter, id: SvcIdentity) -> Result<(), IoError> {
    out.push_u32(id.handle)?;
    out.push_u32(id.token)?;
    out.push_u32(id.cookie)
}

/// Reads an identity written by [`write_identity`].
pub fn read_identity(input: &mut dyn IpcReader) -> Result<SvcIdentity, IoError> {
    Ok(SvcIdentity {
        handle: input.pop_u32()?,
        token: input.pop_u32()?,
        cookie: input.pop_u32()?,
    })
}

/// Reads a reply's status: `Ok(())` for `EC_SUCCESS`, the error otherwise.
pub fn read_status(input: &mut dyn IpcReader) -> Result<(), Error> {
    let status = input.pop_i32().map_err(|_| Error::Failure)?;
    if status == EC_SUCCESS {
        Ok(())
    } else {
        Err(Error::from_code(status))
    }
}

/// What a successful FEATURE/PUT answers: the identity other processes will use and the
/// policies the endpoint checks callers against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// Identity as samgr stores it.
    pub identity: SvcIdentity,
    /// Access policies of the feature.
    pub policies: Vec<PolicyTrans>,
}

/// Reads a FEATURE/PUT reply body.
pub fn read_registration(input: &mut dyn IpcReader) -> Result<Registration, IoError> {
    let identity = read_identity(input)?;
    let policies = read_policies(input)?;
    Ok(Registration { identity, policies })
}

/// One row of FEATURE/ALL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureRecord {
    /// (service, feature).
    pub name: SaName,
    /// Where it is served.
    pub identity: SvcIdentity,
    /// Owner process.
    pub pid: u32,
    /// Owner uid.
    pub uid: u32,
}

/// Writes a FEATURE/ALL row.
pub fn write_feature_record(out: &mut dyn IpcWriter, r: &FeatureRecord) -> Result<(), IoError> {
    write_name(out, &r.name)?;
    write_identity(out, r.identity)?;
    out.push_u32(r.pid)?;
    out.push_u32(r.uid)
}

/// Reads a FEATURE/ALL row.
pub fn read_feature_record(input: &mut dyn IpcReader) -> Result<FeatureRecord, IoError> {
    Ok(FeatureRecord {
        name: read_name(input)?,
        identity: read_identity(input)?,
        pid: input.pop_u32()?,
        uid: input.pop_u32()?,
    })
}

/// One row of ENDPOINT/ALL (upstream `PidHandle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointRecord {
    /// Owner process.
    pub pid: u32,
    /// Owner uid.
    pub uid: u32,
    /// Handle of its boss thread.
    pub handle: u32,
}

/// Writes an ENDPOINT/ALL row.
pub fn write_endpoint_record(out: &mut dyn IpcWriter, r: &EndpointRecord) -> Result<(), IoError> {
    out.push_u32(r.pid)?;
    out.push_u32(r.uid)?;
    out.push_u32(r.handle)
}

/// Reads an ENDPOINT/ALL row.
pub fn read_endpoint_record(input: &mut dyn IpcReader) -> Result<EndpointRecord, IoError> {
    Ok(EndpointRecord {
        pid: input.pop_u32()?,
        uid: input.pop_u32()?,
        handle: input.pop_u32()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::MemIo;
    use crate::policy::write_policies;

    #[test]
    fn names_round_trip() {
        for name in [
            SaName::new("wms", None),
            SaName::new("sensor", Some("accel")),
        ] {
            let mut io = MemIo::new();
            write_name(&mut io, &name).unwrap();
            assert_eq!(read_name(&mut io), Ok(name));
        }
    }

    #[test]
    fn status_maps_to_errors() {
        let mut io = MemIo::new();
        io.push_i32(EC_SUCCESS).unwrap();
        io.push_i32(crate::errno::EC_PERMISSION).unwrap();
        assert_eq!(read_status(&mut io), Ok(()));
        assert_eq!(read_status(&mut io), Err(Error::Permission));
        assert_eq!(read_status(&mut io), Err(Error::Failure));
    }

    #[test]
    fn registration_round_trips() {
        let mut io = MemIo::new();
        let id = SvcIdentity {
            handle: 3,
            token: 1,
            cookie: 0,
        };
        let policies = [PolicyTrans::Range {
            uid_min: 0,
            uid_max: 99,
        }];
        write_identity(&mut io, id).unwrap();
        write_policies(&policies, &mut io).unwrap();
        assert_eq!(
            read_registration(&mut io),
            Ok(Registration {
                identity: id,
                policies: policies.to_vec()
            })
        );
    }

    #[test]
    fn records_round_trip() {
        let mut io = MemIo::new();
        let f = FeatureRecord {
            name: SaName::new("ims", None),
            identity: SvcIdentity {
                handle: 5,
                token: 1,
                cookie: 0,
            },
            pid: 9,
            uid: 0,
        };
        let e = EndpointRecord {
            pid: 9,
            uid: 0,
            handle: 5,
        };
        write_feature_record(&mut io, &f).unwrap();
        write_endpoint_record(&mut io, &e).unwrap();
        assert_eq!(read_feature_record(&mut io), Ok(f));
        assert_eq!(read_endpoint_record(&mut io), Ok(e));
    }

    #[test]
    fn largest_put_fits_the_cms_limit() {
        // Header (80 bytes) + resource/option + two 15-byte names + token, in IpcIo layout.
        let mut io = liteipc::IpcIo::new();
        write_header(&mut io, RES_FEATURE, OP_PUT).unwrap();
        write_name(
            &mut io,
            &SaName::new("abcdefghijklmno", Some("abcdefghijklmno")),
        )
        .unwrap();
        IpcWriter::push_u32(&mut io, 1).unwrap();
        assert!(size_of::<abi::liteipc::IpcMsg>() + io.data().len() <= SAMGR_MSG_LIMIT);
    }
}
