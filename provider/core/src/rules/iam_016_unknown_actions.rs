//! SEKS-IAM-016: every action an IRSA inline policy names exists.
//!
//! IAM accepts a misspelled action (`s3:GetObjekt`) or service prefix silently, and the statement
//! then never matches: an `Allow` grants nothing and a `Deny` protects nothing. Actions are
//! checked against the AWS service authorization catalogue (`iam_catalogue`, generated from a
//! pinned published source); a pattern with wildcards must match at least one real action.

use super::iam_catalogue::{lookup, Known};
use super::iam_policy::{each_statement, strs};
use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-IAM-016",
    title: "IRSA inline policies name only actions that exist",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: true,
    refs: &["CKV_AWS_28"],
};

pub(super) struct UnknownActions;
pub(super) static RULE: UnknownActions = UnknownActions;

impl Rule for UnknownActions {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        each_statement(ctx, |st| {
            let mut out = Vec::new();
            for key in ["Action", "NotAction"] {
                for a in strs(st.obj.get(key)) {
                    let problem = match lookup(a) {
                        Known::Yes => continue,
                        Known::NoService => format!("Statement[{}] {key} {a:?}: no AWS service has the prefix {:?}", st.index, a.split(':').next().unwrap_or_default()),
                        Known::NoAction => format!("Statement[{}] {key} {a:?}: the service has no such action, so IAM would accept it and it would never match", st.index),
                        Known::Malformed => format!("Statement[{}] {key} {a:?} is not written service:Action", st.index),
                    };
                    out.push(st.finding(
                        problem,
                        "actions from the AWS Service Authorization Reference, e.g. s3:GetObject",
                        "fix the spelling (look the action up in the Service Authorization Reference for the service)",
                    ));
                }
            }
            out
        })
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
        let ok = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "S3:list*", "dynamodb:Query"], "Resource": "*"}, {"Effect": "Deny", "NotAction": "sts:GetCallerIdentity", "Resource": "*"}]}"#;
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role(ok)), &[]));
    }

    #[test]
    fn fail() {
        let bad = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObjekt", "s4:GetObject", "s3:Gte*"], "Resource": "*"}, {"Effect": "Deny", "NotAction": "GetObject", "Resource": "*"}]}"#;
        expect![[r#"
            SEKS-IAM-016 [MEDIUM] serviceAccountRoles[0].inlinePolicy: Statement[0] Action "s3:GetObjekt": the service has no such action, so IAM would accept it and it would never match; expected actions from the AWS Service Authorization Reference, e.g. s3:GetObject. Fix: fix the spelling (look the action up in the Service Authorization Reference for the service). Refs: CKV_AWS_28
            SEKS-IAM-016 [MEDIUM] serviceAccountRoles[0].inlinePolicy: Statement[0] Action "s4:GetObject": no AWS service has the prefix "s4"; expected actions from the AWS Service Authorization Reference, e.g. s3:GetObject. Fix: fix the spelling (look the action up in the Service Authorization Reference for the service). Refs: CKV_AWS_28
            SEKS-IAM-016 [MEDIUM] serviceAccountRoles[0].inlinePolicy: Statement[0] Action "s3:Gte*": the service has no such action, so IAM would accept it and it would never match; expected actions from the AWS Service Authorization Reference, e.g. s3:GetObject. Fix: fix the spelling (look the action up in the Service Authorization Reference for the service). Refs: CKV_AWS_28
            SEKS-IAM-016 [MEDIUM] serviceAccountRoles[0].inlinePolicy: Statement[1] NotAction "GetObject" is not written service:Action; expected actions from the AWS Service Authorization Reference, e.g. s3:GetObject. Fix: fix the spelling (look the action up in the Service Authorization Reference for the service). Refs: CKV_AWS_28"#]]
        .assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role(bad)), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: serviceAccountRoles[0].inlinePolicy"].assert_eq(&run(&RULE, with(|s| s["serviceAccountRoles"] = role("{}")), &["serviceAccountRoles[0].inlinePolicy"]));
    }
}
