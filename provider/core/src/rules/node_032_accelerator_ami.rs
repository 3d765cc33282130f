//! SEKS-NODE-032: an accelerated AMI exists for the node group's AMI family and architecture.
//! EKS publishes Neuron AMIs for Amazon Linux 2023 on x86_64 only, and no Bottlerocket Neuron
//! variant (EKS user guide, "Retrieve recommended Amazon Linux AMI IDs").

use super::*;
use crate::model::{Accelerator, AmiFamily};

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-032",
    title: "An EKS AMI exists for the accelerator, AMI family and architecture",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct AcceleratorAmi;
pub(super) static RULE: AcceleratorAmi = AcceleratorAmi;

impl Rule for AcceleratorAmi {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let version = ctx.spec.kubernetes_version.as_deref().unwrap_or("1.34");
        node_groups(ctx)
            .filter(|(_, ng)| ng.ami_id.is_none())
            .filter_map(|(p, ng)| {
                let path = p.k("accelerator");
                let inputs = [path.clone(), p.k("instanceTypes"), p.k("amiFamily")];
                if inputs.iter().any(|x| !ctx.known(x)) {
                    return Some(Outcome::Deferred(path));
                }
                let accelerator = ng.accelerator.unwrap_or_else(|| Accelerator::of_instance_types(&ng.instance_types));
                let family = ng.ami_family.unwrap_or(AmiFamily::Al2023);
                let arch = ng.instance_types.first().and_then(|t| instance_arch(t))?;
                if crate::plan::ami_type(version, family, arch, accelerator).is_some() {
                    return None;
                }
                let family_name = match family {
                    AmiFamily::Al2023 => "AL2023",
                    AmiFamily::Bottlerocket => "BOTTLEROCKET",
                };
                Some(Outcome::Fail(Finding {
                    path: path.clone(),
                    problem: format!("EKS has no {} AMI for {family_name} on {arch}", accelerator.as_str()),
                    expected: "neuron on amiFamily AL2023 with x86_64 instance types (inf2, trn1, trn2)".into(),
                    fix: format!("set {p}.amiFamily to AL2023 and use x86_64 Neuron instance types such as inf2.xlarge"),
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1] = json!({"name": "inf", "instanceTypes": ["inf2.xlarge"]})), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1] = json!({"name": "gpu", "instanceTypes": ["g5g.xlarge"], "amiFamily": "BOTTLEROCKET"})), &[]));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NODE-032 [HIGH] nodeGroups[1].accelerator: EKS has no neuron AMI for BOTTLEROCKET on x86_64; expected neuron on amiFamily AL2023 with x86_64 instance types (inf2, trn1, trn2). Fix: set nodeGroups[1].amiFamily to AL2023 and use x86_64 Neuron instance types such as inf2.xlarge. Refs: none"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1] = json!({"name": "inf", "instanceTypes": ["inf2.xlarge"], "amiFamily": "BOTTLEROCKET"})), &[]));
        expect!["SEKS-NODE-032 [HIGH] nodeGroups[0].accelerator: EKS has no neuron AMI for AL2023 on arm64; expected neuron on amiFamily AL2023 with x86_64 instance types (inf2, trn1, trn2). Fix: set nodeGroups[0].amiFamily to AL2023 and use x86_64 Neuron instance types such as inf2.xlarge. Refs: none"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["accelerator"] = json!("neuron")), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[1].accelerator"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1] = json!({"name": "inf", "instanceTypes": ["inf2.xlarge"]})), &["nodeGroups[1].amiFamily"]));
    }
}
