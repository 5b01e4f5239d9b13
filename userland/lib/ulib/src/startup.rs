//! The initial stack image a new process finds at SP, as on Linux (System V AArch64 ABI):
//! `argc`, `argc` argv pointers, NULL, envp pointers, NULL, then (key, value) auxv pairs
//! ending with `AT_NULL`; the NUL-terminated strings sit above, at the stack top.
//!
//! [`StackImage`] parses it from a byte slice plus the address of its first byte, checking
//! every pointer against the slice, so a malformed image yields fewer arguments, never a
//! wild read. Host-tested below with hand-built images.

use abi::syscall::auxv::AT_NULL;

const WORD: usize = core::mem::size_of::<u64>();

/// The bytes from the initial SP up to the stack top, and the address of the first byte.
#[derive(Clone, Copy, Debug)]
pub struct StackImage<'a> {
    bytes: &'a [u8],
    base: usize,
}

impl<'a> StackImage<'a> {
    /// An image of `bytes`, whose first byte is at user address `base` (the initial SP).
    pub const fn new(bytes: &'a [u8], base: usize) -> Self {
        Self { bytes, base }
    }

    /// An image with nothing in it (no arguments, no environment).
    pub const fn empty() -> Self {
        Self {
            bytes: &[],
            base: 0,
        }
    }

    /// The 64-bit word at word index `index`.
    fn word(&self, index: usize) -> Option<usize> {
        let start = index.checked_mul(WORD)?;
        let bytes = self.bytes.get(start..start.checked_add(WORD)?)?;
        let word = u64::from_le_bytes(bytes.try_into().ok()?);
        usize::try_from(word).ok()
    }

    /// The NUL-terminated string at user address `addr`, without its NUL.
    fn string_at(&self, addr: usize) -> Option<&'a [u8]> {
        let offset = addr.checked_sub(self.base)?;
        let rest = self.bytes.get(offset..)?;
        let len = rest.iter().position(|&b| b == 0)?;
        rest.get(..len)
    }

    /// The argument count, as the kernel wrote it.
    pub fn argc(&self) -> usize {
        self.word(0).unwrap_or(0)
    }

    /// Word index of the first envp pointer.
    fn envp_index(&self) -> usize {
        self.argc().saturating_add(2)
    }

    /// Number of envp pointers before the NULL.
    fn envc(&self) -> usize {
        let first = self.envp_index();
        (first..)
            .map_while(|i| self.word(i))
            .take_while(|&ptr| ptr != 0)
            .count()
    }

    /// Argument `index` (0 is the program name), if present and well-formed.
    pub fn arg(&self, index: usize) -> Option<&'a [u8]> {
        if index >= self.argc() {
            return None;
        }
        self.string_at(self.word(index.checked_add(1)?)?)
    }

    /// The arguments, in order; a malformed entry ends the list.
    pub fn args(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let image = *self;
        (0..self.argc()).map_while(move |i| image.arg(i))
    }

    /// The environment strings (`KEY=value`), in order.
    pub fn envs(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let image = *self;
        let first = self.envp_index();
        (first..first + self.envc())
            .map_while(move |i| image.word(i).and_then(|p| image.string_at(p)))
    }

    /// The auxiliary vector pairs before `AT_NULL`.
    pub fn auxv(&self) -> impl Iterator<Item = (usize, usize)> + use<'a> {
        let image = *self;
        let first = self.envp_index() + self.envc() + 1;
        (0..)
            .map_while(move |pair| {
                let key = image.word(first.checked_add(pair * 2)?)?;
                let value = image.word(first.checked_add(pair * 2 + 1)?)?;
                Some((key, value))
            })
            .take_while(|&(key, _)| key != AT_NULL)
    }

    /// The value of auxv entry `key`.
    pub fn aux(&self, key: usize) -> Option<usize> {
        self.auxv().find(|&(k, _)| k == key).map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::syscall::auxv::{AT_PAGESZ, AT_UID};

    /// Lays out an image as the kernel does, at `base`.
    fn build(base: usize, args: &[&str], envs: &[&str], aux: &[(usize, usize)]) -> Vec<u8> {
        let words = 1 + args.len() + 1 + envs.len() + 1 + 2 * (aux.len() + 1);
        let mut strings = Vec::new();
        let mut ptrs = Vec::new();
        for s in args.iter().chain(envs) {
            ptrs.push(base + words * 8 + strings.len());
            strings.extend_from_slice(s.as_bytes());
            strings.push(0);
        }
        let mut image = Vec::new();
        let mut push = |v: usize| image.extend_from_slice(&(v as u64).to_le_bytes());
        push(args.len());
        ptrs[..args.len()].iter().for_each(|&p| push(p));
        push(0);
        ptrs[args.len()..].iter().for_each(|&p| push(p));
        push(0);
        for &(k, v) in aux {
            push(k);
            push(v);
        }
        push(AT_NULL);
        push(0);
        image.extend_from_slice(&strings);
        image
    }

    #[test]
    fn parses_args_env_and_auxv() {
        let base = 0x7F_FEFF_F000;
        let bytes = build(
            base,
            &["/bin/hello", "a", "bc"],
            &["HOME=/", "X=1"],
            &[(AT_PAGESZ, 4096), (AT_UID, 7)],
        );
        let image = StackImage::new(&bytes, base);
        assert_eq!(image.argc(), 3);
        let args: Vec<&[u8]> = image.args().collect();
        assert_eq!(args, [&b"/bin/hello"[..], b"a", b"bc"]);
        let envs: Vec<&[u8]> = image.envs().collect();
        assert_eq!(envs, [&b"HOME=/"[..], b"X=1"]);
        assert_eq!(image.aux(AT_PAGESZ), Some(4096));
        assert_eq!(image.aux(AT_UID), Some(7));
        assert_eq!(image.auxv().count(), 2);
        assert_eq!(image.arg(3), None);
    }

    #[test]
    fn empty_lists_and_empty_image() {
        let base = 0x1000;
        let bytes = build(base, &[], &[], &[]);
        let image = StackImage::new(&bytes, base);
        assert_eq!(image.args().count(), 0);
        assert_eq!(image.envs().count(), 0);
        assert_eq!(image.auxv().count(), 0);
        let empty = StackImage::empty();
        assert_eq!(empty.argc(), 0);
        assert_eq!(empty.args().count(), 0);
        assert_eq!(empty.envs().count(), 0);
    }

    #[test]
    fn hostile_pointers_end_the_list() {
        let base = 0x2000;
        let mut bytes = build(base, &["a", "b"], &["K=v"], &[]);
        // argv[1] points below the image, envp[0] past its end.
        bytes[16..24].copy_from_slice(&0x10u64.to_le_bytes());
        bytes[32..40].copy_from_slice(&(base as u64 + 1_000_000).to_le_bytes());
        let image = StackImage::new(&bytes, base);
        assert_eq!(image.args().collect::<Vec<_>>(), [&b"a"[..]]);
        assert_eq!(image.envs().count(), 0);
    }

    #[test]
    fn huge_argc_and_missing_nul_are_bounded() {
        let base = 0x3000;
        let mut bytes = build(base, &["abc"], &[], &[]);
        bytes[0..8].copy_from_slice(&u64::MAX.to_le_bytes());
        let image = StackImage::new(&bytes, base);
        assert!(image.args().count() <= bytes.len() / 8);
        let mut bytes = build(base, &["abc"], &[], &[]);
        bytes.pop(); // the last string loses its NUL
        let image = StackImage::new(&bytes, base);
        assert_eq!(image.arg(0), None);
    }
}
