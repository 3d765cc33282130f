//! SEKS-NODE-031: every instance type of a node group needs the AMI variant of its accelerator.
//! A GPU (NVIDIA) or Neuron instance on the standard AMI has no driver, so its accelerator is
//! unusable; the AMI variant follows the group's `accelerator` (default: the first type's).

use super::*;
use crate::model::Accelerator;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-031",
    title: "GPU and Neuron instance types run on their accelerated AMI",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct GpuAmi;
pub(super) static RULE: GpuAmi = GpuAmi;

impl Rule for GpuAmi {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        node_groups(ctx)
            .filter(|(_, ng)| ng.ami_id.is_none())
            .filter_map(|(p, ng)| {
                let path = p.k("instanceTypes");
                if !ctx.known(&path) || !ctx.known(&p.k("accelerator")) {
                    return Some(Outcome::Deferred(path));
                }
                let group = ng.accelerator.unwrap_or_else(|| Accelerator::of_instance_types(&ng.instance_types));
                let (i, t, a) = ng.instance_types.iter().enumerate().map(|(i, t)| (i, t, Accelerator::of_instance_type(t))).find(|(_, _, a)| *a != group)?;
                let path = path.i(i);
                Some(Outcome::Fail(if group == Accelerator::None {
                    Finding {
                        path: path.clone(),
                        problem: format!("{t} has a {} accelerator but the node group runs the standard AMI, which has no driver for it", a.as_str()),
                        expected: format!("the {} AMI variant for {t}", a.as_str()),
                        fix: format!("set {p}.accelerator to {} and use only {} instance types in the group, or move {t} to its own node group", a.as_str(), a.as_str()),
                    }
                } else {
                    Finding {
                        path: path.clone(),
                        problem: format!("{t} does not match the group's accelerator {}: {}", group.as_str(), if a == Accelerator::None { format!("{t} has none") } else { format!("{t} is {}", a.as_str()) }),
                        expected: format!("only {} instance types in this node group", group.as_str()),
                        fix: format!("move {t} to its own node group, or set {p}.accelerator to match it"),
                    }
                }))
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1] = json!({"name": "gpu", "instanceTypes": ["g5.xlarge", "g6.xlarge"]})), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1] = json!({"name": "gpu", "instanceTypes": ["g5.xlarge"], "amiId": "ami-0123456789abcdef0", "accelerator": "none"})), &[]));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NODE-031 [HIGH] nodeGroups[1].instanceTypes[0]: g5.xlarge has a nvidia accelerator but the node group runs the standard AMI, which has no driver for it; expected the nvidia AMI variant for g5.xlarge. Fix: set nodeGroups[1].accelerator to nvidia and use only nvidia instance types in the group, or move g5.xlarge to its own node group. Refs: none"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1] = json!({"name": "gpu", "instanceTypes": ["g5.xlarge"], "accelerator": "none"})), &[]));
        expect!["SEKS-NODE-031 [HIGH] nodeGroups[1].instanceTypes[1]: g5.xlarge has a nvidia accelerator but the node group runs the standard AMI, which has no driver for it; expected the nvidia AMI variant for g5.xlarge. Fix: set nodeGroups[1].accelerator to nvidia and use only nvidia instance types in the group, or move g5.xlarge to its own node group. Refs: none"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1] = json!({"name": "mixed", "instanceTypes": ["m7i.large", "g5.xlarge"]})), &[]));
        expect!["SEKS-NODE-031 [HIGH] nodeGroups[1].instanceTypes[1]: g5.xlarge does not match the group's accelerator neuron: g5.xlarge is nvidia; expected only neuron instance types in this node group. Fix: move g5.xlarge to its own node group, or set nodeGroups[1].accelerator to match it. Refs: none"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1] = json!({"name": "mixed", "instanceTypes": ["inf2.xlarge", "g5.xlarge"]})), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[1].instanceTypes"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1] = json!({"name": "gpu", "instanceTypes": ["g5.xlarge"]})), &["nodeGroups[1].instanceTypes[0]"]));
    }
}
