//! SEKS-NODE-014 (AWS-backed): a pinned `amiId` exists and is built for the node group's CPU
//! architecture (DescribeImages), so a Graviton group never boots an x86 image.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-014",
    title: "A pinned AMI exists and matches the instance architecture (checked with AWS)",
    severity: Severity::Critical,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct PinnedAmiArch;
pub(super) static RULE: PinnedAmiArch = PinnedAmiArch;

impl Rule for PinnedAmiArch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        node_groups(ctx)
            .filter_map(|(p, ng)| {
                let path = p.k("amiId");
                for d in [path.clone(), p.k("instanceTypes")] {
                    if !ctx.known(&d) {
                        return Some(Outcome::Deferred(d));
                    }
                }
                let ami = ng.ami_id.as_deref()?;
                let Some(aws) = ctx.aws else {
                    return Some(Outcome::Deferred(path));
                };
                let want = ng.instance_types.first().and_then(|t| instance_arch(t))?.to_string();
                let finding = match aws.images.get(ami) {
                    None => Finding {
                        path: path.clone(),
                        problem: format!("{ami} does not exist in {} (DescribeImages)", ctx.region.unwrap_or("the region")),
                        expected: "an AMI id of this region".into(),
                        fix: format!("correct {path}, or remove it to use the EKS-optimized AMI"),
                    },
                    Some(arch) if *arch != want => Finding {
                        path: path.clone(),
                        problem: format!("{ami} is built for {arch}, but the instance types are {want}"),
                        expected: format!("an {want} AMI"),
                        fix: format!("pin an {want} image, or remove {path} to use the EKS-optimized AMI for the architecture"),
                    },
                    Some(_) => return None,
                };
                Some(Outcome::Fail(finding))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, golden_aws, run, with, with_aws};
    use super::RULE;
    use expect_test::expect;

    fn facts() -> super::super::AwsFacts {
        let mut f = golden_aws();
        f.images.insert("ami-0aaaaaaaaaaaaaaa1".into(), "arm64".into());
        f.images.insert("ami-0bbbbbbbbbbbbbbb2".into(), "x86_64".into());
        f
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&with_aws(facts(), || run(&RULE, golden(), &[])));
        expect!["pass"].assert_eq(&with_aws(facts(), || {
            run(&RULE, with(|s| s["nodeGroups"][0]["amiId"] = "ami-0aaaaaaaaaaaaaaa1".into()), &[])
        }));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NODE-014 [CRITICAL] nodeGroups[0].amiId: ami-0bbbbbbbbbbbbbbb2 is built for x86_64, but the instance types are arm64; expected an arm64 AMI. Fix: pin an arm64 image, or remove nodeGroups[0].amiId to use the EKS-optimized AMI for the architecture. Refs: none"].assert_eq(&with_aws(facts(), || {
            run(&RULE, with(|s| s["nodeGroups"][0]["amiId"] = "ami-0bbbbbbbbbbbbbbb2".into()), &[])
        }));
        expect!["SEKS-NODE-014 [CRITICAL] nodeGroups[0].amiId: ami-0ccccccccccccccc3 does not exist in us-east-1 (DescribeImages); expected an AMI id of this region. Fix: correct nodeGroups[0].amiId, or remove it to use the EKS-optimized AMI. Refs: none"].assert_eq(&with_aws(facts(), || {
            run(&RULE, with(|s| s["nodeGroups"][0]["amiId"] = "ami-0ccccccccccccccc3".into()), &[])
        }));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[0].amiId"].assert_eq(&with_aws(facts(), || run(&RULE, golden(), &["nodeGroups[0].amiId"])));
        expect!["deferred: nodeGroups[0].amiId"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["amiId"] = "ami-0aaaaaaaaaaaaaaa1".into()), &[]));
    }
}
