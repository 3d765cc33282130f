//! SEKS-IAM-020: access entries name an IAM role or user, scope namespaced policies sensibly, and
//! appear once per principal.
//!
//! EKS takes one access entry per principal, and only IAM roles and users (not STS sessions,
//! groups or the account root). `namespaces` narrows Admin, Edit or View to those namespaces
//! (a trailing `*` is allowed, as EKS allows); ClusterAdmin is cluster-wide by definition.

use super::*;
use crate::model::AccessPolicy;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-IAM-020",
    title: "Access entries need a role or user ARN, a sound scope, and no duplicates",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["CIS 5.5.1", "EKS BPG security/iam"],
};

pub(super) struct AccessEntries;
pub(super) static RULE: AccessEntries = AccessEntries;

fn principal(ctx: &RuleCtx<'_>, path: &Path, v: &str) -> Option<Finding> {
    let expected = "arn:<partition>:iam::<12-digit account>:role/<path/><name> or :user/<path/><name>";
    let bad = |problem: String, fix: String| Some(Finding { path: path.clone(), problem, expected: expected.into(), fix });
    let Some(a) = parse_arn(v) else {
        return bad(format!("{} is not an ARN", shown(ctx, path, v)), "use the role's ARN, e.g. arn:aws:iam::123456789012:role/platform-admins".into());
    };
    if a.service == "sts" {
        if let Some(role) = a.resource.strip_prefix("assumed-role/").and_then(|r| r.split('/').next()) {
            return bad(
                format!("{} is an STS session (assumed-role) ARN, not the role itself", shown(ctx, path, v)),
                if ctx.is_secret(path) {
                    "use the IAM ARN of the role behind the session, arn:<partition>:iam::<account>:role/<path/><name>".to_string()
                } else {
                    format!("use arn:{}:iam::{}:role/{role} (with the role's path, if it has one)", a.partition, a.account)
                },
            );
        }
    }
    let kind = a.resource.split_once('/').map(|(k, _)| k);
    let ok = a.service == "iam" && a.region.is_empty() && is_account_id(a.account) && matches!(kind, Some("role" | "user"));
    if !ok {
        let what = match (a.service, kind, a.resource) {
            ("iam", Some("group"), _) => "an IAM group, which EKS cannot map".to_string(),
            ("iam", _, "root") => "the account root, which EKS cannot map".to_string(),
            _ => "not an IAM role or user ARN".to_string(),
        };
        return bad(
            format!("{} is {what}", shown(ctx, path, v)),
            "use the ARN of a role (or user) the people or CI assume, e.g. arn:aws:iam::123456789012:role/platform-admins".into(),
        );
    }
    let want = ctx.region.and_then(region_partition)?;
    (a.partition != want).then(|| Finding {
        path: path.clone(),
        problem: format!("the ARN is in partition {}, but the provider region is in {want}", a.partition),
        expected: format!("an ARN starting with arn:{want}:"),
        fix: format!("use the principal's {want} ARN"),
    })
}

fn namespace_ok(ns: &str) -> bool {
    match ns.strip_suffix('*') {
        Some("") => false,
        Some(prefix) => prefix.len() < 63 && prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') && !prefix.starts_with('-'),
        None => is_dns1123_label(ns),
    }
}

impl Rule for AccessEntries {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("accessEntries");
        if ctx.annotations.is_unknown(&base) {
            return vec![Outcome::Deferred(base)];
        }
        let mut out = Vec::new();
        let mut seen: Vec<(&str, Path)> = Vec::new();
        for (i, e) in ctx.spec.access_entries.iter().flatten().enumerate() {
            let p = base.i(i);
            let pp = p.k("principalArn");
            if !ctx.known(&pp) {
                out.push(Outcome::Deferred(pp));
            } else if let Some(f) = principal(ctx, &pp, &e.principal_arn) {
                out.push(Outcome::Fail(f));
            } else if let Some((_, first)) = seen.iter().find(|(a, _)| *a == e.principal_arn) {
                out.push(Outcome::Fail(Finding {
                    path: pp.clone(),
                    problem: format!("this principal already has an access entry at {first}"),
                    expected: "one access entry per principal (EKS refuses a second one)".into(),
                    fix: format!("remove {p}, or merge it into {first} with the broader accessPolicy"),
                }));
            } else {
                seen.push((e.principal_arn.as_str(), p.clone()));
            }

            let np = p.k("namespaces");
            let ap = p.k("accessPolicy");
            if !ctx.known(&np) || !ctx.known(&ap) {
                out.push(Outcome::Deferred(if ctx.known(&np) { ap } else { np }));
                continue;
            }
            let Some(namespaces) = &e.namespaces else {
                continue;
            };
            if e.access_policy == AccessPolicy::ClusterAdmin {
                out.push(Outcome::Fail(Finding {
                    path: np.clone(),
                    problem: format!("ClusterAdmin (AmazonEKSClusterAdminPolicy) is cluster-wide, but namespaces limits it to {}", namespaces.join(", ")),
                    expected: "namespaces only with Admin, Edit or View".into(),
                    fix: format!("set {ap} to Admin for admin rights in those namespaces, or remove {np} for a cluster admin"),
                }));
            } else if namespaces.is_empty() {
                out.push(Outcome::Fail(Finding {
                    path: np.clone(),
                    problem: "namespaces is an empty list, which grants nothing".into(),
                    expected: "at least one namespace, or no namespaces key for cluster-wide access".into(),
                    fix: format!("list the namespaces, or remove {np}"),
                }));
            }
            for (j, ns) in namespaces.iter().enumerate() {
                if !namespace_ok(ns) {
                    out.push(Outcome::Fail(Finding {
                        path: np.i(j),
                        problem: format!("{} is not a namespace name", shown(ctx, &np.i(j), ns)),
                        expected: "a DNS-1123 label (lowercase letters, digits, '-'), optionally ending in * to match a prefix".into(),
                        fix: format!("correct {}, e.g. \"team-a\" or \"team-a-*\"", np.i(j)),
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
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| {
                s["accessEntries"] = json!([
                    {"principalArn": "arn:aws:iam::123456789012:role/platform/admins", "accessPolicy": "ClusterAdmin"},
                    {"principalArn": "arn:aws:iam::123456789012:user/ci", "accessPolicy": "Edit", "namespaces": ["apps", "team-a-*"]}
                ])
            }),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-IAM-020 [HIGH] accessEntries[0].principalArn: "arn:aws:sts::123456789012:assumed-role/admins/jane" is an STS session (assumed-role) ARN, not the role itself; expected arn:<partition>:iam::<12-digit account>:role/<path/><name> or :user/<path/><name>. Fix: use arn:aws:iam::123456789012:role/admins (with the role's path, if it has one). Refs: CIS 5.5.1, EKS BPG security/iam
            SEKS-IAM-020 [HIGH] accessEntries[1].principalArn: "arn:aws:iam::123456789012:group/devs" is an IAM group, which EKS cannot map; expected arn:<partition>:iam::<12-digit account>:role/<path/><name> or :user/<path/><name>. Fix: use the ARN of a role (or user) the people or CI assume, e.g. arn:aws:iam::123456789012:role/platform-admins. Refs: CIS 5.5.1, EKS BPG security/iam
            SEKS-IAM-020 [HIGH] accessEntries[2].namespaces: ClusterAdmin (AmazonEKSClusterAdminPolicy) is cluster-wide, but namespaces limits it to apps; expected namespaces only with Admin, Edit or View. Fix: set accessEntries[2].accessPolicy to Admin for admin rights in those namespaces, or remove accessEntries[2].namespaces for a cluster admin. Refs: CIS 5.5.1, EKS BPG security/iam
            SEKS-IAM-020 [HIGH] accessEntries[3].principalArn: this principal already has an access entry at accessEntries[2]; expected one access entry per principal (EKS refuses a second one). Fix: remove accessEntries[3], or merge it into accessEntries[2] with the broader accessPolicy. Refs: CIS 5.5.1, EKS BPG security/iam
            SEKS-IAM-020 [HIGH] accessEntries[3].namespaces[0]: "Apps" is not a namespace name; expected a DNS-1123 label (lowercase letters, digits, '-'), optionally ending in * to match a prefix. Fix: correct accessEntries[3].namespaces[0], e.g. "team-a" or "team-a-*". Refs: CIS 5.5.1, EKS BPG security/iam
            SEKS-IAM-020 [HIGH] accessEntries[3].namespaces[1]: "*" is not a namespace name; expected a DNS-1123 label (lowercase letters, digits, '-'), optionally ending in * to match a prefix. Fix: correct accessEntries[3].namespaces[1], e.g. "team-a" or "team-a-*". Refs: CIS 5.5.1, EKS BPG security/iam
            SEKS-IAM-020 [HIGH] accessEntries[4].namespaces: namespaces is an empty list, which grants nothing; expected at least one namespace, or no namespaces key for cluster-wide access. Fix: list the namespaces, or remove accessEntries[4].namespaces. Refs: CIS 5.5.1, EKS BPG security/iam"#]].assert_eq(&run(
            &RULE,
            with(|s| {
                s["accessEntries"] = json!([
                    {"principalArn": "arn:aws:sts::123456789012:assumed-role/admins/jane", "accessPolicy": "View"},
                    {"principalArn": "arn:aws:iam::123456789012:group/devs", "accessPolicy": "View"},
                    {"principalArn": "arn:aws:iam::123456789012:role/admins", "accessPolicy": "ClusterAdmin", "namespaces": ["apps"]},
                    {"principalArn": "arn:aws:iam::123456789012:role/admins", "accessPolicy": "View", "namespaces": ["Apps", "*"]},
                    {"principalArn": "arn:aws:iam::123456789012:role/dev", "accessPolicy": "Edit", "namespaces": []}
                ])
            }),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect![[r#"
            deferred: accessEntries[0].principalArn
            deferred: accessEntries[0].namespaces"#]].assert_eq(&run(
            &RULE,
            with(|s| s["accessEntries"] = json!([{"principalArn": "x", "accessPolicy": "Edit", "namespaces": ["a"]}])),
            &["accessEntries[0].principalArn", "accessEntries[0].namespaces[0]"],
        ));
    }
}
