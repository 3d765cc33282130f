//! `cargo run -p xtask -- links`: the README and the docs stand alone. Every link in the
//! repository's Markdown (README, CHANGELOG, ARCHITECTURE, `docs/`, `examples/`, `templates/`,
//! `tests/emulator/`) that is not a web address resolves to a file or directory inside the
//! repository, and a `#fragment` into a Markdown file names one of its headings. Nothing refers to
//! a path outside the repository (`../shared/...`, the reference docs next to the checkout), and nothing links to this project's own
//! GitHub pages where a relative link belongs. Web addresses (AWS documentation, Keep a
//! Changelog) are references, not part of the path through the docs, and are not fetched.
//!
//! The SDK READMEs under `sdk/` are not checked: they are published to npm, PyPI, the Go module
//! proxy and NuGet, where only absolute links work.

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Result};

/// The Markdown files the check covers, relative to the repository root.
fn files(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> =
        ["README.md", "CHANGELOG.md", "ARCHITECTURE.md"].iter().map(PathBuf::from).filter(|p| root.join(p).is_file()).collect();
    for dir in ["docs", "examples", "templates", "tests/emulator"] {
        walk(root, Path::new(dir), &mut out);
    }
    out.sort();
    out
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let child = rel.join(&name);
        if name == "node_modules" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if e.path().is_dir() {
            walk(root, &child, out);
        } else if child.extension().is_some_and(|x| x == "md") {
            out.push(child);
        }
    }
}

/// The link targets of a Markdown text (`[text](target)`, `[label]: target`), outside fenced
/// code blocks and inline code, with their line numbers.
pub fn link_targets(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let line = strip_inline_code(line);
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix('[') {
            if let Some((_, target)) = rest.split_once("]: ") {
                out.push((i + 1, target.split_whitespace().next().unwrap_or("").to_string()));
                continue;
            }
        }
        let mut rest = line.as_str();
        while let Some(pos) = rest.find("](") {
            let after = &rest[pos + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or("").trim_matches(['<', '>']);
            out.push((i + 1, target.to_string()));
            rest = &after[end..];
        }
    }
    out
}

/// The line with `inline code` spans blanked (a link target is never inside one).
fn strip_inline_code(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
            out.push(c);
        } else if in_code {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped, spaces
/// to `-`.
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks), with GitHub's `-1`, `-2`
/// suffixes for repeats.
pub fn anchors(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let base = slug(line.trim_start_matches('#').replace('`', "").as_str());
        let n = seen.entry(base.clone()).or_insert(0);
        out.push(if *n == 0 { base } else { format!("{base}-{n}") });
        *n += 1;
    }
    out
}

/// `path` with `.` and `..` resolved lexically; `None` when it climbs above its start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(x) => out.push(x),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Every problem with the links of the file `rel` (its text `text`) in the repository at `root`.
pub fn problems(root: &Path, rel: &Path, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.contains("../shared/") {
            out.push(format!("{}:{}: refers to a path outside the repository: {}", rel.display(), n + 1, line.trim()));
        }
    }
    for (n, target) in link_targets(text) {
        let at = format!("{}:{n}", rel.display());
        if target.is_empty() {
            out.push(format!("{at}: empty link target"));
            continue;
        }
        if target.contains("github.com/secure-eks/pulumi-secure-eks/blob/") || target.contains("github.com/secure-eks/pulumi-secure-eks/tree/") {
            out.push(format!("{at}: {target} is a file of this repository: link it relatively"));
            continue;
        }
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, fragment) = match target.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (target.as_str(), None),
        };
        let file = if path.is_empty() {
            Some(rel.to_path_buf())
        } else {
            normalize(&rel.parent().unwrap_or(Path::new("")).join(path))
        };
        let Some(file) = file else {
            out.push(format!("{at}: {target} leaves the repository"));
            continue;
        };
        let abs = root.join(&file);
        if !abs.exists() {
            out.push(format!("{at}: {target} does not exist ({})", file.display()));
            continue;
        }
        if let Some(fragment) = fragment {
            if abs.extension().is_some_and(|x| x == "md") {
                let heads = if path.is_empty() { anchors(text) } else { anchors(&std::fs::read_to_string(&abs).unwrap_or_default()) };
                if !heads.iter().any(|h| h == fragment) {
                    out.push(format!("{at}: {target}: {} has no heading #{fragment}", file.display()));
                }
            }
        }
    }
    out
}

/// Check every covered file; the error lists every problem.
pub fn check(root: &Path) -> Result<usize> {
    let files = files(root);
    let mut all = Vec::new();
    for rel in &files {
        let text = std::fs::read_to_string(root.join(rel))?;
        all.extend(problems(root, rel, &text));
    }
    if !all.is_empty() {
        bail!("{} broken or outside link(s):\n{}", all.len(), all.join("\n"));
    }
    Ok(files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_docs_link_only_inside_the_repository() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let n = check(&root).unwrap_or_else(|e| panic!("{e}"));
        assert!(n >= 5, "only {n} Markdown files found under {}", root.display());
    }

    #[test]
    fn finds_what_it_must_refuse() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let text = "# Title\n\n## Two words\n\nSee [a](../../../etc/passwd), [b](missing.md), [c](README.md#nope), \
                    [d](#two-words), [e](https://docs.aws.amazon.com/eks/), [f](docs/rules.md)\n\
                    the contract is in `../shared/docs/api.md`\n\
                    ```\n[g](inside-a-fence.md)\n```\n\
                    [h](https://github.com/secure-eks/pulumi-secure-eks/blob/main/README.md)\n";
        let p = problems(&root, Path::new("README.md"), text);
        let joined = p.join("\n");
        assert!(joined.contains("../../../etc/passwd leaves the repository"), "{joined}");
        assert!(joined.contains("missing.md does not exist"), "{joined}");
        assert!(joined.contains("README.md#nope: README.md has no heading #nope"), "{joined}");
        assert!(joined.contains("refers to a path outside the repository"), "{joined}");
        assert!(joined.contains("link it relatively"), "{joined}");
        assert!(!joined.contains("two-words") && !joined.contains("docs.aws") && !joined.contains("rules.md") && !joined.contains("fence"), "{joined}");
        assert_eq!(p.len(), 5, "{joined}");
    }

    #[test]
    fn anchors_follow_github() {
        assert_eq!(anchors("# A `b` c\n## Installing the plugin\n## Installing the plugin\n"), ["a-b-c", "installing-the-plugin", "installing-the-plugin-1"]);
        assert_eq!(slug("SEKS-NODE-003"), "seks-node-003");
    }
}
