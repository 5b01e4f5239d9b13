//! Host tests of the codec: round trips, limits, malformed input, and a fuzz loop.

use super::*;
use abi::liteipc::{MAX_DATA_SIZE, MAX_SP_OBJ_NUM, SpecialObj};
use alloc::vec::Vec;

fn reader(io: &IpcIo) -> IpcIoReader<&IpcIo> {
    IpcIoReader::new(io)
}

#[test]
fn scalars_round_trip_in_4_byte_slots() {
    let mut io = IpcIo::new();
    io.push_bool(true).unwrap();
    io.push_i8(-5).unwrap();
    io.push_u8(250).unwrap();
    io.push_i16(-30000).unwrap();
    io.push_u16(65000).unwrap();
    io.push_i32(i32::MIN).unwrap();
    io.push_u32(u32::MAX).unwrap();
    io.push_i64(i64::MIN).unwrap();
    io.push_u64(u64::MAX).unwrap();
    assert_eq!(io.data().len(), 7 * 4 + 2 * 8);
    let r = reader(&io);
    assert_eq!(r.pop_bool(), Ok(true));
    assert_eq!(r.pop_i8(), Ok(-5));
    assert_eq!(r.pop_u8(), Ok(250));
    assert_eq!(r.pop_i16(), Ok(-30000));
    assert_eq!(r.pop_u16(), Ok(65000));
    assert_eq!(r.pop_i32(), Ok(i32::MIN));
    assert_eq!(r.pop_u32(), Ok(u32::MAX));
    assert_eq!(r.pop_i64(), Ok(i64::MIN));
    assert_eq!(r.pop_u64(), Ok(u64::MAX));
    assert_eq!(r.remaining(), 0);
    assert_eq!(r.pop_u32(), Err(IpcIoError::Truncated));
}

#[test]
fn strings_and_flat_objects_are_length_prefixed_and_padded() {
    let mut io = IpcIo::new();
    io.push_string("hello").unwrap();
    io.push_flat_obj(&[1, 2, 3]).unwrap();
    io.push_string("").unwrap();
    io.push_u32(7).unwrap();
    // 4 + 6 -> 12; 4 + 3 -> 8; 4 + 1 -> 8; 4.
    assert_eq!(io.data().len(), 12 + 8 + 8 + 4);
    let r = reader(&io);
    let (a, b, c) = (r.pop_string(), r.pop_flat_obj(), r.pop_string());
    assert_eq!((a, b, c), (Ok("hello"), Ok(&[1u8, 2, 3][..]), Ok("")));
    assert_eq!(r.pop_u32(), Ok(7));
}

#[test]
fn narrow_reads_check_the_range() {
    let mut io = IpcIo::new();
    io.push_u32(2).unwrap();
    io.push_i32(200).unwrap();
    io.push_u32(70000).unwrap();
    let r = reader(&io);
    assert_eq!(r.pop_bool(), Err(IpcIoError::InvalidValue));
    // A failed pop consumes nothing.
    assert_eq!(r.pop_u32(), Ok(2));
    assert_eq!(r.pop_i8(), Err(IpcIoError::InvalidValue));
    assert_eq!(r.pop_u8(), Ok(200));
    assert_eq!(r.pop_u16(), Err(IpcIoError::InvalidValue));
    assert_eq!(r.pop_u32(), Ok(70000));
}

#[test]
fn special_objects_round_trip_with_offsets() {
    let svc = SvcIdentity {
        handle: 3,
        token: 4,
        cookie: 5,
    };
    let mut io = IpcIo::new();
    io.push_u32(1).unwrap();
    io.push_svc(svc).unwrap();
    io.push_buffer(b"payload").unwrap();
    io.push_fd(9).unwrap();
    io.push_u32(2).unwrap();
    assert_eq!(io.offsets(), &[8, 32, 56]);
    let r = reader(&io);
    assert_eq!(r.object_count(), 3);
    assert_eq!(r.pop_u32(), Ok(1));
    assert_eq!(r.pop_buffer(), Err(IpcIoError::WrongObjectType));
    assert_eq!(r.pop_svc(), Ok(svc));
    assert_eq!(r.pop_buffer(), Ok(&b"payload"[..]));
    assert_eq!(r.pop_fd(), Ok(9));
    assert_eq!(r.pop_u32(), Ok(2));
    assert_eq!(r.pop_fd(), Err(IpcIoError::NotAnObject));
}

#[test]
fn objects_must_be_listed() {
    // An object written as plain bytes is not an object.
    let mut io = IpcIo::new();
    io.push_raw(SpecialObj::fd(3).as_bytes_vec().as_slice())
        .unwrap();
    assert_eq!(reader(&io).pop_fd(), Err(IpcIoError::NotAnObject));
}

trait AsBytesVec {
    fn as_bytes_vec(&self) -> Vec<u8>;
}

impl AsBytesVec for SpecialObj {
    fn as_bytes_vec(&self) -> Vec<u8> {
        zerocopy::IntoBytes::as_bytes(self).to_vec()
    }
}

#[test]
fn writer_limits_hold_and_leave_it_unchanged() {
    let mut io = IpcIo::new();
    io.push_raw(&[0u8; MAX_DATA_SIZE - 4]).unwrap();
    io.push_u32(1).unwrap();
    assert_eq!(io.data().len(), MAX_DATA_SIZE);
    assert_eq!(io.push_u32(1), Err(IpcIoError::Overflow));
    assert_eq!(io.push_string(""), Err(IpcIoError::Overflow));
    assert_eq!(io.data().len(), MAX_DATA_SIZE);

    let mut io = IpcIo::new();
    io.push_raw(&[0u8; MAX_DATA_SIZE - 8]).unwrap();
    assert_eq!(io.push_string("abcd"), Err(IpcIoError::Overflow));
    assert_eq!(
        io.push_flat_obj(&[1, 2, 3, 4, 5]),
        Err(IpcIoError::Overflow)
    );
    assert_eq!(io.data().len(), MAX_DATA_SIZE - 8);
    assert_eq!(io.push_flat_obj(&[1, 2, 3, 4]), Ok(()));

    let mut io = IpcIo::new();
    for i in 0..MAX_SP_OBJ_NUM {
        if io.push_fd(i as u32).is_err() {
            // Data runs out first: 256 objects of 24 bytes exceed 6144.
            assert_eq!(i, MAX_DATA_SIZE / 24);
            break;
        }
    }
    let mut many = IpcIo::new();
    let mut pushed = 0;
    while many.push_fd(1).is_ok() {
        pushed += 1;
    }
    assert_eq!(pushed, MAX_DATA_SIZE / 24);
}

#[test]
fn malformed_strings_are_errors() {
    let mut io = IpcIo::new();
    io.push_u32(3).unwrap();
    io.push_raw(b"abcx").unwrap(); // no NUL
    assert_eq!(reader(&io).pop_string(), Err(IpcIoError::InvalidValue));
    let mut io = IpcIo::new();
    io.push_u32(2).unwrap();
    io.push_raw(&[0xFF, 0xFE, 0, 0]).unwrap();
    assert_eq!(reader(&io).pop_string(), Err(IpcIoError::InvalidValue));
    let mut io = IpcIo::new();
    io.push_u32(u32::MAX).unwrap();
    assert_eq!(reader(&io).pop_string(), Err(IpcIoError::Truncated));
    assert_eq!(reader(&io).pop_flat_obj(), Err(IpcIoError::Truncated));
}

#[test]
fn pointers_outside_the_pool_are_bad_buffers() {
    let obj = SpecialObj::ptr(16, 0x1000);
    let data = obj.as_bytes_vec();
    let offsets = 0u64.to_le_bytes();
    let pool = [7u8; 32];
    let at = |base| SliceSource {
        data: &data,
        offsets: &offsets,
        pool_base: base,
        pool: &pool,
    };
    assert_eq!(
        IpcIoReader::new(at(0x1000)).pop_buffer(),
        Ok(&[7u8; 16][..])
    );
    assert_eq!(
        IpcIoReader::new(at(0x1010 + 1)).pop_buffer(),
        Err(IpcIoError::BadBuffer)
    );
    assert_eq!(
        IpcIoReader::new(at(0xFEC)).pop_buffer(),
        Err(IpcIoError::BadBuffer)
    );
}

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Random data, offsets (often near real object positions) and pools, read with random
/// pops: nothing panics, and every successful pop stays inside the data.
#[test]
fn fuzz_reader_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let pool_base = 0x4000_0000u64;
    for _ in 0..150_000 {
        let len = rng.below(200) as usize;
        let mut data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Sometimes plant plausible objects so the object paths are exercised deeply.
        let mut offsets: Vec<u8> = Vec::new();
        for _ in 0..rng.below(5) {
            let off = (rng.below(len as u64 + 16) & !7) as usize;
            if rng.below(2) == 0 && off + 24 <= data.len() {
                let obj = match rng.below(4) {
                    0 => SpecialObj::fd(rng.next() as u32),
                    1 => SpecialObj::ptr(rng.below(80) as u32, pool_base + rng.below(80)),
                    2 => SpecialObj::svc(SvcIdentity {
                        handle: rng.next() as u32,
                        token: 1,
                        cookie: 2,
                    }),
                    _ => SpecialObj {
                        obj_type: rng.next() as u32,
                        ..SpecialObj::default()
                    },
                };
                data[off..off + 24].copy_from_slice(&obj.as_bytes_vec());
            }
            let raw = if rng.below(8) == 0 {
                rng.next()
            } else {
                off as u64
            };
            offsets.extend_from_slice(&raw.to_le_bytes());
        }
        // Truncated offset arrays too.
        let cut = offsets.len().saturating_sub(rng.below(3) as usize);
        offsets.truncate(cut);
        let pool: Vec<u8> = (0..rng.below(96)).map(|_| rng.next() as u8).collect();
        let src = SliceSource {
            data: &data,
            offsets: &offsets,
            pool_base,
            pool: &pool,
        };
        let r = IpcIoReader::new(src);
        for _ in 0..12 {
            let before = r.remaining();
            let ok = match rng.below(16) {
                0 => r.pop_bool().is_ok(),
                1 => r.pop_i8().is_ok(),
                2 => r.pop_u8().is_ok(),
                3 => r.pop_i16().is_ok(),
                4 => r.pop_u16().is_ok(),
                5 => r.pop_i32().is_ok(),
                6 => r.pop_u32().is_ok(),
                7 => r.pop_i64().is_ok(),
                8 => r.pop_u64().is_ok(),
                9 => r.pop_string().is_ok(),
                10 => r.pop_flat_obj().is_ok(),
                11 => r.pop_svc().is_ok(),
                12 => r.pop_fd().is_ok(),
                13 => r.pop_buffer().is_ok_and(|b| b.len() <= pool.len()),
                14 => r.pop_raw(rng.below(64) as usize).is_ok(),
                _ => {
                    r.rewind();
                    true
                }
            };
            if !ok {
                assert_eq!(r.remaining(), before, "a failed pop consumed bytes");
            }
        }
    }
}

/// Random pushes, then pops of the same sequence: everything written reads back.
#[test]
fn fuzz_round_trip() {
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let mut io = IpcIo::new();
        let mut ops: Vec<(u64, u64)> = Vec::new();
        for _ in 0..rng.below(20) {
            let (kind, value) = (rng.below(6), rng.next());
            let pushed = match kind {
                0 => io.push_u32(value as u32),
                1 => io.push_i64(value as i64),
                2 => io.push_string(&alloc::format!("{value:x}")),
                3 => io.push_buffer(&value.to_le_bytes()[..(value % 9) as usize]),
                4 => io.push_fd(value as u32),
                _ => io.push_bool(value & 1 == 1),
            };
            if pushed.is_ok() {
                ops.push((kind, value));
            }
        }
        let r = reader(&io);
        for (kind, value) in ops {
            match kind {
                0 => assert_eq!(r.pop_u32(), Ok(value as u32)),
                1 => assert_eq!(r.pop_i64(), Ok(value as i64)),
                2 => assert_eq!(r.pop_string(), Ok(alloc::format!("{value:x}").as_str())),
                3 => assert_eq!(
                    r.pop_buffer(),
                    Ok(&value.to_le_bytes()[..(value % 9) as usize])
                ),
                4 => assert_eq!(r.pop_fd(), Ok(value as u32)),
                _ => assert_eq!(r.pop_bool(), Ok(value & 1 == 1)),
            }
        }
        assert_eq!(r.remaining(), 0);
    }
}
