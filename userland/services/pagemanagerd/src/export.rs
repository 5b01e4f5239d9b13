//! The samgr export of the page service: service [`SAMGR_SERVICE`] with a default-feature
//! API, so any process can ask DPMS over LiteIPC to open a page by URI, close one, or list
//! them ([`dpms_proto::code`]). samgr runs the API on the service's own task thread, while
//! the page table belongs to the `poll` loop of the main thread; so the API does not touch
//! the table: it forwards each call as the same JSON request `page_ctl` sends, over a
//! connection to [`DPMS_SOCKET`], and returns the loop's JSON reply. One owner of the state,
//! no locks, and both front ends answer identically.
//!
//! The endpoint's boss thread waits for samgr (`foundation`) in `IPC_WAIT_CMS` and
//! registers once it exists, so DPMS starts and serves its socket without samgr.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use core::time::Duration;
use dpms_proto::message::{Reply, Request};
use dpms_proto::{DPMS_SOCKET, SAMGR_SERVICE, code};
use samgr::endpoint::{Endpoint, EndpointKind};
use samgr::errno::{EC_INVALID, EC_SUCCESS};
use samgr::ipc::{IoError, IpcReader, IpcWriter, pop_owned_string};
use samgr::task::{LEVEL_HIGH, PRI_NORMAL};
use samgr::{
    Api, IServerProxy, Identity, Origin, Request as SamgrRequest, Samgr, Service, TaskConfig,
    TaskType,
};
use ulib::net::{self, MAX_MESSAGE, POLLIN, UnixSeqPacket};

/// How long a call waits for the loop: under LiteIPC's 5 s reply timeout.
const LOOP_TIMEOUT: Duration = Duration::from_secs(4);
/// Stack of the service's task thread.
const TASK_STACK: u16 = 0x2000;
/// Queue length of the service's task.
const TASK_QUEUE: u16 = 16;

/// The service "dpms": one task of its own; all work is in its API.
struct DpmsService;

impl Service for DpmsService {
    fn name(&self) -> &str {
        SAMGR_SERVICE
    }
    fn initialize(&self, _identity: Identity) -> bool {
        true
    }
    fn message_handle(&self, _request: &mut SamgrRequest) -> bool {
        false
    }
    fn task_config(&self) -> TaskConfig {
        TaskConfig::new(
            LEVEL_HIGH,
            PRI_NORMAL,
            TASK_STACK,
            TASK_QUEUE,
            TaskType::Single,
        )
    }
}

/// The page-service interface.
struct DpmsApi;

impl IServerProxy for DpmsApi {
    fn invoke(
        &self,
        code: u32,
        _origin: &Origin,
        request: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> i32 {
        let request = match decode(code, request) {
            Ok(r) => r,
            Err(_) => return EC_INVALID,
        };
        let answer = forward(&request).unwrap_or_else(|why| Reply::error(&why));
        match reply.push_string(&answer.encode()) {
            Ok(()) => EC_SUCCESS,
            Err(_) => EC_INVALID,
        }
    }
}

samgr::exported_interface!(DpmsApi);

fn decode(function: u32, request: &mut dyn IpcReader) -> Result<Request, IoError> {
    match function {
        code::OPEN => Ok(Request::Open {
            uri: pop_owned_string(request)?,
        }),
        code::CLOSE => Ok(Request::Close {
            id: request.pop_u32()?,
        }),
        code::LIST => Ok(Request::List),
        _ => Err(IoError::Malformed),
    }
}

/// Asks the `poll` loop, as a socket client would.
fn forward(request: &Request) -> Result<Reply, String> {
    let socket = UnixSeqPacket::connect(DPMS_SOCKET).map_err(|e| format!("{e:?}"))?;
    socket
        .send(request.encode().as_bytes())
        .map_err(|e| format!("{e:?}"))?;
    let mut fds = [net::poll_fd(socket.fd(), POLLIN)];
    if net::poll(&mut fds, Some(LOOP_TIMEOUT)).map_err(|e| format!("{e:?}"))? == 0 {
        return Err(String::from("pagemanagerd did not answer in time"));
    }
    let mut buf = vec![0u8; MAX_MESSAGE];
    let n = socket.try_recv(&mut buf).map_err(|e| format!("{e:?}"))?;
    Reply::parse(buf.get(..n).unwrap_or_default()).map_err(|e| format!("{e}"))
}

/// Installs the endpoint, registers the service and its API, and bootstraps samgr.
pub fn start() -> Result<(), samgr::Error> {
    Endpoint::install(EndpointKind::Client)?;
    let samgr = Samgr::instance();
    samgr.register_service(Arc::new(DpmsService))?;
    samgr.register_default_feature_api(SAMGR_SERVICE, Api::new(DpmsApi))?;
    samgr.bootstrap();
    Ok(())
}
