//! Typed access to user memory for system calls. Every pointer and length is checked (by
//! range and by the MMU through unprivileged accesses); a bad one is `EFAULT`, never a
//! kernel fault.

use crate::arch::usercopy;
use abi::Errno;
use abi::syscall::UserStr;
use alloc::string::String;
use alloc::vec::Vec;
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// Reads a `T` from user address `addr`.
pub fn read_struct<T: FromBytes + IntoBytes>(addr: usize) -> Result<T, Errno> {
    let mut value = T::new_zeroed();
    usercopy::copy_from_user(value.as_mut_bytes(), addr as u64).map_err(|_| Errno::EFAULT)?;
    Ok(value)
}

/// Reads a `T` from user address `addr` into `value` (no temporary: for hot paths).
pub fn read_into<T: FromBytes + IntoBytes>(addr: usize, value: &mut T) -> Result<(), Errno> {
    usercopy::copy_from_user(value.as_mut_bytes(), addr as u64).map_err(|_| Errno::EFAULT)
}

/// Writes `value` to user address `addr`.
pub fn write_struct<T: IntoBytes + Immutable>(addr: usize, value: &T) -> Result<(), Errno> {
    usercopy::copy_to_user(addr as u64, value.as_bytes()).map_err(|_| Errno::EFAULT)
}

/// Reads `len` bytes (at most `max`, else `limit_error`).
pub fn read_bytes(
    addr: usize,
    len: usize,
    max: usize,
    limit_error: Errno,
) -> Result<Vec<u8>, Errno> {
    if len > max {
        return Err(limit_error);
    }
    let mut buf = alloc::vec![0; len];
    usercopy::copy_from_user(&mut buf, addr as u64).map_err(|_| Errno::EFAULT)?;
    Ok(buf)
}

/// Writes `data` to user address `addr`.
pub fn write_bytes(addr: usize, data: &[u8]) -> Result<(), Errno> {
    usercopy::copy_to_user(addr as u64, data).map_err(|_| Errno::EFAULT)
}

/// Reads a UTF-8 string of at most `max` bytes.
pub fn read_string(s: UserStr, max: usize) -> Result<String, Errno> {
    let bytes = read_bytes(s.ptr, s.len, max, Errno::ENAMETOOLONG)?;
    String::from_utf8(bytes).map_err(|_| Errno::EINVAL)
}

/// Reads `count` strings described by an array of [`UserStr`] at `addr`, with at most
/// `max_count` entries and `max_total` bytes in all.
pub fn read_string_array(
    addr: usize,
    count: usize,
    max_count: usize,
    max_total: usize,
) -> Result<Vec<String>, Errno> {
    if count > max_count {
        return Err(Errno::E2BIG);
    }
    let mut total = 0usize;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let entry_addr = addr
            .checked_add(i * size_of::<UserStr>())
            .ok_or(Errno::EFAULT)?;
        let entry: UserStr = read_struct(entry_addr)?;
        total = total.checked_add(entry.len).ok_or(Errno::E2BIG)?;
        if total > max_total {
            return Err(Errno::E2BIG);
        }
        out.push(read_string(entry, max_total)?);
    }
    Ok(out)
}

/// Reads a u32 atomically enough for futex checks (one unprivileged load).
pub fn read_u32(addr: usize) -> Result<u32, Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    read_struct::<u32>(addr)
}
