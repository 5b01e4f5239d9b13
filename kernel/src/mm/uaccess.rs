//! Typed access to the running process's memory (hubris `umem`): reads and writes through
//! [`UserPtr`] and [`UserSlice`] (what the system call decoder makes of pointer arguments).
//! Every access is checked by range and by the MMU through unprivileged loads and stores; a
//! bad one is `EFAULT`, never a kernel fault.

use crate::arch::usercopy;
use abi::Errno;
use abi::syscall::UserStr;
use alloc::string::String;
use alloc::vec::Vec;
pub use kcore::syscall::{UserPtr, UserSlice};
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// Reads the `T` at `ptr`.
pub fn read<T: FromBytes + IntoBytes>(ptr: UserPtr<T>) -> Result<T, Errno> {
    let mut value = T::new_zeroed();
    read_into(ptr, &mut value)?;
    Ok(value)
}

/// Reads the `T` at `ptr` into `value` (no temporary: for hot paths).
pub fn read_into<T: FromBytes + IntoBytes>(ptr: UserPtr<T>, value: &mut T) -> Result<(), Errno> {
    usercopy::copy_from_user(value.as_mut_bytes(), ptr.addr()).map_err(|_| Errno::EFAULT)
}

/// Writes `value` to `ptr`.
pub fn write<T: IntoBytes + Immutable>(ptr: UserPtr<T>, value: &T) -> Result<(), Errno> {
    usercopy::copy_to_user(ptr.addr(), value.as_bytes()).map_err(|_| Errno::EFAULT)
}

/// Reads the bytes of `slice` if there are at most `max`, else fails with `limit_error`.
pub fn read_bytes(slice: UserSlice, max: usize, limit_error: Errno) -> Result<Vec<u8>, Errno> {
    if slice.len() > max {
        return Err(limit_error);
    }
    let mut buf = alloc::vec![0; slice.len()];
    usercopy::copy_from_user(&mut buf, slice.addr()).map_err(|_| Errno::EFAULT)?;
    Ok(buf)
}

/// Writes `data` at the start of `slice` (EINVAL if it does not fit).
pub fn write_bytes(slice: UserSlice, data: &[u8]) -> Result<(), Errno> {
    if data.len() > slice.len() {
        return Err(Errno::EINVAL);
    }
    usercopy::copy_to_user(slice.addr(), data).map_err(|_| Errno::EFAULT)
}

/// Reads a UTF-8 string of at most `max` bytes (`ENAMETOOLONG` beyond).
pub fn read_string(slice: UserSlice, max: usize) -> Result<String, Errno> {
    let bytes = read_bytes(slice, max, Errno::ENAMETOOLONG)?;
    String::from_utf8(bytes).map_err(|_| Errno::EINVAL)
}

/// The slice a [`UserStr`] in user memory describes (`EINVAL` for a negative length).
pub fn user_str(s: UserStr) -> Result<UserSlice, Errno> {
    UserSlice::new(s.ptr as u64, s.len as u64)
}

/// Reads `count` strings described by an array of [`UserStr`] at `array`, with at most
/// `max_count` entries and `max_total` bytes in all.
pub fn read_string_array(
    array: UserPtr<UserStr>,
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
        let entry = read(array.offset(i).ok_or(Errno::EFAULT)?)?;
        total = total.checked_add(entry.len).ok_or(Errno::E2BIG)?;
        if total > max_total {
            return Err(Errno::E2BIG);
        }
        out.push(read_string(user_str(entry)?, max_total)?);
    }
    Ok(out)
}

/// Reads a u32 atomically enough for futex checks (one unprivileged load).
pub fn read_u32(ptr: UserPtr<u32>) -> Result<u32, Errno> {
    if !ptr.addr().is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    read(ptr)
}
