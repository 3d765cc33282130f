//! Every rule file has its three fixtures (pass, fail, unknown) and a message snapshot, and
//! defines exactly the ids it registers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn every_rule_file_has_pass_fail_unknown_fixtures_and_a_snapshot() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
    let mut checked = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".rs") || ["mod.rs", "facts.rs", "fixtures.rs", "strings.rs", "audit.rs", "iam_catalogue.rs", "iam_policy.rs", "userdata_decode.rs"].contains(&name.as_str()) {
            continue;
        }
        let src = std::fs::read_to_string(&p).unwrap();
        assert!(src.contains("id: \"SEKS-"), "{name}: no rule id");
        for f in ["fn pass()", "fn fail()", "fn unknown()"] {
            assert!(src.contains(f), "{name}: missing the `{f}` fixture");
        }
        assert!(src.contains("expect!["), "{name}: no message snapshot");
        checked += 1;
    }
    assert!(checked >= 35, "only {checked} rule files found");
}
