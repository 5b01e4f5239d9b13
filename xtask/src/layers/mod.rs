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

mod scan;

use scan::{FileFacts, facts};
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
mod tests;
