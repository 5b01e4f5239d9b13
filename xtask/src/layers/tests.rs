use super::scan::expand_use_tree;
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
        found[0].starts_with("kernel/src/low.rs:4: `low` (layer 0) imports `crate::high::Thing`"),
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
