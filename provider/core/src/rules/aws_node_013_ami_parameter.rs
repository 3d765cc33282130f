//! SEKS-NODE-013 (AWS-backed): the EKS-optimized AMI exists for the version, family and
//! architecture (its SSM parameter resolves), so node groups don't fail with ParameterNotFound
//! twenty minutes into `up`.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-013",
    title: "An EKS-optimized AMI exists for the version, family and architecture (checked with AWS)",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct AmiParameter;
pub(super) static RULE: AmiParameter = AmiParameter;

impl Rule for AmiParameter {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        node_groups(ctx)
            .filter_map(|(p, ng)| {
                let deps = [Path::key("kubernetesVersion"), p.k("instanceTypes"), p.k("amiFamily"), p.k("amiId")];
                if let Some(u) = deps.iter().find(|d| !ctx.known(d)) {
                    return Some(Outcome::Deferred(u.clone()));
                }
                let param = ami_parameter(ctx.spec, ng)?;
                let Some(aws) = ctx.aws else {
                    return Some(Outcome::Deferred(p.k("amiFamily")));
                };
                (aws.ssm_parameters.get(&param) != Some(&true)).then(|| {
                    Outcome::Fail(Finding {
                        path: p.k("amiFamily"),
                        problem: format!(
                            "no AMI is published for this version, family and architecture (SSM parameter {param} does not exist in {})",
                            ctx.region.unwrap_or("the region")
                        ),
                        expected: "a combination EKS publishes AMIs for".into(),
                        fix: format!("use a supported kubernetesVersion, set {p}.amiFamily to AL2023, or pin {p}.amiId"),
                    })
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

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&with_aws(golden_aws(), || run(&RULE, golden(), &[])));
        expect!["pass"].assert_eq(&with_aws(golden_aws(), || {
            run(&RULE, with(|s| s["nodeGroups"][0]["amiId"] = "ami-0123456789abcdef0".into()), &[])
        }));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NODE-013 [HIGH] nodeGroups[0].amiFamily: no AMI is published for this version, family and architecture (SSM parameter /aws/service/bottlerocket/aws-k8s-1.34/arm64/latest/image_version does not exist in us-east-1); expected a combination EKS publishes AMIs for. Fix: use a supported kubernetesVersion, set nodeGroups[0].amiFamily to AL2023, or pin nodeGroups[0].amiId. Refs: none"].assert_eq(&with_aws(golden_aws(), || {
            run(&RULE, with(|s| s["nodeGroups"][0]["amiFamily"] = "BOTTLEROCKET".into()), &[])
        }));
    }

    #[test]
    fn unknown() {
        expect![[r#"
            deferred: kubernetesVersion
            deferred: kubernetesVersion"#]].assert_eq(&with_aws(golden_aws(), || run(&RULE, golden(), &["kubernetesVersion"])));
        expect![[r#"
            deferred: nodeGroups[0].amiFamily
            deferred: nodeGroups[1].amiFamily"#]].assert_eq(&run(&RULE, golden(), &[]));
    }
}
