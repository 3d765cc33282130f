//! `scripts/demo.sh`, the README's first command, run the way a user runs it (preview, up and
//! destroy of examples/yaml-minimal against its own emulator), and then: nothing it started is
//! still running. Every process the demo starts inherits its environment, so a marker variable
//! set only for this run finds them all in `/proc/<pid>/environ`, whatever their session or
//! parent (the emulator is started with `setsid nohup`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MARKER: &str = "SECURE_EKS_DEMO_TEST_RUN";

/// `pid command` of every live process whose environment holds `MARKER=<value>` (`ps e` prints
/// each process's environment after its command line).
fn marked_processes(value: &str) -> Vec<String> {
    let needle = format!("{MARKER}={value}");
    let out = Command::new("ps").args(["axeww", "-o", "pid=,command="]).output().expect("run ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.split_whitespace().any(|w| w == needle) && !l.contains(" ps axeww "))
        .map(|l| l.split(&needle).next().unwrap_or(l).trim().to_string())
        .collect()
}

#[test]
fn demo_runs_and_leaves_no_process_behind() {
    let root = secure_eks_testkit::repo_root();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let value = format!("{}-{nanos}", std::process::id());
    let state = std::env::temp_dir().join(format!("seks-demo-test-{value}"));
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(root.join("scripts/demo.sh"))
        .current_dir(&root)
        .env(MARKER, &value)
        .env("EMULATOR_STATE_DIR", &state)
        .env("SECURE_EKS_PROVIDER_DIR", common::cli::plugin_dir())
        .env_remove("KEEP")
        .env_remove("KEEP_EMULATOR")
        .env_remove("EXAMPLE")
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/demo.sh");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "scripts/demo.sh failed:\n{log}");
    assert!(log.contains("==> pulumi destroy"), "{log}");
    eprintln!("scripts/demo.sh took {:?}", started.elapsed());

    // A process being killed can take a moment to disappear from /proc.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut left = marked_processes(&value);
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        left = marked_processes(&value);
    }
    // Never leave them running, even when the assertion below fails.
    for p in &left {
        if let Some(pid) = p.split_whitespace().next() {
            let _ = Command::new("kill").arg("-KILL").arg(pid).status();
        }
    }
    let _ = std::fs::remove_dir_all(&state);
    assert!(left.is_empty(), "scripts/demo.sh left processes running:\n{}\n--- demo output ---\n{log}", left.join("\n"));
}
