//! One version from one place: `[workspace.package] version` in the root `Cargo.toml`.
//!
//! Every crate takes `version.workspace = true`, so the binary's GetPluginInfo and the
//! `version` of `schema.json` (both `secure_eks_core::VERSION`) follow it; `scripts/gen-sdk.sh`
//! reads the version from `schema.json`, and `scripts/release.sh` names the plugin tarball after
//! it. [`baked_versions`] lists every place the version ends up in, so `xtask version --check`
//! (and the unit test below) fail when one of them disagrees.

use std::path::Path;

use anyhow::{bail, Context, Result};

/// The `version` of the `[workspace.package]` table of a `Cargo.toml` text.
pub fn workspace_version(cargo_toml: &str) -> Option<String> {
    let mut in_table = false;
    for line in cargo_toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_table = line == "[workspace.package]";
            continue;
        }
        if !in_table {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim() == "version" {
                return Some(value.trim().trim_matches('"').to_string());
            }
        }
    }
    None
}

/// The first capture between `before` and `after` in `text`.
fn between(text: &str, before: &str, after: &str) -> Option<String> {
    let start = text.find(before)? + before.len();
    let len = text[start..].find(after)?;
    Some(text[start..start + len].to_string())
}

fn json_at(text: &str, pointer: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.pointer(pointer)?.as_str().map(String::from)
}

/// Every place the version is baked into, as `(place, version found)`. A place that cannot be
/// read or parsed yields `"<missing>"`, so it fails the comparison too.
pub fn baked_versions(root: &Path) -> Vec<(String, String)> {
    let read = |rel: &str| std::fs::read_to_string(root.join(rel)).unwrap_or_default();
    let mut out: Vec<(String, Option<String>)> = Vec::new();

    // The crates: every member must inherit the workspace version (the binary reports it in
    // GetPluginInfo, the schema embeds it).
    out.push(("secure_eks_core::VERSION (GetPluginInfo, schema)".into(), Some(secure_eks_core::VERSION.to_string())));
    for krate in ["core", "proto", "executor", "server", "testkit", "xtask"] {
        let rel = format!("provider/{krate}/Cargo.toml");
        let text = read(&rel);
        let inherits = text.lines().any(|l| l.replace(' ', "") == "version.workspace=true");
        let found = if inherits { workspace_version(&read("Cargo.toml")) } else { Some("not `version.workspace = true`".into()) };
        out.push((rel, found));
    }

    out.push(("schema.json: version".into(), json_at(&read("schema.json"), "/version")));
    out.push(("sdk/nodejs/package.json: version".into(), json_at(&read("sdk/nodejs/package.json"), "/version")));
    out.push(("sdk/nodejs/package.json: pulumi.version".into(), json_at(&read("sdk/nodejs/package.json"), "/pulumi/version")));
    out.push(("sdk/python/pyproject.toml: version".into(), between(&read("sdk/python/pyproject.toml"), "\n  version = \"", "\"")));
    for rel in [
        "sdk/python/pulumi_secure_eks/pulumi-plugin.json",
        "sdk/go/secureeks/pulumi-plugin.json",
        "sdk/dotnet/pulumi-plugin.json",
    ] {
        out.push((format!("{rel}: version"), json_at(&read(rel), "/version")));
    }
    let go_utils = read("sdk/go/secureeks/internal/pulumiUtilities.go");
    let go_versions: Vec<&str> = go_utils.split("semver.MustParse(\"").skip(1).filter_map(|s| s.split('"').next()).collect();
    if go_versions.is_empty() {
        out.push(("sdk/go/secureeks/internal/pulumiUtilities.go: semver.MustParse".into(), None));
    }
    for v in go_versions {
        out.push(("sdk/go/secureeks/internal/pulumiUtilities.go: semver.MustParse".into(), Some(v.to_string())));
    }
    out.push(("sdk/dotnet/version.txt".into(), Some(read("sdk/dotnet/version.txt").trim().to_string()).filter(|s| !s.is_empty())));
    out.push(("sdk/dotnet/SecureEks.Pulumi.csproj: <Version>".into(), between(&read("sdk/dotnet/SecureEks.Pulumi.csproj"), "<Version>", "</Version>")));

    out.into_iter().map(|(place, v)| (place, v.unwrap_or_else(|| "<missing>".into()))).collect()
}

/// The workspace version, or an error naming every place that disagrees with it.
pub fn check(root: &Path) -> Result<String> {
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).context("reading Cargo.toml")?;
    let Some(version) = workspace_version(&cargo) else {
        bail!("Cargo.toml has no [workspace.package] version");
    };
    let wrong: Vec<String> = baked_versions(root)
        .into_iter()
        .filter(|(_, v)| *v != version)
        .map(|(place, v)| format!("  {place}: {v}"))
        .collect();
    if !wrong.is_empty() {
        bail!(
            "the workspace version in Cargo.toml is {version}, but:\n{}\nRegenerate: `cargo run -p xtask -- schema` then `scripts/gen-sdk.sh`",
            wrong.join("\n")
        );
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_workspace_package_version_only() {
        let text = "[package]\nversion = \"9.9.9\"\n\n[workspace.package]\nedition = \"2021\"\nversion = \"1.2.3-alpha.1\"\n\n[x]\nversion = \"0\"\n";
        assert_eq!(workspace_version(text).as_deref(), Some("1.2.3-alpha.1"));
        assert_eq!(workspace_version("[workspace]\n"), None);
    }

    /// The plugin (GetPluginInfo), schema.json and every generated SDK carry the Cargo workspace
    /// version. Fails after a version bump until `xtask schema` and `scripts/gen-sdk.sh` ran.
    #[test]
    fn every_baked_version_is_the_workspace_version() {
        let root = crate::root();
        let version = check(&root).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(version, secure_eks_core::VERSION);
        // The list covers the four SDKs (a generator change that moves a version would show here).
        let places = baked_versions(&root);
        for lang in ["nodejs", "python", "go", "dotnet"] {
            assert!(places.iter().any(|(p, _)| p.starts_with(&format!("sdk/{lang}/"))), "{lang}: {places:?}");
        }
    }

    /// A copy of the versioned files with one SDK version bumped by hand fails, naming the file.
    #[test]
    fn a_disagreeing_sdk_fails_the_check() {
        let root = crate::root();
        let tmp = std::env::temp_dir().join(format!("xtask-version-{}", std::process::id()));
        let files = ["Cargo.toml", "schema.json", "sdk/nodejs/package.json", "sdk/python/pyproject.toml",
            "sdk/python/pulumi_secure_eks/pulumi-plugin.json", "sdk/go/secureeks/pulumi-plugin.json",
            "sdk/go/secureeks/internal/pulumiUtilities.go", "sdk/dotnet/pulumi-plugin.json", "sdk/dotnet/version.txt",
            "sdk/dotnet/SecureEks.Pulumi.csproj"];
        let crates = ["core", "proto", "executor", "server", "testkit", "xtask"].map(|c| format!("provider/{c}/Cargo.toml"));
        for rel in files.iter().map(|f| f.to_string()).chain(crates) {
            let to = tmp.join(&rel);
            std::fs::create_dir_all(to.parent().unwrap_or(&tmp)).unwrap();
            std::fs::copy(root.join(&rel), &to).unwrap();
        }
        assert!(check(&tmp).is_ok());
        let pkg = tmp.join("sdk/nodejs/package.json");
        let text = std::fs::read_to_string(&pkg).unwrap();
        let bumped = text.replacen(&format!("\"version\": \"{}\"", secure_eks_core::VERSION), "\"version\": \"9.9.9\"", 1);
        assert_ne!(text, bumped);
        std::fs::write(&pkg, bumped).unwrap();
        let err = format!("{:#}", check(&tmp).err().unwrap());
        let _ = std::fs::remove_dir_all(&tmp);
        assert!(err.contains("sdk/nodejs/package.json: version: 9.9.9"), "{err}");
        assert!(!err.contains("pulumi.version"), "{err}");
    }
}
