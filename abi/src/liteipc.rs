//! LiteIPC, the shared-memory IPC driver `/dev/lite_ipc` (OpenHarmony LiteOS-A
//! kernel/extended/liteipc): names, numbers and behaviour as upstream, layouts for AArch64.
//!
//! A process opens the device, maps its receive pool (`mmap`, read-only, private, at most
//! [`MAX_POOL_SIZE`]), and talks with `ioctl`. The kernel writes each message once, straight
//! from the sender's memory into the receiver's pool; the receiver reads it in place and
//! returns it with [`BUFF_FREE`]. Handle 0 is the CMS (the service manager, samgr).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Device path.
pub const LITEIPC_DRIVER: &str = "/dev/lite_ipc";
/// Largest pool a process may map (64 pages).
pub const MAX_POOL_SIZE: usize = 256 * 1024;
/// Pool size user libraries map by default (upstream LITEIPC_DEFAULT_MAP_SIZE).
pub const DEFAULT_POOL_SIZE: usize = 64 * 1024;
/// Entries of the kernel's service handle table.
pub const MAX_HANDLES: usize = 128;
/// How long SEND|RECV waits for its reply, in milliseconds (then ETIME).
pub const LITEIPC_TIMEOUT_MS: u64 = 5000;
/// Driver version reported by [`IPC_GET_VERSION`].
pub const LITEIPC_VERSION: u32 = 0x0001_0000;

/// Largest message data (`data_size`): 8192 * sizeof(SpecialObj) / (sizeof(SpecialObj) +
/// sizeof(usize)) as upstream computes it, which is 6144 with 64-bit layouts.
pub const MAX_DATA_SIZE: usize =
    8192 * size_of::<SpecialObj>() / (size_of::<SpecialObj>() + size_of::<usize>());
/// Most special objects in one message: 8192 / (sizeof(SpecialObj) + sizeof(usize)) = 256.
pub const MAX_SP_OBJ_NUM: usize = 8192 / (size_of::<SpecialObj>() + size_of::<usize>());

/// ioctl number encoding, as Linux `_IOC`.
const fn ioc(dir: u32, nr: u32, size: usize) -> usize {
    ((dir << 30) | ((size as u32) << 16) | ((b'i' as u32) << 8) | nr) as usize
}
const IOC_NONE: u32 = 0;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

/// `ioctl(fd, IPC_SET_CMS, max_msg_size)`: the caller's process becomes the service manager;
/// messages to handle 0 may be at most `max_msg_size` bytes (header included).
pub const IPC_SET_CMS: usize = ioc(IOC_NONE, 1, 0);
/// `ioctl(fd, IPC_CMS_CMD, &CmsCmdContent)`: handle management, CMS process only.
pub const IPC_CMS_CMD: usize = ioc(IOC_READ | IOC_WRITE, 2, size_of::<CmsCmdContent>());
/// `ioctl(fd, IPC_SET_IPC_THREAD, 0)`: the calling thread receives the process's death
/// notifications.
pub const IPC_SET_IPC_THREAD: usize = ioc(IOC_NONE, 3, 0);
/// `ioctl(fd, IPC_SEND_RECV_MSG, &mut IpcContent)`: send and/or receive and/or free.
pub const IPC_SEND_RECV_MSG: usize = ioc(IOC_READ | IOC_WRITE, 4, size_of::<IpcContent>());
/// `ioctl(fd, IPC_GET_VERSION, &mut IpcVersion)`.
pub const IPC_GET_VERSION: usize = ioc(IOC_READ, 5, size_of::<IpcVersion>());
/// `ioctl(fd, IPC_WAIT_CMS, timeout_ms)` (ours, not upstream's): blocks until a service
/// manager exists (0 = no timeout; ETIME when it runs out), so clients never poll for samgr.
pub const IPC_WAIT_CMS: usize = ioc(IOC_NONE, 6, 0);

/// `IpcContent::flag` bits: processed in the order validate-free, SEND, BUFF_FREE, RECV.
pub const SEND: u32 = 1 << 0;
/// Receive the next message for the calling thread.
pub const RECV: u32 = 1 << 1;
/// Return `buff_to_free` to the pool.
pub const BUFF_FREE: u32 = 1 << 2;

/// Message types (`IpcMsg::msg_type`).
pub mod msg_type {
    /// A request to a service.
    pub const MT_REQUEST: u32 = 0;
    /// A reply to a request.
    pub const MT_REPLY: u32 = 1;
    /// The service could not handle the request.
    pub const MT_FAILED_REPLY: u32 = 2;
    /// A service the receiver could reach has died (kernel-generated only).
    pub const MT_DEATH_NOTIFY: u32 = 3;
}

/// `IpcMsg::flag` values.
pub mod msg_flag {
    /// The sender waits for a reply.
    pub const LITEIPC_FLAG_DEFAULT: u32 = 0;
    /// Send only.
    pub const LITEIPC_FLAG_ONEWAY: u32 = 1;
}

/// `CmsCmdContent::cmd` values.
pub mod cms_cmd {
    /// Create a handle for task `task_id`; the handle is written to `service_handle`.
    pub const CMS_GEN_HANDLE: u32 = 0;
    /// Remove handle `service_handle`.
    pub const CMS_REMOVE_HANDLE: u32 = 1;
    /// Let the process of task `task_id` reach handle `service_handle`.
    pub const CMS_ADD_ACCESS: u32 = 2;
}

/// Special object types (`SpecialObj::obj_type`).
pub mod obj_type {
    /// A file descriptor, duplicated into the receiver.
    pub const OBJ_FD: u32 = 0;
    /// A buffer, copied into the receiver's pool.
    pub const OBJ_PTR: u32 = 1;
    /// A service identity; passing it grants the receiver access to that handle.
    pub const OBJ_SVC: u32 = 2;
}

/// Who a message is for: `handle` selects the endpoint (task), `token` the router in it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct SvcIdentity {
    /// Service handle (for replies: the requesting task's id).
    pub handle: u32,
    /// Router index in the receiving endpoint.
    pub token: u32,
    /// Opaque to the kernel.
    pub cookie: u32,
}

/// A message header. In the receiver's pool it is followed by the data and the offsets.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct IpcMsg {
    /// One of [`msg_type`].
    pub msg_type: u32,
    /// Destination.
    pub target: SvcIdentity,
    /// Service function code.
    pub code: u32,
    /// One of [`msg_flag`].
    pub flag: u32,
    /// Set by the kernel on requests; replies must echo it.
    pub timestamp: u64,
    /// Bytes at `data`.
    pub data_size: u32,
    /// Padding, zero.
    pub reserved0: u32,
    /// Address of the data (sender: its memory; receiver: its pool).
    pub data: u64,
    /// Number of special objects.
    pub sp_obj_num: u32,
    /// Padding, zero.
    pub reserved1: u32,
    /// Address of `sp_obj_num` u64 offsets into the data, one per special object.
    pub offsets: u64,
    /// Sender's process id (filled by the kernel).
    pub process_id: u32,
    /// Sender's thread id (filled by the kernel).
    pub task_id: u32,
    /// Sender's uid (filled by the kernel).
    pub user_id: u32,
    /// Sender's gid (filled by the kernel).
    pub gid: u32,
}

/// The argument of [`IPC_SEND_RECV_MSG`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct IpcContent {
    /// [`SEND`] | [`RECV`] | [`BUFF_FREE`].
    pub flag: u32,
    /// Padding, zero.
    pub reserved: u32,
    /// Address of the `IpcMsg` to send.
    pub out_msg: u64,
    /// Written by the kernel: pool address of the received `IpcMsg`.
    pub in_msg: u64,
    /// Pool address of a received message to free.
    pub buff_to_free: u64,
}

/// The argument of [`IPC_CMS_CMD`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct CmsCmdContent {
    /// One of [`cms_cmd`].
    pub cmd: u32,
    /// The task concerned.
    pub task_id: u32,
    /// The handle concerned (written back by CMS_GEN_HANDLE).
    pub service_handle: u32,
}

/// The argument of [`IPC_GET_VERSION`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct IpcVersion {
    /// [`LITEIPC_VERSION`].
    pub driver_version: u32,
}

/// A special object inside message data (24 bytes): `content` holds, by type, an fd (u32),
/// a buffer (u32 size, u32 pad, u64 address) or an [`SvcIdentity`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct SpecialObj {
    /// One of [`obj_type`].
    pub obj_type: u32,
    /// Padding, zero.
    pub reserved: u32,
    /// Type-dependent content, little endian.
    pub content: [u8; 16],
}

impl SpecialObj {
    /// An fd object.
    pub fn fd(fd: u32) -> Self {
        let mut obj = Self {
            obj_type: obj_type::OBJ_FD,
            ..Self::default()
        };
        obj.content[..4].copy_from_slice(&fd.to_le_bytes());
        obj
    }

    /// A buffer object.
    pub fn ptr(size: u32, addr: u64) -> Self {
        let mut obj = Self {
            obj_type: obj_type::OBJ_PTR,
            ..Self::default()
        };
        obj.content[..4].copy_from_slice(&size.to_le_bytes());
        obj.content[8..].copy_from_slice(&addr.to_le_bytes());
        obj
    }

    /// A service object.
    pub fn svc(identity: SvcIdentity) -> Self {
        let mut obj = Self {
            obj_type: obj_type::OBJ_SVC,
            ..Self::default()
        };
        obj.content[..12].copy_from_slice(identity.as_bytes());
        obj
    }

    fn word(&self, at: usize) -> u32 {
        u32::from_le_bytes([
            self.content[at],
            self.content[at + 1],
            self.content[at + 2],
            self.content[at + 3],
        ])
    }

    /// The fd of an OBJ_FD.
    pub fn as_fd(&self) -> u32 {
        self.word(0)
    }

    /// (size, address) of an OBJ_PTR.
    pub fn as_ptr(&self) -> (u32, u64) {
        let mut addr = [0u8; 8];
        addr.copy_from_slice(&self.content[8..]);
        (self.word(0), u64::from_le_bytes(addr))
    }

    /// The identity of an OBJ_SVC.
    pub fn as_svc(&self) -> SvcIdentity {
        SvcIdentity {
            handle: self.word(0),
            token: self.word(4),
            cookie: self.word(8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_and_limits_match_the_64_bit_contract() {
        assert_eq!(size_of::<SvcIdentity>(), 12);
        assert_eq!(size_of::<IpcMsg>(), 80);
        assert_eq!(size_of::<IpcContent>(), 32);
        assert_eq!(size_of::<CmsCmdContent>(), 12);
        assert_eq!(size_of::<SpecialObj>(), 24);
        assert_eq!(MAX_DATA_SIZE, 6144);
        assert_eq!(MAX_SP_OBJ_NUM, 256);
    }

    #[test]
    fn ioctl_numbers_encode_magic_and_direction() {
        assert_eq!(IPC_SET_CMS, 0x6901);
        assert_eq!(IPC_SET_IPC_THREAD, 0x6903);
        assert_eq!(IPC_CMS_CMD, 0xC00C_6902);
        assert_eq!(IPC_SEND_RECV_MSG, 0xC020_6904);
        assert_eq!(IPC_GET_VERSION, 0x8004_6905);
    }

    #[test]
    fn special_objects_round_trip() {
        assert_eq!(SpecialObj::fd(7).as_fd(), 7);
        assert_eq!(
            SpecialObj::ptr(100, 0x00de_adbe_ef00).as_ptr(),
            (100, 0x00de_adbe_ef00)
        );
        let id = SvcIdentity {
            handle: 3,
            token: 4,
            cookie: 5,
        };
        assert_eq!(SpecialObj::svc(id).as_svc(), id);
    }
}
