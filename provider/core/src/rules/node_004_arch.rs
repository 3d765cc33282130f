//! SEKS-NODE-004: one CPU architecture per node group, and every instance type is recognised.
//! The AMI follows the architecture, so a mixed group would boot x86 AMIs on Graviton.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-004",
    title: "One CPU architecture per node group",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct OneArch;
pub(super) static RULE: OneArch = OneArch;

impl Rule for OneArch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        node_groups(ctx)
            .filter_map(|(p, ng)| {
                let path = p.k("instanceTypes");
                when_known(ctx, &path, || {
                    if ng.instance_types.is_empty() {
                        return Some(Finding {
                            path: path.clone(),
                            problem: "no instance type is given".into(),
                            expected: "at least one instance type".into(),
                            fix: format!("set {path} to e.g. [\"m7g.large\"]"),
                        });
                    }
                    if let Some(bad) = ng.instance_types.iter().find(|t| instance_arch(t).is_none()) {
                        return Some(Finding {
                            path: path.clone(),
                            problem: format!("{bad:?} is not an EC2 instance type"),
                            expected: "types like m7g.large or m7i.large".into(),
                            fix: format!("correct {bad:?} in {path}"),
                        });
                    }
                    let archs = ng
                        .instance_types
                        .iter()
                        .filter_map(|t| instance_arch(t).map(|a| (a.to_string(), t.as_str())))
                        .collect();
                    mixed_arch_finding(&p, archs, "the group")
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
    }

    #[test]
    fn fail() {
        expect!["SEKS-NODE-004 [HIGH] nodeGroups[0].instanceTypes: the group mixes architectures (m7g.large is arm64, m7i.large is x86_64); expected all instance types of one architecture (the AMI follows it). Fix: split nodeGroups[0] into one group per architecture. Refs: none"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["instanceTypes"] = json!(["m7g.large", "m7i.large"])), &[]));
        expect![[r#"SEKS-NODE-004 [HIGH] nodeGroups[0].instanceTypes: "large" is not an EC2 instance type; expected types like m7g.large or m7i.large. Fix: correct "large" in nodeGroups[0].instanceTypes. Refs: none"#]].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["instanceTypes"] = json!(["large"])), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[0].instanceTypes"].assert_eq(&run(&RULE, golden(), &["nodeGroups[0].instanceTypes[1]"]));
    }
}
