//! SEKS-NET-012 (AWS-backed): every zone in `network.availabilityZones` is an ordinary
//! availability zone of the region that the account may use (DescribeAvailabilityZones).
//!
//! Zone letters differ by region and account (ca-central-1 has a, b and d; ap-northeast-1 a, c
//! and d; us-west-1 only two), so `<region>a/b/c` is no safe guess: the default zones are the
//! first three that are `available`, of type `availability-zone` and `opt-in-not-required`, read
//! from AWS at Check. Local and Wavelength Zones are never defaults, and EKS cannot put the
//! cluster's subnets there. Without AWS facts (no credentials at preview) the default is unknown
//! and this rule is deferred.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NET-012",
    title: "Availability zones exist in the region, are ordinary AZs and need no opt-in (checked with AWS)",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["EKS BPG networking/subnets"],
};

pub(super) struct Zones;
pub(super) static RULE: Zones = Zones;

impl Rule for Zones {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let path = Path::key("network").k("availabilityZones");
        if !ctx.known(&path) {
            return vec![Outcome::Deferred(path)];
        }
        let Some(zones) = ctx.aws.and_then(|a| a.zones.as_ref()) else {
            return vec![Outcome::Deferred(path)];
        };
        let Some(azs) = ctx.spec.network.as_ref().and_then(|n| n.availability_zones.as_ref()) else {
            return vec![];
        };
        let region = ctx.region.unwrap_or("the region");
        let usable: Vec<&str> = zones.iter().filter(|z| z.is_default_candidate()).map(|z| z.name.as_str()).collect();
        let usable = if usable.is_empty() { "none".to_string() } else { usable.join(", ") };
        let mut out = Vec::new();
        for (i, az) in azs.iter().enumerate() {
            let p = path.i(i);
            let problem = match zones.iter().find(|z| &z.name == az) {
                None => Some(format!("{az} is not a zone of {region} (DescribeAvailabilityZones)")),
                Some(z) if z.zone_type != "availability-zone" => {
                    Some(format!("{az} is a {}, where EKS cannot place the cluster's subnets", z.zone_type))
                }
                Some(z) if z.opt_in_status == "not-opted-in" => Some(format!("{az} needs an opt-in that this account has not made")),
                Some(_) => None,
            };
            out.extend(problem.map(|problem| {
                Outcome::Fail(Finding {
                    path: p.clone(),
                    problem,
                    expected: format!("an available availability zone of {region} ({usable})"),
                    fix: format!("use one of {usable} in {p}, or leave network.availabilityZones out to use the first 3"),
                })
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, golden_aws, run, with, with_aws};
    use super::super::{AwsFacts, ZoneFacts};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    fn zone(name: &str, zone_type: &str, opt_in: &str) -> ZoneFacts {
        ZoneFacts { name: name.into(), state: "available".into(), zone_type: zone_type.into(), opt_in_status: opt_in.into() }
    }

    /// Like us-east-1: six AZs, a Local Zone that needs an opt-in.
    fn facts() -> AwsFacts {
        let mut f = golden_aws();
        let mut zones: Vec<ZoneFacts> = "abcdef".chars().map(|c| zone(&format!("us-east-1{c}"), "availability-zone", "opt-in-not-required")).collect();
        zones.push(zone("us-east-1-bos-1a", "local-zone", "not-opted-in"));
        f.zones = Some(zones);
        f
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&with_aws(facts(), || run(&RULE, golden(), &[])));
        expect!["pass"].assert_eq(&with_aws(facts(), || run(&RULE, with(|s| s["network"] = json!({"availabilityZones": ["us-east-1d", "us-east-1f"]})), &[])));
    }

    #[test]
    fn fail() {
        let mut f = facts();
        if let Some(z) = f.zones.as_mut() {
            z.retain(|z| !z.name.ends_with('c'));
        }
        expect!["SEKS-NET-012 [HIGH] network.availabilityZones[2]: us-east-1c is not a zone of us-east-1 (DescribeAvailabilityZones); expected an available availability zone of us-east-1 (us-east-1a, us-east-1b, us-east-1d, us-east-1e, us-east-1f). Fix: use one of us-east-1a, us-east-1b, us-east-1d, us-east-1e, us-east-1f in network.availabilityZones[2], or leave network.availabilityZones out to use the first 3. Refs: EKS BPG networking/subnets"]
            .assert_eq(&with_aws(f, || run(&RULE, with(|s| s["network"] = json!({"availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"]})), &[])));
        expect!["SEKS-NET-012 [HIGH] network.availabilityZones[1]: us-east-1-bos-1a is a local-zone, where EKS cannot place the cluster's subnets; expected an available availability zone of us-east-1 (us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f). Fix: use one of us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f in network.availabilityZones[1], or leave network.availabilityZones out to use the first 3. Refs: EKS BPG networking/subnets"]
            .assert_eq(&with_aws(facts(), || run(&RULE, with(|s| s["network"] = json!({"availabilityZones": ["us-east-1a", "us-east-1-bos-1a"]})), &[])));
    }

    #[test]
    fn unknown() {
        expect!["deferred: network.availabilityZones"].assert_eq(&with_aws(facts(), || run(&RULE, golden(), &["network.availabilityZones"])));
        // No AWS facts (no credentials at preview): the default zones are unknown too.
        expect!["deferred: network.availabilityZones"].assert_eq(&run(&RULE, golden(), &[]));
    }

    #[test]
    fn defaults_are_the_first_three_usable_zones() {
        // ca-central-1 has no "c"; ap-northeast-1 has no "b"; a Local Zone sorts first but is never a default.
        let mut f = AwsFacts {
            zones: Some(vec![
                zone("ca-central-1d", "availability-zone", "opt-in-not-required"),
                zone("ca-central-1a", "availability-zone", "opt-in-not-required"),
                zone("ca-central-1-aaa-1a", "local-zone", "opted-in"),
                zone("ca-central-1b", "availability-zone", "opt-in-not-required"),
            ]),
            ..AwsFacts::default()
        };
        assert_eq!(f.default_zones(), Some(vec!["ca-central-1a".to_string(), "ca-central-1b".into(), "ca-central-1d".into()]));
        if let Some(z) = f.zones.as_mut() {
            z[1].state = "impaired".into();
        }
        assert_eq!(f.default_zones(), Some(vec!["ca-central-1b".to_string(), "ca-central-1d".into()]));
        assert_eq!(AwsFacts::default().default_zones(), None);
    }
}
