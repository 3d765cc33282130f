//! Every example through the real Pulumi CLI (v3.259.0) against the local AWS emulator, in
//! each language: `examples/yaml-minimal` and `examples/yaml-byo-vpc` (the pulumi-yaml host),
//! `examples/typescript`, `examples/python` and `examples/go` (our language hosts,
//! tools/langhost, running the programs through @pulumi/pulumi 3.259.0, the `pulumi` 3.259.0
//! Python package and the Go SDK v3.259.0, with the SDKs generated in sdk/).
//!
//! All five preview a cluster to create; TypeScript and Python also go through `up` and
//! `destroy` and must leave nothing behind, and a refused setting must fail their preview with
//! the rule id and nothing else (the host answers bail: the program already reported it).
//! The TypeScript, Python and Go copies are prepared by scripts/prepare-examples.sh (npm,
//! pip and Go downloads cached under ~/.cache/secure-eks, so warm runs take seconds).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::{users_vpc, Run, Workspace};
use common::emulator::Emulator;

const AFTER_UP: &str =
    "vpcs=1 subnets=6 sgs=3 endpoints=9 launchTemplates=1 clusters=1 roles=4 oidc=1 keys=1 logGroups=1 loadBalancers=0 targetGroups=0";
const NOTHING_LEFT: &str =
    "vpcs=0 subnets=0 sgs=0 endpoints=0 launchTemplates=0 clusters=0 roles=0 oidc=0 keys=0 logGroups=0 loadBalancers=0 targetGroups=0";

/// `pulumi preview` of the program in `ws` plans the cluster and the clusterName output.
fn assert_previews_a_cluster(what: &str, ws: &Workspace) -> Run {
    let r = ws.pulumi(&["preview", "--non-interactive", "--diff"]);
    assert_eq!(r.code, Some(0), "{what}: preview failed:\n{}", r.out);
    assert!(r.out.contains("+ secure-eks:index:SecureEksCluster"), "{what}: no cluster to create:\n{}", r.out);
    // The secure defaults are filled in by Check and visible in the plan.
    assert!(r.out.contains("imdsHopLimit"), "{what}: defaults missing from the plan:\n{}", r.out);
    assert!(r.out.contains("clusterName"), "{what}: no clusterName output:\n{}", r.out);
    r
}

/// `up`, outputs, a no-change preview, `destroy`; nothing may be left in the emulator.
fn assert_up_and_destroy(what: &str, ws: &Workspace, emu: &Emulator) {
    let up = ws.pulumi(&["up", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(up.code, Some(0), "{what}: up failed:\n{}", up.out);
    assert_eq!(emu.leftovers(), AFTER_UP, "{what}: after up");
    // Issue #12's done-when: the provider's progress lines while it waits; every node group and
    // coredns ACTIVE at the end (boto3).
    assert!(up.out.contains("waiting for"), "{what}: no progress line while waiting:\n{}", up.out);

    let name = ws.pulumi(&["stack", "output", "clusterName"]);
    assert!(name.out.trim().starts_with("cluster-"), "{what}: clusterName = {}", name.out);
    emu.assert_cluster_active("us-east-1", name.out.trim());
    let kubeconfig = ws.pulumi(&["stack", "output", "kubeconfig"]);
    assert!(kubeconfig.out.contains("[secret]"), "{what}: kubeconfig is not secret: {}", kubeconfig.out);
    let shown = ws.pulumi(&["stack", "output", "kubeconfig", "--show-secrets"]);
    assert!(shown.out.contains("get-token"), "{what}: {}", shown.out);

    let again = ws.pulumi(&["preview", "--non-interactive", "--expect-no-changes"]);
    assert_eq!(again.code, Some(0), "{what}: second preview shows changes:\n{}", again.out);

    let destroy = ws.pulumi(&["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    assert_eq!(destroy.code, Some(0), "{what}: destroy failed:\n{}", destroy.out);
    assert_eq!(emu.leftovers(), NOTHING_LEFT, "{what}: after destroy");
}

/// Rewrite `file` in the workspace by replacing `from` (which must occur) with `to`.
fn edit(ws: &Workspace, file: &str, from: &str, to: &str) {
    let path = ws.dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

/// A refused setting fails the preview with the rule id, reported once by the engine: the
/// language host must answer bail (no "the program exited ..." line, no traceback).
fn assert_refused_cleanly(what: &str, ws: &Workspace) {
    let r = ws.pulumi(&["preview", "--non-interactive"]);
    assert_ne!(r.code, Some(0), "{what}: preview must fail:\n{}", r.out);
    assert!(r.out.contains("SEKS-NODE-003") && r.out.contains("nodeGroups[0].imdsHopLimit"), "{what}: {}", r.out);
    for noise in ["the program exited", "Traceback", "KeyboardInterrupt", "unhandled error"] {
        assert!(!r.out.contains(noise), "{what}: {noise:?} in the output:\n{}", r.out);
    }
}

#[test]
fn yaml_examples_preview() {
    let emu = Emulator::start();
    let ws = Workspace::new("examples/yaml-minimal");
    ws.init_stack_quick(&emu.endpoints());
    assert_previews_a_cluster("yaml-minimal", &ws);

    // yaml-byo-vpc takes the ids of an existing VPC from the stack config.
    let ids = users_vpc(&emu);
    let ws = Workspace::new("examples/yaml-byo-vpc");
    ws.init_stack_quick(&emu.endpoints());
    ws.set_byo_vpc(&ids);
    let r = ws.pulumi(&["preview", "--non-interactive", "--diff"]);
    assert_eq!(r.code, Some(0), "yaml-byo-vpc: preview failed:\n{}", r.out);
    assert!(r.out.contains("+ secure-eks:index:SecureEksCluster"), "{}", r.out);
    assert!(r.out.contains(ids[0].as_str()), "the plan uses the existing VPC:\n{}", r.out);
}

#[test]
fn go_example_previews() {
    let emu = Emulator::start();
    let ws = Workspace::with_dependencies("examples/go");
    ws.init_stack_quick(&emu.endpoints());
    assert_previews_a_cluster("go", &ws);
    assert_eq!(emu.leftovers(), NOTHING_LEFT, "a preview creates nothing");
}

#[test]
fn typescript_example_previews_ups_and_destroys() {
    let emu = Emulator::start();
    let ws = Workspace::with_dependencies("examples/typescript");
    ws.init_stack_quick(&emu.endpoints());
    assert_previews_a_cluster("typescript", &ws);
    assert_up_and_destroy("typescript", &ws, &emu);

    edit(&ws, "index.ts", r#"name: "general","#, r#"name: "general", imdsHopLimit: 3,"#);
    assert_refused_cleanly("typescript", &ws);
}

#[test]
fn python_example_previews_ups_and_destroys() {
    let emu = Emulator::start();
    let ws = Workspace::with_dependencies("examples/python");
    ws.init_stack_quick(&emu.endpoints());
    assert_previews_a_cluster("python", &ws);
    assert_up_and_destroy("python", &ws, &emu);

    edit(&ws, "__main__.py", r#"name="general","#, r#"name="general", imds_hop_limit=3,"#);
    assert_refused_cleanly("python", &ws);
}
