//! Helper modes of `/bin/utest`, spawned by the tests: `child-sleep <ms>`,
//! `child-exit <code>`, `child-args x y z` (checks its argv and env) and
//! `child-thread-overflow` (a thread overflows its stack into the guard page).

use core::hint::black_box;
use ulib::{env, eprintln, thread};

/// Arguments `child-args` expects after its mode.
pub const CHILD_ARGS: [&str; 2] = ["x y", "z"];
/// Environment entry `child-args` expects.
pub const CHILD_ENV: (&str, &str) = ("UTEST_KEY", "some value");

/// Runs helper `mode`; returns the exit status.
pub fn run(mode: &str) -> i32 {
    let number = || env::arg(2).and_then(|s| s.parse::<u64>().ok());
    match mode {
        "child-sleep" => {
            thread::sleep_ms(number().unwrap_or(1000));
            0
        }
        "child-exit" => number().map_or(2, |code| code as i32),
        "child-args" => check_args(),
        "child-thread-overflow" => thread_overflow(),
        _ => {
            eprintln!("utest: unknown mode {mode}");
            2
        }
    }
}

fn check_args() -> i32 {
    let args: alloc::vec::Vec<&str> = env::args().collect();
    let expected = ["/bin/utest", "child-args", CHILD_ARGS[0], CHILD_ARGS[1]];
    if args != expected {
        eprintln!("utest child-args: argv {args:?}");
        return 1;
    }
    if env::var(CHILD_ENV.0) != Some(CHILD_ENV.1) {
        eprintln!("utest child-args: env {:?}", env::var(CHILD_ENV.0));
        return 1;
    }
    0
}

fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    if black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(depth + 1) + frame[5]
}

/// A thread recursing without bound must hit its guard page (SIGSEGV), not run into
/// other memory.
fn thread_overflow() -> i32 {
    let Ok(priority) = thread::current_priority() else {
        return 3;
    };
    match thread::spawn(|| recurse(0) as i32, priority) {
        Ok(handle) => {
            let _ = handle.join();
            eprintln!("utest child-thread-overflow: the thread returned");
            1
        }
        Err(e) => {
            eprintln!("utest child-thread-overflow: spawn failed: {e:?}");
            3
        }
    }
}
