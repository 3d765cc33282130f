//! Emulator tests: Configure calls STS GetCallerIdentity through the `endpoints` override.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::emulator::Emulator;
use common::*;
use secure_eks_proto::pulumirpc;
use serde_json::json;

fn creds() -> [(&'static str, &'static str); 2] {
    [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")]
}

#[tokio::test]
async fn configure_validates_the_account_through_sts() {
    let emu = Emulator::start();
    let mut p = Plugin::spawn(&[], &creds()).await;
    let ok = p
        .client
        .configure(pulumirpc::ConfigureRequest {
            args: Some(st(&json!({"region": "us-east-1", "endpoints": emu.endpoints(), "allowedAccountIds": ["123456789012"]}))),
            ..Default::default()
        })
        .await;
    assert!(ok.is_ok(), "{ok:?}");

    let mut p = Plugin::spawn(&[], &creds()).await;
    let err = p
        .client
        .configure(pulumirpc::ConfigureRequest {
            args: Some(st(&json!({"region": "us-east-1", "endpoints": emu.endpoints(), "allowedAccountIds": ["111111111111"]}))),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    assert!(err.message().contains("123456789012") && err.message().contains("allowedAccountIds"), "{}", err.message());
}

#[tokio::test]
async fn configure_with_static_credentials_in_config_and_no_env() {
    let emu = Emulator::start();
    let mut p = Plugin::spawn(&[], &[]).await;
    let r = p
        .client
        .configure(pulumirpc::ConfigureRequest {
            args: Some(st(&json!({
                "region": "eu-west-1",
                "endpoints": emu.endpoints(),
                "accessKey": secret(json!("AKIAFROMCONFIG")),
                "secretKey": secret(json!("s3cr3t"))
            }))),
            ..Default::default()
        })
        .await;
    assert!(r.is_ok(), "{r:?}");
}

#[tokio::test]
async fn configure_fails_clearly_when_sts_is_unreachable() {
    let mut p = Plugin::spawn(&[], &creds()).await;
    let err = p
        .client
        .configure(pulumirpc::ConfigureRequest {
            args: Some(st(&json!({"region": "us-east-1", "endpoints": {"sts": "http://127.0.0.1:9"}}))),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    assert!(err.message().contains("GetCallerIdentity"), "{}", err.message());
}
