//! SEKS-NET-001: at least two distinct availability zones, all in the provider's region.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NET-001",
    title: "At least two availability zones, all in the provider region",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["EKS BPG networking/subnets", "EKS BPG reliability/dataplane"],
};

pub(super) struct Azs;
pub(super) static RULE: Azs = Azs;

impl Rule for Azs {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let path = Path::key("network").k("availabilityZones");
        if !ctx.known(&path) {
            return vec![Outcome::Deferred(path)];
        }
        let Some(azs) = ctx.spec.network.as_ref().and_then(|n| n.availability_zones.as_ref()) else {
            return vec![];
        };
        let mut out = Vec::new();
        let mut distinct: Vec<&str> = azs.iter().map(String::as_str).collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 2 {
            out.push(Outcome::Fail(Finding {
                path: path.clone(),
                problem: format!("{} distinct zone(s) given ({})", distinct.len(), azs.join(", ")),
                expected: "at least 2 distinct zones (EKS requires subnets in 2 AZs; 3 survive a zone loss)".into(),
                fix: "list 3 zones of the region, or leave network.availabilityZones out to use the first 3".into(),
            }));
        }
        if let Some(region) = ctx.region {
            for (i, az) in azs.iter().enumerate() {
                let in_region = az
                    .strip_prefix(region)
                    .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase()));
                if !in_region {
                    out.push(Outcome::Fail(Finding {
                        path: path.i(i),
                        problem: format!("{az} is not a zone of the provider region {region}"),
                        expected: format!("zones named {region}a, {region}b, ..."),
                        fix: format!("use zones of {region}, or change the provider's region"),
                    }));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NET-001 [HIGH] network.availabilityZones: 1 distinct zone(s) given (us-east-1a, us-east-1a); expected at least 2 distinct zones (EKS requires subnets in 2 AZs; 3 survive a zone loss). Fix: list 3 zones of the region, or leave network.availabilityZones out to use the first 3. Refs: EKS BPG networking/subnets, EKS BPG reliability/dataplane"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"availabilityZones": ["us-east-1a", "us-east-1a"]})), &[]));
        expect!["SEKS-NET-001 [HIGH] network.availabilityZones[1]: eu-west-1b is not a zone of the provider region us-east-1; expected zones named us-east-1a, us-east-1b, .... Fix: use zones of us-east-1, or change the provider's region. Refs: EKS BPG networking/subnets, EKS BPG reliability/dataplane"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"availabilityZones": ["us-east-1a", "eu-west-1b"]})), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: network.availabilityZones"].assert_eq(&run(&RULE, golden(), &["network.availabilityZones"]));
    }
}
