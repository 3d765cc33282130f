//! SEKS-ADD-005: each addon of `addons.extra` is named once and is not one of the core addons,
//! which have their own settings (`addons.vpcCni`, `kubeProxy`, `coreDns`, `podIdentityAgent`).

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-ADD-005",
    title: "Addons by name are unique and not a core addon",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

const CORE: [(&str, &str); 4] = [("vpc-cni", "vpcCni"), ("kube-proxy", "kubeProxy"), ("coredns", "coreDns"), ("eks-pod-identity-agent", "podIdentityAgent")];

pub(super) struct NamedAddons;
pub(super) static RULE: NamedAddons = NamedAddons;

impl Rule for NamedAddons {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("addons").k("extra");
        let Some(extra) = ctx.spec.addons.as_ref().and_then(|a| a.extra.as_ref()) else { return vec![] };
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for (i, a) in extra.iter().enumerate() {
            let path = base.i(i).k("name");
            if !ctx.known(&path) {
                out.push(Outcome::Deferred(path));
                continue;
            }
            if let Some((_, key)) = CORE.iter().find(|(n, _)| *n == a.name) {
                out.push(Outcome::Fail(Finding {
                    path: path.clone(),
                    problem: format!("{} is a core addon, configured under addons.{key}", a.name),
                    expected: "an addon other than vpc-cni, kube-proxy, coredns and eks-pod-identity-agent".into(),
                    fix: format!("remove {} from {base} and set its version or configuration in addons.{key}", a.name),
                }));
            } else if !seen.insert(a.name.as_str()) {
                out.push(Outcome::Fail(Finding {
                    path: path.clone(),
                    problem: format!("{} is listed more than once", a.name),
                    expected: "each addon once".into(),
                    fix: format!("remove the second {} from {base}", a.name),
                }));
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["addons"] = json!({"extra": [{"name": "metrics-server"}, {"name": "aws-efs-csi-driver"}]})), &[]));
    }

    #[test]
    fn fail() {
        expect!["SEKS-ADD-005 [MEDIUM] addons.extra[0].name: coredns is a core addon, configured under addons.coreDns; expected an addon other than vpc-cni, kube-proxy, coredns and eks-pod-identity-agent. Fix: remove coredns from addons.extra and set its version or configuration in addons.coreDns. Refs: none"].assert_eq(&run(&RULE, with(|s| s["addons"] = json!({"extra": [{"name": "coredns"}]})), &[]));
        expect!["SEKS-ADD-005 [MEDIUM] addons.extra[1].name: metrics-server is listed more than once; expected each addon once. Fix: remove the second metrics-server from addons.extra. Refs: none"].assert_eq(&run(&RULE, with(|s| s["addons"] = json!({"extra": [{"name": "metrics-server"}, {"name": "metrics-server"}]})), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: addons.extra[0].name"].assert_eq(&run(&RULE, with(|s| s["addons"] = json!({"extra": [{"name": "x"}]})), &["addons.extra[0].name"]));
    }
}
