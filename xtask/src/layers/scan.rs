//! Reading one source file as the layering check needs it: comments, string literals and
//! `#[cfg(test)]` modules blanked out, then its `mod` children, its `pub use child::*`
//! re-exports, its exported macros, and every path (in `use` trees and in code) that may
//! name a kernel module.

use std::collections::BTreeSet;

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
pub(super) struct FileFacts {
    /// `mod name;` and `mod name { ... }` declarations.
    pub(super) children: BTreeSet<String>,
    /// Children re-exported with `pub use child::*`.
    pub(super) glob_children: BTreeSet<String>,
    /// (line, path segments) of every path that may name a kernel module.
    pub(super) paths: Vec<(usize, Vec<String>)>,
    /// `#[macro_export] macro_rules! name`.
    pub(super) exported_macros: BTreeSet<String>,
}

/// What `text` says about modules.
pub(super) fn facts(text: &str) -> FileFacts {
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
pub(super) fn expand_use_tree(tree: &str) -> Vec<Vec<String>> {
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
