//! The workspace's packages by kind, from `cargo metadata`: host crates are the workspace's
//! `default-members`; every other member but the kernel is built for [`USER_TARGET`], and
//! those with a binary target are the user programs packed into the initramfs. Nothing here
//! depends on where under `userland/` a crate lives, only on the workspace's members.

use crate::{Result, cargo};
use serde_json::Value;

/// The target user programs build for.
pub const USER_TARGET: &str = "aarch64-unknown-none";

/// The kernel package.
const KERNEL: &str = "kernel";

/// A user program: a binary target of a user package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// The package that builds it (`cargo build -p`).
    pub package: String,
    /// The binary's name, also its name in `/bin`.
    pub name: String,
}

/// Package names of the workspace, split by where they build.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Packages {
    /// Built and tested on the host (`default-members`).
    pub host: Vec<String>,
    /// User programs and libraries, built for [`USER_TARGET`].
    pub user: Vec<String>,
    /// The binaries of the user packages, sorted by name.
    pub programs: Vec<Program>,
    /// User packages with both a binary and a library target: the library half is
    /// host-tested (e.g. the shell's line editor).
    pub program_libs: Vec<String>,
}

/// Reads the workspace's packages with `cargo metadata`.
pub fn packages() -> Result<Packages> {
    let out = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("cargo metadata failed: {}", err.trim()));
    }
    split(&String::from_utf8_lossy(&out.stdout))
}

/// Splits the members in `cargo metadata` JSON into host and user packages.
fn split(metadata: &str) -> Result<Packages> {
    let metadata: Value =
        serde_json::from_str(metadata).map_err(|e| format!("cargo metadata: {e}"))?;
    let members = id_array(&metadata, "workspace_members")?;
    let defaults = id_array(&metadata, "workspace_default_members")?;
    let all = metadata
        .get("packages")
        .and_then(Value::as_array)
        .ok_or("cargo metadata has no packages array")?;
    let mut packages = Packages::default();
    for id in members {
        let package = all
            .iter()
            .find(|p| p.get("id").and_then(Value::as_str) == Some(id))
            .ok_or_else(|| format!("cargo metadata does not describe member {id}"))?;
        let name = text(package, "name")?;
        if defaults.contains(&id) {
            packages.host.push(name.to_owned());
            continue;
        }
        if name == KERNEL {
            continue;
        }
        packages.user.push(name.to_owned());
        let bins = targets_of_kind(package, "bin")?;
        if !bins.is_empty() && !targets_of_kind(package, "lib")?.is_empty() {
            packages.program_libs.push(name.to_owned());
        }
        packages
            .programs
            .extend(bins.into_iter().map(|bin| Program {
                package: name.to_owned(),
                name: bin.to_owned(),
            }));
    }
    packages.programs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(packages)
}

/// The package IDs in the JSON array under `key`.
fn id_array<'a>(metadata: &'a Value, key: &str) -> Result<Vec<&'a str>> {
    metadata
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("cargo metadata has no {key} array"))?
        .iter()
        .map(|id| {
            id.as_str()
                .ok_or_else(|| format!("{key}: {id} is not a string"))
        })
        .collect()
}

/// The string field `key` of `object`.
fn text<'a>(object: &'a Value, key: &str) -> Result<&'a str> {
    object
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("cargo metadata: a package without {key}"))
}

/// The names of `package`'s targets of `kind` (`bin`, `lib`, ...).
fn targets_of_kind<'a>(package: &'a Value, kind: &str) -> Result<Vec<&'a str>> {
    let targets = package
        .get("targets")
        .and_then(Value::as_array)
        .ok_or("cargo metadata: a package without targets")?;
    targets
        .iter()
        .filter(|t| {
            t.get("kind")
                .and_then(Value::as_array)
                .is_some_and(|kinds| kinds.iter().any(|k| k.as_str() == Some(kind)))
        })
        .map(|t| text(t, "name"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A package of `cargo metadata` with targets `(kind, name)`.
    fn package(id: &str, name: &str, targets: &[(&str, &str)]) -> String {
        let targets: Vec<String> = targets
            .iter()
            .map(|(kind, name)| format!(r#"{{"kind":["{kind}"],"name":"{name}"}}"#))
            .collect();
        format!(
            r#"{{"id":"{id}","name":"{name}","targets":[{}]}}"#,
            targets.join(",")
        )
    }

    #[test]
    fn splits_host_and_user_packages_wherever_they_live() {
        let packages = [
            package("path+file:///w/abi#0.1.0", "abi", &[("lib", "abi")]),
            package(
                "path+file:///w/kernel#0.1.0",
                "kernel",
                &[("bin", "kernel")],
            ),
            package(
                "path+file:///w/kernel/core#kcore@0.1.0",
                "kcore",
                &[("lib", "kcore")],
            ),
            package(
                "path+file:///w/userland/services/shell#0.1.0",
                "shell",
                &[("lib", "shell"), ("bin", "shell")],
            ),
            // A program crate straight under userland/, as another branch may add one.
            package(
                "path+file:///w/userland/fuzz#0.1.0",
                "fuzz",
                &[("bin", "fuzz")],
            ),
            package(
                "path+file:///w/userland/tests/true#0.1.0",
                "true",
                &[("bin", "true")],
            ),
        ];
        let json = format!(
            r#"{{"packages":[{}],"workspace_members":["path+file:///w/abi#0.1.0",
            "path+file:///w/kernel#0.1.0","path+file:///w/kernel/core#kcore@0.1.0",
            "path+file:///w/userland/services/shell#0.1.0","path+file:///w/userland/fuzz#0.1.0",
            "path+file:///w/userland/tests/true#0.1.0"],
            "workspace_default_members":["path+file:///w/abi#0.1.0",
            "path+file:///w/kernel/core#kcore@0.1.0"],"target_directory":"/w/target"}}"#,
            packages.join(",")
        );
        let packages = split(&json).expect("parses");
        assert_eq!(packages.host, ["abi", "kcore"]);
        assert_eq!(packages.user, ["shell", "fuzz", "true"]);
        let names: Vec<&str> = packages.programs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["fuzz", "shell", "true"]);
        assert_eq!(packages.program_libs, ["shell"]);
    }

    #[test]
    fn malformed_metadata_is_an_error() {
        assert!(split("not json").is_err());
        assert!(split(r#"{"packages":[]}"#).is_err());
        let unknown_member = r#"{"packages":[],"workspace_members":["x#0.1.0"],
            "workspace_default_members":[]}"#;
        assert!(split(unknown_member).is_err());
    }

    #[test]
    fn this_workspace_has_its_programs() {
        let packages = packages().expect("cargo metadata");
        let names: Vec<&str> = packages.programs.iter().map(|p| p.name.as_str()).collect();
        for program in ["init", "shell", "utest", "foundation", "ipc_bench", "true"] {
            assert!(names.contains(&program), "{program} missing from {names:?}");
        }
        for library in ["ulib", "samgr", "initcfg"] {
            assert!(packages.host.iter().any(|h| h == library));
            assert!(!names.contains(&library));
        }
    }
}
