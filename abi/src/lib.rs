//! The user/kernel ABI, defined once and used by both sides.
//!
//! Convention: `svc #0`, syscall number in x8, arguments in x0..x5, result in x0;
//! a negative result `-e` means the call failed with errno `e` (Linux values).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// Defines a `#[repr(...)]` enum with explicit numbers together with `ALL` (every variant)
/// and `from_raw` (number to variant), from one list, so the three cannot disagree: the
/// compiler rejects a number given twice, and a variant cannot be missing from either.
macro_rules! numbered_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $repr:ty {
            $($(#[$vmeta:meta])* $variant:ident = $value:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[repr($repr)]
        $vis enum $name {
            $($(#[$vmeta])* $variant = $value,)*
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The variant numbered `value`, if there is one.
            #[inline]
            pub const fn from_raw(value: $repr) -> Option<$name> {
                match value {
                    $($value => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

pub mod errno;
pub mod liteipc;
pub mod socket;
pub mod syscall;

pub use errno::Errno;
pub use syscall::Sysno;
