//! Parsers for the kernel's boot milestone lines.
//!
//! Each parser takes a whole console line (timestamp and level included) and looks for the
//! message after its tag, so the log prefix format may change freely.

/// The kernel's last boot line: its console takes input from here on, and init starts.
pub const BOOT_COMPLETE: &str = "kernel: boot complete";

/// A RAM range line: `mm: RAM 0x40000000-0x44000000 (64 MiB)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RamRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// The size the line states, in MiB.
    pub mib: u64,
}

/// The text after `tag` in `line`, if `line` has `tag`.
fn after<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    line.find(tag).map(|i| &line[i + tag.len()..])
}

/// Parses a `0x`-prefixed hexadecimal number.
fn hex(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    u64::from_str_radix(&digits.replace('_', ""), 16).ok()
}

/// Parses `mm: RAM <start>-<end> (<n> MiB)`.
pub fn parse_ram(line: &str) -> Option<RamRange> {
    let rest = after(line, "mm: RAM ")?;
    let mut words = rest.split_whitespace();
    let (start, end) = words.next()?.split_once('-')?;
    let mib = words.next()?.strip_prefix('(')?.parse().ok()?;
    if words.next()? != "MiB)" {
        return None;
    }
    Some(RamRange {
        start: hex(start)?,
        end: hex(end)?,
        mib,
    })
}

/// Parses `mm: <N> frames free ... (<K> KiB)` into `(N, K)`; words between `free` and the
/// parenthesis (such as `of 16384`) are allowed.
pub fn parse_frames_free(line: &str) -> Option<(u64, u64)> {
    let rest = after(line, "mm: ")?;
    let (frames, rest) = rest.split_once(" frames free")?;
    let frames = frames.trim().parse().ok()?;
    let (before, _) = rest.split_once(" KiB)")?;
    let kib = before.rsplit_once('(')?.1.trim().parse().ok()?;
    Some((frames, kib))
}

/// The deadline of the one-shot timer interrupt boot sleeps through (`run_init` in the
/// kernel): `timer: first interrupt after` reports no less.
pub const FIRST_TIMER_DEADLINE_MS: f64 = 1.0;

/// Parses `timer: first interrupt after <ms> ms` into the milliseconds.
pub fn parse_first_timer_interrupt(line: &str) -> Option<f64> {
    let rest = after(line, "timer: first interrupt after ")?;
    let mut words = rest.split_whitespace();
    let ms = words.next()?.parse().ok()?;
    (words.next()? == "ms").then_some(ms)
}

/// Parses `timer: virtual timer on interrupt <irq>, <hz> Hz` into `(irq, hz)`.
pub fn parse_timer_frequency(line: &str) -> Option<(u32, u64)> {
    let rest = after(line, "timer: virtual timer on interrupt ")?;
    let (irq, rest) = rest.split_once(", ")?;
    let hz = rest.strip_suffix(" Hz")?;
    Some((irq.parse().ok()?, hz.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_line() {
        let line = "[    0.012345] INFO  mm: RAM 0x40000000-0x44000000 (64 MiB)";
        let ram = parse_ram(line).expect("parses");
        assert_eq!(
            ram,
            RamRange {
                start: 0x4000_0000,
                end: 0x4400_0000,
                mib: 64
            }
        );
        assert_eq!(parse_ram("mm: RAM 0x40000000-0x44000000 64 MiB"), None);
    }

    #[test]
    fn frames_line() {
        let line = "[    0.02] INFO  mm: 15800 frames free (63200 KiB)";
        assert_eq!(parse_frames_free(line), Some((15800, 63200)));
        let line = "mm: 14975 frames free of 16384 (59900 KiB), heap 4096 KiB";
        assert_eq!(parse_frames_free(line), Some((14975, 59900)));
        assert_eq!(parse_frames_free("mm: RAM 0x0-0x1 (1 MiB)"), None);
    }

    #[test]
    fn timer_lines() {
        let line = "[ 0.1] INFO  timer: first interrupt after 1.001 ms";
        assert_eq!(parse_first_timer_interrupt(line), Some(1.001));
        assert_eq!(
            parse_first_timer_interrupt("timer: first interrupt at 1 ms"),
            None
        );
        let line = "[ 0.001] INFO  timer: virtual timer on interrupt 27, 62500000 Hz";
        assert_eq!(parse_timer_frequency(line), Some((27, 62_500_000)));
        assert_eq!(
            parse_timer_frequency("timer: virtual timer on interrupt 27"),
            None
        );
    }
}
