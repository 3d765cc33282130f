//! SEKS-AUTO-003: an EKS Auto Mode cluster does not install the addons Auto Mode runs itself:
//! vpc-cni, kube-proxy, coredns, aws-ebs-csi-driver, eks-pod-identity-agent and
//! eks-node-monitoring-agent (EKS user guide, "Amazon EKS add-ons": "if you use EKS Auto Mode ...
//! you don't need to install" them).

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-AUTO-003",
    title: "Auto Mode clusters don't install the addons Auto Mode runs itself",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

const BUILT_IN: [&str; 6] = ["vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "eks-pod-identity-agent", "eks-node-monitoring-agent"];

pub(super) struct BuiltInAddons;
pub(super) static RULE: BuiltInAddons = BuiltInAddons;

impl Rule for BuiltInAddons {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("addons");
        if !ctx.known(&Path::key("autoMode")) {
            return vec![Outcome::Deferred(Path::key("autoMode"))];
        }
        let Some(addons) = ctx.spec.addons.as_ref().filter(|_| ctx.spec.auto_mode_on()) else { return vec![] };
        let fix = |p: &Path| format!("remove {p}: Auto Mode runs vpc-cni, kube-proxy, coredns, block storage, the Pod Identity agent and node monitoring itself");
        let mut out = Vec::new();
        for (key, a) in [("vpcCni", &addons.vpc_cni), ("kubeProxy", &addons.kube_proxy), ("coreDns", &addons.core_dns), ("podIdentityAgent", &addons.pod_identity_agent)] {
            if a.is_some() {
                let p = base.k(key);
                out.push(Outcome::Fail(Finding { path: p.clone(), problem: format!("{key} is configured on an Auto Mode cluster"), expected: "no core addon settings with autoMode".into(), fix: fix(&p) }));
            }
        }
        for (i, a) in addons.extra.iter().flatten().enumerate().filter(|(_, a)| a.enabled.unwrap_or(true) && BUILT_IN.contains(&a.name.as_str())) {
            let p = base.k("extra").i(i);
            out.push(Outcome::Fail(Finding { path: p.clone(), problem: format!("{} is built into Auto Mode", a.name), expected: format!("no {} addon with autoMode", a.name), fix: fix(&p) }));
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

    fn auto(s: &mut serde_json::Value) {
        s["autoMode"] = json!({"enabled": true});
        s.as_object_mut().unwrap().remove("nodeGroups");
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| {
            auto(s);
            s["addons"] = json!({"extra": [{"name": "metrics-server"}]});
        }), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-AUTO-003 [MEDIUM] addons.coreDns: coreDns is configured on an Auto Mode cluster; expected no core addon settings with autoMode. Fix: remove addons.coreDns: Auto Mode runs vpc-cni, kube-proxy, coredns, block storage, the Pod Identity agent and node monitoring itself. Refs: none
            SEKS-AUTO-003 [MEDIUM] addons.extra[0]: aws-ebs-csi-driver is built into Auto Mode; expected no aws-ebs-csi-driver addon with autoMode. Fix: remove addons.extra[0]: Auto Mode runs vpc-cni, kube-proxy, coredns, block storage, the Pod Identity agent and node monitoring itself. Refs: none"#]].assert_eq(&run(&RULE, with(|s| {
            auto(s);
            s["addons"] = json!({"coreDns": {"version": "v1.11.3-eksbuild.1"}, "extra": [{"name": "aws-ebs-csi-driver"}]});
        }), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: autoMode"].assert_eq(&run(&RULE, with(auto), &["autoMode.enabled"]));
    }
}
