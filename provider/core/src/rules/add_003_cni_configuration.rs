//! SEKS-ADD-003: the vpc-cni addon configuration does not contradict the network settings.
//!
//! secure-eks derives the vpc-cni settings from `network`: custom networking
//! (`env.AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG`, `env.ENI_CONFIG_LABEL_DEF`, `eniConfig`) from
//! `podCidr`, `env.ENABLE_PREFIX_DELEGATION` from `prefixDelegation`, and `enableNetworkPolicy`
//! from `networkPolicy`. An override in `addons.vpcCni.configuration` that says otherwise would
//! either be replaced silently or break the nodes (custom networking on without ENIConfigs leaves
//! pods without IPs), so it is refused: change the `network` setting instead.

use super::*;
use crate::model::Nullable;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-ADD-003",
    title: "vpc-cni configuration must not contradict the network settings",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &["EKS BPG networking/vpc-cni"],
};

pub(super) struct CniConfiguration;
pub(super) static RULE: CniConfiguration = CniConfiguration;

/// `"true"`/`"false"` (any case) or a JSON boolean.
fn flag(v: &serde_json::Value) -> Option<bool> {
    match v {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// One boolean setting that secure-eks derives from a `network` field.
struct Switch {
    /// The keys below `configuration`.
    keys: &'static [&'static str],
    /// The `network` field it follows.
    field: &'static str,
    /// What the switch does, for the message.
    what: &'static str,
}

const SWITCHES: [Switch; 3] = [
    Switch { keys: &["env", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"], field: "podCidr", what: "custom networking" },
    Switch { keys: &["env", "ENABLE_PREFIX_DELEGATION"], field: "prefixDelegation", what: "prefix delegation" },
    Switch { keys: &["enableNetworkPolicy"], field: "networkPolicy", what: "network policy enforcement" },
];

impl Rule for CniConfiguration {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let cfg_path = Path::key("addons").k("vpcCni").k("configuration");
        if ctx.annotations.is_unknown(&cfg_path) {
            return vec![Outcome::Deferred(cfg_path)];
        }
        let Some(cfg) = ctx.spec.addons.as_ref().and_then(|a| a.vpc_cni.as_ref()).and_then(|c| c.configuration.as_ref()) else {
            return vec![];
        };
        let net = ctx.spec.network.as_ref();
        let np = |field: &str| Path::key("network").k(field);
        // The value secure-eks derives for each network field, and how the field reads.
        let network_value = |field: &str| -> Option<(bool, String)> {
            let n = net?;
            match field {
                "podCidr" => Some(match &n.pod_cidr {
                    Nullable::Value(c) => (true, format!("network.podCidr is {c}")),
                    _ => (false, "network.podCidr is null".to_string()),
                }),
                "prefixDelegation" => n.prefix_delegation.map(|b| (b, format!("network.prefixDelegation is {b}"))),
                "networkPolicy" => n.network_policy.map(|b| (b, format!("network.networkPolicy is {b}"))),
                _ => None,
            }
        };
        let mut out = Vec::new();

        for sw in &SWITCHES {
            let path = sw.keys.iter().fold(cfg_path.clone(), |p, k| p.k(*k));
            let Some((first, rest)) = sw.keys.split_first() else {
                continue;
            };
            let value = rest.iter().fold(cfg.get(*first), |v, k| v.and_then(|x| x.get(*k)));
            if !ctx.known(&path) {
                out.push(Outcome::Deferred(path));
                continue;
            }
            let Some(set) = value.and_then(flag) else {
                continue;
            };
            let fp = np(sw.field);
            if !ctx.known(&fp) {
                out.push(Outcome::Deferred(fp));
                continue;
            }
            let Some((want, reads)) = network_value(sw.field) else {
                continue;
            };
            if set != want {
                let (turn, fix_value) = match (sw.field, want) {
                    ("podCidr", true) => ("off", "set network.podCidr to null".to_string()),
                    ("podCidr", false) => ("on", "set network.podCidr (e.g. 100.64.0.0/16)".to_string()),
                    (f, w) => (if w { "off" } else { "on" }, format!("set network.{f} to {}", !w)),
                };
                let consequence = match (sw.field, set) {
                    ("podCidr", true) => ": no pod subnets or ENIConfigs exist, so pods would get no IP address",
                    ("prefixDelegation", true) => ": the Nitro check (SEKS-NODE-005) would not run",
                    _ => "",
                };
                out.push(Outcome::Fail(Finding {
                    path: path.clone(),
                    problem: format!("the override turns {} {turn} while {reads}{consequence}", sw.what),
                    expected: format!("no override: secure-eks sets it from network.{}", sw.field),
                    fix: format!("remove {path}; to turn {} {turn}, {fix_value}", sw.what),
                }));
            }
        }

        let custom = net.is_some_and(|n| matches!(n.pod_cidr, Nullable::Value(_)));
        let lp = cfg_path.k("env").k("ENI_CONFIG_LABEL_DEF");
        let cp = np("podCidr");
        if !ctx.known(&lp) {
            out.push(Outcome::Deferred(lp.clone()));
        } else if let Some(label) = cfg.get("env").and_then(|e| e.get("ENI_CONFIG_LABEL_DEF")) {
            if !ctx.known(&cp) {
                out.push(Outcome::Deferred(cp));
            } else if custom && label.as_str() != Some("topology.kubernetes.io/zone") {
                out.push(Outcome::Fail(Finding {
                    path: lp.clone(),
                    problem: format!(
                        "ENI_CONFIG_LABEL_DEF is {}, but the ENIConfigs are named after zones",
                        if ctx.is_secret(&lp) { "(a secret value)".to_string() } else { label.to_string() }
                    ),
                    expected: "topology.kubernetes.io/zone (what secure-eks sets)".into(),
                    fix: format!("remove {lp}"),
                }));
            }
        }

        let ep = cfg_path.k("eniConfig");
        if !ctx.known(&ep) {
            out.push(Outcome::Deferred(ep));
        } else if cfg.contains_key("eniConfig") {
            out.push(Outcome::Fail(Finding {
                path: ep.clone(),
                problem: "eniConfig is set by hand, but secure-eks writes it from the pod subnets (one ENIConfig per node zone, with the node security group)".into(),
                expected: "no eniConfig in the addon configuration".into(),
                fix: format!("remove {ep}; choose the pod subnets with network.existingVpc.podSubnetIds or network.podCidr"),
            }));
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
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| s["addons"] = json!({"vpcCni": {"configuration": {"env": {"WARM_IP_TARGET": "5", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true"}, "enableNetworkPolicy": "true"}}})),
            &[],
        ));
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| {
                s["addons"] = json!({"vpcCni": {"configuration": {"env": {"ENABLE_PREFIX_DELEGATION": "false"}}}});
                s["network"] = json!({"prefixDelegation": false});
            }),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-ADD-003 [HIGH] addons.vpcCni.configuration.env.AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: the override turns custom networking off while network.podCidr is 100.64.0.0/16; expected no override: secure-eks sets it from network.podCidr. Fix: remove addons.vpcCni.configuration.env.AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG; to turn custom networking off, set network.podCidr to null. Refs: EKS BPG networking/vpc-cni
            SEKS-ADD-003 [HIGH] addons.vpcCni.configuration.env.ENABLE_PREFIX_DELEGATION: the override turns prefix delegation off while network.prefixDelegation is true; expected no override: secure-eks sets it from network.prefixDelegation. Fix: remove addons.vpcCni.configuration.env.ENABLE_PREFIX_DELEGATION; to turn prefix delegation off, set network.prefixDelegation to false. Refs: EKS BPG networking/vpc-cni
            SEKS-ADD-003 [HIGH] addons.vpcCni.configuration.enableNetworkPolicy: the override turns network policy enforcement off while network.networkPolicy is true; expected no override: secure-eks sets it from network.networkPolicy. Fix: remove addons.vpcCni.configuration.enableNetworkPolicy; to turn network policy enforcement off, set network.networkPolicy to false. Refs: EKS BPG networking/vpc-cni
            SEKS-ADD-003 [HIGH] addons.vpcCni.configuration.env.ENI_CONFIG_LABEL_DEF: ENI_CONFIG_LABEL_DEF is "failure-domain", but the ENIConfigs are named after zones; expected topology.kubernetes.io/zone (what secure-eks sets). Fix: remove addons.vpcCni.configuration.env.ENI_CONFIG_LABEL_DEF. Refs: EKS BPG networking/vpc-cni
            SEKS-ADD-003 [HIGH] addons.vpcCni.configuration.eniConfig: eniConfig is set by hand, but secure-eks writes it from the pod subnets (one ENIConfig per node zone, with the node security group); expected no eniConfig in the addon configuration. Fix: remove addons.vpcCni.configuration.eniConfig; choose the pod subnets with network.existingVpc.podSubnetIds or network.podCidr. Refs: EKS BPG networking/vpc-cni"#]].assert_eq(&run(
            &RULE,
            with(|s| {
                s["addons"] = json!({"vpcCni": {"configuration": {
                    "env": {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "false", "ENABLE_PREFIX_DELEGATION": false, "ENI_CONFIG_LABEL_DEF": "failure-domain"},
                    "enableNetworkPolicy": "false",
                    "eniConfig": {"create": true, "region": "us-east-1", "subnets": {}}
                }}})
            }),
            &[],
        ));
        expect![[r#"
            SEKS-ADD-003 [HIGH] addons.vpcCni.configuration.env.AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: the override turns custom networking on while network.podCidr is null: no pod subnets or ENIConfigs exist, so pods would get no IP address; expected no override: secure-eks sets it from network.podCidr. Fix: remove addons.vpcCni.configuration.env.AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG; to turn custom networking on, set network.podCidr (e.g. 100.64.0.0/16). Refs: EKS BPG networking/vpc-cni
            SEKS-ADD-003 [HIGH] addons.vpcCni.configuration.env.ENABLE_PREFIX_DELEGATION: the override turns prefix delegation on while network.prefixDelegation is false: the Nitro check (SEKS-NODE-005) would not run; expected no override: secure-eks sets it from network.prefixDelegation. Fix: remove addons.vpcCni.configuration.env.ENABLE_PREFIX_DELEGATION; to turn prefix delegation on, set network.prefixDelegation to true. Refs: EKS BPG networking/vpc-cni"#]].assert_eq(&run(
            &RULE,
            with(|s| {
                s["addons"] = json!({"vpcCni": {"configuration": {"env": {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true", "ENABLE_PREFIX_DELEGATION": "true"}}}});
                s["network"] = json!({"podCidr": null, "prefixDelegation": false});
            }),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect![[r#"
            deferred: network.podCidr
            deferred: addons.vpcCni.configuration.env.ENABLE_PREFIX_DELEGATION"#]].assert_eq(&run(
            &RULE,
            with(|s| s["addons"] = json!({"vpcCni": {"configuration": {"env": {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "false", "ENABLE_PREFIX_DELEGATION": "x"}}}})),
            &["network.podCidr", "addons.vpcCni.configuration.env.ENABLE_PREFIX_DELEGATION"],
        ));
    }
}
