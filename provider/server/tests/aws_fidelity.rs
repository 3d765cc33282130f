//! Check against the emulator where AWS's facts decide (issue #12): the default availability
//! zones come from DescribeAvailabilityZones (regions whose zone letters are not a/b/c), and a
//! zone the region lacks is refused at preview. (~3 s: one emulator, two plugins.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::emulator::Emulator;
use common::*;
use secure_eks_proto::pulumirpc;
use serde_json::json;

const URN: &str = "urn:pulumi:dev::proj::secure-eks:index:SecureEksCluster::demo";

fn check_req(news: serde_json::Value) -> pulumirpc::CheckRequest {
    pulumirpc::CheckRequest {
        urn: URN.into(),
        olds: Some(st(&json!({}))),
        news: Some(st(&news)),
        random_seed: vec![1],
        name: "demo".into(),
        r#type: "secure-eks:index:SecureEksCluster".into(),
        autonaming: None,
    }
}

/// The region's usable zones as the emulator reports them (boto3, not the provider's code).
fn usable_zones(emu: &Emulator, region: &str) -> Vec<String> {
    let out = emu.boto3_in(
        region,
        "zs = client('ec2').describe_availability_zones(AllAvailabilityZones=True)['AvailabilityZones']\n\
         print(' '.join(sorted(z['ZoneName'] for z in zs if z['State'] == 'available' and z.get('ZoneType', 'availability-zone') == 'availability-zone' and z.get('OptInStatus', 'opt-in-not-required') == 'opt-in-not-required')))",
    );
    out.split_whitespace().map(str::to_string).collect()
}

#[tokio::test]
async fn default_zones_come_from_aws_and_a_zone_the_region_lacks_is_refused() {
    let emu = Emulator::start();
    // Each with the letter its region lacks (ca-central-1: a, b, d; ap-northeast-1: a, c, d).
    for (region, lacks) in [("ca-central-1", "c"), ("ap-northeast-1", "b")] {
        let zones = usable_zones(&emu, region);
        assert!(zones.len() >= 3, "{region}: {zones:?}");
        let (_engine, addr) = FakeEngine::start().await;
        let mut p = Plugin::spawn(&[&addr], &[("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")]).await;
        p.client
            .configure(pulumirpc::ConfigureRequest {
                args: Some(st(&json!({"region": region, "endpoints": emu.endpoints()}))),
                accept_secrets: true,
                accept_resources: true,
                ..Default::default()
            })
            .await
            .unwrap();
        let spec = json!({"kubernetesVersion": "1.34", "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large"]}]});
        let r = p.client.check(check_req(spec.clone())).await.unwrap().into_inner();
        let inputs = sj(&r.inputs.unwrap());
        assert_eq!(inputs["network"]["availabilityZones"], json!(zones[..3]), "{region}");
        // A zone the region lacks: refused at preview, with the real ones named.
        let mut bad = spec.clone();
        bad["network"] = json!({"availabilityZones": [format!("{region}a"), format!("{region}{lacks}"), format!("{region}d")]});
        let r = p.client.check(check_req(bad)).await.unwrap().into_inner();
        let f: Vec<_> = r.failures.iter().filter(|f| f.reason.contains("SEKS-NET-012")).collect();
        assert_eq!(f.len(), 1, "{region}: {:?}", r.failures);
        assert_eq!(f[0].property, "network");
        assert!(f[0].reason.contains("network.availabilityZones[1]"), "{}", f[0].reason);
        assert!(f[0].reason.contains(&format!("{region}{lacks} is not a zone of {region}")), "{}", f[0].reason);
    }
}
