use super::*;

const NONE: [u64; 6] = [0; 6];
/// 2^32: the smallest value that does not fit a `u32`.
const TOO_BIG: u64 = 1 << 32;

fn decode_as(sysno: Sysno, regs: [u64; 6]) -> Result<Request, Errno> {
    decode(sysno as u64, regs)
}

#[test]
fn unknown_numbers_are_enosys() {
    assert_eq!(decode(0, NONE), Err(Errno::ENOSYS));
    assert_eq!(decode(999, NONE), Err(Errno::ENOSYS));
    assert_eq!(decode(u64::MAX, NONE), Err(Errno::ENOSYS));
    assert_eq!(
        decode(Sysno::Write as u64 | 1 << 32, NONE),
        Err(Errno::ENOSYS)
    );
}

/// Arguments with which every call decodes: small values, valid enums, non-null pointers.
fn plausible(sysno: Sysno) -> [u64; 6] {
    match sysno {
        Sysno::Wait => [u64::MAX, 0x1000, 0, 0, 0, 0], // pid -1
        Sysno::Socket => [
            abi::socket::AF_UNIX as u64,
            abi::socket::SOCK_DGRAM as u64,
            0,
            0,
            0,
            0,
        ],
        Sysno::Reboot => [abi::syscall::REBOOT_RESTART as u64, 0, 0, 0, 0, 0],
        Sysno::Exit => [3, 0, 0, 0, 0, 0],
        Sysno::Futex => [0x1000, abi::syscall::futex::WAKE as u64, 1, 0, 0, 0],
        Sysno::ClockGettime => [abi::syscall::clock::MONOTONIC as u64, 0, 0, 0, 0, 0],
        Sysno::Accept => [3, 0, 0, 0, 0, 0],
        _ => [0x1000, 8, 0, 0, 0, 0],
    }
}

#[test]
fn every_sysno_decodes_to_its_own_request() {
    for &sysno in Sysno::ALL {
        let request = decode_as(sysno, plausible(sysno))
            .unwrap_or_else(|e| panic!("{sysno:?} did not decode: {e:?}"));
        assert_eq!(request.sysno(), sysno);
    }
}

#[test]
fn out_of_range_values_are_einval_not_truncated() {
    // thread_create priority 2^32 + 5 would truncate to the valid priority 5.
    let regs = [0x40_0000, 0, 0x7F_0000_0000, TOO_BIG + 5, 0, 0];
    assert_eq!(decode_as(Sysno::ThreadCreate, regs), Err(Errno::EINVAL));
    assert_eq!(
        decode_as(Sysno::SchedSetParam, [0, TOO_BIG + 20, 2, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::SchedSetParam, [0, 20, TOO_BIG + 2, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    // chown uid/gid 2^32 would truncate to root.
    let path = [0x1000, 4];
    assert_eq!(
        decode_as(Sysno::Chown, [path[0], path[1], TOO_BIG, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::Chown, [path[0], path[1], 0, TOO_BIG, 0, 0]),
        Err(Errno::EINVAL)
    );
    // exit status 256 would truncate to 0 (success).
    assert_eq!(
        decode_as(Sysno::Exit, [256, 0, 0, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::Exit, [u64::MAX, 0, 0, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::Exit, [255, 0, 0, 0, 0, 0]),
        Ok(Request::Exit { status: 255 })
    );
    assert_eq!(
        decode_as(Sysno::ThreadExit, [TOO_BIG, 0, 0, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    // Modes, futex values, pids, tids and signals are 32-bit too.
    assert_eq!(
        decode_as(Sysno::Mkdir, [path[0], path[1], TOO_BIG | 0o755, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::Open, [path[0], path[1], 0, TOO_BIG, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::Futex, [0x1000, 0, TOO_BIG, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::Kill, [TOO_BIG + 1, 9, 0, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::Kill, [2, TOO_BIG + 9, 0, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::ThreadJoin, [TOO_BIG + 1, 0, 0, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::Wait, [TOO_BIG + 1, 0, 0, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
}

#[test]
fn negative_lengths_are_einval() {
    let minus_one = u64::MAX;
    for sysno in [Sysno::Read, Sysno::Write, Sysno::Getdents] {
        assert_eq!(
            decode_as(sysno, [1, 0x1000, minus_one, 0, 0, 0]),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            decode_as(sysno, [1, 0x1000, 1 << 63, 0, 0, 0]),
            Err(Errno::EINVAL),
            "{sysno:?}"
        );
    }
    for sysno in [
        Sysno::Open,
        Sysno::Mkdir,
        Sysno::Unlink,
        Sysno::GetHostname,
        Sysno::Dmesg,
    ] {
        assert_eq!(
            decode_as(sysno, [0x1000, minus_one, 0, 0, 0, 0]),
            Err(Errno::EINVAL)
        );
    }
    assert_eq!(
        decode_as(Sysno::SendTo, [3, 0x1000, 8, 0, 0x2000, minus_one]),
        Err(Errno::EINVAL)
    );
    // The largest length an ssize_t holds is accepted; the range is checked on access.
    let max = isize::MAX as u64;
    assert_eq!(
        decode_as(Sysno::Write, [1, 0x1000, max, 0, 0, 0]).map(|r| r.sysno()),
        Ok(Sysno::Write)
    );
}

#[test]
fn signed_arguments_keep_their_sign() {
    assert_eq!(
        decode_as(Sysno::Lseek, [3, (-5i64) as u64, 1, 0, 0, 0]),
        Ok(Request::Lseek {
            fd: Fd(3),
            offset: -5,
            whence: 1
        })
    );
    let mmap = decode_as(Sysno::Mmap, [0, 4096, 3, 0x22, u64::MAX, 0]);
    assert!(
        matches!(mmap, Ok(Request::Mmap { fd: None, .. })),
        "{mmap:?}"
    );
    let poll = decode_as(Sysno::Poll, [0x1000, 1, u64::MAX, 0, 0, 0]);
    assert!(
        matches!(poll, Ok(Request::Poll { timeout_ms: -1, .. })),
        "{poll:?}"
    );
    assert_eq!(
        decode_as(Sysno::Wait, [u64::MAX, 0, 1, 0, 0, 0]),
        Ok(Request::Wait {
            target: WaitFor::Any,
            status: None,
            nohang: true
        })
    );
    for bad_pid in [0, (-2i64) as u64] {
        assert_eq!(
            decode_as(Sysno::Wait, [bad_pid, 0, 0, 0, 0, 0]),
            Err(Errno::EINVAL)
        );
    }
    assert_eq!(
        decode_as(Sysno::Wait, [5, 0, 2, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
}

#[test]
fn enumerated_arguments_are_checked() {
    assert_eq!(
        decode_as(Sysno::ClockGettime, [7, 0, 0, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::Reboot, [9, 0, 0, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::Futex, [0x1000, 7, 0, 0, 0, 0]),
        Err(Errno::ENOSYS)
    );
    assert_eq!(
        decode_as(Sysno::Socket, [2, 5, 0, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(Sysno::Accept, [3, 1 << 20, 0, 0, 0, 0]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        decode_as(
            Sysno::Socket,
            [
                abi::socket::AF_UNIX as u64,
                (abi::socket::SOCK_SEQPACKET | abi::socket::SOCK_CLOEXEC) as u64,
                0,
                0,
                0,
                0
            ]
        ),
        Ok(Request::Socket {
            kind: SocketKind::SeqPacket,
            nonblocking: false,
            cloexec: true
        })
    );
}

#[test]
fn user_pointers_index_without_overflow() {
    let p: UserPtr<u64> = UserPtr::new(0x1000);
    assert_eq!(p.offset(3).map(UserPtr::addr), Some(0x1018));
    assert_eq!(UserPtr::<u64>::new(u64::MAX - 4).offset(1), None);
    let s = UserSlice::new(0x1000, 100).expect("valid");
    assert_eq!(s.truncated(10).len(), 10);
    assert_eq!(s.truncated(1000).len(), 100);
}
