//! The system call path on the target: values that do not fit their argument's type come
//! back as EINVAL from `syscall::dispatch` itself, never truncated into a valid call. Each
//! call runs on a kernel thread (no process), so a truncated value would reach its handler
//! and fail differently (EPERM, EFAULT, ESRCH) or, for the exits, end the thread.

use crate::arch::vectors::TrapFrame;
use crate::sched::{self, Policy, Priority};
use crate::sync::IrqSafeMutex;
use crate::{kassert_eq, ksome, ktest};
use abi::{Errno, Sysno};

/// 2^32: the smallest value that does not fit a `u32`.
const TOO_BIG: u64 = 1 << 32;

static RESULT: IrqSafeMutex<Option<u64>> = IrqSafeMutex::new(None);
static CALL: IrqSafeMutex<(u64, [u64; 6])> = IrqSafeMutex::new((0, [0; 6]));

extern "C" fn make_call(_: usize) {
    let (number, args) = *CALL.lock();
    let mut frame = TrapFrame::default();
    frame.x[8] = number;
    frame.x[..6].copy_from_slice(&args);
    crate::syscall::dispatch(&mut frame);
    *RESULT.lock() = Some(frame.x[0]);
}

/// Runs system call `sysno` with `args` on a fresh kernel thread: its result, or `None` if
/// the call never returned (the thread ended inside it).
fn call(sysno: Sysno, args: [u64; 6]) -> Option<Result<u64, Errno>> {
    *RESULT.lock() = None;
    *CALL.lock() = (sysno as u64, args);
    let priority = Priority::new(10)?;
    let tid = sched::spawn_kernel_thread("syscall", priority, Policy::Fifo, make_call, 0).ok()?;
    let _ = sched::join(tid);
    let ret = (*RESULT.lock())? as i64 as isize;
    Some(Errno::decode(ret).map(|v| v as u64))
}

ktest!(
    fn out_of_range_arguments_are_einval() {
        let path = [0x1000, 4];
        let cases: [(Sysno, [u64; 6]); 9] = [
            (
                Sysno::ThreadCreate,
                [0x40_0000, 0, 0x7F_0000_0000, TOO_BIG + 20, 0, 0],
            ),
            (Sysno::SchedSetParam, [0, TOO_BIG + 20, 2, 0, 0, 0]),
            (Sysno::Chown, [path[0], path[1], TOO_BIG, 0, 0, 0]),
            (Sysno::Chown, [path[0], path[1], 0, TOO_BIG, 0, 0]),
            (Sysno::Exit, [256, 0, 0, 0, 0, 0]),
            (Sysno::ThreadExit, [TOO_BIG, 0, 0, 0, 0, 0]),
            (Sysno::Write, [1, 0x1000, u64::MAX, 0, 0, 0]),
            (Sysno::Read, [0, 0x1000, 1 << 63, 0, 0, 0]),
            (Sysno::Kill, [TOO_BIG + 1, 9, 0, 0, 0, 0]),
        ];
        for (sysno, args) in cases {
            let result = ksome!(call(sysno, args), "{sysno:?} {args:x?} did not return");
            kassert_eq!(result, Err(Errno::EINVAL), "{sysno:?} {args:x?}");
        }
        Ok(())
    }
);

ktest!(
    fn unknown_numbers_are_enosys_and_in_range_values_reach_the_handler() {
        let mut frame = TrapFrame::default();
        frame.x[8] = 999;
        crate::syscall::dispatch(&mut frame);
        kassert_eq!(frame.x[0], Errno::ENOSYS.as_return() as u64);
        // The same calls with values in range get past decoding: a kernel thread has no
        // address space (thread_create: EPERM) and a user priority 5 is kernel-only (EPERM).
        let in_range = call(
            Sysno::ThreadCreate,
            [0x40_0000, 0, 0x7F_0000_0000, 20, 0, 0],
        );
        kassert_eq!(in_range, Some(Err(Errno::EPERM)));
        kassert_eq!(
            call(Sysno::SchedSetParam, [0, 5, 2, 0, 0, 0]),
            Some(Err(Errno::EPERM))
        );
        Ok(())
    }
);
