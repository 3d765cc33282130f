//! SEKS-NET-021: `network.extraEndpoints` names interface endpoint services secure-eks knows, by
//! their short name, once, and none that are always created (ec2, ecr.api, ecr.dkr, logs, sts and
//! the s3 gateway).
//!
//! Waivable, for a real PrivateLink service missing from the static list.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NET-021",
    title: "Extra VPC endpoints must be known interface services not created already",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: true,
    refs: &[],
};

pub(super) struct ExtraEndpoints;
pub(super) static RULE: ExtraEndpoints = ExtraEndpoints;

fn judge(ctx: &RuleCtx<'_>, path: &Path, name: &str, earlier: &[String]) -> Option<Finding> {
    let shown_name = shown(ctx, path, name);
    if let Some(rest) = name.strip_prefix("com.amazonaws.") {
        let short = rest.split_once('.').map_or(rest, |(_, s)| s);
        let region = rest.split_once('.').map_or("", |(r, _)| r);
        let other_region = ctx.region.filter(|r| *r != region).map(|r| format!(" in {region}, not the provider region {r}")).unwrap_or_default();
        return Some(Finding {
            path: path.clone(),
            problem: format!("{shown_name} is a full service name{other_region}"),
            expected: "the short name (endpoints are always created in the provider's region)".into(),
            fix: if ctx.is_secret(path) { "write the short name, e.g. \"ssm\"".to_string() } else { format!("write {short:?}") },
        });
    }
    if name == "s3" {
        return Some(Finding {
            path: path.clone(),
            problem: "s3 is always created, as a gateway endpoint on the private route tables".into(),
            expected: format!("only services beyond the ones always created ({})", ALWAYS_CREATED_ENDPOINTS.join(", ")),
            fix: format!("remove {path}"),
        });
    }
    if ALWAYS_CREATED_ENDPOINTS.contains(&name) {
        return Some(Finding {
            path: path.clone(),
            problem: format!("{shown_name} is always created as an interface endpoint"),
            expected: format!("only services beyond the ones always created ({})", ALWAYS_CREATED_ENDPOINTS.join(", ")),
            fix: format!("remove {path}"),
        });
    }
    if !EXTRA_ENDPOINTS.contains(&name) {
        return Some(Finding {
            path: path.clone(),
            problem: format!("{shown_name} is not an interface endpoint service secure-eks knows"),
            expected: format!("one of {}", EXTRA_ENDPOINTS.join(", ")),
            fix: format!("correct {path} (e.g. \"ssm\"); if it is a real PrivateLink service in your region, waive SEKS-NET-021 with target {path}"),
        });
    }
    earlier.iter().any(|e| e == name).then(|| Finding {
        path: path.clone(),
        problem: format!("{shown_name} is listed twice"),
        expected: "each service once".into(),
        fix: format!("remove {path}"),
    })
}

impl Rule for ExtraEndpoints {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("network").k("extraEndpoints");
        if ctx.annotations.is_unknown(&base) {
            return vec![Outcome::Deferred(base)];
        }
        let Some(list) = ctx.spec.network.as_ref().and_then(|n| n.extra_endpoints.as_ref()) else {
            return vec![];
        };
        list.iter()
            .enumerate()
            .filter_map(|(i, name)| {
                let p = base.i(i);
                when_known(ctx, &p, || judge(ctx, &p, name, &list[..i]))
            })
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"extraEndpoints": ["ssm", "ssmmessages", "ec2messages", "elasticloadbalancing"]})), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-NET-021 [MEDIUM] network.extraEndpoints[1]: s3 is always created, as a gateway endpoint on the private route tables; expected only services beyond the ones always created (ec2, ecr.api, ecr.dkr, logs, sts, s3). Fix: remove network.extraEndpoints[1]. Refs: none
            SEKS-NET-021 [MEDIUM] network.extraEndpoints[2]: "ecr.dkr" is always created as an interface endpoint; expected only services beyond the ones always created (ec2, ecr.api, ecr.dkr, logs, sts, s3). Fix: remove network.extraEndpoints[2]. Refs: none
            SEKS-NET-021 [MEDIUM] network.extraEndpoints[3]: "com.amazonaws.eu-west-1.kms" is a full service name in eu-west-1, not the provider region us-east-1; expected the short name (endpoints are always created in the provider's region). Fix: write "kms". Refs: none
            SEKS-NET-021 [MEDIUM] network.extraEndpoints[4]: "ssm" is listed twice; expected each service once. Fix: remove network.extraEndpoints[4]. Refs: none
            SEKS-NET-021 [MEDIUM] network.extraEndpoints[5]: "athena-typo" is not an interface endpoint service secure-eks knows; expected one of ssm, ssmmessages, ec2messages, elasticloadbalancing, autoscaling, eks, eks-auth, sqs, sns, kms, secretsmanager, xray, monitoring, events, execute-api, elasticfilesystem, ebs. Fix: correct network.extraEndpoints[5] (e.g. "ssm"); if it is a real PrivateLink service in your region, waive SEKS-NET-021 with target network.extraEndpoints[5]. Refs: none"#]].assert_eq(&run(
            &RULE,
            with(|s| s["network"] = json!({"extraEndpoints": ["ssm", "s3", "ecr.dkr", "com.amazonaws.eu-west-1.kms", "ssm", "athena-typo"]})),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: network.extraEndpoints[1]"].assert_eq(&run(&RULE, with(|s| s["network"] = json!({"extraEndpoints": ["ssm", "x"]})), &["network.extraEndpoints[1]"]));
        expect!["deferred: network.extraEndpoints"].assert_eq(&run(&RULE, golden(), &["network.extraEndpoints"]));
    }
}
