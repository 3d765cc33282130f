//! SEKS-CFG-001: every ARN input is well formed and agrees with the provider's region and
//! partition. Not waivable.
//!
//! - `encryption.kmsKeyArn` is a KMS key or alias ARN in the provider's region: EKS only uses a
//!   key from the cluster's own region.
//! - `permissionsBoundary` and `serviceAccountRoles[].policyArns[]` are IAM policy ARNs.
//! - Every ARN is in the partition of the region (`aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`).

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CFG-001",
    title: "ARNs must be well formed and in the provider's region and partition",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct RegionArns;
pub(super) static RULE: RegionArns = RegionArns;

fn partition_mismatch(ctx: &RuleCtx<'_>, path: &Path, arn: &Arn<'_>) -> Option<Finding> {
    let region = ctx.region?;
    let want = region_partition(region)?;
    (arn.partition != want).then(|| Finding {
        path: path.clone(),
        problem: format!("the ARN is in partition {}, but the provider region {region} is in {want}", arn.partition),
        expected: format!("an ARN starting with arn:{want}:"),
        fix: format!("use the ARN from the {want} partition, or change the provider's region"),
    })
}

fn kms_key(ctx: &RuleCtx<'_>, path: &Path, v: &str) -> Option<Finding> {
    let Some(arn) = parse_arn(v).filter(is_kms_key_arn) else {
        return Some(Finding {
            path: path.clone(),
            problem: format!("{} is not a KMS key ARN", shown(ctx, path, v)),
            expected: "arn:<partition>:kms:<region>:<12-digit account>:key/<key id> (or an alias/<name> ARN)".into(),
            fix: "copy the KeyMetadata.Arn from `aws kms describe-key --key-id <id>`, or leave encryption.kmsKeyArn out to get a new key".into(),
        });
    };
    if let Some(region) = ctx.region {
        if arn.region != region {
            return Some(Finding {
                path: path.clone(),
                problem: format!("the key is in {}, but the provider region is {region} (EKS only encrypts with a key of the cluster's region)", arn.region),
                expected: format!("a KMS key in {region}"),
                fix: format!("use a key (or a multi-Region replica) in {region}, or leave encryption.kmsKeyArn out to get a new key"),
            });
        }
    }
    partition_mismatch(ctx, path, &arn)
}

fn policy(ctx: &RuleCtx<'_>, path: &Path, v: &str, example: &str) -> Option<Finding> {
    let Some(arn) = parse_arn(v) else {
        return Some(Finding {
            path: path.clone(),
            problem: format!("{} is not an ARN", shown(ctx, path, v)),
            expected: "an IAM policy ARN, arn:<partition>:iam::<12-digit account or aws>:policy/<path/><name>".into(),
            fix: format!("use the policy's ARN, e.g. {example}"),
        });
    };
    if !is_iam_policy_arn(&arn) {
        let kind = match (arn.service, arn.resource.split_once('/').map(|(k, _)| k)) {
            ("iam", Some(k @ ("role" | "user" | "group"))) => format!("an IAM {k} ARN"),
            (s, _) if s != "iam" => format!("a {s} ARN"),
            _ => "a malformed IAM ARN".into(),
        };
        return Some(Finding {
            path: path.clone(),
            problem: format!("{} is {kind}, not an IAM policy ARN", shown(ctx, path, v)),
            expected: "arn:<partition>:iam::<12-digit account or aws>:policy/<path/><name>".into(),
            fix: format!("use the policy's ARN, e.g. {example}"),
        });
    }
    partition_mismatch(ctx, path, &arn)
}

impl Rule for RegionArns {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let mut out = Vec::new();
        let kp = Path::key("encryption").k("kmsKeyArn");
        out.extend(when_known(ctx, &kp, || {
            let v = ctx.spec.encryption.as_ref()?.kms_key_arn.as_deref()?;
            kms_key(ctx, &kp, v)
        }));
        let bp = Path::key("permissionsBoundary");
        out.extend(when_known(ctx, &bp, || policy(ctx, &bp, ctx.spec.permissions_boundary.as_deref()?, "arn:aws:iam::123456789012:policy/eks-boundary")));
        let sp = Path::key("serviceAccountRoles");
        if ctx.annotations.is_unknown(&sp) {
            out.push(Outcome::Deferred(sp));
            return out;
        }
        for (i, role) in ctx.spec.service_account_roles.iter().flatten().enumerate() {
            let lp = sp.i(i).k("policyArns");
            if ctx.annotations.is_unknown(&lp) {
                out.push(Outcome::Deferred(lp));
                continue;
            }
            for (j, arn) in role.policy_arns.iter().flatten().enumerate() {
                let p = lp.i(j);
                out.extend(when_known(ctx, &p, || policy(ctx, &p, arn, "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")));
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

    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| {
                s["encryption"] = json!({"kmsKeyArn": KEY});
                s["permissionsBoundary"] = json!("arn:aws:iam::123456789012:policy/boundaries/eks");
                s["serviceAccountRoles"] = json!([{"namespace": "app", "name": "web", "policyArns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]}]);
            }),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-CFG-001 [HIGH] encryption.kmsKeyArn: the key is in eu-west-1, but the provider region is us-east-1 (EKS only encrypts with a key of the cluster's region); expected a KMS key in us-east-1. Fix: use a key (or a multi-Region replica) in us-east-1, or leave encryption.kmsKeyArn out to get a new key. Refs: none
            SEKS-CFG-001 [HIGH] permissionsBoundary: "arn:aws:iam::123456789012:role/admin" is an IAM role ARN, not an IAM policy ARN; expected arn:<partition>:iam::<12-digit account or aws>:policy/<path/><name>. Fix: use the policy's ARN, e.g. arn:aws:iam::123456789012:policy/eks-boundary. Refs: none
            SEKS-CFG-001 [HIGH] serviceAccountRoles[0].policyArns[0]: "AmazonS3ReadOnlyAccess" is not an ARN; expected an IAM policy ARN, arn:<partition>:iam::<12-digit account or aws>:policy/<path/><name>. Fix: use the policy's ARN, e.g. arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess. Refs: none
            SEKS-CFG-001 [HIGH] serviceAccountRoles[0].policyArns[1]: the ARN is in partition aws-cn, but the provider region us-east-1 is in aws; expected an ARN starting with arn:aws:. Fix: use the ARN from the aws partition, or change the provider's region. Refs: none"#]].assert_eq(&run(
            &RULE,
            with(|s| {
                s["encryption"] = json!({"kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"});
                s["permissionsBoundary"] = json!("arn:aws:iam::123456789012:role/admin");
                s["serviceAccountRoles"] = json!([{"namespace": "app", "name": "web", "policyArns": ["AmazonS3ReadOnlyAccess", "arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess"]}]);
            }),
            &[],
        ));
        expect![[r#"SEKS-CFG-001 [HIGH] encryption.kmsKeyArn: "alias/eks" is not a KMS key ARN; expected arn:<partition>:kms:<region>:<12-digit account>:key/<key id> (or an alias/<name> ARN). Fix: copy the KeyMetadata.Arn from `aws kms describe-key --key-id <id>`, or leave encryption.kmsKeyArn out to get a new key. Refs: none"#]].assert_eq(&run(&RULE, with(|s| s["encryption"] = json!({"kmsKeyArn": "alias/eks"})), &[]));
    }

    #[test]
    fn unknown() {
        expect![[r#"
            deferred: encryption.kmsKeyArn
            deferred: serviceAccountRoles[0].policyArns[0]"#]].assert_eq(&run(
            &RULE,
            with(|s| {
                s["encryption"] = json!({"kmsKeyArn": KEY});
                s["serviceAccountRoles"] = json!([{"namespace": "app", "name": "web", "policyArns": ["x"]}]);
            }),
            &["encryption.kmsKeyArn", "serviceAccountRoles[0].policyArns[0]"],
        ));
    }
}
