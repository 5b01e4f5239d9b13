//! Reading QEMU's `-d in_asm,nochain,exec` log and counting the instructions each code site
//! executed within the measured window.
//!
//! The log interleaves two kinds of records. `in_asm` prints a block when TCG translates it:
//!
//! ```text
//! IN:
//! 0xffffffff80029144:  d10243ff  sub      sp, sp, #0x90
//! 0xffffffff80029148:  a9057bfd  stp      x29, x30, [sp, #0x50]
//! ```
//!
//! and `exec` prints one line each time a block starts to run:
//!
//! ```text
//! Trace 0: 0x7fd774431d00 [0000000000004000/ffffffff80029144/00000021/ff020200]
//! ```
//!
//! (host address of the translated code / cs_base, guest pc, flags, cflags). With `nochain`
//! every block returns to QEMU's main loop, so every executed block gets its line; a block
//! is logged right before its first run, so the first `Trace` line after an `IN:` block
//! names that block's host address. Host addresses are reused once QEMU flushes its code
//! cache, so the latest `IN:` block for an address wins. A block's line is counted as all
//! of its instructions: QEMU's own instruction counter charges a block whole as well, and
//! gives back only what an exception in the middle of the block did not run (rare outside
//! page faults), so the sum agrees with `-icount` (the profile prints both).

use super::Site;
use std::collections::HashMap;
use std::io::BufRead;

/// A translated block: the address and encoding of each instruction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    /// (guest virtual address, instruction word), in order.
    pub insns: Vec<(u64, u32)>,
}

impl Block {
    /// The guest address of the first instruction.
    pub fn pc(&self) -> Option<u64> {
        self.insns.first().map(|&(pc, _)| pc)
    }
}

/// What a [`Resolve`] makes of a block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Consecutive runs of instructions by site; the counts add up to the block's length.
    pub sites: Vec<(Site, u32)>,
    /// The function whose entry point the block starts at, if it does.
    pub entry: Option<Site>,
    /// Whether the block starts at the window marker (the benchmark's clock read).
    pub marker: bool,
}

/// Attributes translated blocks to code sites.
pub trait Resolve {
    /// Where `block`'s instructions belong.
    fn resolve(&mut self, block: &Block) -> Resolved;
}

/// Instructions and entries of one site within the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteCount {
    /// The site.
    pub site: Site,
    /// Instructions executed there.
    pub instructions: u64,
    /// Times a block started at its entry point (calls, and jumps to the entry).
    pub entries: u64,
}

/// The measured window of a trace: from the first marker block's run up to (not including)
/// the last one's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// Runs of marker blocks in the whole trace (2 for one measurement).
    pub markers: u64,
    /// Per site, most instructions first.
    pub sites: Vec<SiteCount>,
    /// Instructions in the window (the sum over `sites`).
    pub instructions: u64,
    /// Block runs in the window.
    pub blocks: u64,
    /// Block runs in the window whose translation was not in the log (not counted).
    pub unknown_blocks: u64,
}

/// One translated block and what it was resolved to.
struct Translation {
    pc: u64,
    sites: Vec<(usize, u32)>,
    entry: Option<usize>,
    marker: bool,
}

/// Counts per translation, in the window so far.
#[derive(Clone, Default)]
struct Counts {
    runs: Vec<u64>,
    blocks: u64,
    unknown_blocks: u64,
}

/// The parser's state while it reads a log.
struct Reader<'r, R> {
    resolver: &'r mut R,
    sites: Vec<Site>,
    site_ids: HashMap<Site, usize>,
    translations: Vec<Translation>,
    by_host: HashMap<u64, usize>,
    /// The `IN:` block being read, or read and not yet run.
    pending: Option<Block>,
    in_block: bool,
    markers: u64,
    /// Counting since the first marker run; `None` before it.
    counts: Option<Counts>,
    /// The counts at the latest marker run after the first.
    closed: Option<Counts>,
}

impl<R: Resolve> Reader<'_, R> {
    fn line(&mut self, line: &str) -> Result<(), String> {
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix("Trace ") {
            self.in_block = false;
            let (host, pc) = parse_exec(rest).ok_or_else(|| format!("unreadable line {line:?}"))?;
            self.exec(host, pc);
        } else if line.starts_with("IN:") {
            self.in_block = true;
            self.pending = Some(Block::default());
        } else if self.in_block {
            match (parse_insn(line), self.pending.as_mut()) {
                (Some(insn), Some(block)) => block.insns.push(insn),
                _ => self.in_block = false,
            }
        }
        Ok(())
    }

    fn exec(&mut self, host: u64, pc: u64) {
        let translated = self
            .pending
            .take()
            .filter(|block| block.pc() == Some(pc))
            .map(|block| self.translate(&block));
        if let Some(id) = translated {
            self.by_host.insert(host, id);
        }
        let id = translated.or_else(|| {
            self.by_host
                .get(&host)
                .copied()
                .filter(|&id| self.translations[id].pc == pc)
        });
        let Some(id) = id else {
            if let Some(counts) = self.counts.as_mut() {
                counts.blocks += 1;
                counts.unknown_blocks += 1;
            }
            return;
        };
        if self.translations[id].marker {
            self.markers += 1;
            match &self.counts {
                None => self.counts = Some(Counts::default()),
                Some(counts) => self.closed = Some(counts.clone()),
            }
        }
        if let Some(counts) = self.counts.as_mut() {
            if counts.runs.len() <= id {
                counts.runs.resize(id + 1, 0);
            }
            counts.runs[id] += 1;
            counts.blocks += 1;
        }
    }

    fn translate(&mut self, block: &Block) -> usize {
        let resolved = self.resolver.resolve(block);
        let sites = resolved
            .sites
            .into_iter()
            .map(|(site, n)| (self.intern(site), n))
            .collect();
        let entry = resolved.entry.map(|site| self.intern(site));
        self.translations.push(Translation {
            pc: block.pc().unwrap_or_default(),
            sites,
            entry,
            marker: resolved.marker,
        });
        self.translations.len() - 1
    }

    fn intern(&mut self, site: Site) -> usize {
        if let Some(&id) = self.site_ids.get(&site) {
            return id;
        }
        self.sites.push(site.clone());
        self.site_ids.insert(site, self.sites.len() - 1);
        self.sites.len() - 1
    }

    fn finish(self) -> Result<Window, String> {
        let Some(counts) = self.closed else {
            return Err(format!(
                "the trace has {} run(s) of the window marker, not the two that bound a \
                 measurement",
                self.markers
            ));
        };
        let mut instructions = vec![0u64; self.sites.len()];
        let mut entries = vec![0u64; self.sites.len()];
        for (id, &runs) in counts.runs.iter().enumerate() {
            let translation = &self.translations[id];
            for &(site, n) in &translation.sites {
                instructions[site] += runs * u64::from(n);
            }
            if let Some(site) = translation.entry {
                entries[site] += runs;
            }
        }
        let mut sites: Vec<SiteCount> = self
            .sites
            .into_iter()
            .zip(instructions.iter().copied().zip(entries.iter().copied()))
            .filter(|(_, (i, e))| *i > 0 || *e > 0)
            .map(|(site, (instructions, entries))| SiteCount {
                site,
                instructions,
                entries,
            })
            .collect();
        sites.sort_by(|a, b| {
            b.instructions
                .cmp(&a.instructions)
                .then_with(|| a.site.cmp(&b.site))
        });
        Ok(Window {
            markers: self.markers,
            instructions: instructions.iter().sum(),
            sites,
            blocks: counts.blocks,
            unknown_blocks: counts.unknown_blocks,
        })
    }
}

/// Reads a whole log and returns its measured window.
pub fn window(log: impl BufRead, resolver: &mut impl Resolve) -> Result<Window, String> {
    let mut reader = Reader {
        resolver,
        sites: Vec::new(),
        site_ids: HashMap::new(),
        translations: Vec::new(),
        by_host: HashMap::new(),
        pending: None,
        in_block: false,
        markers: 0,
        counts: None,
        closed: None,
    };
    let mut log = log;
    let mut line = String::new();
    loop {
        line.clear();
        let n = log
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the trace: {e}"))?;
        if n == 0 {
            break;
        }
        reader.line(&line)?;
    }
    reader.finish()
}

/// `0: 0x7fd774431d00 [0000000000004000/ffffffff80029144/00000021/ff020200]` (after
/// `Trace `) as (host address, guest pc).
fn parse_exec(rest: &str) -> Option<(u64, u64)> {
    let (_cpu, rest) = rest.split_once(": ")?;
    let (host, rest) = rest.split_once(' ')?;
    let host = u64::from_str_radix(host.strip_prefix("0x")?, 16).ok()?;
    let fields = rest.strip_prefix('[')?.split(']').next()?;
    let pc = fields.split('/').nth(1)?;
    Some((host, u64::from_str_radix(pc, 16).ok()?))
}

/// `0xffffffff80029144:  d10243ff  sub      sp, sp, #0x90` as (address, word).
fn parse_insn(line: &str) -> Option<(u64, u32)> {
    let (addr, rest) = line.strip_prefix("0x")?.split_once(':')?;
    let word = rest.split_whitespace().next()?;
    if word.len() != 8 {
        return None;
    }
    Some((
        u64::from_str_radix(addr, 16).ok()?,
        u32::from_str_radix(word, 16).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Space;

    /// Each instruction is its own site, named by its word; marker at 0x100.
    struct ByWord;

    impl Resolve for ByWord {
        fn resolve(&mut self, block: &Block) -> Resolved {
            Resolved {
                sites: block
                    .insns
                    .iter()
                    .map(|&(_, word)| (site(&format!("{word:x}")), 1))
                    .collect(),
                entry: Some(site(&format!("entry {:x}", block.pc().unwrap_or(0)))),
                marker: block.pc() == Some(0x100),
            }
        }
    }

    fn site(name: &str) -> Site {
        Site {
            name: name.into(),
            place: "kernel".into(),
            space: Space::Kernel,
        }
    }

    /// (instructions, entries) of site `name`.
    fn counted(window: &Window, name: &str) -> (u64, u64) {
        window
            .sites
            .iter()
            .find(|s| s.site.name == name)
            .map_or((0, 0), |s| (s.instructions, s.entries))
    }

    fn count(window: &Window, name: &str) -> u64 {
        counted(window, name).0
    }

    fn entries(window: &Window, name: &str) -> u64 {
        counted(window, name).1
    }

    /// An `in_asm` record of a block of instructions (address, word).
    fn translated(insns: &[(u64, u32)]) -> String {
        let mut out = String::from("----------------\nIN: \n");
        for (addr, word) in insns {
            out += &format!("0x{addr:08x}:  {word:08x}  insn\n");
        }
        out + "\n"
    }

    /// An `exec` line: block at host address `host` runs at `pc`.
    fn ran(host: u64, pc: u64) -> String {
        format!("Trace 0: 0x{host:x} [0000000000004000/{pc:016x}/00000021/ff020200] \n")
    }

    /// Marker block A (2 instructions at 0x100, host 0x1000) and block B (3 at 0x200, host
    /// 0x2000), each run once as translated.
    fn a_and_b() -> String {
        let a = translated(&[(0x100, 0xd503_201f), (0x104, 0xd65f_03c0)]) + &ran(0x1000, 0x100);
        let b = translated(&[
            (0x200, 0xaaaa_0001),
            (0x204, 0xaaaa_0002),
            (0x208, 0xaaaa_0003),
        ]);
        a + &b + &ran(0x2000, 0x200)
    }

    #[test]
    fn counts_only_between_the_first_and_last_marker() {
        let before = translated(&[(0x300, 0xbbbb_0001)]) + &ran(0x3000, 0x300);
        // Window: A, B, B; then the closing marker A and one more B, not counted.
        let log =
            before + &a_and_b() + &ran(0x2000, 0x200) + &ran(0x1000, 0x100) + &ran(0x2000, 0x200);
        let window = window(log.as_bytes(), &mut ByWord).unwrap();
        assert_eq!(window.markers, 2);
        assert_eq!(window.instructions, 2 + 2 * 3);
        assert_eq!(window.blocks, 3);
        assert_eq!(count(&window, "bbbb0001"), 0);
        assert_eq!(count(&window, "aaaa0002"), 2);
        assert_eq!(count(&window, "d503201f"), 1);
        assert_eq!(entries(&window, "entry 200"), 2);
        assert_eq!(entries(&window, "entry 100"), 1);
        assert_eq!(window.sites[0].instructions, 2, "sorted by instructions");
    }

    #[test]
    fn a_reused_host_address_maps_to_its_latest_block() {
        // After A, B: block C (1 instruction at 0x400) is translated to B's host address.
        let c = translated(&[(0x400, 0xcccc_0001)]);
        let log = a_and_b() + &c + &ran(0x2000, 0x400) + &ran(0x2000, 0x400) + &ran(0x1000, 0x100);
        let window = window(log.as_bytes(), &mut ByWord).unwrap();
        assert_eq!(count(&window, "aaaa0001"), 1);
        assert_eq!(count(&window, "cccc0001"), 2);
        assert_eq!(window.instructions, 2 + 3 + 2);
        assert_eq!(window.unknown_blocks, 0);
    }

    #[test]
    fn untranslated_blocks_are_reported_not_guessed() {
        let log = a_and_b() + &ran(0x9000, 0x900) + &ran(0x1000, 0x100);
        let window = window(log.as_bytes(), &mut ByWord).unwrap();
        assert_eq!(window.unknown_blocks, 1);
        assert_eq!(window.blocks, 3);
        assert_eq!(window.instructions, 2 + 3);
    }

    #[test]
    fn a_host_address_seen_at_another_pc_is_unknown() {
        // 0x2000 was translated for 0x200; a line naming it at 0x500 is stale.
        let log = a_and_b() + &ran(0x2000, 0x500) + &ran(0x1000, 0x100);
        let window = window(log.as_bytes(), &mut ByWord).unwrap();
        assert_eq!(window.unknown_blocks, 1);
        assert_eq!(window.instructions, 2 + 3);
    }

    #[test]
    fn a_translation_not_run_next_is_dropped() {
        // QEMU retranslates (e.g. after a code-buffer flush) before running: the first `IN:`
        // record is superseded by the second.
        let stale = translated(&[(0x200, 0xdead_0001)]);
        let log = translated(&[(0x100, 0xd503_201f)])
            + &ran(0x1000, 0x100)
            + &stale
            + &translated(&[(0x200, 0xaaaa_0001)])
            + &ran(0x2000, 0x200)
            + &ran(0x1000, 0x100);
        let window = window(log.as_bytes(), &mut ByWord).unwrap();
        assert_eq!(count(&window, "dead0001"), 0);
        assert_eq!(count(&window, "aaaa0001"), 1);
    }

    #[test]
    fn one_marker_is_not_a_window() {
        let err = window(a_and_b().as_bytes(), &mut ByWord).unwrap_err();
        assert!(err.contains("1 run(s)"), "{err}");
    }

    #[test]
    fn parses_exec_and_insn_lines() {
        assert_eq!(
            parse_exec("0: 0x7fd774431d00 [0000000000004000/ffffffff80029144/00000021/ff020200] "),
            Some((0x7fd7_7443_1d00, 0xffff_ffff_8002_9144))
        );
        assert_eq!(parse_exec("0: garbage"), None);
        assert_eq!(
            parse_insn("0xffffffff80029144:  d10243ff  sub      sp, sp, #0x90"),
            Some((0xffff_ffff_8002_9144, 0xd102_43ff))
        );
        assert_eq!(parse_insn("0x400000:  OBJD-T: 1f2003d5"), None);
        assert_eq!(parse_insn(""), None);
    }

    #[test]
    fn a_malformed_trace_line_is_an_error() {
        let err = window("Trace 0: nonsense\n".as_bytes(), &mut ByWord).unwrap_err();
        assert!(err.contains("unreadable"), "{err}");
    }
}
