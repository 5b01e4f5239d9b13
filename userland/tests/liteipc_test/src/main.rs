//! `/bin/liteipc_test`: on-target LiteIPC conformance and robustness tests (upstream's
//! ItPosixLiteIpc001/002 and demo CMS, plus limits, special objects, access control, death
//! notification, timeouts, a hostile client, and leak checks). Booted as pid 1 with
//! `-append "init=/bin/liteipc_test"`: no CMS exists when it starts.
//!
//! Each test prints `ltest <name> ... ok` or `ltest <name> ... FAILED <file:line why>` (the
//! shared runner of `ulib::check`); the run ends with `ltest: N passed, M failed` and exits
//! 0 only when M is 0 (pid 1 exiting powers the machine off). Helper processes are this
//! program spawned with a role argument (`liteipc_test <role> ...`, see [`children`] and
//! [`server`]); a child that runs several checks reports each as an indented
//! `ltest   <role>::<check>` line, and the test that spawned it passes only if they all did.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod calls;
mod children;
mod cms_thread;
mod conf;
mod hostile;
mod server;
mod suite;

use suite::Suite;
use ulib::check::{Case, Runner};
use ulib::{env, test_cases};

/// Every test, in run order (later ones use what earlier ones set up).
const TESTS: &[Case<Suite>] = test_cases![Suite =>
    conf::child_without_cms,
    conf::set_cms,
    conf::set_cms_from_other_process,
    conf::cms_thread_and_wait_cms,
    conf::demo_protocol,
    calls::server_registers,
    calls::version,
    calls::sender_ids_stamped,
    calls::failed_reply_is_enoent,
    calls::oneway_in_order,
    calls::two_clients_50000_round_trips,
    calls::data_at_max_passes,
    calls::data_one_over_max_fails,
    calls::sp_obj_num_257_fails,
    calls::sp_obj_num_300_data_2048_fails,
    calls::object_past_data_fails,
    calls::cms_message_size,
    calls::receiver_pool_full,
    calls::ptr_round_trip,
    calls::svc_grants_access,
    calls::svc_new_handle,
    calls::fd_passing,
    calls::denied_without_add_access,
    hostile::bad_handles,
    hostile::forged_types_and_flags,
    hostile::reply_nobody_waits_for,
    hostile::kernel_and_unmapped_pointers,
    hostile::oversized_lengths,
    hostile::frees_in_child,
    calls::late_reply,
    calls::server_killed_mid_call,
    calls::usage_back_to_zero,
    calls::stop_servers,
    calls::frames_back_after_children,
    conf::cms_stop,
];

fn main() -> i32 {
    if let Some(role) = env::arg(1) {
        return children::run(role);
    }
    let mut runner = Runner::new("ltest");
    runner.run(&mut Suite::default(), TESTS);
    runner.finish()
}

ulib::entry!(main);
