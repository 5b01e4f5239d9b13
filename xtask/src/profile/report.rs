//! The profile as a table: instructions per operation by site, the totals, the cross-check
//! against the benchmark's own clock, and a summary by module.

use super::trace::Window;
use super::{Granularity, Space};
use std::collections::HashMap;
use std::fmt::Write as _;

/// What the window is compared with and how much of it to show.
#[derive(Clone, Debug)]
pub struct Summary<'a> {
    /// Benchmark name.
    pub benchmark: &'a str,
    /// Operations in the window (the benchmark's iteration count).
    pub operations: u64,
    /// The instructions the benchmark's clock counted over the same window.
    pub clock_instructions: u64,
    /// The view the sites are in.
    pub granularity: Granularity,
    /// Rows of the site table (the rest are summed in one row).
    pub top: usize,
}

/// `value` with thousands separators and one decimal.
fn per_op(value: f64) -> String {
    let tenths = (value * 10.0).round() as u64;
    format!("{}.{}", grouped(tenths / 10), tenths % 10)
}

/// `n` with thousands separators.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// The module of a site name: its first two path segments (`kernel::sched`, `core::ptr`),
/// the type's for `<T as Trait>::f`, the label itself for assembly.
pub fn module(name: &str) -> String {
    let path = name.trim_start_matches(['<', '&', '*']);
    let path = path.strip_prefix("mut ").unwrap_or(path);
    let path = path.strip_prefix("dyn ").unwrap_or(path);
    let end = path
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(path.len());
    let segments: Vec<&str> = path[..end]
        .split("::")
        .filter(|s| !s.is_empty())
        .take(2)
        .collect();
    if segments.is_empty() {
        name.to_owned()
    } else {
        segments.join("::")
    }
}

/// The whole report.
pub fn render(window: &Window, summary: &Summary<'_>) -> String {
    let ops = summary.operations.max(1) as f64;
    let total = window.instructions;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "profile of {}: {} operations, instructions by {}",
        summary.benchmark,
        grouped(summary.operations),
        summary.granularity.noun()
    );
    let difference = total as i128 - i128::from(summary.clock_instructions);
    let relative = percent(total, summary.clock_instructions.max(1)) - 100.0;
    let _ = writeln!(
        out,
        "  trace:     {:>14} instructions in the window, {:>10} per operation",
        grouped(total),
        per_op(total as f64 / ops)
    );
    let _ = writeln!(
        out,
        "  benchmark: {:>14} instructions by its clock,  {:>10} per operation \
         (trace - clock: {difference:+} instructions, {relative:+.3}%)",
        grouped(summary.clock_instructions),
        per_op(summary.clock_instructions as f64 / ops)
    );
    if window.unknown_blocks > 0 {
        let _ = writeln!(
            out,
            "  warning: {} of {} block runs had no translation in the log and are not counted",
            grouped(window.unknown_blocks),
            grouped(window.blocks)
        );
    }
    let _ = writeln!(out);
    let with_entries = summary.granularity == Granularity::Symbol;
    let _ = writeln!(
        out,
        "{:>10} {:>6} {:>9}  {:<6}  {:<16} {}",
        "instr/op",
        "%",
        if with_entries { "calls/op" } else { "" },
        "space",
        "program",
        summary.granularity.noun()
    );
    for s in window.sites.iter().take(summary.top) {
        let entries = if with_entries {
            format!("{:.2}", s.entries as f64 / ops)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{:>10} {:>5.1}% {:>9}  {:<6}  {:<16} {}",
            per_op(s.instructions as f64 / ops),
            percent(s.instructions, total),
            entries,
            s.site.space.as_str(),
            s.site.place,
            s.site.name
        );
    }
    let rest: Vec<_> = window.sites.iter().skip(summary.top).collect();
    if !rest.is_empty() {
        let sum: u64 = rest.iter().map(|s| s.instructions).sum();
        let _ = writeln!(
            out,
            "{:>10} {:>5.1}% {:>9}  {:<6}  {:<16} ({} more)",
            per_op(sum as f64 / ops),
            percent(sum, total),
            "",
            "",
            "",
            rest.len()
        );
    }
    let _ = writeln!(
        out,
        "{:>10} {:>5.1}% {:>9}  {:<6}  {:<16} total",
        per_op(total as f64 / ops),
        100.0,
        "",
        "",
        ""
    );
    let _ = writeln!(out);
    for space in [Space::Kernel, Space::User] {
        let sum: u64 = window
            .sites
            .iter()
            .filter(|s| s.site.space == space)
            .map(|s| s.instructions)
            .sum();
        let _ = writeln!(
            out,
            "{:<6} {:>10} per operation ({:.1}%)",
            space.as_str(),
            per_op(sum as f64 / ops),
            percent(sum, total)
        );
    }
    if summary.granularity != Granularity::Line {
        let _ = writeln!(out);
        let _ = writeln!(out, "by module:");
        let mut modules: HashMap<(Space, String), u64> = HashMap::new();
        for s in &window.sites {
            *modules
                .entry((s.site.space, module(&s.site.name)))
                .or_default() += s.instructions;
        }
        let mut modules: Vec<_> = modules.into_iter().collect();
        modules.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        for ((space, name), n) in modules.iter().take(summary.top) {
            let _ = writeln!(
                out,
                "{:>10} {:>5.1}%  {:<6}  {name}",
                per_op(*n as f64 / ops),
                percent(*n, total),
                space.as_str()
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Site;
    use crate::profile::trace::SiteCount;

    fn count(name: &str, space: Space, instructions: u64, entries: u64) -> SiteCount {
        SiteCount {
            site: Site {
                name: name.into(),
                place: if space == Space::Kernel {
                    "kernel"
                } else {
                    "ipc_bench"
                }
                .into(),
                space,
            },
            instructions,
            entries,
        }
    }

    #[test]
    fn modules_are_the_first_two_path_segments() {
        assert_eq!(module("kernel::sched::switch_to"), "kernel::sched");
        assert_eq!(
            module("<kernel::fs::FdTable as core::ops::Drop>::drop"),
            "kernel::fs"
        );
        assert_eq!(
            module("core::ptr::drop_in_place<alloc::vec::Vec<u8>>"),
            "core::ptr"
        );
        assert_eq!(module("el0_sync"), "el0_sync");
        assert_eq!(module("?"), "?");
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(11_598_000), "11,598,000");
        assert_eq!(per_op(5799.04), "5,799.0");
    }

    #[test]
    fn the_table_shows_per_operation_costs_and_totals() {
        let window = Window {
            markers: 2,
            sites: vec![
                count("kernel::ipc::send", Space::Kernel, 6000, 20),
                count("liteipc::transact", Space::User, 3000, 10),
                count("kernel::sched::pick", Space::Kernel, 1000, 10),
            ],
            instructions: 10_000,
            blocks: 2000,
            unknown_blocks: 0,
        };
        let summary = Summary {
            benchmark: "ipc_rt_64",
            operations: 10,
            clock_instructions: 10_050,
            granularity: Granularity::Symbol,
            top: 2,
        };
        let text = render(&window, &summary);
        let row = |needle: &str| {
            text.lines()
                .find(|l| l.ends_with(needle))
                .unwrap_or_else(|| panic!("no row {needle} in\n{text}"))
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(row("kernel::ipc::send")[..3], ["600.0", "60.0%", "2.00"]);
        assert_eq!(
            row("liteipc::transact")[..4],
            ["300.0", "30.0%", "1.00", "user"]
        );
        assert_eq!(row("(1 more)")[..2], ["100.0", "10.0%"]);
        assert_eq!(row("total")[..2], ["1,000.0", "100.0%"]);
        assert!(
            text.contains("(trace - clock: -50 instructions, -0.498%)"),
            "{text}"
        );
        assert_eq!(row("per operation (70.0%)")[..2], ["kernel", "700.0"]);
        assert_eq!(row("kernel::ipc")[..2], ["600.0", "60.0%"]);
        assert!(!text.contains("warning"));
    }
}
