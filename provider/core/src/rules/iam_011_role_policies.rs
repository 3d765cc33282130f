//! SEKS-IAM-011: the policies of IRSA roles are valid identity policies and do not make a pod an
//! administrator.
//!
//! `inlinePolicy` must parse as a JSON policy with a `Statement`, fit IAM's 10,240-character limit
//! for a role's inline policies (whitespace not counted), carry no `Principal`, and have no `Allow`
//! statement with `Action: "*"` on `Resource: "*"`. `policyArns` must not attach
//! `AdministratorAccess`. Messages name the statement by index and never echo the document.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-IAM-011",
    title: "IRSA role policies must be valid and must not grant full admin",
    severity: Severity::High,
    level: Level::Error,
    waivable: true,
    refs: &["CKV_AWS_62", "AVD-AWS-0057", "EKS BPG security/iam"],
};

pub(super) struct RolePolicies;
pub(super) static RULE: RolePolicies = RolePolicies;

/// IAM's limit on a role's inline policies, in non-whitespace characters.
const MAX_INLINE_CHARS: usize = 10_240;

/// True when `v` is `want` or a list holding it.
fn has(v: Option<&serde_json::Value>, want: &[&str]) -> bool {
    match v {
        Some(serde_json::Value::String(s)) => want.contains(&s.as_str()),
        Some(serde_json::Value::Array(a)) => a.iter().any(|x| x.as_str().is_some_and(|s| want.contains(&s))),
        _ => false,
    }
}

fn inline(path: &Path, doc: &str) -> Option<Finding> {
    let fail = |problem: String, expected: &str, fix: &str| {
        Some(Finding { path: path.clone(), problem, expected: expected.to_string(), fix: fix.to_string() })
    };
    let shape = "a JSON policy {\"Version\": \"2012-10-17\", \"Statement\": [...]}";
    let chars = doc.chars().filter(|c| !c.is_whitespace()).count();
    if chars > MAX_INLINE_CHARS {
        return fail(
            format!("the inline policy has {chars} characters without whitespace"),
            "at most 10240 (IAM's limit for a role's inline policies)",
            "move statements into a managed policy and list its ARN in policyArns",
        );
    }
    let parsed = match super::iam_policy::parsed(doc) {
        Some(v) => v,
        None => {
            let e = serde_json::from_str::<serde_json::Value>(doc).err()?;
            return fail(
                format!("the inline policy is not valid JSON (syntax error at line {}, column {})", e.line(), e.column()),
                shape,
                "fix the JSON, e.g. build it with JSON.stringify / json.dumps instead of by hand",
            )
        }
    };
    let statements: Vec<&serde_json::Value> = match parsed.get("Statement") {
        Some(serde_json::Value::Array(a)) if !a.is_empty() => a.iter().collect(),
        Some(o @ serde_json::Value::Object(_)) => vec![o],
        _ => return fail("the inline policy has no Statement".into(), shape, "put the permissions in a Statement list"),
    };
    for (k, st) in statements.iter().enumerate() {
        let Some(obj) = st.as_object() else {
            return fail(format!("Statement[{k}] is not an object"), shape, "write each statement as {\"Effect\", \"Action\", \"Resource\"}");
        };
        let effect = obj.get("Effect").and_then(|e| e.as_str());
        if !matches!(effect, Some("Allow" | "Deny")) {
            return fail(format!("Statement[{k}] has no Effect of Allow or Deny"), "\"Effect\": \"Allow\" or \"Deny\" in every statement", "add \"Effect\": \"Allow\" to the statement");
        }
        if obj.contains_key("Principal") || obj.contains_key("NotPrincipal") {
            return fail(
                format!("Statement[{k}] has a Principal, which only trust and resource policies take; IAM refuses it here"),
                "identity policy statements without Principal (the trust policy is built by secure-eks)",
                "remove Principal from the statement",
            );
        }
        if effect == Some("Allow") && has(obj.get("Action"), &["*", "*:*"]) && has(obj.get("Resource"), &["*"]) {
            return fail(
                format!("Statement[{k}] allows every action (\"*\") on every resource (\"*\"): full administrator rights for anything running as this service account"),
                "only the actions and resources the workload uses",
                "list the actions (e.g. s3:GetObject) and resources (e.g. arn:aws:s3:::my-bucket/*) the workload needs",
            );
        }
    }
    None
}

fn managed(path: &Path, arn: &str) -> Option<Finding> {
    let a = parse_arn(arn)?;
    (a.service == "iam" && a.account == "aws" && a.resource == "policy/AdministratorAccess").then(|| Finding {
        path: path.clone(),
        problem: "AdministratorAccess gives anything running as this service account full control of the account".into(),
        expected: "managed policies scoped to what the workload does".into(),
        fix: "replace it with narrower policies (e.g. AmazonS3ReadOnlyAccess) or an inlinePolicy".into(),
    })
}

impl Rule for RolePolicies {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("serviceAccountRoles");
        if ctx.annotations.is_unknown(&base) {
            return vec![Outcome::Deferred(base)];
        }
        let mut out = Vec::new();
        for (i, r) in ctx.spec.service_account_roles.iter().flatten().enumerate() {
            let ip = base.i(i).k("inlinePolicy");
            out.extend(when_known(ctx, &ip, || inline(&ip, r.inline_policy.as_deref()?)));
            let lp = base.i(i).k("policyArns");
            if ctx.annotations.is_unknown(&lp) {
                out.push(Outcome::Deferred(lp));
                continue;
            }
            for (j, arn) in r.policy_arns.iter().flatten().enumerate() {
                let p = lp.i(j);
                out.extend(when_known(ctx, &p, || managed(&p, arn)));
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

    fn role(policy: &str) -> serde_json::Value {
        json!([{"namespace": "app", "name": "web", "inlinePolicy": policy}])
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        let ok = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::assets/*"}, {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}"#;
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role(ok)), &[]));
    }

    #[test]
    fn fail() {
        let admin = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, {"Effect": "Allow", "Action": ["*"], "Resource": "*", "Sid": "TOKEN-hunter2"}]}"#;
        expect![[r#"SEKS-IAM-011 [HIGH] serviceAccountRoles[0].inlinePolicy: Statement[1] allows every action ("*") on every resource ("*"): full administrator rights for anything running as this service account; expected only the actions and resources the workload uses. Fix: list the actions (e.g. s3:GetObject) and resources (e.g. arn:aws:s3:::my-bucket/*) the workload needs. Refs: CKV_AWS_62, AVD-AWS-0057, EKS BPG security/iam"#]].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role(admin)), &[]));
        expect![[r#"SEKS-IAM-011 [HIGH] serviceAccountRoles[0].inlinePolicy: the inline policy is not valid JSON (syntax error at line 1, column 53); expected a JSON policy {"Version": "2012-10-17", "Statement": [...]}. Fix: fix the JSON, e.g. build it with JSON.stringify / json.dumps instead of by hand. Refs: CKV_AWS_62, AVD-AWS-0057, EKS BPG security/iam"#]].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role(r#"{"Statement": [{"Effect": "Allow", "Action": "s3:*" "Resource": "*"}]}"#)), &[]));
        expect![[r#"SEKS-IAM-011 [HIGH] serviceAccountRoles[0].inlinePolicy: the inline policy has no Statement; expected a JSON policy {"Version": "2012-10-17", "Statement": [...]}. Fix: put the permissions in a Statement list. Refs: CKV_AWS_62, AVD-AWS-0057, EKS BPG security/iam"#]].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role(r#"{"Version": "2012-10-17"}"#)), &[]));
        expect!["SEKS-IAM-011 [HIGH] serviceAccountRoles[0].policyArns[0]: AdministratorAccess gives anything running as this service account full control of the account; expected managed policies scoped to what the workload does. Fix: replace it with narrower policies (e.g. AmazonS3ReadOnlyAccess) or an inlinePolicy. Refs: CKV_AWS_62, AVD-AWS-0057, EKS BPG security/iam"].assert_eq(&run(
            &RULE,
            with(|s| s["serviceAccountRoles"] = json!([{"namespace": "app", "name": "web", "policyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}])),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: serviceAccountRoles[0].inlinePolicy"].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role("{}")), &["serviceAccountRoles[0].inlinePolicy"]));
    }
}
