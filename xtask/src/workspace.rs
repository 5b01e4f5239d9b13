//! The workspace's packages by kind, from `cargo metadata`: host crates are the workspace's
//! `default-members`; every other member but the kernel is a user program for
//! [`USER_TARGET`].

use crate::{Result, cargo};

/// The target user programs build for.
pub const USER_TARGET: &str = "aarch64-unknown-none";

/// The kernel package.
const KERNEL: &str = "kernel";

/// Package names of the workspace, split by where they build.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Packages {
    /// Built and tested on the host (`default-members`).
    pub host: Vec<String>,
    /// User programs and libraries, built for [`USER_TARGET`].
    pub user: Vec<String>,
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
    let members = id_array(metadata, "workspace_members")?;
    let host = id_array(metadata, "workspace_default_members")?;
    let user = members
        .iter()
        .filter(|name| *name != KERNEL && !host.contains(name))
        .cloned()
        .collect();
    Ok(Packages { host, user })
}

/// The package names in the JSON array of package IDs under `key`.
fn id_array(metadata: &str, key: &str) -> Result<Vec<String>> {
    let missing = || format!("cargo metadata has no {key} array");
    let start = metadata.find(&format!("\"{key}\":[")).ok_or_else(missing)? + key.len() + 4;
    let len = metadata[start..].find(']').ok_or_else(missing)?;
    metadata[start..start + len]
        .split(',')
        .map(|id| id.trim().trim_matches('"'))
        .filter(|id| !id.is_empty())
        .map(|id| package_name(id).ok_or_else(|| format!("cannot read package id {id:?}")))
        .collect()
}

/// The name in a package ID spec: `path+file:///w/abi#0.1.0` is `abi` (the directory),
/// `path+file:///w/tests#systest@0.1.0` is `systest`.
fn package_name(id: &str) -> Option<String> {
    let (url, fragment) = id.rsplit_once('#')?;
    match fragment.split_once('@') {
        Some((name, _version)) => Some(name.to_owned()),
        None => url
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_host_and_user_packages() {
        let json = r#"{"packages":[],"workspace_members":["path+file:///w/abi#0.1.0",
            "path+file:///w/kernel#0.1.0","path+file:///w/kernel/core#kcore@0.1.0",
            "path+file:///w/userland/init#0.1.0"],
            "workspace_default_members":["path+file:///w/abi#0.1.0",
            "path+file:///w/kernel/core#kcore@0.1.0"],"target_directory":"/w/target"}"#;
        let packages = split(json).expect("parses");
        assert_eq!(packages.host, ["abi", "kcore"]);
        assert_eq!(packages.user, ["init"]);
    }

    #[test]
    fn package_ids() {
        assert_eq!(
            package_name("path+file:///w/abi#0.1.0").as_deref(),
            Some("abi")
        );
        assert_eq!(
            package_name("path+file:///w/tests#systest@0.1.0").as_deref(),
            Some("systest")
        );
        assert_eq!(
            package_name("registry+https://x/index#log@0.4.0").as_deref(),
            Some("log")
        );
        assert_eq!(package_name("no-fragment"), None);
    }
}
