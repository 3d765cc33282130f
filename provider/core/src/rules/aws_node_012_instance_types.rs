//! SEKS-NODE-012 (AWS-backed): every instance type is offered in the region, and AWS reports one
//! CPU architecture for the whole group. The static table in SEKS-NODE-004 is only the fast path;
//! this rule asks DescribeInstanceTypes, so new families are judged by AWS, not by a stale list.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-012",
    title: "Instance types exist in the region and share one architecture (checked with AWS)",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct InstanceTypes;
pub(super) static RULE: InstanceTypes = InstanceTypes;

/// The EKS architecture of an EC2 type (`x86_64` or `arm64`) from what AWS lists.
fn eks_arch(archs: &[String]) -> Option<&'static str> {
    if archs.iter().any(|a| a == "arm64") {
        Some("arm64")
    } else if archs.iter().any(|a| a == "x86_64") {
        Some("x86_64")
    } else {
        None
    }
}

impl Rule for InstanceTypes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        node_groups(ctx)
            .filter_map(|(p, ng)| {
                let path = p.k("instanceTypes");
                let Some(aws) = ctx.aws else {
                    return Some(Outcome::Deferred(path));
                };
                when_known(ctx, &path, || {
                    let region = ctx.region.unwrap_or("the region");
                    if let Some(missing) = ng.instance_types.iter().find(|t| !aws.instance_types.contains_key(t.as_str())) {
                        return Some(Finding {
                            path: path.clone(),
                            problem: format!("{missing:?} is not offered in {region} (DescribeInstanceTypes does not list it)"),
                            expected: "instance types available in the region".into(),
                            fix: format!("replace {missing:?} in {path} with a type listed by `aws ec2 describe-instance-types`"),
                        });
                    }
                    let archs = ng
                        .instance_types
                        .iter()
                        .filter_map(|t| aws.instance_types.get(t).and_then(|a| eks_arch(a)).map(|a| (a.to_string(), t.as_str())))
                        .collect();
                    mixed_arch_finding(&p, archs, "according to AWS, the group")
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, golden_aws, run, with, with_aws};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&with_aws(golden_aws(), || run(&RULE, golden(), &[])));
    }

    #[test]
    fn fail() {
        let mut facts = golden_aws();
        facts.instance_types.insert("m8x.large".into(), vec!["x86_64".into()]);
        expect!["SEKS-NODE-012 [HIGH] nodeGroups[0].instanceTypes: according to AWS, the group mixes architectures (m7g.large is arm64, m8x.large is x86_64); expected all instance types of one architecture (the AMI follows it). Fix: split nodeGroups[0] into one group per architecture. Refs: none"].assert_eq(&with_aws(facts, || {
            run(&RULE, with(|s| s["nodeGroups"][0]["instanceTypes"] = json!(["m7g.large", "m8x.large"])), &[])
        }));
        expect![[r#"SEKS-NODE-012 [HIGH] nodeGroups[1].instanceTypes: "z9q.large" is not offered in us-east-1 (DescribeInstanceTypes does not list it); expected instance types available in the region. Fix: replace "z9q.large" in nodeGroups[1].instanceTypes with a type listed by `aws ec2 describe-instance-types`. Refs: none"#]].assert_eq(&with_aws(golden_aws(), || {
            run(&RULE, with(|s| s["nodeGroups"][1]["instanceTypes"] = json!(["z9q.large"])), &[])
        }));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[0].instanceTypes"].assert_eq(&with_aws(golden_aws(), || run(&RULE, golden(), &["nodeGroups[0].instanceTypes"])));
        // Without credentials the rule is deferred, never failed.
        expect![[r#"
            deferred: nodeGroups[0].instanceTypes
            deferred: nodeGroups[1].instanceTypes"#]].assert_eq(&run(&RULE, golden(), &[]));
    }
}
