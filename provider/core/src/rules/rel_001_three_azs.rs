//! SEKS-REL-001 (warning): three availability zones, so a zone outage leaves two thirds of the
//! capacity and the subnets EKS needs. Fewer than two zones is SEKS-NET-001's failure.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-REL-001",
    title: "Fewer than three availability zones",
    severity: Severity::Medium,
    level: Level::Warning,
    waivable: true,
    refs: &["EKS BPG reliability/dataplane"],
};

pub(super) struct ThreeAzs;
pub(super) static RULE: ThreeAzs = ThreeAzs;

impl Rule for ThreeAzs {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let path = Path::key("network").k("availabilityZones");
        when_known(ctx, &path, || {
            let azs = ctx.spec.network.as_ref()?.availability_zones.as_ref()?;
            let mut distinct: Vec<&str> = azs.iter().map(String::as_str).collect();
            distinct.sort_unstable();
            distinct.dedup();
            (distinct.len() == 2).then(|| Finding {
                path: path.clone(),
                problem: format!("only 2 zones are used ({}): losing one takes half of the nodes and leaves EKS a single zone", distinct.join(", ")),
                expected: "3 zones (EKS Best Practices: spread nodes over three AZs)".into(),
                fix: format!(
                    "add a third zone{} to {path}, or leave it out to use the first 3",
                    ctx.region.map(|r| format!(" of {r}")).unwrap_or_default()
                ),
            })
        })
        .into_iter()
        .collect()
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1d", "us-east-1f"]})), &[]));
    }

    #[test]
    fn fail() {
        expect!["SEKS-REL-001 [MEDIUM] network.availabilityZones: only 2 zones are used (us-east-1a, us-east-1b): losing one takes half of the nodes and leaves EKS a single zone; expected 3 zones (EKS Best Practices: spread nodes over three AZs). Fix: add a third zone of us-east-1 to network.availabilityZones, or leave it out to use the first 3. Refs: EKS BPG reliability/dataplane"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"availabilityZones": ["us-east-1a", "us-east-1b"]})), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: network.availabilityZones"].assert_eq(&run(&RULE, golden(), &["network.availabilityZones"]));
    }
}
