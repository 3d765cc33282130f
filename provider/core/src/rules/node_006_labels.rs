//! SEKS-NODE-006: node labels stay out of the reserved `kubernetes.io/` and `k8s.io/` namespaces,
//! and taints stay within EKS's limit of 50.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-006",
    title: "Node labels outside reserved prefixes; at most 50 taints",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct Labels;
pub(super) static RULE: Labels = Labels;

fn reserved(key: &str) -> bool {
    let prefix = key.split_once('/').map(|(p, _)| p).unwrap_or("");
    prefix == "kubernetes.io"
        || prefix == "k8s.io"
        || prefix.ends_with(".kubernetes.io")
        || prefix.ends_with(".k8s.io")
}

impl Rule for Labels {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let mut out = Vec::new();
        for (p, ng) in node_groups(ctx) {
            let lp = p.k("labels");
            if !ctx.known(&lp) {
                out.push(Outcome::Deferred(lp.clone()));
            } else {
                for key in ng.labels.iter().flatten().map(|(k, _)| k).filter(|k| reserved(k)) {
                    out.push(Outcome::Fail(Finding {
                        path: lp.k(key.clone()),
                        problem: format!("the label key {key:?} is in a namespace reserved for Kubernetes, which EKS rejects"),
                        expected: "a key under your own prefix, e.g. example.com/role".into(),
                        fix: "rename the label, e.g. to node.example.com/<name>".into(),
                    }));
                }
            }
            let tp = p.k("taints");
            let n = ng.taints.as_ref().map_or(0, Vec::len);
            if ctx.known(&tp) && n > 50 {
                out.push(Outcome::Fail(Finding {
                    path: tp,
                    problem: format!("{n} taints are given"),
                    expected: "at most 50 taints per node group".into(),
                    fix: "remove taints or split the node group".into(),
                }));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{run, with};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["labels"] = json!({"example.com/role": "web"})), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"SEKS-NODE-006 [MEDIUM] nodeGroups[0].labels["node-role.kubernetes.io/worker"]: the label key "node-role.kubernetes.io/worker" is in a namespace reserved for Kubernetes, which EKS rejects; expected a key under your own prefix, e.g. example.com/role. Fix: rename the label, e.g. to node.example.com/<name>. Refs: none"#]].assert_eq(&run(
            &RULE,
            with(|s| s["nodeGroups"][0]["labels"] = json!({"node-role.kubernetes.io/worker": "", "team": "a"})),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[0].labels"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["labels"] = json!({"a": "b"})), &["nodeGroups[0].labels.a"]));
    }
}
