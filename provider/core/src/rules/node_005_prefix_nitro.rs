//! SEKS-NODE-005: prefix delegation only with Nitro instance types.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-005",
    title: "Prefix delegation needs Nitro instance types",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["EKS BPG networking/prefix-mode_linux"],
};

pub(super) struct PrefixNitro;
pub(super) static RULE: PrefixNitro = PrefixNitro;

impl Rule for PrefixNitro {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let pd = Path::key("network").k("prefixDelegation");
        if !ctx.known(&pd) {
            return vec![Outcome::Deferred(pd)];
        }
        if ctx.spec.network.as_ref().and_then(|n| n.prefix_delegation) != Some(true) {
            return vec![];
        }
        node_groups(ctx)
            .filter_map(|(p, ng)| {
                let path = p.k("instanceTypes");
                when_known(ctx, &path, || {
                    let bad: Vec<&str> = ng
                        .instance_types
                        .iter()
                        .filter(|t| is_nitro(t) == Some(false))
                        .map(String::as_str)
                        .collect();
                    (!bad.is_empty()).then(|| Finding {
                        path: path.clone(),
                        problem: format!("{} not Nitro-based, but prefix delegation is on", bad.join(", ")),
                        expected: "Nitro instance types (m5 and newer, c5, r5, t3, Graviton, ...)".into(),
                        fix: format!("replace them in {path}, or set network.prefixDelegation to false"),
                    })
                })
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
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| {
                s["nodeGroups"][1]["instanceTypes"] = json!(["m4.large"]);
                s["network"] = json!({"prefixDelegation": false});
            }),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NODE-005 [HIGH] nodeGroups[1].instanceTypes: m4.large, t2.large not Nitro-based, but prefix delegation is on; expected Nitro instance types (m5 and newer, c5, r5, t3, Graviton, ...). Fix: replace them in nodeGroups[1].instanceTypes, or set network.prefixDelegation to false. Refs: EKS BPG networking/prefix-mode_linux"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1]["instanceTypes"] = json!(["m4.large", "t2.large"])), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: network.prefixDelegation"].assert_eq(&run(&RULE, golden(), &["network.prefixDelegation"]));
    }
}
