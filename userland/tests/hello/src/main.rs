//! `/bin/hello`: a smoke test of the user runtime. Prints its arguments and environment,
//! fills a heap `Vec`, and has two threads add to a shared `Mutex` counter; checks every
//! result and returns 0 only when all are right.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;
use ulib::sync::Mutex;
use ulib::{env, eprintln, println, process, thread};

/// Items in the heap test.
const ITEMS: u64 = 10_000;
/// Increments per thread.
const INCREMENTS: u32 = 1000;
/// Worker threads.
const THREADS: u32 = 2;

fn main() -> i32 {
    println!(
        "hello: pid {} ppid {}",
        process::getpid(),
        process::getppid()
    );
    for (i, arg) in env::args().enumerate() {
        println!("hello: argv[{i}] = {arg}");
    }
    for var in env::vars_raw() {
        println!("hello: env {var}");
    }
    match run_checks() {
        Ok(()) => {
            println!("hello: ok");
            0
        }
        Err(reason) => {
            eprintln!("hello: FAILED {reason}");
            1
        }
    }
}

fn run_checks() -> Result<(), &'static str> {
    let items: Vec<u64> = (0..ITEMS).collect();
    let sum: u64 = items.iter().sum();
    if items.len() as u64 != ITEMS || sum != ITEMS * (ITEMS - 1) / 2 {
        return Err("heap vector has wrong contents");
    }
    let counter = Arc::new(Mutex::new(0u32));
    let priority = thread::current_priority().map_err(|_| "sched_getparam failed")?;
    let mut handles = Vec::new();
    for _ in 0..THREADS {
        let counter = Arc::clone(&counter);
        let worker = move || {
            for _ in 0..INCREMENTS {
                *counter.lock() += 1;
                thread::yield_now();
            }
            0
        };
        handles.push(thread::spawn(worker, priority).map_err(|_| "thread spawn failed")?);
    }
    for handle in handles {
        if handle.join() != Ok(0) {
            return Err("thread join failed");
        }
    }
    if *counter.lock() != THREADS * INCREMENTS {
        return Err("shared counter is wrong");
    }
    Ok(())
}

ulib::entry!(main);
