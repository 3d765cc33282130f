//! gRPC conformance: drive the real binary as the engine does, RPC by RPC.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use prost::Message;
use secure_eks_proto::pulumirpc::{self, check_request::AutonamingOptions};
use serde_json::json;

fn good_spec() -> serde_json::Value {
    json!({
        "kubernetesVersion": "1.34",
        "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large", "m6g.large"]}]
    })
}

const URN: &str = "urn:pulumi:dev::proj::secure-eks:index:SecureEksCluster::demo";

async fn configured(env: &[(&str, &str)]) -> (Plugin, FakeEngine) {
    let (engine, addr) = FakeEngine::start().await;
    let mut p = Plugin::spawn(&["--logtostderr", "-v=3", &addr], env).await;
    p.client
        .configure(pulumirpc::ConfigureRequest {
            args: Some(st(&json!({"region": "us-east-1", "skipCredentialsValidation": "true", "version": "0.1.0"}))),
            accept_secrets: true,
            accept_resources: true,
            ..Default::default()
        })
        .await
        .unwrap();
    (p, engine)
}

fn check_req(news: serde_json::Value) -> pulumirpc::CheckRequest {
    pulumirpc::CheckRequest {
        urn: URN.into(),
        olds: Some(st(&json!({}))),
        news: Some(st(&news)),
        random_seed: vec![1, 2, 3],
        name: "demo".into(),
        r#type: "secure-eks:index:SecureEksCluster".into(),
        autonaming: None,
    }
}

#[tokio::test]
async fn launch_prints_only_the_port_and_answers_plugin_info_and_handshake() {
    let (_, addr) = FakeEngine::start().await;
    let mut p = Plugin::spawn(&["--unknown-flag", "-v=9", "--tracing", "http://127.0.0.1:1", &addr], &[]).await;
    assert_eq!(p.first_line, format!("{}\n", p.port));
    let info = p.client.get_plugin_info(()).await.unwrap().into_inner();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    let hs = p
        .client
        .handshake(pulumirpc::ProviderHandshakeRequest { engine_address: addr.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(hs.accept_secrets && hs.accept_resources);
    p.client.cancel(()).await.unwrap();
    assert_eq!(p.wait_exit(Duration::from_secs(5)), Some(0), "Cancel must end the process cleanly");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(p.stdout_rest.lock().unwrap().as_str(), "");
}

#[tokio::test]
async fn sigint_exits_cleanly() {
    let mut p = Plugin::spawn(&[], &[]).await;
    let pid = p.child.id().to_string();
    std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert_eq!(p.wait_exit(Duration::from_secs(5)), Some(0));
}

#[tokio::test]
async fn get_schema_serves_the_committed_schema() {
    let mut p = Plugin::spawn(&[], &[]).await;
    let s = p.client.get_schema(pulumirpc::GetSchemaRequest::default()).await.unwrap().into_inner().schema;
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema.json")).unwrap();
    assert_eq!(s, committed);
}

#[tokio::test]
async fn check_config_decodes_strings_by_schema_and_wraps_credentials() {
    let mut p = Plugin::spawn(&[], &[]).await;
    let r = p
        .client
        .check_config(pulumirpc::CheckRequest {
            news: Some(st(&json!({
                "region": "us-east-1",
                "skipCredentialsValidation": "true",
                "allowedAccountIds": "[\"123456789012\"]",
                "endpoints": "{\"sts\": \"http://127.0.0.1:5000\"}",
                "accessKey": "AKIAEXAMPLE",
                "secretKey": "s3cr3t",
                "version": "0.1.0"
            }))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let inputs = sj(&r.inputs.unwrap());
    assert_eq!(inputs["skipCredentialsValidation"], json!(true));
    assert_eq!(inputs["allowedAccountIds"], json!(["123456789012"]));
    assert_eq!(inputs["endpoints"]["sts"], json!("http://127.0.0.1:5000"));
    assert_eq!(inputs["secretKey"], secret(json!("s3cr3t")));
}

#[tokio::test]
async fn check_config_reports_bad_values_without_echoing_secrets() {
    let mut p = Plugin::spawn(&[], &[]).await;
    let r = p
        .client
        .check_config(pulumirpc::CheckRequest {
            news: Some(st(&json!({"accessKey": "AKIASECRETVALUE", "endpoints": {"eks": "localhost:5000"}}))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let all: Vec<String> = r.failures.iter().map(|f| format!("{}: {}", f.property, f.reason)).collect();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all.iter().all(|m| m.contains("SEKS-CFG-007")));
    assert!(all.iter().all(|m| !m.contains("AKIASECRETVALUE")));
}

#[tokio::test]
async fn configure_without_region_reports_missing_keys_detail() {
    let mut p = Plugin::spawn(&[], &[]).await;
    let err = p
        .client
        .configure(pulumirpc::ConfigureRequest { args: Some(st(&json!({"skipCredentialsValidation": true}))), ..Default::default() })
        .await
        .unwrap_err();
    #[derive(Clone, PartialEq, prost::Message)]
    struct RpcStatus {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
        #[prost(message, repeated, tag = "3")]
        details: Vec<prost_types::Any>,
    }
    let st = RpcStatus::decode(err.details()).unwrap();
    assert_eq!(st.details[0].type_url, "type.googleapis.com/pulumirpc.ConfigureErrorMissingKeys");
    let mk = pulumirpc::ConfigureErrorMissingKeys::decode(st.details[0].value.as_slice()).unwrap();
    assert_eq!(mk.missing_keys[0].name, "secure-eks:region");
}

#[tokio::test]
async fn configure_takes_region_from_env_and_advertises_capabilities() {
    let mut p = Plugin::spawn(&[], &[("AWS_REGION", "eu-west-1")]).await;
    let r = p
        .client
        .configure(pulumirpc::ConfigureRequest {
            args: Some(st(&json!({"skipCredentialsValidation": true}))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.accept_secrets && r.accept_resources && r.supports_preview);
}

#[tokio::test]
async fn check_applies_defaults_and_keeps_secrets_and_unknowns() {
    let (mut p, engine) = configured(&[]).await;
    let mut news = good_spec();
    news["nodeGroups"][0]["userData"] = secret(json!("[settings]"));
    news["tags"] = json!({"owner": UNKNOWN});
    let r = p.client.check(check_req(news)).await.unwrap().into_inner();
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let inputs = sj(&r.inputs.unwrap());
    assert_eq!(inputs["nodeGroups"][0]["imdsHopLimit"], json!(2.0));
    assert_eq!(inputs["nodeGroups"][0]["userData"], secret(json!("[settings]")));
    assert_eq!(inputs["tags"]["owner"], json!(UNKNOWN));
    // No credentials checked, so no AWS facts: the default zones are not known (never a guessed
    // `<region>a/b/c`), and SEKS-NET-012 is deferred.
    assert_eq!(inputs["network"].get("availabilityZones"), None);
    assert!(inputs["clusterName"].as_str().unwrap().starts_with("demo-"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = engine.messages();
    assert!(logs.iter().any(|m| m.starts_with("SEKS-CFG-000") && m.contains("tags.owner")), "{logs:?}");
    assert!(logs.iter().any(|m| m.starts_with("SEKS-CFG-000") && m.contains("network.availabilityZones")), "{logs:?}");
}

#[tokio::test]
async fn check_autoname_is_stable_and_honours_engine_autonaming() {
    let (mut p, _) = configured(&[]).await;
    let a = sj(&p.client.check(check_req(good_spec())).await.unwrap().into_inner().inputs.unwrap());
    let b = sj(&p.client.check(check_req(good_spec())).await.unwrap().into_inner().inputs.unwrap());
    assert_eq!(a["clusterName"], b["clusterName"]);
    let mut req = check_req(good_spec());
    req.autonaming = Some(AutonamingOptions { proposed_name: "prod-eks".into(), mode: 1 });
    let c = sj(&p.client.check(req).await.unwrap().into_inner().inputs.unwrap());
    assert_eq!(c["clusterName"], json!("prod-eks"));
    let mut req = check_req(good_spec());
    req.olds = Some(st(&json!({"clusterName": "kept-name", "kubernetesVersion": "1.34"})));
    let d = sj(&p.client.check(req).await.unwrap().into_inner().inputs.unwrap());
    assert_eq!(d["clusterName"], json!("kept-name"));
}

#[tokio::test]
async fn check_fails_with_rule_id_path_and_fix() {
    let (mut p, _) = configured(&[]).await;
    let mut news = good_spec();
    news["nodeGroups"][0]["imdsHopLimit"] = json!(3);
    let r = p.client.check(check_req(news)).await.unwrap().into_inner();
    assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
    assert_eq!(r.failures[0].property, "nodeGroups");
    assert!(r.failures[0].reason.starts_with("SEKS-NODE-003 [HIGH] nodeGroups[0].imdsHopLimit: the hop limit is 3;"));
    assert!(r.failures[0].reason.contains("Fix: "));
}

#[tokio::test]
async fn check_reports_schema_mismatches_and_user_data_without_echo() {
    let (mut p, _) = configured(&[]).await;
    let mut news = good_spec();
    news["nodeGroups"][0]["capacityType"] = json!("spot");
    let r = p.client.check(check_req(news)).await.unwrap().into_inner();
    assert!(r.failures[0].reason.starts_with("SEKS-CFG-004"), "{:?}", r.failures);
    let mut news = good_spec();
    news["nodeGroups"][0]["userData"] = json!("TOKEN=topsecret\nX=Calling [toString] on an [Output<T>]");
    let r = p.client.check(check_req(news)).await.unwrap().into_inner();
    assert_eq!(r.failures[0].property, "", "userData must not be echoed by the engine");
    assert!(r.failures[0].reason.starts_with("SEKS-NODE-010"));
    assert!(!r.failures[0].reason.contains("topsecret"));
}

#[tokio::test]
async fn policy_unknowns_fail_mode_blocks_preview() {
    let (mut p, _) = configured(&[]).await;
    let mut news = good_spec();
    news["policy"] = json!({"unknowns": "fail"});
    news["nodeGroups"][0]["imdsHopLimit"] = json!(UNKNOWN);
    let r = p.client.check(check_req(news)).await.unwrap().into_inner();
    assert!(r.failures.iter().any(|f| f.reason.starts_with("SEKS-NODE-003") && f.reason.contains("unknown at preview")), "{:?}", r.failures);
}

async fn checked_inputs(p: &mut Plugin, spec: serde_json::Value) -> prost_types::Struct {
    p.client.check(check_req(spec)).await.unwrap().into_inner().inputs.unwrap()
}

#[tokio::test]
async fn diff_reports_updates_replacements_and_no_change() {
    let (mut p, _) = configured(&[]).await;
    let old = checked_inputs(&mut p, good_spec()).await;
    let diff = |p: &mut Plugin, news: prost_types::Struct| {
        let req = pulumirpc::DiffRequest {
            id: "demo".into(),
            urn: URN.into(),
            olds: Some(old.clone()),
            news: Some(news),
            old_inputs: Some(old.clone()),
            ..Default::default()
        };
        let mut c = p.client.clone();
        async move { c.diff(req).await.unwrap().into_inner() }
    };
    let none = diff(&mut p, old.clone()).await;
    assert_eq!(none.changes, pulumirpc::diff_response::DiffChanges::DiffNone as i32);

    let mut s = good_spec();
    s["nodeGroups"][0]["maxSize"] = json!(5);
    s["clusterName"] = sj(&old)["clusterName"].clone();
    let news = checked_inputs(&mut p, s).await;
    let upd = diff(&mut p, news).await;
    assert_eq!(upd.changes, pulumirpc::diff_response::DiffChanges::DiffSome as i32);
    assert_eq!(upd.diffs, vec!["nodeGroups"]);
    assert!(upd.replaces.is_empty());
    assert_eq!(upd.detailed_diff["nodeGroups[0].maxSize"].kind, pulumirpc::property_diff::Kind::Update as i32);

    let mut s = good_spec();
    s["clusterName"] = sj(&old)["clusterName"].clone();
    s["network"] = json!({"vpcCidr": "10.20.0.0/16"});
    let news = checked_inputs(&mut p, s).await;
    let rep = diff(&mut p, news).await;
    assert_eq!(rep.replaces, vec!["network"]);
    assert!(rep.delete_before_replace, "same cluster name: the old one must go first");
    assert!(rep.has_detailed_diff);
    for k in rep.detailed_diff.keys() {
        assert!(rep.diffs.iter().any(|d| k.starts_with(d.as_str())), "{k} not in diffs");
    }
}

#[tokio::test]
async fn create_preview_returns_known_outputs_and_unknowns() {
    let (mut p, _) = configured(&[]).await;
    let inputs = checked_inputs(&mut p, good_spec()).await;
    let name = sj(&inputs)["clusterName"].as_str().unwrap().to_string();
    let r = p
        .client
        .create(pulumirpc::CreateRequest { urn: URN.into(), properties: Some(inputs), preview: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let out = sj(&r.properties.unwrap());
    assert_eq!(out["clusterName"], json!(name));
    assert_eq!(out["logGroupName"], json!(format!("/aws/eks/{name}/cluster")));
    assert_eq!(out["endpoint"], json!(UNKNOWN));
    assert_eq!(out["kubeconfig"], secret(json!(UNKNOWN)));
    assert_eq!(out["policyReport"]["failures"], json!([]));
}

#[tokio::test]
async fn rpcs_we_do_not_serve_answer_unimplemented() {
    let mut p = Plugin::spawn(&[], &[]).await;
    let e = p.client.invoke(pulumirpc::InvokeRequest { tok: "secure-eks:index:nope".into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unimplemented);
    let e = p.client.parameterize(pulumirpc::ParameterizeRequest::default()).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unimplemented);
    // Construct is not even in our proto: tonic answers UNIMPLEMENTED for the unknown path.
    let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{}", p.port)).unwrap().connect().await.unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/pulumirpc.ResourceProvider/Construct");
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let e = grpc.unary(tonic::Request::new(()), path, codec).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unimplemented);
    // And the process is still alive.
    assert!(p.client.get_plugin_info(()).await.is_ok());
}

#[tokio::test]
async fn check_before_configure_and_bad_wire_values_do_not_crash() {
    let mut p = Plugin::spawn(&[], &[]).await;
    let mut bad = check_req(good_spec());
    bad.news = Some(st(&json!({"x": {SIG: "ffffffffffffffffffffffffffffffff"}})));
    let e = p.client.check(bad).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    let r = p.client.check(check_req(good_spec())).await.unwrap().into_inner();
    assert!(r.failures.is_empty());
    assert!(p.client.get_plugin_info(()).await.is_ok());
}

#[tokio::test]
async fn diff_config_replaces_on_region_change_only() {
    let mut p = Plugin::spawn(&[], &[]).await;
    let old = st(&json!({"region": "us-east-1", "endpoints": {"sts": "http://a"}, "version": "0.1.0"}));
    let dc = |news: serde_json::Value| pulumirpc::DiffRequest { olds: Some(old.clone()), old_inputs: Some(old.clone()), news: Some(st(&news)), ..Default::default() };
    let same = p.client.diff_config(dc(json!({"region": "us-east-1", "endpoints": {"sts": "http://a"}, "version": "0.2.0"}))).await.unwrap().into_inner();
    assert_eq!(same.changes, pulumirpc::diff_response::DiffChanges::DiffNone as i32);
    let ep = p.client.diff_config(dc(json!({"region": "us-east-1", "endpoints": {"sts": "http://b"}}))).await.unwrap().into_inner();
    assert_eq!(ep.changes, pulumirpc::diff_response::DiffChanges::DiffSome as i32);
    assert!(ep.replaces.is_empty());
    let rg = p.client.diff_config(dc(json!({"region": "eu-west-1", "endpoints": {"sts": "http://a"}}))).await.unwrap().into_inner();
    assert_eq!(rg.replaces, vec!["region"]);
}
