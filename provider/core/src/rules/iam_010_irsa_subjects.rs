//! SEKS-IAM-010: every IRSA role trusts exactly one, valid service account.
//!
//! The trust policy matches `<issuer>:sub = system:serviceaccount:<namespace>:<name>` and
//! `<issuer>:aud = sts.amazonaws.com` with `StringEquals`, so the namespace (a DNS-1123 label)
//! and the name (a DNS-1123 subdomain) must be exact: no `*` or `?`. A service account's
//! `eks.amazonaws.com/role-arn` annotation holds one role, so each namespace/name pair appears
//! once, and not again for the cluster autoscaler's own service account.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-IAM-010",
    title: "IRSA roles need an exact, valid and unique service account",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["CIS 5.2.1", "EKS BPG security/iam"],
};

pub(super) struct IrsaSubjects;
pub(super) static RULE: IrsaSubjects = IrsaSubjects;

#[derive(Clone, Copy)]
enum Kind {
    Namespace,
    Name,
}

fn name_problem(ctx: &RuleCtx<'_>, path: &Path, v: &str, kind: Kind) -> Option<Finding> {
    let shown_v = shown(ctx, path, v);
    let autoscaler = path.top() == Some("clusterAutoscaler");
    let (valid, what, rule, example) = match kind {
        Kind::Namespace => (
            is_dns1123_label(v),
            "namespace",
            "a DNS-1123 label: 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit",
            if autoscaler { "kube-system" } else { "payments" },
        ),
        Kind::Name => (
            is_dns1123_subdomain(v),
            "service account name",
            "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters",
            if autoscaler { "cluster-autoscaler" } else { "payments-api" },
        ),
    };
    if v.contains(['*', '?']) {
        return Some(Finding {
            path: path.clone(),
            problem: format!("the {what} {shown_v} has a wildcard, but the trust policy compares :sub with StringEquals, so it must name exactly one service account"),
            expected: format!("an exact {what}"),
            fix: format!("give one serviceAccountRoles entry per service account, e.g. {example:?}"),
        });
    }
    (!valid).then(|| Finding {
        path: path.clone(),
        problem: format!("{shown_v} is not a valid Kubernetes {what}"),
        expected: rule.to_string(),
        fix: format!("set {path} to the {what} as Kubernetes has it, e.g. {example:?}"),
    })
}

impl Rule for IrsaSubjects {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let mut out = Vec::new();
        let ca = Path::key("clusterAutoscaler");
        let mut autoscaler: Option<(&str, &str)> = None;
        if let Some(c) = ctx.spec.cluster_autoscaler.as_ref() {
            let ep = ca.k("enabled");
            if !ctx.known(&ep) {
                out.push(Outcome::Deferred(ep));
            } else if c.enabled.unwrap_or(true) {
                let np = ca.k("namespace");
                let sp = ca.k("serviceAccount");
                let ns = c.namespace.as_deref().unwrap_or("kube-system");
                let sa = c.service_account.as_deref().unwrap_or("cluster-autoscaler");
                out.extend(when_known(ctx, &np, || name_problem(ctx, &np, ns, Kind::Namespace)));
                out.extend(when_known(ctx, &sp, || name_problem(ctx, &sp, sa, Kind::Name)));
                if ctx.known(&np) && ctx.known(&sp) {
                    autoscaler = Some((ns, sa));
                }
            }
        }

        let base = Path::key("serviceAccountRoles");
        if ctx.annotations.is_unknown(&base) {
            out.push(Outcome::Deferred(base));
            return out;
        }
        let mut seen: Vec<(&str, &str, Path)> = Vec::new();
        for (i, r) in ctx.spec.service_account_roles.iter().flatten().enumerate() {
            let p = base.i(i);
            let (np, sp) = (p.k("namespace"), p.k("name"));
            let mut both_known = true;
            for (path, v, kind) in [(&np, r.namespace.as_str(), Kind::Namespace), (&sp, r.name.as_str(), Kind::Name)] {
                if ctx.known(path) {
                    out.extend(name_problem(ctx, path, v, kind).map(Outcome::Fail));
                } else {
                    both_known = false;
                    out.push(Outcome::Deferred(path.clone()));
                }
            }
            if !both_known {
                continue;
            }
            let (ns, sa) = (r.namespace.as_str(), r.name.as_str());
            if let Some((_, _, first)) = seen.iter().find(|(n, s, _)| *n == ns && *s == sa) {
                out.push(Outcome::Fail(Finding {
                    path: p.clone(),
                    problem: format!("system:serviceaccount:{ns}:{sa} already has a role at {first}"),
                    expected: "one role per service account (its role-arn annotation names one role)".into(),
                    fix: format!("merge the policies of {p} into {first} and remove {p}"),
                }));
            } else if autoscaler == Some((ns, sa)) {
                out.push(Outcome::Fail(Finding {
                    path: p.clone(),
                    problem: format!("system:serviceaccount:{ns}:{sa} is the cluster autoscaler's service account, which gets its own role"),
                    expected: "roles only for other service accounts".into(),
                    fix: format!("remove {p}, or set clusterAutoscaler.enabled to false"),
                }));
            }
            seen.push((ns, sa, p));
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
            with(|s| s["serviceAccountRoles"] = json!([{"namespace": "app", "name": "web"}, {"namespace": "kube-system", "name": "ebs-csi-controller-sa"}])),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-IAM-010 [HIGH] serviceAccountRoles[0].name: the service account name "*" has a wildcard, but the trust policy compares :sub with StringEquals, so it must name exactly one service account; expected an exact service account name. Fix: give one serviceAccountRoles entry per service account, e.g. "payments-api". Refs: CIS 5.2.1, EKS BPG security/iam
            SEKS-IAM-010 [HIGH] serviceAccountRoles[1].namespace: "App" is not a valid Kubernetes namespace; expected a DNS-1123 label: 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit. Fix: set serviceAccountRoles[1].namespace to the namespace as Kubernetes has it, e.g. "payments". Refs: CIS 5.2.1, EKS BPG security/iam
            SEKS-IAM-010 [HIGH] serviceAccountRoles[3]: system:serviceaccount:app:web already has a role at serviceAccountRoles[2]; expected one role per service account (its role-arn annotation names one role). Fix: merge the policies of serviceAccountRoles[3] into serviceAccountRoles[2] and remove serviceAccountRoles[3]. Refs: CIS 5.2.1, EKS BPG security/iam
            SEKS-IAM-010 [HIGH] serviceAccountRoles[4]: system:serviceaccount:kube-system:cluster-autoscaler is the cluster autoscaler's service account, which gets its own role; expected roles only for other service accounts. Fix: remove serviceAccountRoles[4], or set clusterAutoscaler.enabled to false. Refs: CIS 5.2.1, EKS BPG security/iam"#]].assert_eq(&run(
            &RULE,
            with(|s| {
                s["serviceAccountRoles"] = json!([
                    {"namespace": "app", "name": "*"},
                    {"namespace": "App", "name": "web"},
                    {"namespace": "app", "name": "web"},
                    {"namespace": "app", "name": "web"},
                    {"namespace": "kube-system", "name": "cluster-autoscaler"}
                ])
            }),
            &[],
        ));
        expect![[r#"SEKS-IAM-010 [HIGH] clusterAutoscaler.namespace: "kube_system" is not a valid Kubernetes namespace; expected a DNS-1123 label: 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit. Fix: set clusterAutoscaler.namespace to the namespace as Kubernetes has it, e.g. "kube-system". Refs: CIS 5.2.1, EKS BPG security/iam"#]].assert_eq(&run(&RULE, with(|s| s["clusterAutoscaler"] = json!({"namespace": "kube_system"})), &[]));
    }

    #[test]
    fn unknown() {
        expect![[r#"
            deferred: clusterAutoscaler.enabled
            deferred: serviceAccountRoles[1].name"#]].assert_eq(&run(
            &RULE,
            with(|s| s["serviceAccountRoles"] = json!([{"namespace": "app", "name": "web"}, {"namespace": "app", "name": "web"}])),
            &["serviceAccountRoles[1].name", "clusterAutoscaler.enabled"],
        ));
    }
}
