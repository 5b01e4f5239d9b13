//! Cross-process cases (upstream LiteIPCClientTest/LiteIPCServiceTest/LiteIPCFeatureTest and
//! the death/restart/flow-control/policy cases) against `samgr_test_svc`, started
//! here with `foundation`.

use crate::{TestResult, check, kill, start, wait_remote};
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

fn setup() -> TestResult {
    Endpoint::install(EndpointKind::Client).map_err(|e| format!("endpoint: {e}"))?;
    let foundation = start("/bin/foundation", &[], 7)?;
    context()
        .map_err(|e| format!("{e}"))?
        .wait_cms(10_000)
        .map_err(|e| format!("no samgr: {e:?}"))?;
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
fn remote_api_lookup() -> TestResult {
    let proxy = get_remote(SERVICE, None).map_err(|e| format!("{e}"))?;
    let api = Api::from_arc(proxy.clone());
    check!(
        api.query_interface(CLIENT_PROXY_VER).is_ok(),
        "QI(CLIENT_PROXY) failed"
    );
    check!(
        api.server_proxy().is_none(),
        "a client proxy claims to be a server"
    );
    check!(proxy.identity().handle != INVALID_HANDLE, "no handle");
    let again = get_remote(SERVICE, None).map_err(|e| format!("{e}"))?;
    check!(
        Arc::ptr_eq(&proxy, &again),
        "a second lookup made a new proxy"
    );
    check!(
        Samgr::instance()
            .get_feature_api(SERVICE, Some(SECURE_FEATURE))
            .is_some(),
        "GetFeatureApi through the registry failed"
    );
    check!(
        matches!(get_remote("no_such_service", None), Err(Error::NoService)),
        "unknown service found"
    );
    check!(
        matches!(
            get_remote(SERVICE, Some("no_such_feature")),
            Err(Error::NoService)
        ),
        "unknown feature found"
    );
    check!(
        matches!(get_remote("", None), Err(Error::Invalid)),
        "empty name accepted"
    );
    check!(
        Samgr::instance()
            .get_feature_api(SERVICE, Some(""))
            .is_none(),
        "\"\" feature found"
    );
    Ok(())
}

/// IPCClient0040 with checked payloads, small and large.
fn request_response() -> TestResult {
    let proxy = get_remote(SERVICE, None).map_err(|e| format!("{e}"))?;
    let bytes: Vec<u8> = (0..200u32).map(|i| (i * 7) as u8).collect();
    let got = echo(&proxy, 21, "hello samgr", &bytes).map_err(|e| format!("echo: {e}"))?;
    let want = (42, String::from("HELLO SAMGR"), checksum(&bytes), 200);
    check!(got == want, "echo answered {got:?}, wanted {want:?}");
    let big = vec![0xA5u8; 5000];
    let got = echo(&proxy, 1, "", &big).map_err(|e| format!("big echo: {e}"))?;
    check!(
        got.2 == checksum(&big) && got.3 == 5000,
        "big echo answered {got:?}"
    );
    let pid = proxy
        .invoke(GETPID, |_| Ok(()), |r| r.pop_u32())
        .map_err(|e| format!("getpid: {e}"))?;
    check!(
        pid == svc_pid().as_raw(),
        "served by pid {pid}, not {}",
        svc_pid()
    );
    let bad = proxy.invoke(999, |_| Ok(()), |_| Ok(()));
    check!(bad == Err(Error::Invalid), "unknown code answered {bad:?}");
    Ok(())
}

/// IPCClient0070: a request over the size limit fails with EC_INVALID (the proxy's 8193
/// bytes, and a samgr request over the CMS's 256 bytes); the proxy keeps working.
fn oversize_request() -> TestResult {
    let proxy = get_remote(SERVICE, None).map_err(|e| format!("{e}"))?;
    let huge = vec![1u8; 8193];
    let r = echo(&proxy, 1, "x", &huge).map(drop);
    check!(r == Err(Error::Invalid), "8193-byte request: {r:?}");
    check!(Error::Invalid.code() == EC_INVALID, "EC_INVALID");
    let long = "n".repeat(300);
    let r = client::samgr_call(RES_FEATURE, OP_GET, |w| w.push_string(&long), |_| Ok(()));
    check!(r == Err(Error::Invalid), "300-byte samgr request: {r:?}");
    echo(&proxy, 2, "ok", b"ok").map_err(|e| format!("after oversize: {e}"))?;
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
        .map_err(|e| format!("FEATURE/ALL: {e}"))?
        .iter()
        .any(|f| &f.name == name))
}

/// IPCService0010..0040: a service of this process exports its default API; samgr registers
/// it, it is callable by its identity, and unregistering withdraws it.
fn export_register_unregister() -> TestResult {
    let samgr = Samgr::instance();
    let name = SaName::new("stest_export", None);
    samgr
        .register_service(Arc::new(ExportService))
        .map_err(|e| format!("{e}"))?;
    samgr
        .register_default_feature_api("stest_export", Api::new(ExportApi))
        .map_err(|e| format!("{e}"))?;
    samgr.bootstrap();
    check!(
        samgr.wait_for_status(BootStatus::Dynamic, Duration::from_secs(5)),
        "not DYNAMIC"
    );
    let local = samgr
        .get_default_feature_api("stest_export")
        .ok_or("no local API")?;
    check!(
        local.query_interface(CLIENT_PROXY_VER).is_err(),
        "QI(CLIENT_PROXY) on a server entry"
    );
    let deadline = ulib::time::now() + Duration::from_secs(5);
    while !registered(&name)? {
        check!(ulib::time::now() < deadline, "never registered with samgr");
        ulib::thread::sleep(Duration::from_millis(20));
    }
    let id = client::get_feature(&name).map_err(|e| format!("GET: {e}"))?;
    let me = process::getpid().as_raw();
    let got = client::call(id, 5, |_| Ok(()), |r| r.pop_u32()).map_err(|e| format!("call: {e}"))?;
    check!(got == 5 + me, "own export answered {got}");
    samgr
        .unregister_default_feature_api("stest_export")
        .map_err(|e| format!("{e}"))?;
    check!(!registered(&name)?, "still registered after unregistering");
    samgr
        .unregister_service("stest_export")
        .map_err(|e| format!("{e}"))?;
    let r = client::get_feature(&name);
    check!(r == Err(Error::NoService), "GET after unregister: {r:?}");
    Ok(())
}

/// Policies: an app (uid 20000) is refused a system-only service at lookup, a system-only
/// feature at invoke, registration and SysCaps; a system uid gets through.
fn permission_denied() -> TestResult {
    let secure = get_remote(SERVICE, Some(SECURE_FEATURE)).map_err(|e| format!("{e}"))?;
    let secret = secure
        .invoke(SECRET, |_| Ok(()), |r| r.pop_string().map(String::from))
        .map_err(|e| format!("uid 0 refused: {e}"))?;
    check!(secret == "secret", "secure answered {secret:?}");
    let child = start("/bin/samgr_test", &["app"], 20000)?;
    let status = process::wait(child).map_err(|e| format!("{e:?}"))?;
    check!(status.success(), "app checks failed: {status}");
    Ok(())
}

/// The app role (uid 20000); exit status 0 when every refusal happened.
pub fn app_role() -> i32 {
    let result = (|| -> TestResult {
        let r = get_remote(SYSTEM_SERVICE, None).map(drop);
        check!(r == Err(Error::Permission), "system-only lookup: {r:?}");
        let secure = get_remote(SERVICE, Some(SECURE_FEATURE)).map_err(|e| format!("{e}"))?;
        let r = secure.invoke(SECRET, |_| Ok(()), |_| Ok(()));
        check!(r == Err(Error::Permission), "secure invoke: {r:?}");
        let open = get_remote(SERVICE, None).map_err(|e| format!("{e}"))?;
        echo(&open, 1, "app", b"").map_err(|e| format!("open echo: {e}"))?;
        let r = client::syscap_all().map(drop);
        check!(r == Err(Error::Permission), "SYSCAP/ALL: {r:?}");
        client::register_endpoint().map_err(|e| format!("POST: {e}"))?;
        let r = client::put_feature(&SaName::new("app_service", None), 0).map(drop);
        check!(r == Err(Error::Permission), "app PUT: {r:?}");
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
fn syscaps() -> TestResult {
    let all = client::syscap_all().map_err(|e| format!("ALL: {e}"))?;
    check!(all.len() > 30, "only {} capabilities", all.len());
    check!(
        all.iter()
            .any(|c| c == "SystemCapability.Startup.SystemInfo"),
        "SystemInfo missing"
    );
    let wifi = "SystemCapability.Communication.WiFi.STA";
    check!(
        client::syscap_has(wifi) == Ok(false),
        "WiFi registered at boot"
    );
    client::syscap_register(wifi).map_err(|e| format!("PUT: {e}"))?;
    check!(client::syscap_has(wifi) == Ok(true), "PUT did not register");
    check!(
        client::syscap_register("SystemCapability.None") == Err(Error::Failure),
        "unknown PUT"
    );
    Ok(())
}

/// Flow control: a child floods the service with one-way calls until its bucket refuses it
/// (`EC_BUSY`), while this process keeps being served.
fn flow_control() -> TestResult {
    let proxy = get_remote(SERVICE, None).map_err(|e| format!("{e}"))?;
    let child = start("/bin/samgr_test", &["flood"], 0)?;
    ulib::thread::sleep(Duration::from_millis(100));
    let mut served = 0;
    for i in 0..20 {
        echo(&proxy, i, "second client", b"x")
            .map_err(|e| format!("second client call {i}: {e}"))?;
        served += 1;
        ulib::thread::sleep(Duration::from_millis(10));
    }
    let status = process::wait(child).map_err(|e| format!("{e:?}"))?;
    check!(
        status.success(),
        "the flooding client was never throttled: {status}"
    );
    let handled = proxy
        .invoke(COUNT, |_| Ok(()), |r| r.pop_u32())
        .map_err(|e| format!("{e}"))?;
    check!(handled < FLOOD, "all {handled} flood messages were handled");
    check!(served == 20, "second client served {served} times");
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

/// Killing the server mid-call: the caller gets an error, the proxy is dead and fails
/// fast; a restarted server re-registers and a new lookup works.
fn kill_mid_call() -> TestResult {
    let proxy = get_remote(SERVICE, None).map_err(|e| format!("{e}"))?;
    let caller = proxy.clone();
    let call = ulib::thread::spawn(
        move || match caller.invoke(SLEEP, |w| w.push_u32(3000), |r| r.pop_u32()) {
            Ok(_) => 0,
            Err(Error::NoService) => 1,
            Err(_) => 2,
        },
        ulib::thread::DEFAULT_USER_PRIORITY,
    )
    .map_err(|e| format!("{e:?}"))?;
    ulib::thread::sleep(Duration::from_millis(300));
    kill(svc_pid())?;
    let outcome = call.join().map_err(|e| format!("{e:?}"))?;
    check!(
        outcome == 1,
        "the call in progress ended with outcome {outcome}"
    );
    let deadline = ulib::time::now() + Duration::from_secs(2);
    while proxy.is_alive() && ulib::time::now() < deadline {
        ulib::thread::sleep(Duration::from_millis(10));
    }
    check!(!proxy.is_alive(), "no death notification");
    let started = ulib::time::now();
    let r = echo(&proxy, 1, "dead", b"").map(drop);
    check!(r == Err(Error::NoService), "call on a dead proxy: {r:?}");
    check!(
        ulib::time::now() - started < Duration::from_millis(50),
        "dead proxy was slow to fail"
    );
    let svc = start("/bin/samgr_test_svc", &SVC_ARGS, 0)?;
    if let Some(p) = PROCS.lock().as_mut() {
        p.svc = svc;
    }
    let fresh = wait_remote(SERVICE, None, 10)?;
    check!(
        !Arc::ptr_eq(&fresh, &proxy),
        "lookup returned the dead proxy"
    );
    echo(&fresh, 3, "again", b"abc").map_err(|e| format!("after restart: {e}"))?;
    Ok(())
}

/// Killing foundation: init's part (restart it) is played here; every endpoint registers
/// again by itself (same handle), and lookups and calls work.
fn foundation_restart() -> TestResult {
    let (foundation, svc) = {
        let procs = PROCS.lock();
        let p = procs.as_ref().ok_or("no processes")?;
        (p.foundation, p.svc)
    };
    let before = client::list_endpoints().map_err(|e| format!("{e}"))?;
    let svc_handle = before
        .iter()
        .find(|e| e.pid == svc.as_raw())
        .map(|e| e.handle)
        .ok_or("test service endpoint not registered")?;
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
        check!(ulib::time::now() < deadline, "services never re-registered");
        ulib::thread::sleep(Duration::from_millis(20));
    }
    let after = client::list_endpoints().map_err(|e| format!("{e}"))?;
    check!(
        after
            .iter()
            .any(|e| e.pid == svc.as_raw() && e.handle == svc_handle),
        "endpoint not back with handle {svc_handle}: {after:?}"
    );
    check!(
        after.iter().any(|e| e.pid == process::getpid().as_raw()),
        "this process's endpoint did not re-register: {after:?}"
    );
    let features = client::list_features().map_err(|e| format!("{e}"))?;
    for want in [
        SaName::new(SERVICE, None),
        SaName::new(SYSTEM_SERVICE, None),
        SaName::new(WMS_SERVICE, None),
        SaName::new(IMS_SERVICE, None),
        SaName::new(SENSOR_SERVICE, Some(SENSOR_FEATURE)),
    ] {
        check!(
            features.iter().any(|f| f.name == want),
            "{want:?} missing after restart"
        );
    }
    let proxy = get_remote(SERVICE, None).map_err(|e| format!("{e}"))?;
    echo(&proxy, 4, "after samgr restart", b"").map_err(|e| format!("{e}"))?;
    Ok(())
}

/// Runs `path` to completion; Ok if it exits 0.
fn run_program(path: &str, args: &[&str]) -> TestResult {
    let pid = start(path, args, 0)?;
    let status = process::wait(pid).map_err(|e| format!("{e:?}"))?;
    check!(status.success(), "{path} {status}");
    Ok(())
}

/// WMS keeps real window state for the caller; the demo client runs end to end (windows,
/// a key routed by IMS to the focused window's owner, sensor readings by subscription).
fn wms_and_sensor() -> TestResult {
    let wms = WmsClient::connect().map_err(|e| format!("{e}"))?;
    let a = wms
        .create(1, 2, 30, 40, "stest-a")
        .map_err(|e| format!("create: {e}"))?;
    let b = wms
        .create(5, 6, 70, 80, "stest-b")
        .map_err(|e| format!("create: {e}"))?;
    wms.move_to(a, 11, 12).map_err(|e| format!("move: {e}"))?;
    wms.raise(a).map_err(|e| format!("raise: {e}"))?;
    let list = wms.list().map_err(|e| format!("list: {e}"))?;
    let ids: Vec<(u32, i32, bool)> = list.iter().map(|w| (w.id, w.x, w.focused)).collect();
    check!(ids == [(a, 11, false), (b, 5, true)], "windows {ids:?}");
    check!(
        list.iter().all(|w| w.owner == process::getpid().as_raw()),
        "wrong owner"
    );
    wms.destroy(a).map_err(|e| format!("{e}"))?;
    wms.destroy(b).map_err(|e| format!("{e}"))?;
    check!(wms.destroy(b) == Err(Error::NoService), "destroyed twice");
    let sensors = SensorClient::connect().map_err(|e| format!("{e}"))?;
    let list = sensors.list().map_err(|e| format!("{e}"))?;
    check!(
        list.len() == SENSORS.len() && list[0].name == "accelerometer",
        "sensors {list:?}"
    );
    let r = sensors.read(0).map_err(|e| format!("{e}"))?;
    check!(r == SENSORS[0].sample(r.sample), "reading {r:?}");
    run_program("/bin/wms_demo", &[])?;
    run_program("/bin/samgr_ctl", &[])?;
    run_program("/bin/wms_ctl", &[])
}

/// Killing wms_server during a call (PRESENT waits frames on the WMS thread): the caller
/// gets an error, the proxy is dead; wms_server restarted re-registers; a new lookup works.
fn kill_wms_mid_call() -> TestResult {
    let wms = WmsClient::connect().map_err(|e| format!("{e}"))?;
    let proxy = wms.0.clone();
    let call = ulib::thread::spawn(
        move || match wms.present(150) {
            Ok(_) => 0,
            Err(Error::NoService) => 1,
            Err(_) => 2,
        },
        ulib::thread::DEFAULT_USER_PRIORITY,
    )
    .map_err(|e| format!("{e:?}"))?;
    ulib::thread::sleep(Duration::from_millis(300));
    let pid = PROCS
        .lock()
        .as_ref()
        .map(|p| p.wms)
        .ok_or("no wms_server")?;
    kill(pid)?;
    let outcome = call.join().map_err(|e| format!("{e:?}"))?;
    check!(
        outcome == 1,
        "the call in progress ended with outcome {outcome}"
    );
    let deadline = ulib::time::now() + Duration::from_secs(2);
    while proxy.is_alive() && ulib::time::now() < deadline {
        ulib::thread::sleep(Duration::from_millis(10));
    }
    check!(!proxy.is_alive(), "no death notification");
    let r = WmsClient(proxy.clone()).list().map(drop);
    check!(r == Err(Error::NoService), "call on the dead proxy: {r:?}");
    let wms = start("/bin/wms_server", &[], 0)?;
    if let Some(p) = PROCS.lock().as_mut() {
        p.wms = wms;
    }
    let fresh = WmsClient(wait_remote(WMS_SERVICE, None, 10)?);
    let id = fresh
        .create(0, 0, 10, 10, "after restart")
        .map_err(|e| format!("{e}"))?;
    let list = fresh.list().map_err(|e| format!("{e}"))?;
    check!(
        list.len() == 1 && list[0].id == id,
        "restarted WMS has {list:?}"
    );
    Ok(())
}

/// Runs the cross-process cases.
pub fn run_all(run: &mut dyn FnMut(&str, &dyn Fn() -> TestResult)) {
    if let Err(why) = setup() {
        run("remote_setup", &|| Err(why.clone()));
        return;
    }
    run("remote_api_lookup", &remote_api_lookup);
    run("request_response_payloads", &request_response);
    run("oversize_request_ec_invalid", &oversize_request);
    run("export_register_unregister", &export_register_unregister);
    run("permission_denied_for_app_uid", &permission_denied);
    run("syscap_get_put_all", &syscaps);
    run("flow_control_throttles_flooder", &flow_control);
    run("wms_windows_input_sensor_demo", &wms_and_sensor);
    run("kill_server_mid_call", &kill_mid_call);
    run("kill_wms_server_mid_call", &kill_wms_mid_call);
    run("foundation_restart_reregisters", &foundation_restart);
}
