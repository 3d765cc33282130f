//! Launch template user data: the nodeadm `NodeConfig` (AL2023) or the Bottlerocket settings for a
//! pinned AMI, and MIME wrapping of the user's own user data. Base64 is done by the caller.

/// What a node needs to join the cluster (only used with a pinned AMI: otherwise EKS writes it).
pub(crate) struct JoinInfo<'a> {
    pub cluster: &'a str,
    pub endpoint: &'a str,
    pub ca: &'a str,
    pub service_cidr: &'a str,
    pub max_pods: MaxPods,
}

/// How many pods a node takes, for a pinned AMI (EKS sets it for its own AMIs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MaxPods {
    /// The AMI's own ENI-based default.
    Default,
    /// Prefix delegation: 110 (the Kubernetes per-node scale target EKS uses below 30 vCPUs).
    PrefixDelegation,
    /// Custom networking without prefix delegation: the primary ENI holds no pod IPs, so
    /// `((default_enis - 1) * (ips_per_eni - 1)) + 2` (nodeadm's documented expression).
    CustomNetworking,
}

/// Max pods under prefix delegation.
const PREFIX_DELEGATION_MAX_PODS: u32 = 110;

const BOUNDARY: &str = "==SECURE-EKS-BOUNDARY==";

/// The MIME content type of one user data part.
fn part_type(body: &str) -> &'static str {
    let t = body.trim_start();
    if t.starts_with("apiVersion: node.eks.aws") || t.starts_with("---\napiVersion: node.eks.aws") {
        "application/node.eks.aws"
    } else if t.starts_with("#cloud-config") {
        "text/cloud-config"
    } else {
        "text/x-shellscript; charset=\"us-ascii\""
    }
}

fn mime(parts: &[(&str, String)]) -> String {
    let mut s = format!("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"{BOUNDARY}\"\n\n");
    for (ctype, body) in parts {
        s.push_str(&format!("--{BOUNDARY}\nContent-Type: {ctype}\n\n{body}"));
        if !body.ends_with('\n') {
            s.push('\n');
        }
        s.push('\n');
    }
    s.push_str(&format!("--{BOUNDARY}--\n"));
    s
}

fn is_mime(s: &str) -> bool {
    s.trim_start().starts_with("MIME-Version:")
}

/// The user data for a launch template, or `None` when there is nothing to add.
///
/// - Pinned AMI, AL2023: a MIME document with a nodeadm `NodeConfig` (cluster name, endpoint, CA,
///   service CIDR) followed by the user's part, if any.
/// - Pinned AMI, Bottlerocket: `[settings.kubernetes]` TOML followed by the user's TOML.
/// - EKS AMI (not pinned): the user's data only; AL2023 needs MIME (EKS merges its own part),
///   so plain scripts are wrapped; Bottlerocket TOML is passed through.
pub(crate) fn render(ami_family: &str, join: Option<&JoinInfo<'_>>, user: Option<&str>) -> Option<String> {
    let bottlerocket = ami_family.eq_ignore_ascii_case("BOTTLEROCKET");
    match (join, user) {
        (None, None) => None,
        (None, Some(u)) if bottlerocket || is_mime(u) => Some(u.to_string()),
        (None, Some(u)) => Some(mime(&[(part_type(u), u.to_string())])),
        (Some(j), u) if bottlerocket => {
            let mut s = format!(
                "[settings.kubernetes]\napi-server = \"{}\"\ncluster-certificate = \"{}\"\ncluster-name = \"{}\"\n",
                j.endpoint, j.ca, j.cluster
            );
            if j.max_pods == MaxPods::PrefixDelegation {
                s.push_str(&format!("max-pods = {PREFIX_DELEGATION_MAX_PODS}\n"));
            }
            if let Some(u) = u {
                s.push('\n');
                s.push_str(u);
            }
            Some(s)
        }
        (Some(j), u) => {
            let mut node_config = format!(
                "---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: {}\n    apiServerEndpoint: {}\n    certificateAuthority: {}\n    cidr: {}\n",
                j.cluster, j.endpoint, j.ca, j.service_cidr
            );
            match j.max_pods {
                MaxPods::Default => {}
                MaxPods::PrefixDelegation => node_config.push_str(&format!("  kubelet:\n    config:\n      maxPods: {PREFIX_DELEGATION_MAX_PODS}\n")),
                MaxPods::CustomNetworking => node_config.push_str("  kubelet:\n    maxPodsExpression: \"((default_enis - 1) * (ips_per_eni - 1)) + 2\"\n"),
            }
            let mut parts = vec![("application/node.eks.aws", node_config)];
            match u {
                Some(u) if is_mime(u) => {
                    // Already MIME: keep it as a nested multipart part.
                    parts.push(("multipart/mixed", u.to_string()));
                }
                Some(u) => parts.push((part_type(u), u.to_string())),
                None => {}
            }
            Some(mime(&parts))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join() -> JoinInfo<'static> {
        JoinInfo { cluster: "demo", endpoint: "https://x.eks.amazonaws.com", ca: "Q0E=", service_cidr: "172.20.0.0/16", max_pods: MaxPods::PrefixDelegation }
    }

    #[test]
    fn nothing_to_add_gives_none() {
        assert_eq!(render("AL2023", None, None), None);
    }

    #[test]
    fn user_script_is_wrapped_for_al2023_and_passed_through_for_bottlerocket() {
        let u = render("AL2023", None, Some("#!/bin/bash\necho hi\n")).unwrap();
        assert!(u.starts_with("MIME-Version: 1.0\n"));
        assert!(u.contains("Content-Type: text/x-shellscript"));
        assert!(u.trim_end().ends_with(&format!("--{BOUNDARY}--")));
        assert_eq!(render("BOTTLEROCKET", None, Some("[settings.host-containers.admin]\nenabled = false\n")).unwrap(), "[settings.host-containers.admin]\nenabled = false\n");
    }

    #[test]
    fn pinned_al2023_has_a_node_config() {
        let u = render("AL2023", Some(&join()), Some("#!/bin/bash\necho hi")).unwrap();
        assert!(u.contains("Content-Type: application/node.eks.aws"));
        assert!(u.contains("kind: NodeConfig"));
        assert!(u.contains("    name: demo\n"));
        assert!(u.contains("    apiServerEndpoint: https://x.eks.amazonaws.com\n"));
        assert!(u.contains("    cidr: 172.20.0.0/16\n"));
        assert!(u.contains("  kubelet:\n    config:\n      maxPods: 110\n"));
        assert!(u.contains("echo hi\n"));
    }

    #[test]
    fn pinned_bottlerocket_has_kubernetes_settings() {
        let u = render("BOTTLEROCKET", Some(&join()), None).unwrap();
        assert!(u.starts_with("[settings.kubernetes]\n"));
        assert!(u.contains("cluster-name = \"demo\""));
        assert!(u.contains("max-pods = 110"));
    }

    #[test]
    fn custom_networking_without_prefixes_uses_the_expression() {
        let j = JoinInfo { max_pods: MaxPods::CustomNetworking, ..join() };
        let u = render("AL2023", Some(&j), None).unwrap();
        assert!(u.contains("maxPodsExpression: \"((default_enis - 1) * (ips_per_eni - 1)) + 2\""));
    }
}
