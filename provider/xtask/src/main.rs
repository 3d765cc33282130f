//! `cargo run -p xtask -- schema [--check]`: write (or check) `schema.json` from the model types.
//! `cargo run -p xtask -- rules-doc [--check]`: write (or check) `docs/rules.md` from rule metadata.

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
        _ => bail!("usage: xtask schema|rules-doc [--check]"),
    }
}
