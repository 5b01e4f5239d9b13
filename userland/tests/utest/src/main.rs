//! `/bin/utest`: the user-level system test suite for processes, threads and the
//! scheduler, run by init. Each test asserts computed values (never just prints) and
//! reports one line, `utest <name> ... ok` or `utest <name> ... FAILED <reason>`; the
//! suite ends with `utest: N passed, M failed` and returns 0 only when M is 0. A test
//! that needs a missing kernel feature fails; nothing is skipped.
//!
//! `utest child-*` modes are helpers the tests spawn (see [`child`]).
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod child;
mod faults;
mod files;
mod hostile;
mod memory;
mod procs;
mod sched;

use ulib::check::TestResult;
use ulib::{env, println, thread};

/// A named test.
type Test = (&'static str, fn() -> TestResult);

/// Every test, in run order.
const TESTS: &[Test] = &[
    ("hostile::write_null", hostile::write_null),
    ("hostile::write_kernel", hostile::write_kernel),
    (
        "hostile::write_overflowing_len",
        hostile::write_overflowing_len,
    ),
    ("hostile::read_into_kernel", hostile::read_into_kernel),
    ("hostile::open_bad_path", hostile::open_bad_path),
    ("hostile::fstat_bad_buffer", hostile::fstat_bad_buffer),
    ("hostile::bad_fds", hostile::bad_fds),
    ("hostile::kill_missing_pid", hostile::kill_missing_pid),
    ("hostile::wait_not_a_child", hostile::wait_not_a_child),
    ("hostile::spawn_missing_file", hostile::spawn_missing_file),
    (
        "hostile::spawn_kernel_request",
        hostile::spawn_kernel_request,
    ),
    ("hostile::unknown_syscall", hostile::unknown_syscall),
    (
        "hostile::sched_setparam_out_of_range",
        hostile::sched_setparam_out_of_range,
    ),
    ("hostile::futex_unaligned", hostile::futex_unaligned),
    ("hostile::mmap_write_exec", hostile::mmap_write_exec),
    ("hostile::munmap_unaligned", hostile::munmap_unaligned),
    ("procs::ids", procs::ids),
    (
        "procs::args_and_env_reach_child",
        procs::args_and_env_reach_child,
    ),
    ("procs::exit_code", procs::exit_code),
    (
        "procs::try_wait_running_child",
        procs::try_wait_running_child,
    ),
    ("procs::kill_sigterm", procs::kill_sigterm),
    ("procs::kill_sigkill", procs::kill_sigkill),
    (
        "procs::spawn_exit_cycles_keep_frames",
        procs::spawn_exit_cycles_keep_frames,
    ),
    ("faults::null", faults::null),
    ("faults::kernel", faults::kernel),
    ("faults::write_text", faults::write_text),
    ("faults::exec_data", faults::exec_data),
    ("faults::undef", faults::undef),
    ("faults::brk", faults::brk),
    ("faults::align", faults::align),
    ("faults::stack_overflow", faults::stack_overflow),
    ("faults::isolation_read", faults::isolation_read),
    ("faults::isolation_write", faults::isolation_write),
    (
        "faults::isolation_kernel_write",
        faults::isolation_kernel_write,
    ),
    ("sched::join_returns_value", sched::join_returns_value),
    ("sched::priority_order", sched::priority_order),
    ("sched::round_robin_shares", sched::round_robin_shares),
    ("sched::fifo_not_time_sliced", sched::fifo_not_time_sliced),
    ("sched::sleep_10ms", sched::sleep_10ms),
    ("sched::mutex_counter", sched::mutex_counter),
    ("sched::condvar_ping_pong", sched::condvar_ping_pong),
    ("memory::mmap_pattern", memory::mmap_pattern),
    (
        "memory::mprotect_read_only_still_reads",
        memory::mprotect_read_only_still_reads,
    ),
    ("memory::access_after_munmap", memory::access_after_munmap),
    ("memory::write_after_mprotect", memory::write_after_mprotect),
    ("memory::thread_stack_guard", memory::thread_stack_guard),
    ("files::hostname", files::hostname),
    ("files::fstat_regular", files::fstat_regular),
    ("files::seek_and_reread", files::seek_and_reread),
    ("files::getdents_bin", files::getdents_bin),
    ("files::open_dir_for_write", files::open_dir_for_write),
    ("files::open_missing", files::open_missing),
];

fn main() -> i32 {
    if let Some(mode) = env::arg(1) {
        return child::run(mode);
    }
    // The scheduling tests need the highest user priority for the controlling thread.
    if let Err(e) = thread::set_priority(thread::USER_PRIORITY_MIN) {
        println!(
            "utest: cannot set priority {}: {e:?}",
            thread::USER_PRIORITY_MIN
        );
    }
    let (mut passed, mut failed) = (0u32, 0u32);
    for (name, test) in TESTS {
        match test() {
            Ok(()) => {
                passed += 1;
                println!("utest {name} ... ok");
            }
            Err(reason) => {
                failed += 1;
                println!("utest {name} ... FAILED {reason}");
            }
        }
    }
    println!("utest: {passed} passed, {failed} failed");
    if failed == 0 { 0 } else { 1 }
}

ulib::entry!(main);
