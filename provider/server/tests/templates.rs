//! `pulumi new` templates (templates/): each generates a project that previews as is against the
//! emulator, with the region and the Kubernetes version as its config prompts. YAML runs the full
//! `pulumi new` (stack and config from the prompts' defaults and `-c`); TypeScript, Python and Go
//! use `--generate-only` (their dependencies come from registries), then the test points their
//! secure-eks dependency at sdk/ and installs it with scripts/prepare-examples.sh (cached), as the
//! examples do. The provider comes from a `plugins.providers` path the test adds: a user's engine
//! downloads it instead (pluginDownloadURL, tested in plugin_install.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Stdio};

use common::cli::{plugin_dir, Workspace};
use common::emulator::Emulator;

/// Replace `from` by `to` in `dir/file` (the line must be there).
fn rewrite(dir: &std::path::Path, file: &str, from: &str, to: &str) {
    let p = dir.join(file);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`:\n{text}");
    std::fs::write(&p, text.replace(from, to)).unwrap();
}

/// The template's config prompts and their defaults: exactly the region and the Kubernetes version
/// (YAML asks for the minor number only: Pulumi YAML reads "1.30" as the number 1.3).
fn prompts(template_dir: &std::path::Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(template_dir.join("Pulumi.yaml")).unwrap();
    let section = text.split("\n  config:\n").nth(1).expect("template.config").to_string();
    let mut out = Vec::new();
    let mut key = None;
    for line in section.lines().take_while(|l| l.starts_with("    ")) {
        if let Some(k) = line.strip_prefix("    ").filter(|l| !l.starts_with(' ')).and_then(|l| l.strip_suffix(':')) {
            key = Some(k.to_string());
        } else if let (Some(k), Some(d)) = (&key, line.trim().strip_prefix("default: ")) {
            out.push((k.clone(), d.trim_matches('"').to_string()));
        }
    }
    let keys: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
    let version = if template_dir.ends_with("yaml") { "kubernetesMinorVersion" } else { "kubernetesVersion" };
    assert_eq!(keys, ["secure-eks:region", version], "{text}");
    out
}

fn new_project(template: &str, emu: &Emulator) -> Workspace {
    let root = secure_eks_testkit::repo_root();
    let ws = Workspace::new("examples/yaml-minimal");
    for e in std::fs::read_dir(&ws.dir).unwrap().flatten() {
        let _ = std::fs::remove_file(e.path());
    }
    let tpl = root.join("templates").join(template);
    let name = format!("tpl-{template}");
    let mut args = vec!["new", tpl.to_str().unwrap(), "--yes", "--non-interactive", "--force", "--name", &name, "--dir", "."];
    args.push("--generate-only");
    let r = ws.pulumi(&args);
    assert_eq!(r.code, Some(0), "pulumi {}:\n{}", args.join(" "), r.out);
    let yaml = std::fs::read_to_string(ws.dir.join("Pulumi.yaml")).unwrap();
    assert!(yaml.contains(&format!("name: {name}")) && !yaml.contains("plugins:"), "{yaml}");

    // The provider under test, and the SDK from sdk/.
    let mut f = std::fs::OpenOptions::new().append(true).open(ws.dir.join("Pulumi.yaml")).unwrap();
    use std::io::Write;
    writeln!(f, "plugins:\n  providers:\n    - name: secure-eks\n      path: {}", plugin_dir().display()).unwrap();
    let sdk = root.join("sdk");
    match template {
        "typescript" => rewrite(&ws.dir, "package.json", "\"^0.1.0\"", &format!("\"file:{}/nodejs/bin\"", sdk.display())),
        "python" => rewrite(&ws.dir, "requirements.txt", "pulumi_secure_eks>=0.1.0,<0.2.0", &format!("{}/python", sdk.display())),
        "go" => {
            let mut f = std::fs::OpenOptions::new().append(true).open(ws.dir.join("go.mod")).unwrap();
            writeln!(f, "\nreplace github.com/secure-eks/pulumi-secure-eks/sdk/go => {}/go", sdk.display()).unwrap();
        }
        _ => {}
    }
    if template != "yaml" {
        let out = Command::new("bash").arg(root.join("scripts/prepare-examples.sh")).arg(&ws.dir).stdin(Stdio::null()).output().unwrap();
        assert!(out.status.success(), "prepare-examples: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    // What the prompts ask for, answered with their defaults (`--generate-only` saves no config).
    let r = ws.pulumi(&["stack", "init", "dev", "--non-interactive"]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    for (k, v) in prompts(&tpl) {
        assert_eq!(ws.pulumi(&["config", "set", &k, &v]).code, Some(0));
    }
    let mut args = vec!["config".to_string(), "set-all".into(), "--path".into()];
    for (svc, url) in emu.endpoint_map() {
        args.extend(["--plaintext".into(), format!("secure-eks:endpoints.{svc}={url}")]);
    }
    let r = ws.pulumi(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, Some(0), "{}", r.out);
    ws
}

fn previews(template: &str) {
    let emu = Emulator::start();
    let ws = new_project(template, &emu);
    // The prompts: region and Kubernetes version, in the stack's config.
    let cfg = ws.pulumi(&["config", "--json"]);
    assert!(cfg.out.contains("\"secure-eks:region\"") && cfg.out.contains("kubernetes"), "{}", cfg.out);
    let r = ws.pulumi(&["preview", "--non-interactive", "--diff"]);
    assert_eq!(r.code, Some(0), "preview of templates/{template}:\n{}", r.out);
    assert!(r.out.contains("+ secure-eks:index:SecureEksCluster") && r.out.contains("kubernetesVersion") && r.out.contains("1.34"), "{}", r.out);
}

#[test]
fn yaml_template_previews() {
    previews("yaml");
}

/// The YAML template's version survives Pulumi YAML's config typing with a trailing zero: 1.30
/// stays "1.30" (asked as the minor number 30), where a `kubernetesVersion` prompt would give 1.3.
#[test]
fn yaml_template_keeps_a_trailing_zero_of_the_version() {
    let emu = Emulator::start();
    let ws = new_project("yaml", &emu);
    assert_eq!(ws.pulumi(&["config", "set", "kubernetesMinorVersion", "30"]).code, Some(0));
    let r = ws.pulumi(&["preview", "--non-interactive", "--diff"]);
    assert_eq!(r.code, Some(0), "preview of templates/yaml with 1.30:\n{}", r.out);
    assert!(r.out.contains("kubernetesVersion") && r.out.contains("\"1.30\""), "{}", r.out);
}

#[test]
fn typescript_template_previews() {
    previews("typescript");
}

#[test]
fn python_template_previews() {
    previews("python");
}

#[test]
fn go_template_previews() {
    previews("go");
}
