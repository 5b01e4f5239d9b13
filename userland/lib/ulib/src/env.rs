//! The program's arguments, environment and auxiliary vector, read from the initial
//! stack image (strings that are not UTF-8 show up as empty).

use crate::startup::StackImage;

fn text(bytes: &'static [u8]) -> &'static str {
    core::str::from_utf8(bytes).unwrap_or("")
}

/// The arguments, `argv[0]` (the program path) first.
pub fn args() -> impl Iterator<Item = &'static str> {
    crate::rt::image().args().map(text)
}

/// Argument `index`.
pub fn arg(index: usize) -> Option<&'static str> {
    crate::rt::image().arg(index).map(text)
}

/// The environment as `KEY=value` strings.
pub fn vars_raw() -> impl Iterator<Item = &'static str> {
    crate::rt::image().envs().map(text)
}

/// The environment as (key, value) pairs; entries without `=` have an empty value.
pub fn vars() -> impl Iterator<Item = (&'static str, &'static str)> {
    vars_raw().map(|entry| entry.split_once('=').unwrap_or((entry, "")))
}

/// The value of environment variable `key`.
pub fn var(key: &str) -> Option<&'static str> {
    vars().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// The auxiliary vector entry `key` (`abi::syscall::auxv::AT_*`).
pub fn aux(key: usize) -> Option<usize> {
    crate::rt::image().aux(key)
}

/// The program's name: the last component of `argv[0]`, or "?" without one.
pub fn program_name() -> &'static str {
    let path = arg(0).unwrap_or("?");
    path.rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(path)
}

/// The raw stack image, for programs that parse it themselves.
pub fn stack_image() -> StackImage<'static> {
    crate::rt::image()
}
