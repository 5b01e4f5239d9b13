//! The kernel and user ELFs that a trace's blocks are resolved in: their code (every user
//! program is linked at 0x400000, so a user block is matched by its instruction words to
//! the programs whose code it is), their symbols, and their DWARF (the functions inlined at
//! an address, and its source line).

use super::trace::{Block, Resolve, Resolved};
use super::{Granularity, Site, Space};
use addr2line::gimli::{self, EndianSlice, LittleEndian};
use goblin::elf::{Elf, program_header, sym};

/// Addresses from here up are the kernel's (TTBR1); below, user space (TTBR0).
const KERNEL_HALF: u64 = 0xffff_0000_0000_0000;

/// The name of code no symbol covers, or code that is in no ELF.
pub const UNKNOWN: &str = "?";

/// A function (or assembly label) and the addresses it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Demangled name without the hash.
    pub name: String,
}

type Dwarf<'a> = addr2line::Context<EndianSlice<'a, LittleEndian>>;

/// One program (or the kernel): code, symbols and, if the ELF has it, DWARF.
pub struct Image<'a> {
    name: String,
    code: Vec<(u64, &'a [u8])>,
    symbols: Vec<Symbol>,
    dwarf: Option<Dwarf<'a>>,
}

impl<'a> Image<'a> {
    /// An image from parts: `code` as (address, bytes) ranges, `symbols` as (start, size,
    /// name), a size of 0 meaning "up to the next symbol or the end of the code".
    pub fn new(name: &str, code: Vec<(u64, &'a [u8])>, symbols: &[(u64, u64, &str)]) -> Self {
        let mut sorted: Vec<(u64, u64, &str)> = symbols.to_vec();
        // At one address the sized symbol wins over labels; then the first name.
        sorted.sort_by_key(|&(start, size, _)| (start, size == 0));
        sorted.dedup_by_key(|s| s.0);
        let ends: Vec<u64> = sorted
            .iter()
            .enumerate()
            .map(|(i, &(start, size, _))| {
                if size > 0 {
                    return start.saturating_add(size);
                }
                let code_end = code
                    .iter()
                    .find(|(base, bytes)| (*base..*base + bytes.len() as u64).contains(&start))
                    .map_or(start, |(base, bytes)| base + bytes.len() as u64);
                sorted
                    .get(i + 1)
                    .map_or(code_end, |next| next.0.min(code_end))
            })
            .collect();
        let symbols = sorted
            .iter()
            .zip(ends)
            .map(|(&(start, _, name), end)| Symbol {
                start,
                end,
                name: demangle(name),
            })
            .collect();
        Image {
            name: name.into(),
            code,
            symbols,
            dwarf: None,
        }
    }

    /// Reads an AArch64 ELF: its executable segments, function and label symbols, DWARF.
    pub fn from_elf(name: &str, bytes: &'a [u8]) -> Result<Self, String> {
        let elf = Elf::parse(bytes).map_err(|e| format!("{name}: not an ELF: {e}"))?;
        if elf.header.e_machine != goblin::elf::header::EM_AARCH64 || !elf.little_endian {
            return Err(format!("{name}: not a little-endian AArch64 ELF"));
        }
        let mut code = Vec::new();
        for ph in &elf.program_headers {
            if ph.p_type != program_header::PT_LOAD || ph.p_flags & program_header::PF_X == 0 {
                continue;
            }
            let segment = usize::try_from(ph.p_offset)
                .ok()
                .zip(usize::try_from(ph.p_filesz).ok())
                .and_then(|(offset, size)| bytes.get(offset..offset.checked_add(size)?))
                .ok_or_else(|| format!("{name}: a code segment lies outside the file"))?;
            code.push((ph.p_vaddr, segment));
        }
        let in_code = |addr: u64| {
            code.iter()
                .any(|(base, bytes)| (*base..*base + bytes.len() as u64).contains(&addr))
        };
        let symbols: Vec<(u64, u64, &str)> = elf
            .syms
            .iter()
            .filter(|s| matches!(s.st_type(), sym::STT_FUNC | sym::STT_NOTYPE))
            .filter(|s| s.st_shndx != 0 && in_code(s.st_value))
            .filter_map(|s| Some((s.st_value, s.st_size, elf.strtab.get_at(s.st_name)?)))
            // `$x`/`$d` mark code and data, `.L` are assembler-local labels.
            .filter(|(_, _, n)| !n.is_empty() && !n.starts_with('$') && !n.starts_with(".L"))
            .collect();
        let mut image = Image::new(name, code, &symbols);
        image.dwarf =
            load_dwarf(&elf, bytes).map_err(|e| format!("{name}: unreadable DWARF: {e}"))?;
        Ok(image)
    }

    fn word(&self, addr: u64) -> Option<u32> {
        self.code.iter().find_map(|&(base, bytes)| {
            let offset = usize::try_from(addr.checked_sub(base)?).ok()?;
            let word = bytes.get(offset..offset.checked_add(4)?)?;
            Some(u32::from_le_bytes(word.try_into().ok()?))
        })
    }

    /// Whether `block` is this image's code (every word matches).
    fn holds(&self, block: &Block) -> bool {
        !block.insns.is_empty()
            && block
                .insns
                .iter()
                .all(|&(addr, word)| self.word(addr) == Some(word))
    }

    fn symbol(&self, addr: u64) -> Option<&Symbol> {
        let after = self.symbols.partition_point(|s| s.start <= addr);
        let symbol = self.symbols.get(after.checked_sub(1)?)?;
        (addr < symbol.end).then_some(symbol)
    }

    /// The address of the symbol named `name`.
    pub fn address_of(&self, name: &str) -> Option<u64> {
        self.symbols
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.start)
    }

    /// The name of the site at `addr` in the view `granularity`.
    fn site_name(&self, addr: u64, granularity: Granularity) -> String {
        let symbol = || self.symbol(addr).map_or(UNKNOWN, |s| &s.name).to_owned();
        match granularity {
            Granularity::Symbol => symbol(),
            Granularity::Function => self.innermost(addr).0.unwrap_or_else(symbol),
            Granularity::Line => {
                let (function, line) = self.innermost(addr);
                let function = function.unwrap_or_else(symbol);
                match line {
                    Some(line) => format!("{line} {function}"),
                    None => function,
                }
            }
        }
    }

    /// The innermost function at `addr` that is not the Rust standard library's (whose
    /// generic helpers, `Option::map` and the like, are inlined everywhere) and its source
    /// line there, from DWARF's inline frames. Standard-library code counts to the function
    /// it is inlined into, at the line that calls it.
    fn innermost(&self, addr: u64) -> (Option<String>, Option<String>) {
        let Some(dwarf) = &self.dwarf else {
            return (None, None);
        };
        let Ok(mut frames) = dwarf.find_frames(addr).skip_all_loads() else {
            return (None, None);
        };
        let mut innermost = None;
        while let Ok(Some(frame)) = frames.next() {
            let function = frame
                .function
                .and_then(|f| f.raw_name().ok().map(|n| demangle(&n)));
            let file = frame.location.as_ref().and_then(|l| l.file);
            let line = frame
                .location
                .as_ref()
                .and_then(|l| Some(format!("{}:{}", short_path(l.file?), l.line?)));
            if !file.is_some_and(is_standard_library) {
                return (function, line);
            }
            innermost.get_or_insert((function, line));
        }
        innermost.unwrap_or((None, None))
    }
}

/// Whether `path` is a source file of the Rust standard library (`/rustc/<hash>/library/`).
fn is_standard_library(path: &str) -> bool {
    path.starts_with("/rustc/") || path.contains("/lib/rustlib/src/")
}

/// The DWARF sections of `elf`, if it has any.
fn load_dwarf<'a>(elf: &Elf<'_>, bytes: &'a [u8]) -> Result<Option<Dwarf<'a>>, gimli::Error> {
    let section = |wanted: &str| -> &'a [u8] {
        elf.section_headers
            .iter()
            .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(wanted))
            .filter(|sh| sh.sh_type != goblin::elf::section_header::SHT_NOBITS)
            .and_then(|sh| {
                let offset = usize::try_from(sh.sh_offset).ok()?;
                bytes.get(offset..offset.checked_add(usize::try_from(sh.sh_size).ok()?)?)
            })
            .unwrap_or_default()
    };
    if section(".debug_info").is_empty() {
        return Ok(None);
    }
    let dwarf = gimli::Dwarf::load(|id| {
        Ok::<_, gimli::Error>(EndianSlice::new(section(id.name()), LittleEndian))
    })?;
    addr2line::Context::from_dwarf(dwarf).map(Some)
}

/// A Rust symbol demangled, without its hash; other names as they are.
pub fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// A source path shortened: inside the workspace relative to it, the standard library and
/// crates.io crates from their own root (`core/src/...`, `spin-0.10.0/src/...`).
fn short_path(path: &str) -> String {
    let root = crate::root();
    if let Ok(inner) = std::path::Path::new(path).strip_prefix(&root) {
        return inner.display().to_string();
    }
    if let Some((_, inner)) = path.split_once("/library/") {
        return inner.to_owned();
    }
    if let Some((_, inner)) = path.split_once("/registry/src/") {
        return inner
            .split_once('/')
            .map_or(inner, |(_, crate_path)| crate_path)
            .to_owned();
    }
    path.to_owned()
}

/// The kernel and the user programs that may have run, resolving blocks in one view.
pub struct Images<'a> {
    kernel: Image<'a>,
    programs: Vec<Image<'a>>,
    granularity: Granularity,
    /// (index in `programs`, address) of the window marker.
    marker: (usize, u64),
    /// Translated blocks whose code is in no image (a stale build, or code made at run time).
    pub unmatched_blocks: u64,
}

impl<'a> Images<'a> {
    /// The images, with the window marker at symbol `marker` of program `marker_program`.
    pub fn new(
        kernel: Image<'a>,
        programs: Vec<Image<'a>>,
        granularity: Granularity,
        (marker_program, marker): (&str, &str),
    ) -> Result<Self, String> {
        let index = programs
            .iter()
            .position(|p| p.name == marker_program)
            .ok_or_else(|| format!("no ELF of {marker_program}"))?;
        let addr = programs[index]
            .address_of(marker)
            .ok_or_else(|| format!("{marker_program} has no symbol {marker}"))?;
        Ok(Images {
            kernel,
            programs,
            granularity,
            marker: (index, addr),
            unmatched_blocks: 0,
        })
    }
}

impl Resolve for Images<'_> {
    fn resolve(&mut self, block: &Block) -> Resolved {
        let Some(pc) = block.pc() else {
            return Resolved::default();
        };
        let space = if pc >= KERNEL_HALF {
            Space::Kernel
        } else {
            Space::User
        };
        let candidates: Vec<(usize, &Image<'_>)> = match space {
            Space::Kernel => Some((usize::MAX, &self.kernel))
                .filter(|(_, k)| k.holds(block))
                .into_iter()
                .collect(),
            Space::User => self
                .programs
                .iter()
                .enumerate()
                .filter(|(_, p)| p.holds(block))
                .collect(),
        };
        if candidates.is_empty() {
            self.unmatched_blocks += 1;
        }
        let place = match (space, candidates.is_empty()) {
            (Space::Kernel, _) => "kernel".to_owned(),
            (Space::User, true) => UNKNOWN.to_owned(),
            (Space::User, false) => join(candidates.iter().map(|(_, p)| p.name.clone())),
        };
        let site = |name: String| Site {
            name,
            place: place.clone(),
            space,
        };
        let name_at = |addr: u64, granularity: Granularity| {
            if candidates.is_empty() {
                return UNKNOWN.to_owned();
            }
            join(
                candidates
                    .iter()
                    .map(|(_, p)| p.site_name(addr, granularity)),
            )
        };
        let mut sites: Vec<(Site, u32)> = Vec::new();
        for &(addr, _) in &block.insns {
            let name = name_at(addr, self.granularity);
            match sites.last_mut() {
                Some((last, n)) if last.name == name => *n += 1,
                _ => sites.push((site(name), 1)),
            }
        }
        let starts_function = candidates
            .iter()
            .any(|(_, p)| p.symbol(pc).is_some_and(|s| s.start == pc));
        let entry = (self.granularity == Granularity::Symbol && starts_function)
            .then(|| site(name_at(pc, Granularity::Symbol)));
        let marker = pc == self.marker.1 && candidates.iter().any(|&(i, _)| i == self.marker.0);
        Resolved {
            sites,
            entry,
            marker,
        }
    }
}

/// Distinct names joined with `|`, in their first order.
fn join(names: impl Iterator<Item = String>) -> String {
    let mut distinct: Vec<String> = Vec::new();
    for name in names {
        if !distinct.contains(&name) {
            distinct.push(name);
        }
    }
    distinct.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    fn block(start: u64, words: &[u32]) -> Block {
        Block {
            insns: (start..).step_by(4).zip(words.iter().copied()).collect(),
        }
    }

    #[test]
    fn symbols_cover_up_to_their_size_or_the_next_label() {
        let code = words(&[1, 2, 3, 4, 5, 6]);
        let image = Image::new(
            "p",
            vec![(0x1000, &code)],
            &[
                (0x1000, 8, "_ZN3foo3bar17h0123456789abcdefE"),
                (0x1000, 0, "alias_label"),
                (0x100c, 0, "label"),
            ],
        );
        assert_eq!(
            image.symbol(0x1004).map(|s| s.name.as_str()),
            Some("foo::bar")
        );
        assert_eq!(image.symbol(0x1008), None, "past foo::bar's size");
        assert_eq!(image.symbol(0x1014).map(|s| s.name.as_str()), Some("label"));
        assert_eq!(image.symbol(0x1018), None, "past the code");
        assert_eq!(image.address_of("label"), Some(0x100c));
        assert!(image.holds(&block(0x1004, &[2, 3])));
        assert!(!image.holds(&block(0x1004, &[2, 4])));
        assert!(!image.holds(&block(0x1014, &[6, 7])), "runs past the code");
    }

    /// The code of [`two_programs`]: `a`, `b`, the kernel.
    fn two_programs_code() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        (
            words(&[7, 8, 10, 11]),
            words(&[7, 8, 20, 21]),
            words(&[9, 9]),
        )
    }

    /// Two programs at one address: `a` and `b` share their first function's code.
    fn two_programs<'a>(a: &'a [u8], b: &'a [u8], k: &'a [u8]) -> Images<'a> {
        let kernel = Image::new(
            "kernel",
            vec![(KERNEL_HALF, k)],
            &[(KERNEL_HALF, 0, "vectors")],
        );
        let pa = Image::new(
            "a",
            vec![(0x40_0000, a)],
            &[(0x40_0000, 8, "start"), (0x40_0008, 8, "a_main")],
        );
        let pb = Image::new(
            "b",
            vec![(0x40_0000, b)],
            &[(0x40_0000, 8, "start"), (0x40_0008, 8, "b_main")],
        );
        Images::new(kernel, vec![pa, pb], Granularity::Symbol, ("a", "a_main")).unwrap()
    }

    #[test]
    fn user_blocks_belong_to_the_programs_whose_code_they_are() {
        let (a, b, k) = two_programs_code();
        let mut images = two_programs(&a, &b, &k);

        let shared = images.resolve(&block(0x40_0000, &[7, 8]));
        assert_eq!(shared.sites.len(), 1);
        assert_eq!(shared.sites[0].0.name, "start");
        assert_eq!(shared.sites[0].0.place, "a|b", "the same code in both");
        assert!(!shared.marker);

        let only_b = images.resolve(&block(0x40_0008, &[20, 21]));
        assert_eq!(only_b.sites[0].0.name, "b_main");
        assert_eq!(only_b.sites[0].0.place, "b");
        assert_eq!(only_b.sites[0].1, 2);
        assert!(!only_b.marker, "the marker address, but b's code");
        assert_eq!(only_b.entry.map(|s| s.name), Some("b_main".into()));

        let marker = images.resolve(&block(0x40_0008, &[10, 11]));
        assert!(marker.marker);
        assert_eq!(marker.sites[0].0.place, "a");

        let mid = images.resolve(&block(0x40_000c, &[11]));
        assert_eq!(mid.entry, None, "not at a function's start");
        assert!(!mid.marker);

        assert_eq!(images.unmatched_blocks, 0);
        let nowhere = images.resolve(&block(0x40_0000, &[1, 2]));
        assert_eq!(nowhere.sites[0].0.name, UNKNOWN);
        assert_eq!(nowhere.sites[0].0.place, UNKNOWN);
        assert_eq!(images.unmatched_blocks, 1);
    }

    #[test]
    fn kernel_blocks_are_checked_against_the_kernel_elf() {
        let (a, b, k) = two_programs_code();
        let mut images = two_programs(&a, &b, &k);
        let vectors = images.resolve(&block(KERNEL_HALF, &[9, 9]));
        assert_eq!(vectors.sites[0].0.name, "vectors");
        assert_eq!(vectors.sites[0].0.space, Space::Kernel);
        let stale = images.resolve(&block(KERNEL_HALF, &[9, 1]));
        assert_eq!(stale.sites[0].0.name, UNKNOWN);
        assert_eq!(stale.sites[0].0.place, "kernel");
        assert_eq!(images.unmatched_blocks, 1);
    }

    #[test]
    fn a_missing_marker_is_an_error() {
        let k = words(&[9]);
        let kernel = || Image::new("kernel", vec![(KERNEL_HALF, &k[..])], &[]);
        let err = Images::new(kernel(), vec![], Granularity::Symbol, ("a", "m")).err();
        assert_eq!(err.as_deref(), Some("no ELF of a"));
        let a = Image::new("a", vec![(0x40_0000, &k[..])], &[(0x40_0000, 4, "x")]);
        let err = Images::new(kernel(), vec![a], Granularity::Symbol, ("a", "m")).err();
        assert_eq!(err.as_deref(), Some("a has no symbol m"));
    }

    #[test]
    fn paths_are_shortened() {
        let root = crate::root();
        let inside = root.join("kernel/src/sched/mod.rs");
        assert_eq!(
            short_path(&inside.display().to_string()),
            "kernel/src/sched/mod.rs"
        );
        assert_eq!(
            short_path("/rustc/0123abcd/library/core/src/ptr/mod.rs"),
            "core/src/ptr/mod.rs"
        );
        assert_eq!(
            short_path(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c/spin-0.10.0/src/mutex.rs"
            ),
            "spin-0.10.0/src/mutex.rs"
        );
        assert!(is_standard_library(
            "/rustc/0123abcd/library/core/src/option.rs"
        ));
        assert!(!is_standard_library(&inside.display().to_string()));
    }

    /// (name, type, flags, addr, offset, size, link, entsize) of a section header.
    type SectionHeader = (u32, u32, u64, u64, usize, usize, u32, u64);

    /// A minimal AArch64 ELF: `code` in one R+X segment at `base`, and `symbols` as
    /// (name, address, size, type) in `.symtab`.
    fn tiny_elf(base: u64, code: &[u8], symbols: &[(&str, u64, u64, u8)]) -> Vec<u8> {
        let mut strtab = vec![0u8];
        let mut symtab = vec![0u8; 24];
        for &(name, value, size, kind) in symbols {
            let name_at = strtab.len() as u32;
            strtab.extend(name.bytes().chain([0]));
            symtab.extend(name_at.to_le_bytes());
            symtab.extend([kind, 0]);
            symtab.extend(1u16.to_le_bytes());
            symtab.extend(value.to_le_bytes());
            symtab.extend(size.to_le_bytes());
        }
        let shstrtab = b"\0.text\0.symtab\0.strtab\0.shstrtab\0";
        let code_at = 64 + 56;
        let symtab_at = code_at + code.len();
        let strtab_at = symtab_at + symtab.len();
        let shstrtab_at = strtab_at + strtab.len();
        let sections_at = shstrtab_at + shstrtab.len();
        let mut elf = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        elf.extend(2u16.to_le_bytes());
        elf.extend(183u16.to_le_bytes());
        elf.extend(1u32.to_le_bytes());
        elf.extend(base.to_le_bytes());
        elf.extend(64u64.to_le_bytes());
        elf.extend((sections_at as u64).to_le_bytes());
        elf.extend(0u32.to_le_bytes());
        for half in [64u16, 56, 1, 64, 5, 4] {
            elf.extend(half.to_le_bytes());
        }
        elf.extend(1u32.to_le_bytes());
        elf.extend(5u32.to_le_bytes());
        let size = code.len() as u64;
        for word in [code_at as u64, base, base, size, size, 0x1000] {
            elf.extend(word.to_le_bytes());
        }
        elf.extend(code);
        elf.extend(&symtab);
        elf.extend(&strtab);
        elf.extend(shstrtab);
        let sections: [SectionHeader; 5] = [
            (0, 0, 0, 0, 0, 0, 0, 0),
            (1, 1, 6, base, code_at, code.len(), 0, 0),
            (7, 2, 0, 0, symtab_at, symtab.len(), 3, 24),
            (15, 3, 0, 0, strtab_at, strtab.len(), 0, 0),
            (23, 3, 0, 0, shstrtab_at, shstrtab.len(), 0, 0),
        ];
        for (name, kind, flags, addr, offset, size, link, entsize) in sections {
            elf.extend(name.to_le_bytes());
            elf.extend(kind.to_le_bytes());
            elf.extend(flags.to_le_bytes());
            elf.extend(addr.to_le_bytes());
            elf.extend((offset as u64).to_le_bytes());
            elf.extend((size as u64).to_le_bytes());
            elf.extend(link.to_le_bytes());
            let info: u32 = if kind == 2 { 1 } else { 0 };
            elf.extend(info.to_le_bytes());
            elf.extend(8u64.to_le_bytes());
            elf.extend(entsize.to_le_bytes());
        }
        elf
    }

    #[test]
    fn reads_code_and_symbols_from_an_elf() {
        let code = words(&[0xd503_201f, 0xd65f_03c0, 0x1400_0000]);
        let elf = tiny_elf(
            0x40_0000,
            &code,
            &[
                (
                    "_ZN4ulib4time3now17h0011223344556677E",
                    0x40_0000,
                    8,
                    sym::STT_FUNC,
                ),
                ("$x", 0x40_0000, 0, sym::STT_NOTYPE),
                ("spin", 0x40_0008, 0, sym::STT_NOTYPE),
                ("DATA", 0x40_0004, 4, sym::STT_OBJECT),
            ],
        );
        let image = Image::from_elf("p", &elf).unwrap();
        assert!(image.dwarf.is_none());
        assert!(image.holds(&block(0x40_0000, &[0xd503_201f, 0xd65f_03c0])));
        assert_eq!(
            image.site_name(0x40_0004, Granularity::Symbol),
            "ulib::time::now"
        );
        assert_eq!(
            image.site_name(0x40_0004, Granularity::Line),
            "ulib::time::now"
        );
        assert_eq!(image.site_name(0x40_0008, Granularity::Function), "spin");
        let names: Vec<&str> = image.symbols.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["ulib::time::now", "spin"],
            "no mapping or data symbols"
        );

        let mut x86 = elf.clone();
        x86[18] = 62;
        let err = Image::from_elf("p", &x86).err().unwrap_or_default();
        assert!(err.contains("not a little-endian AArch64"), "{err}");
        assert!(Image::from_elf("p", b"\x7fELF junk").is_err());
    }
}
