//! Cross-process cases (upstream LiteIPCClientTest/LiteIPCServiceTest/LiteIPCFeatureTest and
//! the death/restart/flow-control/policy cases) against `samgr_test_svc`, started
//! here with `foundation`.

use crate::{kill, start, wait_remote};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;
use samgr::client::{self, get_remote};
use samgr::endpoint::{Endpoint, EndpointKind, context};
use samgr::errno::{EC_INVALID, EC_SUCCESS};
use samgr::ipc::{IpcReader, IpcWriter};
use samgr::protocol::{OP_GET, RES_FEATURE};
use samgr::remote::{INVALID_HANDLE, SaName};
use samgr::task::{LEVEL_HIGH, PRI_NORMAL};
use samgr::{
    Api, BootStatus, CLIENT_PROXY_VER, Error, IServerProxy, Identity, Origin, Request, Samgr,
    Service, TaskConfig, TaskType,
};
use samgr_test_svc::*;
use sensor_service::{SENSOR_FEATURE, SENSOR_SERVICE, SENSORS, SensorClient};
use ulib::check::{Context, TestResult};
use ulib::ensure;
use ulib::process::{self, Pid};
use wms_server::{IMS_SERVICE, WMS_SERVICE, WmsClient};

/// Flow control of the test service: messages per second, burst (per calling process).
const SVC_RATE: &str = "200";
const SVC_BURST: &str = "100";
const SVC_ARGS: [&str; 4] = ["--rate", SVC_RATE, "--burst", SVC_BURST];
/// One-way messages the flooding child sends.
const FLOOD: u32 = 2000;

struct Procs {
    foundation: Pid,
    svc: Pid,
    wms: Pid,
}

static PROCS: ulib::sync::Mutex<Option<Procs>> = ulib::sync::Mutex::new(None);

fn svc_pid() -> Pid {
    PROCS.lock().as_ref().map_or(Pid::from_raw(0), |p| p.svc)
}

pub fn setup() -> TestResult {
    Endpoint::install(EndpointKind::Client).context("endpoint")?;
    let foundation = start("/bin/foundation", &[], 7)?;
    context()
        .context("endpoint context")?
        .wait_cms(10_000)
        .context("no samgr")?;
    let svc = start("/bin/samgr_test_svc", &SVC_ARGS, 0)?;
    let wms = start("/bin/wms_server", &[], 0)?;
    start("/bin/sensor_service", &[], 0)?;
    wait_remote(SERVICE, None, 10)?;
    wait_remote(WMS_SERVICE, None, 10)?;
    wait_remote(IMS_SERVICE, None, 10)?;
    wait_remote(SENSOR_SERVICE, Some(SENSOR_FEATURE), 10)?;
    *PROCS.lock() = Some(Procs {
        foundation,
        svc,
        wms,
    });
    Ok(())
}

fn echo(
    proxy: &client::RemoteProxy,
    a: u32,
    s: &str,
    bytes: &[u8],
) -> Result<(u32, String, u32, u32), Error> {
    proxy.invoke(
        ECHO,
        |w| {
            w.push_u32(a)?;
            w.push_string(s)?;
            w.push_flat_obj(bytes)
        },
        |r| {
            Ok((
                r.pop_u32()?,
                String::from(r.pop_string()?),
                r.pop_u32()?,
                r.pop_u32()?,
            ))
        },
    )
}

/// IPCClient0010/0020/0100/0130: lookup, the client proxy's version, unknown names.
pub fn remote_api_lookup() -> TestResult {
    let proxy = get_remote(SERVICE, None).context("get_remote")?;
    let api = Api::from_arc(proxy.clone());
    ensure!(
        api.query_interface(CLIENT_PROXY_VER).is_ok(),
        "QI(CLIENT_PROXY) failed"
    );
    ensure!(
        api.server_proxy().is_none(),
        "a client proxy claims to be a server"
    );
    ensure!(proxy.identity().handle != INVALID_HANDLE, "no handle");
    let again = get_remote(SERVICE, None).context("get_remote")?;
    ensure!(
        Arc::ptr_eq(&proxy, &again),
        "a second lookup made a new proxy"
    );
    ensure!(
        Samgr::instance()
            .get_feature_api(SERVICE, Some(SECURE_FEATURE))
            .is_some(),
        "GetFeatureApi through the registry failed"
    );
    ensure!(
        matches!(get_remote("no_such_service", None), Err(Error::NoService)),
        "unknown service found"
    );
    ensure!(
        matches!(
            get_remote(SERVICE, Some("no_such_feature")),
            Err(Error::NoService)
        ),
        "unknown feature found"
    );
    ensure!(
        matches!(get_remote("", None), Err(Error::Invalid)),
        "empty name accepted"
    );
    ensure!(
        Samgr::instance()
            .get_feature_api(SERVICE, Some(""))
            .is_none(),
        "\"\" feature found"
    );
    Ok(())
}

/// IPCClient0040 with checked payloads, small and large.
pub fn request_response_payloads() -> TestResult {
    let proxy = get_remote(SERVICE, None).context("get_remote")?;
    let bytes: Vec<u8> = (0..200u32).map(|i| (i * 7) as u8).collect();
    let got = echo(&proxy, 21, "hello samgr", &bytes).context("echo")?;
    let want = (42, String::from("HELLO SAMGR"), checksum(&bytes), 200);
    ensure!(got == want, "echo answered {got:?}, wanted {want:?}");
    let big = vec![0xA5u8; 5000];
    let got = echo(&proxy, 1, "", &big).context("big echo")?;
    ensure!(
        got.2 == checksum(&big) && got.3 == 5000,
        "big echo answered {got:?}"
    );
    let pid = proxy
        .invoke(GETPID, |_| Ok(()), |r| r.pop_u32())
        .context("getpid")?;
    ensure!(
        pid == svc_pid().as_raw(),
        "served by pid {pid}, not {}",
        svc_pid()
    );
    let bad = proxy.invoke(999, |_| Ok(()), |_| Ok(()));
    ensure!(bad == Err(Error::Invalid), "unknown code answered {bad:?}");
    Ok(())
}

/// The call log of the test service: (value, thread) of each APPEND since the last look,
/// and the thread that ran this TAKE_LOG.
fn take_log(proxy: &client::RemoteProxy) -> Result<(Vec<(u32, u32)>, u32), Error> {
    proxy.invoke(
        TAKE_LOG,
        |_| Ok(()),
        |r| {
            let n = r.pop_u32()?;
            let log = (0..n)
                .map(|_| Ok((r.pop_u32()?, r.pop_u32()?)))
                .collect::<Result<Vec<_>, samgr::ipc::IoError>>()?;
            Ok((log, r.pop_u32()?))
        },
    )
}

fn quick_calls_in_order(proxy: &client::RemoteProxy) -> TestResult {
    take_log(proxy).context("clear the log")?;
    ulib::thread::sleep(Duration::from_millis(20));
    let append = |x: u32| move |w: &mut dyn IpcWriter| w.push_u32(x);
    proxy
        .send_oneway(APPEND_SLOW, append(1))
        .context("APPEND_SLOW")?;
    proxy.send_oneway(APPEND, append(2)).context("APPEND 2")?;
    proxy.send_oneway(APPEND, append(3)).context("APPEND 3")?;
    proxy
        .invoke(APPEND, append(4), |_| Ok(()))
        .context("APPEND 4")?;
    ulib::thread::sleep(Duration::from_millis(20));
    let (log, boss) = take_log(proxy).context("TAKE_LOG")?;
    let values: Vec<u32> = log.iter().map(|&(x, _)| x).collect();
    ensure!(values == [1, 2, 3, 4], "calls ran in the order {values:?}");
    let task = log[0].1;
    ensure!(
        boss != task,
        "a quick call to an idle service ran on its thread {task}, not in its place"
    );
    ensure!(
        log.iter()
            .all(|&(_, thread)| thread == task || thread == boss),
        "calls ran on threads {log:?}, not only the service's {task} and the boss {boss}"
    );
    Ok(())
}

/// Quick calls may run on the server's boss thread in place of the service's idle thread,
/// but never ahead of what is queued for it: one-way calls sent behind a slow one (queued
/// before the service's thread woke up), and a quick call behind them, run in the order
/// sent; once the service is idle a quick call runs in its thread's place.
pub fn quick_calls_keep_their_order() -> TestResult {
    let proxy = get_remote(SERVICE, None).context("get_remote")?;
    static OUTCOME: ulib::sync::Mutex<Option<TestResult>> = ulib::sync::Mutex::new(None);
    // From a thread more urgent than the server's boss thread: every one-way call is
    // queued in the kernel before the boss thread takes the first.
    let worker = ulib::thread::spawn(
        move || {
            *OUTCOME.lock() = Some(quick_calls_in_order(&proxy));
            0
        },
        ulib::thread::USER_PRIORITY_MIN,
    )
    .context("spawn")?;
    worker.join().context("join")?;
    OUTCOME.lock().take().context("no outcome")?
}

/// IPCClient0070: a request over the size limit fails with EC_INVALID (the proxy's 8193
/// bytes, and a samgr request over the CMS's 256 bytes); the proxy keeps working.
pub fn oversize_request_ec_invalid() -> TestResult {
    let proxy = get_remote(SERVICE, None).context("get_remote")?;
    let huge = vec![1u8; 8193];
    let r = echo(&proxy, 1, "x", &huge).map(drop);
    ensure!(r == Err(Error::Invalid), "8193-byte request: {r:?}");
    ensure!(Error::Invalid.code() == EC_INVALID, "EC_INVALID");
    let long = "n".repeat(300);
    let r = client::samgr_call(RES_FEATURE, OP_GET, |w| w.push_string(&long), |_| Ok(()));
    ensure!(r == Err(Error::Invalid), "300-byte samgr request: {r:?}");
    echo(&proxy, 2, "ok", b"ok").context("after oversize")?;
    Ok(())
}

struct ExportService;
impl Service for ExportService {
    fn name(&self) -> &str {
        "stest_export"
    }
    fn initialize(&self, _: Identity) -> bool {
        true
    }
    fn message_handle(&self, _: &mut Request) -> bool {
        false
    }
    fn task_config(&self) -> TaskConfig {
        TaskConfig::new(LEVEL_HIGH, PRI_NORMAL, 0x800, 20, TaskType::Single)
    }
}

struct ExportApi;
impl IServerProxy for ExportApi {
    fn invoke(
        &self,
        code: u32,
        origin: &Origin,
        _: &mut dyn IpcReader,
        reply: &mut dyn IpcWriter,
    ) -> i32 {
        if reply.push_u32(code + origin.pid).is_ok() {
            EC_SUCCESS
        } else {
            EC_INVALID
        }
    }
}
samgr::exported_interface!(ExportApi);

fn registered(name: &SaName) -> Result<bool, String> {
    Ok(client::list_features()
        .context("FEATURE/ALL")?
        .iter()
        .any(|f| &f.name == name))
}

/// IPCService0010..0040: a service of this process exports its default API; samgr registers
/// it, it is callable by its identity, and unregistering withdraws it.
pub fn export_register_unregister() -> TestResult {
    let samgr = Samgr::instance();
    let name = SaName::new("stest_export", None);
    samgr
        .register_service(Arc::new(ExportService))
        .context("register_service")?;
    samgr
        .register_default_feature_api("stest_export", Api::new(ExportApi))
        .context("register_default_feature_api")?;
    samgr.bootstrap();
    ensure!(
        samgr.wait_for_status(BootStatus::Dynamic, Duration::from_secs(5)),
        "not DYNAMIC"
    );
    let local = samgr
        .get_default_feature_api("stest_export")
        .context("no local API")?;
    ensure!(
        local.query_interface(CLIENT_PROXY_VER).is_err(),
        "QI(CLIENT_PROXY) on a server entry"
    );
    let deadline = ulib::time::now() + Duration::from_secs(5);
    while !registered(&name)? {
        ensure!(ulib::time::now() < deadline, "never registered with samgr");
        ulib::thread::sleep(Duration::from_millis(20));
    }
    let id = client::get_feature(&name).context("GET")?;
    let me = process::getpid().as_raw();
    let got = client::call(id, 5, |_| Ok(()), |r| r.pop_u32()).context("call")?;
    ensure!(got == 5 + me, "own export answered {got}");
    samgr
        .unregister_default_feature_api("stest_export")
        .context("unregister_default_feature_api")?;
    ensure!(!registered(&name)?, "still registered after unregistering");
    samgr
        .unregister_service("stest_export")
        .context("unregister_service")?;
    let r = client::get_feature(&name);
    ensure!(r == Err(Error::NoService), "GET after unregister: {r:?}");
    Ok(())
}

/// Policies: an app (uid 20000) is refused a system-only service at lookup, a system-only
/// feature at invoke, registration and SysCaps; a system uid gets through.
pub fn permission_denied_for_app_uid() -> TestResult {
    let secure = get_remote(SERVICE, Some(SECURE_FEATURE)).context("get_remote")?;
    let secret = secure
        .invoke(SECRET, |_| Ok(()), |r| r.pop_string().map(String::from))
        .context("uid 0 refused")?;
    ensure!(secret == "secret", "secure answered {secret:?}");
    let child = start("/bin/samgr_test", &["app"], 20000)?;
    let status = process::wait(child).context("wait")?;
    ensure!(status.success(), "app checks failed: {status}");
    Ok(())
}

/// The app role (uid 20000); exit status 0 when every refusal happened.
pub fn app_role() -> i32 {
    let result = (|| -> TestResult {
        let r = get_remote(SYSTEM_SERVICE, None).map(drop);
        ensure!(r == Err(Error::Permission), "system-only lookup: {r:?}");
        let secure = get_remote(SERVICE, Some(SECURE_FEATURE)).context("get_remote")?;
        let r = secure.invoke(SECRET, |_| Ok(()), |_| Ok(()));
        ensure!(r == Err(Error::Permission), "secure invoke: {r:?}");
        let open = get_remote(SERVICE, None).context("get_remote")?;
        echo(&open, 1, "app", b"").context("open echo")?;
        let r = client::syscap_all().map(drop);
        ensure!(r == Err(Error::Permission), "SYSCAP/ALL: {r:?}");
        client::register_endpoint().context("POST")?;
        let r = client::put_feature(&SaName::new("app_service", None), 0).map(drop);
        ensure!(r == Err(Error::Permission), "app PUT: {r:?}");
        Ok(())
    })();
    match result {
        Ok(()) => 0,
        Err(why) => {
            ulib::println!("samgr_test app: {why}");
            1
        }
    }
}

/// SYSCAP GET/PUT/ALL from `/etc/system_capability.json`.
pub fn syscap_get_put_all() -> TestResult {
    let all = client::syscap_all().context("ALL")?;
    ensure!(all.len() > 30, "only {} capabilities", all.len());
    ensure!(
        all.iter()
            .any(|c| c == "SystemCapability.Startup.SystemInfo"),
        "SystemInfo missing"
    );
    let wifi = "SystemCapability.Communication.WiFi.STA";
    ensure!(
        client::syscap_has(wifi) == Ok(false),
        "WiFi registered at boot"
    );
    client::syscap_register(wifi).context("PUT")?;
    ensure!(client::syscap_has(wifi) == Ok(true), "PUT did not register");
    ensure!(
        client::syscap_register("SystemCapability.None") == Err(Error::Failure),
        "unknown PUT"
    );
    Ok(())
}

/// Flow control: a child floods the service with one-way calls until its bucket refuses it
/// (`EC_BUSY`), while this process keeps being served.
pub fn flow_control_throttles_flooder() -> TestResult {
    let proxy = get_remote(SERVICE, None).context("get_remote")?;
    let child = start("/bin/samgr_test", &["flood"], 0)?;
    ulib::thread::sleep(Duration::from_millis(100));
    let mut served = 0;
    for i in 0..20 {
        echo(&proxy, i, "second client", b"x").context(&format!("second client call {i}"))?;
        served += 1;
        ulib::thread::sleep(Duration::from_millis(10));
    }
    let status = process::wait(child).context("wait")?;
    ensure!(
        status.success(),
        "the flooding client was never throttled: {status}"
    );
    let handled = proxy
        .invoke(COUNT, |_| Ok(()), |r| r.pop_u32())
        .context("invoke")?;
    ensure!(handled < FLOOD, "all {handled} flood messages were handled");
    ensure!(served == 20, "second client served {served} times");
    Ok(())
}

/// The flooding role; exit status 0 once a call was refused by flow control.
pub fn flood_role() -> i32 {
    let Ok(proxy) = get_remote(SERVICE, None) else {
        return 2;
    };
    for _ in 0..FLOOD {
        while proxy.send_oneway(NOOP, |_| Ok(())) == Err(Error::NoMemory) {
            // The server's pool is full: let it drain.
            ulib::thread::yield_now();
        }
    }
    for _ in 0..5 {
        if proxy.invoke(GETPID, |_| Ok(()), |r| r.pop_u32()) == Err(Error::Busy) {
            return 0;
        }
    }
    1
}

/// Kills `pid` 300 ms into `call`, made on a thread of its own: the call must end with
/// `NoService` (not hang), and `proxy` must learn of the death within 2 s.
#[track_caller]
fn kill_during_call<T>(
    pid: Pid,
    proxy: &client::RemoteProxy,
    call: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> TestResult {
    let caller = ulib::thread::spawn(
        move || match call() {
            Ok(_) => 0,
            Err(Error::NoService) => 1,
            Err(_) => 2,
        },
        ulib::thread::DEFAULT_USER_PRIORITY,
    )
    .context("spawn the caller")?;
    ulib::thread::sleep(Duration::from_millis(300));
    kill(pid)?;
    let outcome = caller.join().context("join the caller")?;
    ensure!(
        outcome == 1,
        "the call in progress ended with outcome {outcome}"
    );
    let deadline = ulib::time::now() + Duration::from_secs(2);
    while proxy.is_alive() && ulib::time::now() < deadline {
        ulib::thread::sleep(Duration::from_millis(10));
    }
    ensure!(!proxy.is_alive(), "no death notification");
    Ok(())
}

/// Killing the server mid-call: the caller gets an error, the proxy is dead and fails
/// fast; a restarted server re-registers and a new lookup works.
pub fn kill_server_mid_call() -> TestResult {
    let proxy = get_remote(SERVICE, None).context("get_remote")?;
    let caller = proxy.clone();
    kill_during_call(svc_pid(), &proxy, move || {
        caller.invoke(SLEEP, |w| w.push_u32(3000), |r| r.pop_u32())
    })?;
    let started = ulib::time::now();
    let r = echo(&proxy, 1, "dead", b"").map(drop);
    ensure!(r == Err(Error::NoService), "call on a dead proxy: {r:?}");
    ensure!(
        ulib::time::now() - started < Duration::from_millis(50),
        "dead proxy was slow to fail"
    );
    let svc = start("/bin/samgr_test_svc", &SVC_ARGS, 0)?;
    if let Some(p) = PROCS.lock().as_mut() {
        p.svc = svc;
    }
    let fresh = wait_remote(SERVICE, None, 10)?;
    ensure!(
        !Arc::ptr_eq(&fresh, &proxy),
        "lookup returned the dead proxy"
    );
    echo(&fresh, 3, "again", b"abc").context("after restart")?;
    Ok(())
}

/// Killing foundation: init's part (restart it) is played here; every endpoint registers
/// again by itself (same handle), and lookups and calls work.
pub fn foundation_restart_reregisters() -> TestResult {
    let (foundation, svc) = {
        let procs = PROCS.lock();
        let p = procs.as_ref().context("no processes")?;
        (p.foundation, p.svc)
    };
    let before = client::list_endpoints().context("list_endpoints")?;
    let svc_handle = before
        .iter()
        .find(|e| e.pid == svc.as_raw())
        .map(|e| e.handle)
        .context("test service endpoint not registered")?;
    kill(foundation)?;
    let foundation = start("/bin/foundation", &[], 7)?;
    if let Some(p) = PROCS.lock().as_mut() {
        p.foundation = foundation;
    }
    let names = [
        SaName::new(SERVICE, Some(SECURE_FEATURE)),
        SaName::new(IMS_SERVICE, None),
        SaName::new(SENSOR_SERVICE, Some(SENSOR_FEATURE)),
    ];
    let deadline = ulib::time::now() + Duration::from_secs(10);
    loop {
        if names.iter().all(|name| registered(name).unwrap_or(false)) {
            break;
        }
        ensure!(ulib::time::now() < deadline, "services never re-registered");
        ulib::thread::sleep(Duration::from_millis(20));
    }
    let after = client::list_endpoints().context("list_endpoints")?;
    ensure!(
        after
            .iter()
            .any(|e| e.pid == svc.as_raw() && e.handle == svc_handle),
        "endpoint not back with handle {svc_handle}: {after:?}"
    );
    ensure!(
        after.iter().any(|e| e.pid == process::getpid().as_raw()),
        "this process's endpoint did not re-register: {after:?}"
    );
    let features = client::list_features().context("list_features")?;
    for want in [
        SaName::new(SERVICE, None),
        SaName::new(SYSTEM_SERVICE, None),
        SaName::new(WMS_SERVICE, None),
        SaName::new(IMS_SERVICE, None),
        SaName::new(SENSOR_SERVICE, Some(SENSOR_FEATURE)),
    ] {
        ensure!(
            features.iter().any(|f| f.name == want),
            "{want:?} missing after restart"
        );
    }
    let proxy = get_remote(SERVICE, None).context("get_remote")?;
    echo(&proxy, 4, "after samgr restart", b"").context("echo")?;
    Ok(())
}

/// Runs `path` to completion; Ok if it exits 0.
fn run_program(path: &str, args: &[&str]) -> TestResult {
    let pid = start(path, args, 0)?;
    let status = process::wait(pid).context("wait")?;
    ensure!(status.success(), "{path} {status}");
    Ok(())
}

/// WMS keeps real window state for the caller; the demo client runs end to end (windows,
/// a key routed by IMS to the focused window's owner, sensor readings by subscription).
pub fn wms_windows_input_sensor_demo() -> TestResult {
    let wms = WmsClient::connect().context("connect")?;
    let a = wms.create(1, 2, 30, 40, "stest-a").context("create")?;
    let b = wms.create(5, 6, 70, 80, "stest-b").context("create")?;
    wms.move_to(a, 11, 12).context("move")?;
    wms.raise(a).context("raise")?;
    let list = wms.list().context("list")?;
    let ids: Vec<(u32, i32, bool)> = list.iter().map(|w| (w.id, w.x, w.focused)).collect();
    ensure!(ids == [(a, 11, false), (b, 5, true)], "windows {ids:?}");
    ensure!(
        list.iter().all(|w| w.owner == process::getpid().as_raw()),
        "wrong owner"
    );
    wms.destroy(a).context("destroy")?;
    wms.destroy(b).context("destroy")?;
    ensure!(wms.destroy(b) == Err(Error::NoService), "destroyed twice");
    let sensors = SensorClient::connect().context("connect")?;
    let list = sensors.list().context("list")?;
    ensure!(
        list.len() == SENSORS.len() && list[0].name == "accelerometer",
        "sensors {list:?}"
    );
    let r = sensors.read(0).context("read")?;
    ensure!(r == SENSORS[0].sample(r.sample), "reading {r:?}");
    run_program("/bin/wms_demo", &[])?;
    run_program("/bin/samgr_ctl", &[])?;
    run_program("/bin/wms_ctl", &[])
}

/// Killing wms_server during a call (PRESENT waits frames on the WMS thread): the caller
/// gets an error, the proxy is dead; wms_server restarted re-registers; a new lookup works.
pub fn kill_wms_server_mid_call() -> TestResult {
    let wms = WmsClient::connect().context("connect")?;
    let proxy = wms.0.clone();
    let pid = PROCS
        .lock()
        .as_ref()
        .map(|p| p.wms)
        .context("no wms_server")?;
    kill_during_call(pid, &proxy, move || wms.present(150))?;
    let r = WmsClient(proxy.clone()).list().map(drop);
    ensure!(r == Err(Error::NoService), "call on the dead proxy: {r:?}");
    let wms = start("/bin/wms_server", &[], 0)?;
    if let Some(p) = PROCS.lock().as_mut() {
        p.wms = wms;
    }
    let fresh = WmsClient(wait_remote(WMS_SERVICE, None, 10)?);
    let id = fresh
        .create(0, 0, 10, 10, "after restart")
        .context("create")?;
    let list = fresh.list().context("list")?;
    ensure!(
        list.len() == 1 && list[0].id == id,
        "restarted WMS has {list:?}"
    );
    Ok(())
}
