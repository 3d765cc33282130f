//! The plugin as users install it: `scripts/release.sh` packages the binary under test (the debug
//! build; no release build needed) into `pulumi-resource-secure-eks-v<version>-<os>-<arch>.tar.gz`,
//! `pulumi plugin install resource secure-eks <version> --file <tarball>` puts it into an empty
//! `PULUMI_HOME`, and a program without any `plugins.providers` path previews against the
//! emulator with that installed copy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::cli::Workspace;
use common::emulator::Emulator;

/// The platform part of the tarball name, as `scripts/release.sh` derives it.
fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{}-{arch}", std::env::consts::OS)
}

#[test]
fn packaged_plugin_installs_into_an_empty_home_and_previews() {
    let version = env!("CARGO_PKG_VERSION");
    let ws = Workspace::without_plugin_paths("examples/yaml-minimal");
    let yaml = std::fs::read_to_string(ws.dir.join("Pulumi.yaml")).unwrap();
    assert!(!yaml.contains("plugins:") && !yaml.contains("path:"), "{yaml}");
    let home = ws.pulumi_home();
    assert!(!home.exists(), "PULUMI_HOME must start empty: {}", home.display());

    // Package the binary under test.
    let dist = ws.root.join("dist");
    let out = Command::new("bash")
        .arg(secure_eks_testkit::repo_root().join("scripts/release.sh"))
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_pulumi-resource-secure-eks"))
        .arg("--out")
        .arg(&dist)
        .output()
        .expect("run scripts/release.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "release.sh failed: {stderr}");
    let tarball = dist.join(format!("pulumi-resource-secure-eks-v{version}-{}.tar.gz", platform()));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().last(), Some(tarball.to_str().unwrap()), "{stderr}");
    let listing = Command::new("tar").arg("tzf").arg(&tarball).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.lines().any(|l| l == "pulumi-resource-secure-eks"), "binary not at the root: {listing}");

    // Install it the way a user would.
    let r = ws.pulumi(&["plugin", "install", "resource", "secure-eks", version, "--file", tarball.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "plugin install: {}", r.out);
    let installed = home.join("plugins").join(format!("resource-secure-eks-v{version}")).join("pulumi-resource-secure-eks");
    assert!(installed.is_file(), "{} missing after install: {}", installed.display(), r.out);
    let r = ws.pulumi(&["plugin", "ls"]);
    assert!(r.out.contains("secure-eks") && r.out.contains(version), "{}", r.out);

    // Preview with it; the engine's log says which binary it started.
    let emu = Emulator::start();
    ws.init_stack_quick(&emu.endpoints());
    let r = ws.pulumi(&["preview", "--non-interactive", "--diff", "--logtostderr", "-v=7"]);
    assert_eq!(r.code, Some(0), "preview failed:\n{}", r.out);
    assert!(r.out.contains("+ secure-eks:index:SecureEksCluster"), "{}", r.out);
    assert!(r.out.contains("imdsHopLimit"), "{}", r.out);
    let started = format!("Handshake: success [{}]", installed.display());
    assert!(r.out.contains(&started), "the provider was not started from PULUMI_HOME/plugins ({started}):\n{}", r.out);
    let target_dir = common::cli::plugin_dir();
    assert!(!r.out.contains(&format!("{}/pulumi-resource-secure-eks", target_dir.display())), "{}", r.out);
}
