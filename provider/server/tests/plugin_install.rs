//! The plugin as users install it: `scripts/release.sh` packages the binary under test (the debug
//! build; no release build needed) into `pulumi-resource-secure-eks-v<version>-<os>-<arch>.tar.gz`,
//! `pulumi plugin install resource secure-eks <version> --file <tarball>` puts it into an empty
//! `PULUMI_HOME`, and a program without any `plugins.providers` path previews against the
//! emulator with that installed copy. The same tarball, served by a local HTTP server the way a
//! GitHub release serves it, installs with `pulumi plugin install ... --server`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

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

/// `scripts/release.sh --binary <the binary under test> --out <ws>/dist`; the tarball's path.
fn package(ws: &Workspace) -> std::path::PathBuf {
    let version = env!("CARGO_PKG_VERSION");
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
    tarball
}

/// A workspace for examples/yaml-minimal without `plugins:` and with an empty `PULUMI_HOME`.
fn bare_workspace() -> Workspace {
    let ws = Workspace::without_plugin_paths("examples/yaml-minimal");
    let yaml = std::fs::read_to_string(ws.dir.join("Pulumi.yaml")).unwrap();
    assert!(!yaml.contains("plugins:") && !yaml.contains("path:"), "{yaml}");
    let home = ws.pulumi_home();
    assert!(!home.exists(), "PULUMI_HOME must start empty: {}", home.display());
    ws
}

/// Preview with the installed plugin; the engine's log says which binary it started.
fn preview_with_installed_plugin(ws: &Workspace, installed: &std::path::Path) {
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

#[test]
fn packaged_plugin_installs_into_an_empty_home_and_previews() {
    let version = env!("CARGO_PKG_VERSION");
    let ws = bare_workspace();
    let home = ws.pulumi_home();
    let tarball = package(&ws);

    // Install it the way a user would.
    let r = ws.pulumi(&["plugin", "install", "resource", "secure-eks", version, "--file", tarball.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "plugin install: {}", r.out);
    let installed = home.join("plugins").join(format!("resource-secure-eks-v{version}")).join("pulumi-resource-secure-eks");
    assert!(installed.is_file(), "{} missing after install: {}", installed.display(), r.out);
    let r = ws.pulumi(&["plugin", "ls"]);
    assert!(r.out.contains("secure-eks") && r.out.contains(version), "{}", r.out);
    preview_with_installed_plugin(&ws, &installed);
}

/// A one-directory HTTP server on 127.0.0.1 (GET only) that records every path asked for.
struct ReleaseServer {
    port: u16,
    asked: Arc<Mutex<Vec<String>>>,
}

impl ReleaseServer {
    /// Serve the files of `dir` under the URL path `prefix`.
    fn start(dir: std::path::PathBuf, prefix: &'static str) -> ReleaseServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut stream = stream;
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                log.lock().unwrap().push(path.clone());
                let file = path.strip_prefix(prefix).map(|name| dir.join(name.trim_start_matches('/')));
                match file.and_then(|f| std::fs::read(f).ok()) {
                    Some(body) => {
                        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                        let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&body));
                    }
                    None => {
                        let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    }
                }
            }
        });
        ReleaseServer { port, asked }
    }
}

/// The SDKs carry the schema's `pluginDownloadURL`, so an SDK install is enough for the engine to
/// fetch the plugin; and the engine's download from a plugin server works: the tarball
/// `scripts/release.sh` makes, served at the path the engine asks for, installs into an empty
/// `PULUMI_HOME` and a program without `plugins.providers` previews with it.
#[test]
fn plugin_downloads_from_a_release_server_and_previews() {
    let version = env!("CARGO_PKG_VERSION");
    let root = secure_eks_testkit::repo_root();
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("schema.json")).unwrap()).unwrap();
    let url = schema["pluginDownloadURL"].as_str().expect("schema.json has a pluginDownloadURL");
    assert_eq!(url, "github://api.github.com/secure-eks", "the third-party convention: github://api.github.com/<org>");
    for rel in ["sdk/nodejs/package.json", "sdk/python/pulumi_secure_eks/pulumi-plugin.json", "sdk/go/secureeks/pulumi-plugin.json", "sdk/dotnet/pulumi-plugin.json"] {
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        assert!(text.contains(&format!("\"server\": \"{url}\"")), "{rel} does not carry the plugin server {url}:\n{text}");
    }

    let ws = bare_workspace();
    let tarball = package(&ws);
    let server = ReleaseServer::start(tarball.parent().unwrap().to_path_buf(), "/releases/download");
    let base = format!("http://127.0.0.1:{}/releases/download", server.port);
    let r = ws.pulumi(&["plugin", "install", "resource", "secure-eks", version, "--server", &base]);
    let asked = server.asked.lock().unwrap().clone();
    assert_eq!(r.code, Some(0), "plugin install --server {base}: {}\nasked for: {asked:?}", r.out);
    let name = format!("/releases/download/pulumi-resource-secure-eks-v{version}-{}.tar.gz", platform());
    assert!(asked.contains(&name), "the engine asked for {asked:?}, the release has {name}");
    let installed = ws.pulumi_home().join("plugins").join(format!("resource-secure-eks-v{version}")).join("pulumi-resource-secure-eks");
    assert!(installed.is_file(), "{} missing after install: {}", installed.display(), r.out);
    preview_with_installed_plugin(&ws, &installed);
}
