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

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    match args.first().map(String::as_str) {
        Some("schema") => write_or_check(root().join("schema.json"), &secure_eks_core::schema::package_schema_text(), check),
        Some("rules-doc") => write_or_check(root().join("docs/rules.md"), &secure_eks_core::rules::rules_doc(), check),
        _ => bail!("usage: xtask schema|rules-doc [--check]"),
    }
}
