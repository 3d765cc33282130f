//! `scripts/test-summary.sh` (the closing line of scripts/test.sh) against fixture logs in
//! `scripts/testdata/summary/`: `<case>.log` (plus the runners' exit codes in `<case>.codes`,
//! default `0`) must print `<case>.expected` (its last line is `exit <code>`). The cases cover
//! ignored, pytest and SDK skips, a crashed test binary, a target that did not build, and a
//! non-zero exit with nothing counted. Takes well under a second.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

#[test]
fn closing_line_counts_failures_crashes_and_skips() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("scripts/testdata/summary");
    let mut cases = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("log") {
            continue;
        }
        let codes = std::fs::read_to_string(p.with_extension("codes")).unwrap_or_else(|_| "0".into());
        let out = Command::new("bash").arg(root.join("scripts/test-summary.sh")).arg(&p).args(codes.split_whitespace()).output().unwrap();
        let got = format!("{}exit {}\n", String::from_utf8_lossy(&out.stdout), out.status.code().unwrap_or(-1));
        let want = std::fs::read_to_string(p.with_extension("expected")).unwrap();
        assert_eq!(got, want, "{}", p.display());
        cases += 1;
    }
    assert!(cases >= 5, "only {cases} fixture logs in {}", dir.display());
}
