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

/// `pid: cmdline` of every live process whose environment holds `MARKER=<value>`.
fn marked_processes(value: &str) -> Vec<String> {
    let needle = format!("{MARKER}={value}");
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter(|pid| {
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes())
        })
        .map(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            format!("{pid}: {}", String::from_utf8_lossy(&cmd).replace('\0', " "))
        })
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
        if let Some(pid) = p.split(':').next() {
            let _ = Command::new("kill").arg("-KILL").arg(pid).status();
        }
    }
    let _ = std::fs::remove_dir_all(&state);
    assert!(left.is_empty(), "scripts/demo.sh left processes running:\n{}\n--- demo output ---\n{log}", left.join("\n"));
}
