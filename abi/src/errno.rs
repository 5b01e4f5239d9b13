//! Error numbers, with Linux's values so tools and people recognise them.

numbered_enum! {
    /// An error a system call can return. Values match Linux/LiteOS-A errno.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Errno: i32 {
        EPERM = 1,
        ENOENT = 2,
        ESRCH = 3,
        EINTR = 4,
        EIO = 5,
        E2BIG = 7,
        ENOEXEC = 8,
        EBADF = 9,
        ECHILD = 10,
        EAGAIN = 11,
        ENOMEM = 12,
        EACCES = 13,
        EFAULT = 14,
        EBUSY = 16,
        EEXIST = 17,
        ENODEV = 19,
        ENOTDIR = 20,
        EISDIR = 21,
        EINVAL = 22,
        ENFILE = 23,
        EMFILE = 24,
        ENOTTY = 25,
        EFBIG = 27,
        ENOSPC = 28,
        ESPIPE = 29,
        EROFS = 30,
        EPIPE = 32,
        ERANGE = 34,
        EDEADLK = 35,
        ENAMETOOLONG = 36,
        ENOSYS = 38,
        ENOTEMPTY = 39,
        ETIME = 62,
        EOVERFLOW = 75,
        ENOTSOCK = 88,
        EMSGSIZE = 90,
        EADDRINUSE = 98,
        ECONNRESET = 104,
        ENOTCONN = 107,
        ETIMEDOUT = 110,
        ECONNREFUSED = 111,
        ERFKILL = 132,
    }
}

impl Errno {
    /// The value a failing system call leaves in x0: `-errno`.
    pub const fn as_return(self) -> isize {
        -(self as i32 as isize)
    }

    /// Decodes a raw syscall return value: negative values in the errno range are errors.
    pub fn decode(ret: isize) -> Result<usize, Errno> {
        if (-4095..0).contains(&ret) {
            Err(Errno::from_raw(-ret as i32).unwrap_or(Errno::EINVAL))
        } else {
            Ok(ret as usize)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_errno_round_trips_and_nothing_else_decodes() {
        for &e in Errno::ALL {
            assert_eq!(Errno::from_raw(e as i32), Some(e));
            assert_eq!(Errno::decode(e.as_return()), Err(e));
        }
        let decoded = (-10..5000)
            .filter_map(Errno::from_raw)
            .inspect(|e| assert!(Errno::ALL.contains(e)))
            .count();
        assert_eq!(decoded, Errno::ALL.len());
        assert_eq!(Errno::ALL.len(), 42);
        assert_eq!(Errno::from_raw(0), None);
        assert_eq!(Errno::from_raw(9999), None);
    }

    #[test]
    fn non_negative_returns_are_values() {
        assert_eq!(Errno::decode(0), Ok(0));
        assert_eq!(Errno::decode(4096), Ok(4096));
        assert_eq!(Errno::EFAULT as i32, 14);
        assert_eq!(Errno::ERFKILL as i32, 132);
    }
}
