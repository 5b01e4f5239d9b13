//! `/bin/liteipc_test`: on-target LiteIPC conformance and robustness tests (upstream's
//! ItPosixLiteIpc001/002 and demo CMS, plus limits, special objects, access control, death
//! notification, timeouts, a hostile client, and leak checks). Booted as pid 1 with
//! `-append "init=/bin/liteipc_test"`: no CMS exists when it starts.
//!
//! Each test prints `ltest <name> ... ok` or `ltest <name> ... FAILED <why>`; the run ends
//! with `ltest: N passed, M failed` and exits 0 only when M is 0 (pid 1 exiting powers the
//! machine off). Helper processes are this program spawned with a role argument
//! (`liteipc_test <role> ...`, see [`children`] and [`server`]); a child that runs several
//! checks reports each as an indented `ltest   <role>::<check>` line, and the test that
//! spawned it passes only if they all did.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod children;
mod cms_thread;
mod server;
mod suite;
mod t_conf;
mod t_hostile;
mod t_service;

use suite::Suite;
use ulib::{env, println};

/// A named test.
type Test = (&'static str, fn(&mut Suite) -> ulib::check::TestResult);

/// Every test, in run order (later ones use what earlier ones set up).
const TESTS: &[Test] = &[
    ("conf::child_without_cms", t_conf::child_without_cms),
    ("conf::set_cms", t_conf::set_cms),
    ("conf::set_cms_from_other_process", t_conf::set_cms_other),
    ("conf::cms_thread_and_wait_cms", t_conf::cms_thread),
    ("conf::demo_protocol", t_conf::demo_protocol),
    ("conf::server_registers", t_service::server_registers),
    ("msg::version", t_service::version),
    ("msg::sender_ids_stamped", t_service::sender_ids),
    ("msg::failed_reply_is_enoent", t_service::failed_reply),
    ("msg::oneway_in_order", t_service::oneway),
    ("rt::two_clients_50000_round_trips", t_service::two_clients),
    ("limits::data_at_max_passes", t_service::data_at_max),
    ("limits::data_one_over_max_fails", t_service::data_over_max),
    ("limits::sp_obj_num_257_fails", t_service::objects_257),
    (
        "limits::sp_obj_num_300_data_2048_fails",
        t_service::objects_300,
    ),
    (
        "limits::object_past_data_fails",
        t_service::object_past_data,
    ),
    ("limits::cms_message_size", t_service::cms_size_limit),
    ("limits::receiver_pool_full", t_service::pool_full),
    ("objects::ptr_round_trip", t_service::ptr_round_trip),
    ("objects::svc_grants_access", t_service::svc_grant),
    ("objects::svc_new_handle", t_service::svc_new_handle),
    ("objects::fd_passing", t_service::fd_passing),
    (
        "access::denied_without_add_access",
        t_service::access_denied,
    ),
    ("hostile::bad_handles", t_hostile::bad_handles),
    ("hostile::forged_types_and_flags", t_hostile::forged_types),
    ("hostile::reply_nobody_waits_for", t_hostile::stray_reply),
    (
        "hostile::kernel_and_unmapped_pointers",
        t_hostile::bad_pointers,
    ),
    ("hostile::oversized_lengths", t_hostile::oversized),
    ("hostile::frees_in_child", t_hostile::frees_in_child),
    ("timeout::late_reply", t_service::late_reply),
    ("death::server_killed_mid_call", t_service::death),
    ("pool::usage_back_to_zero", t_service::pool_back_to_zero),
    ("teardown::stop_servers", t_service::stop_servers),
    (
        "teardown::frames_back_after_children",
        t_service::frames_back,
    ),
    ("conf::cms_stop", t_conf::cms_stop),
];

fn main() -> i32 {
    if let Some(role) = env::arg(1) {
        return children::run(role);
    }
    let mut suite = Suite::default();
    let (mut passed, mut failed) = (0u32, 0u32);
    for (name, test) in TESTS {
        match test(&mut suite) {
            Ok(()) => {
                passed += 1;
                println!("ltest {name} ... ok");
            }
            Err(reason) => {
                failed += 1;
                println!("ltest {name} ... FAILED {reason}");
            }
        }
    }
    println!("ltest: {passed} passed, {failed} failed");
    if failed == 0 { 0 } else { 1 }
}

ulib::entry!(main);
