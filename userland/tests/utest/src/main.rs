//! `/bin/utest`: the user-level system test suite for processes, threads and the
//! scheduler, run by init. Each test asserts computed values (never just prints) and
//! reports one line, `utest <name> ... ok` or `utest <name> ... FAILED <file:line reason>`
//! (the shared runner of `ulib::check`); the suite ends with `utest: N passed, M failed`
//! and returns 0 only when M is 0. A test that needs a missing kernel feature fails;
//! nothing is skipped.
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

use ulib::check::{Case, Runner};
use ulib::{env, println, test_cases, thread};

/// Every test, in run order.
const TESTS: &[Case] = test_cases![
    hostile::write_null,
    hostile::write_kernel,
    hostile::write_overflowing_len,
    hostile::read_into_kernel,
    hostile::open_bad_path,
    hostile::fstat_bad_buffer,
    hostile::bad_fds,
    hostile::kill_missing_pid,
    hostile::wait_not_a_child,
    hostile::spawn_missing_file,
    hostile::spawn_kernel_request,
    hostile::unknown_syscall,
    hostile::sched_setparam_out_of_range,
    hostile::futex_unaligned,
    hostile::mmap_write_exec,
    hostile::munmap_unaligned,
    procs::ids,
    procs::args_and_env_reach_child,
    procs::exit_code,
    procs::try_wait_running_child,
    procs::kill_sigterm,
    procs::kill_sigkill,
    procs::spawn_exit_cycles_keep_frames,
    faults::null,
    faults::kernel,
    faults::write_text,
    faults::exec_data,
    faults::undef,
    faults::brk,
    faults::align,
    faults::stack_overflow,
    faults::isolation_read,
    faults::isolation_write,
    faults::isolation_kernel_write,
    sched::join_returns_value,
    sched::priority_order,
    sched::round_robin_shares,
    sched::fifo_not_time_sliced,
    sched::sleep_10ms,
    sched::mutex_counter,
    sched::condvar_ping_pong,
    memory::mmap_pattern,
    memory::mprotect_read_only_still_reads,
    memory::access_after_munmap,
    memory::write_after_mprotect,
    memory::thread_stack_guard,
    files::hostname,
    files::fstat_regular,
    files::seek_and_reread,
    files::getdents_bin,
    files::open_dir_for_write,
    files::open_missing,
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
    let mut runner = Runner::new("utest");
    runner.run(&mut (), TESTS);
    runner.finish()
}

ulib::entry!(main);
