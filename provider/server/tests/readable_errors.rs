//! Issue #13: every AWS error that reaches a user is one line of what went wrong and one line of
//! what to do, with no `Debug` dump of SDK structs. Each case through `pulumi preview`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::Workspace;
use common::emulator::Emulator;
use serde_json::json;

/// Text of the SDK's Debug output that must never reach a user.
const DEBUG_DUMP: [&str; 6] = ["DispatchFailure", "ConnectorError", "SdkBody", "Error {", "ErrorMetadata", "raw:"];

/// `pulumi preview` fails, says `what` and then a `Fix:` line, and dumps no SDK struct.
fn refused(ws: &Workspace, what: &str) -> String {
    let r = ws.pulumi(&["preview", "--non-interactive"]);
    assert_ne!(r.code, Some(0), "preview must fail:\n{}", r.out);
    // The Diagnostics section (the last place it is said) has the whole message.
    let lines: Vec<&str> = r.out.lines().collect();
    let at = lines.iter().rposition(|l| l.contains(what)).unwrap_or_else(|| panic!("no line says {what:?}:\n{}", r.out));
    let (line, next) = (lines[at], lines.get(at + 1).copied().unwrap_or_default());
    assert!(next.trim_start().starts_with("Fix: "), "the line after {line:?} is not a fix: {next:?}\n{}", r.out);
    for d in DEBUG_DUMP {
        assert!(!r.out.contains(d), "{d} in:\n{}", r.out);
    }
    r.out
}

/// A workspace with no credentials anywhere: no environment keys, no config files, no IMDS.
fn without_credentials(emu: &Emulator) -> Workspace {
    let mut ws = Workspace::new("examples/yaml-minimal");
    let home = ws.root.join("empty-home");
    std::fs::create_dir_all(&home).unwrap();
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", ""),
        ("AWS_SECRET_ACCESS_KEY", ""),
        ("AWS_CONFIG_FILE", &*home.join("config").display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", &*home.join("credentials").display().to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        ws.set_env(k, v);
    }
    ws.init_stack_quick(&emu.endpoints());
    ws
}

#[test]
fn aws_errors_say_what_went_wrong_and_what_to_do() {
    let emu = Emulator::start();

    // No credentials at all.
    let ws = without_credentials(&emu);
    refused(&ws, "no AWS credentials were found");
    // An unknown profile.
    assert_eq!(ws.pulumi(&["config", "set", "secure-eks:profile", "nope"]).code, Some(0));
    refused(&ws, "the AWS profile \"nope\" gave no credentials");
    drop(ws);

    // An endpoint nobody listens on.
    let ws = Workspace::new("examples/yaml-minimal");
    let mut endpoints = emu.endpoints();
    endpoints["sts"] = json!("http://127.0.0.1:9");
    ws.init_stack_quick(&endpoints);
    refused(&ws, "the AWS endpoint could not be reached");
    drop(ws);

    // What AWS answers: an explicit deny (action and policy named), an expired session token,
    // throttling until the retries run out.
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack_quick(&emu.endpoints());
    let deny = "User: arn:aws:iam::123456789012:user/moto is not authorized to perform: sts:GetCallerIdentity with an explicit deny in a service control policy";
    for (status, code, message, says) in [
        (403, "AccessDenied", deny, "access denied: User: arn:aws:iam::123456789012:user/moto is not authorized to perform: sts:GetCallerIdentity with an explicit deny in a service control policy"),
        (403, "ExpiredToken", "The security token included in the request is expired", "the AWS session has expired"),
        (400, "Throttling", "Rate exceeded", "AWS kept throttling the calls and the retries ran out"),
    ] {
        emu.fault(json!({"match": "GetCallerIdentity", "status": status, "code": code, "message": message, "count": 1000}));
        refused(&ws, says);
        emu.clear_faults();
    }

    // The wrong account.
    assert_eq!(ws.pulumi(&["config", "set", "--path", "secure-eks:allowedAccountIds[0]", "111111111111"]).code, Some(0));
    refused(&ws, "which is not in allowedAccountIds");
}
