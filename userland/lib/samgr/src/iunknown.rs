//! Interface objects: upstream's `IUnknown` (`iunknown.h`/`iunknown.c`). A service's default API
//! and a feature's API are objects implementing [`IUnknown`]; samgr hands them out as [`Api`]
//! (an `Arc`), so `AddRef`/`Release` are `Clone`/`Drop` and the object lives while any holder does.
//!
//! Each object carries a version bit set ([`IUnknown::version`]); [`Api::query_interface`]
//! succeeds iff `(entry.ver & ver) == ver` (for `ver == OLD_VERSION` the entry must be
//! `OLD_VERSION` or carry [`DEFAULT_VERSION`]), as upstream's `IUNKNOWN_QueryInterface`.
//! An object whose version has [`SERVER_PROXY_VER`] and that returns its
//! [`IServerProxy`] from [`IUnknown::server_proxy`] is *exported*: the endpoint will route IPC
//! calls from other processes to it.

use crate::errno::Error;
use crate::ipc::IServerProxy;
use alloc::sync::Arc;
use core::any::Any;
use core::fmt;

/// Version of objects from before versioning; queries for it accept [`DEFAULT_VERSION`] entries.
pub const OLD_VERSION: u16 = 0;
/// Version of an ordinary in-process interface (`DEFAULT_VERSION`).
pub const DEFAULT_VERSION: u16 = 0x20;
/// Version bit of a client proxy for a remote interface (`CLIENT_PROXY_VER`: 0x40 | default).
pub const CLIENT_PROXY_VER: u16 = 0x40 | DEFAULT_VERSION;
/// Version bit of an interface exported to other processes (`SERVER_PROXY_VER`).
pub const SERVER_PROXY_VER: u16 = 0x80;
/// Version of a typical exported entry (`SERVER_PROXY_VER | DEFAULT_VERSION`, upstream's
/// `SERVER_IPROXY_IMPL_BEGIN`).
pub const SERVER_IMPL_VER: u16 = SERVER_PROXY_VER | DEFAULT_VERSION;

/// An interface object. Implement it on your API type; samgr keeps it as an [`Api`].
pub trait IUnknown: Any + Send + Sync {
    /// The entry's version bits (`IUnknownEntry::ver`).
    fn version(&self) -> u16 {
        DEFAULT_VERSION
    }

    /// The server side of an exported interface: return `Some(self)` from a type that also
    /// implements [`IServerProxy`] and whose [`IUnknown::version`] has [`SERVER_PROXY_VER`].
    fn server_proxy(&self) -> Option<&dyn IServerProxy> {
        None
    }
}

/// A counted reference to an interface object (upstream `IUnknown *`): clone to add a
/// reference, drop to release one.
#[derive(Clone)]
pub struct Api(Arc<dyn IUnknown>);

impl Api {
    /// Wraps a new object.
    pub fn new<T: IUnknown>(object: T) -> Api {
        Api(Arc::new(object))
    }

    /// Wraps an object the caller also keeps (typed) elsewhere.
    pub fn from_arc<T: IUnknown>(object: Arc<T>) -> Api {
        Api(object)
    }

    /// The object's version bits.
    pub fn version(&self) -> u16 {
        self.0.version()
    }

    /// Upstream `QueryInterface`: a new reference when the entry supports `ver`, else
    /// [`Error::Invalid`] (`EC_INVALID`).
    pub fn query_interface(&self, ver: u16) -> Result<Api, Error> {
        if supports(self.version(), ver) {
            Ok(self.clone())
        } else {
            Err(Error::Invalid)
        }
    }

    /// The concrete object, if it is a `T` (`GET_OBJECT` without the pointer arithmetic).
    pub fn downcast<T: IUnknown>(&self) -> Option<Arc<T>> {
        let any: Arc<dyn Any + Send + Sync> = self.0.clone();
        any.downcast::<T>().ok()
    }

    /// `QueryInterface(ver)` and [`Api::downcast`] in one step.
    pub fn query<T: IUnknown>(&self, ver: u16) -> Result<Arc<T>, Error> {
        self.query_interface(ver)?
            .downcast::<T>()
            .ok_or(Error::Invalid)
    }

    /// The server proxy of an exported interface: `Some` only when the version has
    /// [`SERVER_PROXY_VER`] and the object provides one (upstream `QueryInterface(SERVER_PROXY_VER)`
    /// in `SAMGR_AddRouter`).
    pub fn server_proxy(&self) -> Option<&dyn IServerProxy> {
        if supports(self.version(), SERVER_PROXY_VER) {
            self.0.server_proxy()
        } else {
            None
        }
    }

    /// Whether `other` refers to the same object.
    pub fn ptr_eq(&self, other: &Api) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Live references to the object (upstream `ref`, counting samgr's own).
    pub fn ref_count(&self) -> usize {
        Arc::strong_count(&self.0)
    }
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("ver", &format_args!("{:#x}", self.version()))
            .field("at", &Arc::as_ptr(&self.0).cast::<()>())
            .finish()
    }
}

/// Upstream's version rule: every bit of `ver` present; `OLD_VERSION` needs an old or default entry.
pub fn supports(entry_ver: u16, ver: u16) -> bool {
    if entry_ver & ver != ver {
        return false;
    }
    ver != OLD_VERSION || entry_ver == OLD_VERSION || entry_ver & DEFAULT_VERSION != 0
}

/// Implements [`IUnknown`] for a type that implements [`crate::IServerProxy`]: version
/// [`SERVER_IMPL_VER`] (so its endpoint exports it as a router) with itself as the server
/// proxy — what every exported interface needs.
#[macro_export]
macro_rules! exported_interface {
    ($ty:ty) => {
        impl $crate::IUnknown for $ty {
            fn version(&self) -> u16 {
                $crate::SERVER_IMPL_VER
            }
            fn server_proxy(&self) -> Option<&dyn $crate::IServerProxy> {
                Some(self)
            }
        }
    };
}
