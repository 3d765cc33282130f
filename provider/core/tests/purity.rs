//! Architecture invariant: the pure core (model, rules, planner) has no IO runtime, no wire
//! types and no AWS SDK, not even transitively.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

const FORBIDDEN: [&str; 9] = ["tokio", "tonic", "prost", "aws-", "hyper", "reqwest", "mio", "h2", "tower"];

#[test]
fn core_depends_on_no_runtime_wire_or_aws_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "-p", "secure-eks-core", "-e", "normal", "--prefix", "none", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    let bad: Vec<&str> = tree
        .lines()
        .filter(|l| {
            let name = l.split_whitespace().next().unwrap_or("");
            FORBIDDEN.iter().any(|f| if f.ends_with('-') { name.starts_with(f) } else { name == *f || name.starts_with(&format!("{f}-")) })
        })
        .collect();
    assert!(bad.is_empty(), "secure-eks-core pulls in forbidden crates: {bad:?}");
}

#[test]
fn core_sources_do_no_io() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for needle in ["std::fs", "std::net", "std::process", "std::env::var", "tokio", "async fn"] {
                    if text.contains(needle) {
                        offenders.push(format!("{}: {needle}", p.display()));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "IO in the pure core: {offenders:?}");
}
