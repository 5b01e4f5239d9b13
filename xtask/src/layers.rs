//! The kernel's layering, checked: reads every `kernel/src` file's `use` declarations and
//! `crate::`/`super::`/`self::`/child-module paths, resolves them to module files, and reports
//!
//! - an import from a top-level module into one of the same or a higher layer, where the
//!   layers are the table under `## Layers` in the kernel's crate docs (`kernel/src/main.rs`),
//!   so the docs and the check cannot drift apart;
//! - a top-level module the table does not place;
//! - a cycle between module files (a set of files that import each other in a circle).
//!
//! Exempt: the crate root (it wires the layers together), the on-target test suite
//! (`kernel/src/tests`, which exercises every layer), `#[cfg(test)] mod ... { }` blocks, and
//! imports of the test harness `ktest` (its macros are used by test code at every layer).
//!
//! The reading is textual (comments and string literals are blanked first), which is enough
//! for the kernel's style; a path it cannot resolve to a kernel module is not an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module whose imports are never checked (it exercises every layer).
const TEST_SUITE: &str = "tests";
/// Module anyone may import (the test harness behind `ktest!`/`kassert!`).
const TEST_HARNESS: &str = "ktest";

/// A module path from the crate root: `["mm", "frame"]`; the root is empty.
type ModPath = Vec<String>;

/// One kernel source file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to `kernel/src`, with `/` separators.
    pub rel: String,
    /// The file's text.
    pub text: String,
}

/// One import that breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Where (`kernel/src/<file>:<line>`), or the files of a cycle.
    pub place: String,
    /// What is wrong.
    pub message: String,
}

/// Reads every `.rs` file under `src_dir` (the kernel's `src`).
pub fn read_tree(src_dir: &Path) -> Result<Vec<SourceFile>, String> {
    let mut files = Vec::new();
    let mut pending = vec![src_dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let rel = path
                    .strip_prefix(src_dir)
                    .map_err(|e| e.to_string())?
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push(SourceFile { rel, text });
            }
        }
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(files)
}

/// The module path a file defines: `mm/frame.rs` -> `mm::frame`, `mm/mod.rs` -> `mm`.
fn module_of(rel: &str) -> ModPath {
    let trimmed = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: ModPath = trimmed.split('/').map(String::from).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "main" | "lib")
    ) {
        parts.pop();
    }
    parts
}

/// The layer table from the crate docs: `| 3 | `mm`, `board` | ... |` rows under `## Layers`.
pub fn parse_layers(root_text: &str) -> Result<BTreeMap<String, u32>, String> {
    let mut layers = BTreeMap::new();
    let mut in_section = false;
    for line in root_text.lines() {
        let Some(doc) = line.trim_start().strip_prefix("//!") else {
            continue;
        };
        let doc = doc.trim();
        if let Some(heading) = doc.strip_prefix("## ") {
            in_section = heading.trim() == "Layers";
            continue;
        }
        if !in_section || !doc.starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = doc.trim_matches('|').split('|').map(str::trim).collect();
        let (Some(number), Some(modules)) = (cells.first(), cells.get(1)) else {
            continue;
        };
        let Ok(layer) = number.parse::<u32>() else {
            continue; // the header and separator rows
        };
        for name in modules.split(',').map(|m| m.trim().trim_matches('`')) {
            if name.is_empty() {
                continue;
            }
            if layers.insert(name.to_owned(), layer).is_some() {
                return Err(format!(
                    "module `{name}` is placed twice in the layer table"
                ));
            }
        }
    }
    if layers.is_empty() {
        return Err("the crate docs have no `## Layers` table".into());
    }
    Ok(layers)
}

/// Blanks comments, string and char literals (keeping line breaks), so only code is read.
fn strip_non_code(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, b: u8| out.push(if b == b'\n' { b'\n' } else { b' ' });
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            while i < bytes.len() {
                if bytes[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if bytes[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(rest) {
            let open = 2 + hashes; // r, the hashes, the quote
            out.extend(std::iter::repeat_n(b' ', open));
            i += open;
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            while i < bytes.len() && !bytes[i..].starts_with(&close) {
                blank(&mut out, bytes[i]);
                i += 1;
            }
            let n = close.len().min(bytes.len() - i);
            out.extend(std::iter::repeat_n(b' ', n));
            i += n;
        } else if bytes[i] == b'"' {
            out.push(b' ');
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' && i + 1 < bytes.len() {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
                blank(&mut out, bytes[i]);
                i += 1;
            }
            if i < bytes.len() {
                out.push(b' ');
                i += 1;
            }
        } else if bytes[i] == b'\'' && char_literal_len(rest).is_some() {
            let n = char_literal_len(rest).unwrap_or(1);
            out.extend(std::iter::repeat_n(b' ', n));
            i += n;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `r"`, `r#"`, `br"`...: the number of `#`s, if a raw string starts here.
fn raw_string_start(rest: &[u8]) -> Option<usize> {
    let body = rest.strip_prefix(b"r")?;
    let hashes = body.iter().take_while(|&&b| b == b'#').count();
    (body.get(hashes) == Some(&b'"')).then_some(hashes)
}

/// Length of a char literal starting at `'` (`'a'`, `'\n'`, `'\u{1F600}'`), or None for a
/// lifetime.
fn char_literal_len(rest: &[u8]) -> Option<usize> {
    if rest.get(1) == Some(&b'\\') {
        let end = rest.iter().skip(2).position(|&b| b == b'\'')?;
        return Some(end + 3);
    }
    let ch = std::str::from_utf8(rest.get(1..rest.len().min(6))?)
        .ok()
        .or_else(|| {
            // A multi-byte char cut at the slice end: decode what is whole.
            let s = rest.get(1..)?;
            let valid = std::str::from_utf8(s)
                .err()
                .map_or(s.len(), |e| e.valid_up_to());
            std::str::from_utf8(&s[..valid]).ok()
        })?
        .chars()
        .next()?;
    let len = ch.len_utf8();
    (rest.get(1 + len) == Some(&b'\'')).then_some(len + 2)
}

/// Blanks `#[cfg(test)] mod name { ... }` blocks: test code may reach anything.
fn strip_test_modules(code: &str) -> String {
    let mut out = code.to_owned();
    let mut search = 0;
    while let Some(found) = out[search..].find("#[cfg(test)]") {
        let attr = search + found;
        let after = &out[attr + "#[cfg(test)]".len()..];
        let trimmed = after.trim_start();
        let offset = out.len() - trimmed.len();
        let block_start = trimmed
            .strip_prefix("mod ")
            .and_then(|m| m.find(['{', ';']).map(|p| (p, m.as_bytes()[p])));
        match block_start {
            Some((p, b'{')) => {
                let open = offset + 4 + p;
                let close = matching_brace(&out, open).unwrap_or(out.len() - 1);
                let blanked: String = out[attr..=close]
                    .chars()
                    .map(|c| if c == '\n' { '\n' } else { ' ' })
                    .collect();
                out.replace_range(attr..=close, &blanked);
                search = close + 1;
            }
            _ => search = attr + 1,
        }
    }
    out
}

fn matching_brace(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Line number (from 1) of byte `offset`.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset].bytes().filter(|&b| b == b'\n').count() + 1
}

/// What one file says about modules: its `mod` children, its imports, its exported macros.
#[derive(Debug, Default)]
struct FileFacts {
    /// `mod name;` and `mod name { ... }` declarations.
    children: BTreeSet<String>,
    /// Children re-exported with `pub use child::*`.
    glob_children: BTreeSet<String>,
    /// (line, path segments) of every path that may name a kernel module.
    paths: Vec<(usize, Vec<String>)>,
    /// `#[macro_export] macro_rules! name`.
    exported_macros: BTreeSet<String>,
}

fn facts(text: &str) -> FileFacts {
    let code = strip_test_modules(&strip_non_code(text));
    let mut facts = FileFacts::default();
    let bytes = code.as_bytes();
    // `mod name;` / `mod name {`
    for (offset, _) in code.match_indices("mod ") {
        if offset > 0 && is_ident_byte(bytes[offset - 1]) {
            continue;
        }
        let name: String = code[offset + 4..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            facts.children.insert(name);
        }
    }
    for (offset, _) in code.match_indices("macro_rules!") {
        let before = code[..offset].trim_end();
        if before.ends_with("#[macro_export]") {
            let name: String = code[offset + "macro_rules!".len()..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            facts.exported_macros.insert(name);
        }
    }
    // `use` declarations, with their trees expanded.
    let mut use_spans = Vec::new();
    for (offset, _) in code.match_indices("use ") {
        let starts_word = offset == 0 || !is_ident_byte(bytes[offset - 1]);
        if !starts_word || bytes.get(offset.wrapping_sub(1)) == Some(&b'$') {
            continue;
        }
        let Some(len) = code[offset..].find(';') else {
            continue;
        };
        let tree = &code[offset + 4..offset + len];
        let line = line_at(&code, offset);
        for path in expand_use_tree(tree) {
            if path.last().is_some_and(|s| s == "*")
                && path.len() == 2
                && facts.children.contains(&path[0])
                && code[..offset].trim_end().ends_with("pub")
            {
                facts.glob_children.insert(path[0].clone());
            }
            facts.paths.push((line, path));
        }
        use_spans.push(offset..offset + len);
    }
    // Paths in code: `crate::a::b`, `super::x`, `self::x`, `child::x`.
    let mut i = 0;
    while i < bytes.len() {
        if !is_ident_byte(bytes[i])
            || (i > 0 && (is_ident_byte(bytes[i - 1]) || bytes[i - 1] == b'$'))
        {
            i += 1;
            continue;
        }
        if use_spans.iter().any(|s| s.contains(&i)) || (i >= 2 && &code[i - 2..i] == "::") {
            i += 1;
            continue;
        }
        let mut segments = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while j < bytes.len() && is_ident_byte(bytes[j]) {
                j += 1;
            }
            segments.push(code[start..j].to_owned());
            if code[j..].starts_with("::") && bytes.get(j + 2).is_some_and(|&b| is_ident_byte(b)) {
                j += 2;
            } else {
                break;
            }
        }
        let first = segments[0].as_str();
        let relevant = segments.len() > 1
            && (matches!(first, "crate" | "super" | "self") || facts.children.contains(first));
        if relevant {
            facts.paths.push((line_at(&code, i), segments));
        }
        i = j.max(i + 1);
    }
    facts
}

/// Expands a use tree (`crate::a::{b, c::d as e, f::*}`) into its paths (renames dropped).
fn expand_use_tree(tree: &str) -> Vec<Vec<String>> {
    let compact: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    expand_into(&compact, &mut Vec::new(), &mut out);
    out
}

fn expand_into(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim().trim_start_matches("::");
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let close = tree.rfind('}').unwrap_or(tree.len());
        let inner = &tree[open + 1..close];
        let pushed = push_segments(head, prefix);
        for item in split_top_level(inner) {
            if item.trim() == "self" {
                out.push(prefix.clone());
            } else {
                expand_into(item, prefix, out);
            }
        }
        prefix.truncate(prefix.len() - pushed);
    } else {
        let tree = tree.split(" as ").next().unwrap_or(tree);
        let pushed = push_segments(tree, prefix);
        if pushed > 0 {
            out.push(prefix.clone());
        }
        prefix.truncate(prefix.len() - pushed);
    }
}

fn push_segments(path: &str, prefix: &mut Vec<String>) -> usize {
    let segments: Vec<String> = path
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let n = segments.len();
    prefix.extend(segments);
    n
}

fn split_top_level(inner: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// The module tree: which module paths have a file, and the facts of each.
struct Tree {
    files: BTreeMap<ModPath, (String, FileFacts)>,
    /// Exported macro name -> defining module.
    macros: BTreeMap<String, ModPath>,
}

impl Tree {
    fn new(sources: &[SourceFile]) -> Tree {
        let mut files = BTreeMap::new();
        let mut macros = BTreeMap::new();
        for source in sources {
            let module = module_of(&source.rel);
            let facts = facts(&source.text);
            for name in &facts.exported_macros {
                macros.insert(name.clone(), module.clone());
            }
            files.insert(module, (source.rel.clone(), facts));
        }
        Tree { files, macros }
    }

    /// The deepest module file `path` (as written in module `from`) names, if any.
    fn resolve(&self, from: &ModPath, path: &[String]) -> Option<ModPath> {
        let (mut current, rest): (ModPath, &[String]) = match path.first()?.as_str() {
            "crate" => (Vec::new(), &path[1..]),
            "self" => (from.clone(), &path[1..]),
            "super" => {
                let mut base = from.clone();
                let mut rest = path;
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
                (base, rest)
            }
            _ => (from.clone(), path),
        };
        if current.is_empty()
            && let Some(definer) = rest.first().and_then(|name| self.macros.get(name))
        {
            return Some(definer.clone());
        }
        for segment in rest {
            let mut child = current.clone();
            child.push(segment.clone());
            if self.files.contains_key(&child) {
                current = child;
                continue;
            }
            // `pub use child::*` re-exports: look one level further down.
            let via_glob = self.files.get(&current).and_then(|(_, facts)| {
                facts.glob_children.iter().find_map(|glob| {
                    let mut candidate = current.clone();
                    candidate.push(glob.clone());
                    candidate.push(segment.clone());
                    self.files.contains_key(&candidate).then_some(candidate)
                })
            });
            match via_glob {
                Some(found) => current = found,
                None => break,
            }
        }
        self.files.contains_key(&current).then_some(current)
    }
}

/// Checks the layering and the absence of cycles; returns every violation found.
pub fn check(sources: &[SourceFile]) -> Result<Vec<Violation>, String> {
    let root = sources
        .iter()
        .find(|f| f.rel == "main.rs" || f.rel == "lib.rs")
        .ok_or("no crate root (main.rs or lib.rs)")?;
    let layers = parse_layers(&root.text)?;
    let tree = Tree::new(sources);
    let mut violations = Vec::new();
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    let mut unplaced = BTreeSet::new();
    for (module, (rel, facts)) in &tree.files {
        let Some(top) = module.first() else {
            continue; // the crate root wires the layers together
        };
        if top == TEST_SUITE {
            continue;
        }
        if !layers.contains_key(top) {
            unplaced.insert((top.clone(), rel.clone()));
        }
        for (line, path) in &facts.paths {
            let Some(target) = tree.resolve(module, path) else {
                continue;
            };
            if &target == module || target.first().is_some_and(|t| t == TEST_HARNESS) {
                continue;
            }
            edges
                .entry(module.clone())
                .or_default()
                .insert(target.clone());
            let place = format!("kernel/src/{rel}:{line}");
            let named = path.join("::");
            match target.first() {
                None => violations.push(Violation {
                    place,
                    message: format!("`{named}` reaches into the crate root"),
                }),
                Some(to) if to != top => {
                    let (from_layer, to_layer) = (layers.get(top), layers.get(to));
                    if let (Some(&from_layer), Some(&to_layer)) = (from_layer, to_layer)
                        && to_layer >= from_layer
                    {
                        violations.push(Violation {
                            place,
                            message: format!(
                                "`{top}` (layer {from_layer}) imports `{named}` of `{to}` \
                                 (layer {to_layer}): only lower layers may be imported"
                            ),
                        });
                    }
                }
                Some(_) => {}
            }
        }
    }
    for (top, rel) in unplaced {
        violations.push(Violation {
            place: format!("kernel/src/{rel}"),
            message: format!(
                "module `{top}` has no place in the layer table of kernel/src/main.rs"
            ),
        });
    }
    for cycle in cycles(&edges) {
        let names: Vec<String> = cycle
            .iter()
            .filter_map(|m| {
                tree.files
                    .get(m)
                    .map(|(rel, _)| format!("kernel/src/{rel}"))
            })
            .collect();
        violations.push(Violation {
            place: names.join(", "),
            message: format!("these {} files import each other in a cycle", names.len()),
        });
    }
    Ok(violations)
}

/// Strongly connected components with more than one module (Tarjan's algorithm).
fn cycles(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct State<'a> {
        edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        next: usize,
        found: Vec<Vec<ModPath>>,
    }
    fn visit<'a>(s: &mut State<'a>, node: &'a ModPath) {
        s.index.insert(node, s.next);
        s.low.insert(node, s.next);
        s.next += 1;
        s.stack.push(node);
        s.on_stack.insert(node);
        if let Some(targets) = s.edges.get(node) {
            for target in targets {
                if !s.index.contains_key(target) {
                    visit(s, target);
                    let low = s.low[node].min(s.low[target]);
                    s.low.insert(node, low);
                } else if s.on_stack.contains(target) {
                    let low = s.low[node].min(s.index[target]);
                    s.low.insert(node, low);
                }
            }
        }
        if s.low[node] == s.index[node] {
            let mut component = Vec::new();
            while let Some(member) = s.stack.pop() {
                s.on_stack.remove(member);
                component.push(member.clone());
                if member == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for node in edges.keys() {
        if !state.index.contains_key(node) {
            visit(&mut state, node);
        }
    }
    state.found
}

/// `cargo xtask layers`: prints the violations in the kernel tree; fails if there are any.
pub fn run() -> crate::Result<std::process::ExitCode> {
    let sources = read_tree(&crate::root().join("kernel/src"))?;
    let violations = check(&sources)?;
    for v in &violations {
        println!("{}: {}", v.place, v.message);
    }
    println!(
        "layers: {} files, {} violations",
        sources.len(),
        violations.len()
    );
    Ok(if violations.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "//! A kernel.\n//!\n//! ## Layers\n//!\n//! | layer | modules | what |\n\
                        //! |---|---|---|\n//! | 2 | `high` | top |\n//! | 1 | `mid`, `side` | middle |\n\
                        //! | 0 | `low` | bottom |\n\nmod high;\nmod low;\nmod mid;\nmod side;\n";

    fn tree(files: &[(&str, &str)]) -> Vec<SourceFile> {
        let mut sources = vec![SourceFile {
            rel: "main.rs".into(),
            text: ROOT.into(),
        }];
        sources.extend(files.iter().map(|(rel, text)| SourceFile {
            rel: (*rel).into(),
            text: (*text).into(),
        }));
        sources
    }

    fn messages(files: &[(&str, &str)]) -> Vec<String> {
        check(&tree(files))
            .expect("checks")
            .into_iter()
            .map(|v| format!("{}: {}", v.place, v.message))
            .collect()
    }

    #[test]
    fn the_kernel_tree_keeps_its_layers() {
        let sources = read_tree(&crate::root().join("kernel/src")).expect("kernel/src readable");
        let violations = check(&sources).expect("layer table readable");
        let report: Vec<String> = violations
            .iter()
            .map(|v| format!("{}: {}", v.place, v.message))
            .collect();
        assert!(
            report.is_empty(),
            "layering violations:\n{}",
            report.join("\n")
        );
    }

    #[test]
    fn downward_imports_pass() {
        let found = messages(&[
            (
                "high.rs",
                "use crate::mid::thing;\nfn f() { crate::low::g(); }\n",
            ),
            ("mid.rs", "use crate::low;\n"),
            ("side.rs", "use crate::low::{self, x};\n"),
            ("low.rs", "pub fn g() {}\n"),
        ]);
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn an_upward_import_fails_with_its_line() {
        let found = messages(&[
            ("high.rs", ""),
            ("mid.rs", ""),
            (
                "low.rs",
                "//! Low.\n\nuse core::fmt;\nuse crate::high::Thing;\n",
            ),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .starts_with("kernel/src/low.rs:4: `low` (layer 0) imports `crate::high::Thing`"),
            "{found:?}"
        );
    }

    #[test]
    fn imports_within_a_layer_fail() {
        let found = messages(&[
            ("mid.rs", "fn f() { crate::side::g(); }\n"),
            ("side.rs", ""),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("kernel/src/mid.rs:1:"), "{found:?}");
    }

    #[test]
    fn cycles_between_files_fail() {
        let found = messages(&[
            ("low/mod.rs", "mod a;\nmod b;\npub use a::A;\n"),
            ("low/a.rs", "use super::b::B;\npub struct A;\n"),
            ("low/b.rs", "pub struct B;\nfn f() { super::a::A; }\n"),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("low/a.rs, kernel/src/low/b.rs"),
            "{found:?}"
        );
    }

    #[test]
    fn comments_strings_and_test_modules_are_not_imports() {
        let found = messages(&[(
            "low.rs",
            "//! See [`crate::high`].\nconst S: &str = \"crate::high::x\";\n\
             /* crate::mid::y */\nconst R: &str = r#\"crate::high\"#;\nconst C: char = '\"';\n\
             #[cfg(test)]\nmod tests {\n    use crate::high::Thing;\n}\n",
        )]);
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn unplaced_modules_fail() {
        let found = messages(&[("extra.rs", "")]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("`extra` has no place"), "{found:?}");
    }

    #[test]
    fn glob_reexports_resolve_to_the_file_behind_them() {
        let sources = tree(&[
            ("low/mod.rs", "mod arch;\npub use arch::*;\n"),
            ("low/arch/mod.rs", "pub mod cpu;\n"),
            ("low/arch/cpu.rs", "pub fn halt() {}\n"),
        ]);
        let tree = Tree::new(&sources);
        let from: ModPath = vec!["mid".into()];
        let path: Vec<String> = ["crate", "low", "cpu", "halt"].map(String::from).to_vec();
        assert_eq!(
            tree.resolve(&from, &path),
            Some(vec!["low".into(), "arch".into(), "cpu".into()])
        );
    }

    #[test]
    fn use_trees_expand() {
        assert_eq!(
            expand_use_tree("crate::a::{b, c::{d, e as f}, self, g::*}"),
            vec![
                vec!["crate", "a", "b"],
                vec!["crate", "a", "c", "d"],
                vec!["crate", "a", "c", "e"],
                vec!["crate", "a"],
                vec!["crate", "a", "g", "*"],
            ]
        );
    }

    #[test]
    fn the_layer_table_is_read_from_the_docs() {
        let layers = parse_layers(ROOT).expect("parses");
        assert_eq!(layers.get("high"), Some(&2));
        assert_eq!(layers.get("side"), Some(&1));
        assert_eq!(layers.get("low"), Some(&0));
        assert!(parse_layers("//! No table.\n").is_err());
    }
}
