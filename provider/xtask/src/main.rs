//! `cargo run -p xtask -- schema [--check]`: write (or check) `schema.json` from the model types.
//! `cargo run -p xtask -- rules-doc [--check]`: write (or check) `docs/rules.md` from rule metadata.
//! `cargo run -p xtask -- reference-doc [--check]`: write (or check) `docs/reference.md` from the
//! schema and the secure defaults.
//! `cargo run -p xtask -- version [--check]`: print the workspace version (the one version of the
//! plugin, schema, SDKs and release tarball); `--check` fails if any of them disagrees.
//! `cargo run -p xtask -- links`: every Markdown link of the README and docs resolves inside the
//! repository (see `links.rs`; its test runs the same check).
//! `cargo run -p xtask -- plan-stats [spec.json] [--calls calls.json]`: a plan's steps, critical
//! path and width (see `plan_stats.rs`).

mod links;
mod plan_stats;
mod reference;
mod version;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn write_or_check(path: PathBuf, text: &str, check: bool) -> Result<()> {
    if check {
        let old = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        if old != text {
            bail!("{} is stale: run `cargo run -p xtask -- <cmd>`", path.display());
        }
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// The text of every rule file.
fn rule_sources() -> Result<Vec<String>> {
    let dir = root().join("provider/core/src/rules");
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)?.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.extension().is_some_and(|x| x == "rs") {
            out.push(std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?);
        }
    }
    Ok(out)
}

/// Why (the `//!` docs of the file that defines `id`) and an example (the first snapshot in that
/// file that starts with `id`).
fn rule_docs(sources: &[String], id: &str) -> secure_eks_core::rules::RuleDocs {
    let needle = format!("id: \"{id}\"");
    let Some(src) = sources.iter().find(|s| s.contains(&needle)) else {
        return Default::default();
    };
    let why = src
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.trim_start_matches("//!").trim())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string();
    let example = src
        .split("expect![")
        .skip(1)
        .filter_map(|chunk| {
            let body = if let Some(r) = chunk.strip_prefix("[r#\"") {
                r.split("\"#]]").next()?.to_string()
            } else {
                let r = chunk.strip_prefix('"')?;
                r.split("\"]").next()?.replace("\\\"", "\"")
            };
            body.lines().map(str::trim).find(|l| l.starts_with(id)).map(String::from)
        })
        .next();
    secure_eks_core::rules::RuleDocs { why, example }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    match args.first().map(String::as_str) {
        Some("schema") => write_or_check(root().join("schema.json"), &secure_eks_core::schema::package_schema_text(), check),
        Some("rules-doc") => {
            let sources = rule_sources()?;
            let text = secure_eks_core::rules::rules_doc(&|id| rule_docs(&sources, id));
            write_or_check(root().join("docs/rules.md"), &text, check)
        }
        Some("reference-doc") => write_or_check(root().join("docs/reference.md"), &reference::reference_doc()?, check),
        Some("version") => {
            let v = if check {
                version::check(&root())?
            } else {
                let text = std::fs::read_to_string(root().join("Cargo.toml")).context("reading Cargo.toml")?;
                version::workspace_version(&text).context("Cargo.toml has no [workspace.package] version")?
            };
            println!("{v}");
            Ok(())
        }
        Some("links") => {
            let n = links::check(&root())?;
            println!("{n} Markdown files: every link stays inside the repository");
            Ok(())
        }
        Some("plan-stats") => {
            print!("{}", plan_stats::plan_stats(&args[1..])?);
            Ok(())
        }
        _ => bail!("usage: xtask schema|rules-doc|reference-doc|version [--check] | links | plan-stats [spec.json] [--calls calls.json]"),
    }
}
