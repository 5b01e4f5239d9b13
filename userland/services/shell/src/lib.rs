//! The pure parts of `/bin/shell`: the line editor and word splitting, host-tested.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod line;

use alloc::vec::Vec;

/// Splits a command line into words at ASCII whitespace (no quoting).
pub fn words(line: &str) -> Vec<&str> {
    line.split_ascii_whitespace().collect()
}

/// The program a `run` word names: as given when it has a `/`, else `/bin/NAME`.
pub fn program_path(word: &str) -> alloc::string::String {
    if word.contains('/') {
        alloc::string::String::from(word)
    } else {
        alloc::format!("/bin/{word}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_and_resolves_programs() {
        assert_eq!(words("  ls   -l /etc "), ["ls", "-l", "/etc"]);
        assert!(words("   ").is_empty());
        assert_eq!(program_path("true"), "/bin/true");
        assert_eq!(program_path("/bin/hello"), "/bin/hello");
    }
}
