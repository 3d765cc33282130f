//! SEKS-NODE-008: a pinned `amiId` is an AMI id, and `diskSizeGb` is a root volume size EC2 and
//! the EKS AMIs accept (20 to 16384 GiB, the gp3 maximum).

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-008",
    title: "Pinned AMI ids and disk sizes must be valid",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct AmiDisk;
pub(super) static RULE: AmiDisk = AmiDisk;

impl Rule for AmiDisk {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let mut out = Vec::new();
        for (p, ng) in node_groups(ctx) {
            let ap = p.k("amiId");
            out.extend(when_known(ctx, &ap, || {
                let id = ng.ami_id.as_deref()?;
                (!is_aws_id(id, "ami")).then(|| Finding {
                    path: ap.clone(),
                    problem: format!("{} is not an AMI id", shown(ctx, &ap, id)),
                    expected: "ami- and 8 to 17 hex digits, e.g. ami-0123456789abcdef0".into(),
                    fix: format!("set {ap} to the image id (aws ec2 describe-images), or remove it to use the EKS-optimized AMI for the version and architecture"),
                })
            }));
            let dp = p.k("diskSizeGb");
            out.extend(when_known(ctx, &dp, || {
                let gib = ng.disk_size_gib?;
                (!(20..=16384).contains(&gib)).then(|| Finding {
                    path: dp.clone(),
                    problem: format!("the root volume is {gib} GiB"),
                    expected: "20 to 16384 GiB (the EKS AMIs need 20; gp3 ends at 16384)".into(),
                    fix: format!("set {dp} to 50 (the default) or more"),
                })
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::RULE;
    use expect_test::expect;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| {
                s["nodeGroups"][0]["amiId"] = "ami-0123456789abcdef0".into();
                s["nodeGroups"][0]["diskSizeGb"] = 20.into();
            }),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-NODE-008 [MEDIUM] nodeGroups[0].amiId: "resolve:ssm:/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/arm64/standard/recommended/image_id" is not an AMI id; expected ami- and 8 to 17 hex digits, e.g. ami-0123456789abcdef0. Fix: set nodeGroups[0].amiId to the image id (aws ec2 describe-images), or remove it to use the EKS-optimized AMI for the version and architecture. Refs: none
            SEKS-NODE-008 [MEDIUM] nodeGroups[1].diskSizeGb: the root volume is 8 GiB; expected 20 to 16384 GiB (the EKS AMIs need 20; gp3 ends at 16384). Fix: set nodeGroups[1].diskSizeGb to 50 (the default) or more. Refs: none"#]].assert_eq(&run(
            &RULE,
            with(|s| {
                s["nodeGroups"][0]["amiId"] = "resolve:ssm:/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/arm64/standard/recommended/image_id".into();
                s["nodeGroups"][1]["diskSizeGb"] = 8.into();
            }),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect![[r#"
            deferred: nodeGroups[0].amiId
            deferred: nodeGroups[1].diskSizeGb"#]].assert_eq(&run(&RULE, golden(), &["nodeGroups[0].amiId", "nodeGroups[1].diskSizeGb"]));
    }
}
