//! SEKS-NODE-009: node labels are valid Kubernetes labels within the EKS API's limits.
//!
//! Keys are `[<DNS subdomain>/]<name>` with a name of `[A-Za-z0-9-_.]`, alphanumeric at both ends;
//! values use the same characters. EKS takes 1 to 63 characters for both the whole key and the
//! value. Reserved prefixes are SEKS-NODE-006's concern.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-009",
    title: "Node labels must be valid Kubernetes labels within EKS limits",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct LabelSyntax;
pub(super) static RULE: LabelSyntax = LabelSyntax;

impl Rule for LabelSyntax {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let mut out = Vec::new();
        for (p, ng) in node_groups(ctx) {
            let lp = p.k("labels");
            if ctx.annotations.is_unknown(&lp) {
                out.push(Outcome::Deferred(lp));
                continue;
            }
            for (k, v) in map_entries(ctx, &lp, ng.labels.as_ref()) {
                let path = lp.k(k.clone());
                if !is_label_key(&k) || k.len() > 63 {
                    out.push(Outcome::Fail(Finding {
                        path: path.clone(),
                        problem: format!("the label key {k:?} is not a valid Kubernetes label key of at most 63 characters"),
                        expected: "[prefix/]name: a DNS subdomain prefix, a name of letters, digits, '-', '_' or '.', alphanumeric at both ends; 63 characters at most in all (EKS)".into(),
                        fix: "rename the label to a key like \"example.com/team\" (no spaces; letters, digits, '-', '_', '.')".into(),
                    }));
                    continue;
                }
                let Some(v) = v.filter(|_| ctx.known(&path)) else {
                    out.push(Outcome::Deferred(path));
                    continue;
                };
                if v.is_empty() || v.len() > 63 || !is_label_value(v) {
                    out.push(Outcome::Fail(Finding {
                        path: path.clone(),
                        problem: format!("the value {} of label {k:?} is not a valid label value for EKS", shown(ctx, &path, v)),
                        expected: "1 to 63 letters, digits, '-', '_' or '.', alphanumeric at both ends".into(),
                        fix: format!("set {path} to a value like \"web\" or \"true\""),
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["labels"] = json!({"example.com/role": "web", "tier": "backend_1"})), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-NODE-009 [MEDIUM] nodeGroups[0].labels["example.com/owner"]: the value "Jane Doe" of label "example.com/owner" is not a valid label value for EKS; expected 1 to 63 letters, digits, '-', '_' or '.', alphanumeric at both ends. Fix: set nodeGroups[0].labels["example.com/owner"] to a value like "web" or "true". Refs: none
            SEKS-NODE-009 [MEDIUM] nodeGroups[0].labels["example.com/role"]: the value "" of label "example.com/role" is not a valid label value for EKS; expected 1 to 63 letters, digits, '-', '_' or '.', alphanumeric at both ends. Fix: set nodeGroups[0].labels["example.com/role"] to a value like "web" or "true". Refs: none
            SEKS-NODE-009 [MEDIUM] nodeGroups[0].labels["team name"]: the label key "team name" is not a valid Kubernetes label key of at most 63 characters; expected [prefix/]name: a DNS subdomain prefix, a name of letters, digits, '-', '_' or '.', alphanumeric at both ends; 63 characters at most in all (EKS). Fix: rename the label to a key like "example.com/team" (no spaces; letters, digits, '-', '_', '.'). Refs: none"#]].assert_eq(&run(
            &RULE,
            with(|s| s["nodeGroups"][0]["labels"] = json!({"team name": "a", "example.com/role": "", "example.com/owner": "Jane Doe"})),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[0].labels.tier"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["labels"] = json!({"tier": "x"})), &["nodeGroups[0].labels.tier"]));
        expect!["deferred: nodeGroups[1].labels"].assert_eq(&run(&RULE, golden(), &["nodeGroups[1].labels"]));
    }
}
