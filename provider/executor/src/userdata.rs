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

/// A user's MIME document with our part first: the user's own boundary, headers and parts are
/// kept byte for byte (a multipart document), or the whole document becomes one part (a
/// single-part MIME document).
fn merge_mime(ours: (&str, &str), user: &str) -> Result<String, String> {
    let parsed = mailparse::parse_mail(user.as_bytes()).map_err(|_| "the user data is not a valid MIME document".to_string())?;
    let (ctype, body) = ours;
    let mut own = String::new();
    let boundary = parsed.ctype.params.get("boundary").filter(|_| parsed.ctype.mimetype.starts_with("multipart/"));
    match boundary {
        Some(b) => {
            // Our part goes in right before the user's first delimiter line.
            let delimiter = format!("--{b}");
            let mut at = None;
            let mut offset = 0;
            for line in user.split_inclusive('\n') {
                if line.trim_end() == delimiter {
                    at = Some(offset);
                    break;
                }
                offset += line.len();
            }
            let at = at.ok_or_else(|| "the user data's MIME document has no part".to_string())?;
            own.push_str(&user[..at]);
            own.push_str(&format!("{delimiter}\nContent-Type: {ctype}\n\n{body}"));
            if !body.ends_with('\n') {
                own.push('\n');
            }
            own.push('\n');
            own.push_str(&user[at..]);
            Ok(own)
        }
        None => {
            // One part with the user's own content type and body.
            let user_body = parsed.get_body().map_err(|_| "the user data's MIME body cannot be decoded".to_string())?;
            let user_type = parsed.headers.iter().find(|h| h.get_key().eq_ignore_ascii_case("Content-Type")).map(|h| h.get_value());
            let user_type = user_type.unwrap_or_else(|| part_type(&user_body).to_string());
            Ok(mime(&[(ctype, body.to_string()), (user_type.as_str(), user_body)]))
        }
    }
}

/// Merge the user's Bottlerocket TOML with the settings a pinned AMI needs to join: one
/// `[settings.kubernetes]` table. The join settings are ours; anything else the user set stays.
fn merge_bottlerocket(join: &JoinInfo<'_>, user: Option<&str>) -> Result<String, String> {
    let mut doc: toml::Table = match user {
        Some(u) => toml::from_str(u).map_err(|e| {
            // The message never echoes the user data (it may hold secrets): the line only.
            let line = e.span().map(|s| u[..s.start.min(u.len())].matches('\n').count() + 1).unwrap_or(1);
            format!("the Bottlerocket user data is not valid TOML (line {line})")
        })?,
        None => toml::Table::new(),
    };
    let settings = doc.entry("settings").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let settings = settings.as_table_mut().ok_or("the Bottlerocket user data's `settings` is not a table")?;
    let k8s = settings.entry("kubernetes").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let k8s = k8s.as_table_mut().ok_or("the Bottlerocket user data's `settings.kubernetes` is not a table")?;
    k8s.insert("api-server".into(), join.endpoint.into());
    k8s.insert("cluster-certificate".into(), join.ca.into());
    k8s.insert("cluster-name".into(), join.cluster.into());
    if join.max_pods == MaxPods::PrefixDelegation && !k8s.contains_key("max-pods") {
        k8s.insert("max-pods".into(), toml::Value::Integer(i64::from(PREFIX_DELEGATION_MAX_PODS)));
    }
    toml::to_string(&doc).map_err(|_| "the Bottlerocket user data cannot be written back as TOML".to_string())
}

/// The user data for a launch template, or `None` when there is nothing to add.
///
/// - Pinned AMI, AL2023: a MIME document with a nodeadm `NodeConfig` (cluster name, endpoint, CA,
///   service CIDR) followed by the user's part; a user's multipart document keeps its boundary
///   and parts, with the `NodeConfig` inserted as its first part.
/// - Pinned AMI, Bottlerocket: the user's TOML with the join settings merged into its
///   `[settings.kubernetes]` table.
/// - EKS AMI (not pinned): the user's data only; AL2023 needs MIME (EKS merges its own part),
///   so plain scripts are wrapped; Bottlerocket TOML is passed through.
///
/// Errors never echo the user data.
pub(crate) fn try_render(ami_family: &str, join: Option<&JoinInfo<'_>>, user: Option<&str>) -> Result<Option<String>, String> {
    let bottlerocket = ami_family.eq_ignore_ascii_case("BOTTLEROCKET");
    match (join, user) {
        (None, None) => Ok(None),
        (None, Some(u)) if bottlerocket || is_mime(u) => Ok(Some(u.to_string())),
        (None, Some(u)) => Ok(Some(mime(&[(part_type(u), u.to_string())]))),
        (Some(j), u) if bottlerocket => merge_bottlerocket(j, u).map(Some),
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
            match u {
                Some(u) if is_mime(u) => merge_mime(("application/node.eks.aws", &node_config), u).map(Some),
                Some(u) => Ok(Some(mime(&[("application/node.eks.aws", node_config), (part_type(u), u.to_string())]))),
                None => Ok(Some(mime(&[("application/node.eks.aws", node_config)]))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(ami_family: &str, join: Option<&JoinInfo<'_>>, user: Option<&str>) -> Option<String> {
        try_render(ami_family, join, user).unwrap()
    }

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

    /// The leaf parts of a MIME document, parsed back by a MIME parser: (content type, body).
    fn leaves(doc: &str) -> Vec<(String, String)> {
        fn walk(p: &mailparse::ParsedMail<'_>, out: &mut Vec<(String, String)>) {
            if p.subparts.is_empty() {
                out.push((p.ctype.mimetype.clone(), p.get_body().unwrap_or_default()));
            }
            for s in &p.subparts {
                walk(s, out);
            }
        }
        let parsed = mailparse::parse_mail(doc.as_bytes()).unwrap();
        let mut out = Vec::new();
        walk(&parsed, &mut out);
        out
    }

    #[test]
    fn a_users_mime_document_keeps_its_boundary_and_parts() {
        let user = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"USER-B\"\n\n--USER-B\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/bash\necho user\n\n--USER-B\nContent-Type: text/cloud-config\n\n#cloud-config\npackages: [jq]\n\n--USER-B--\n";
        let u = render("AL2023", Some(&join()), Some(user)).unwrap();
        let parsed = mailparse::parse_mail(u.as_bytes()).unwrap();
        assert_eq!(parsed.ctype.params.get("boundary").map(String::as_str), Some("USER-B"), "{u}");
        let leaves = leaves(&u);
        let types: Vec<&str> = leaves.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(types, ["application/node.eks.aws", "text/x-shellscript", "text/cloud-config"], "{u}");
        assert!(leaves[0].1.contains("kind: NodeConfig"));
        assert!(leaves[1].1.contains("echo user"));
        assert!(leaves[2].1.contains("packages: [jq]"));
    }

    #[test]
    fn a_users_single_part_mime_document_is_kept_as_a_part() {
        let user = "MIME-Version: 1.0\nContent-Type: text/x-shellscript\n\n#!/bin/bash\necho single\n";
        let u = render("AL2023", Some(&join()), Some(user)).unwrap();
        let leaves = leaves(&u);
        let types: Vec<&str> = leaves.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(types, ["application/node.eks.aws", "text/x-shellscript"], "{u}");
        assert!(leaves[1].1.contains("echo single"));
    }

    #[test]
    fn script_parts_parse_back() {
        let u = render("AL2023", Some(&join()), Some("#!/bin/bash\necho hi\n")).unwrap();
        let leaves = leaves(&u);
        assert_eq!(leaves.len(), 2, "{u}");
        assert_eq!(leaves[1].0, "text/x-shellscript");
        assert!(leaves[1].1.contains("echo hi"));
    }

    #[test]
    fn a_users_bottlerocket_kubernetes_table_is_merged() {
        let user = "[settings.kubernetes]\nmax-pods = 29\n\n[settings.kubernetes.node-labels]\nteam = \"a\"\n\n[settings.host-containers.admin]\nenabled = false\n";
        let u = render("BOTTLEROCKET", Some(&join()), Some(user)).unwrap();
        let t: toml::Table = toml::from_str(&u).unwrap_or_else(|e| panic!("{e}\n{u}"));
        let k = &t["settings"]["kubernetes"];
        assert_eq!(k["cluster-name"].as_str(), Some("demo"));
        assert_eq!(k["api-server"].as_str(), Some("https://x.eks.amazonaws.com"));
        assert_eq!(k["cluster-certificate"].as_str(), Some("Q0E="));
        // The user's own choice stays.
        assert_eq!(k["max-pods"].as_integer(), Some(29));
        assert_eq!(k["node-labels"]["team"].as_str(), Some("a"));
        assert_eq!(t["settings"]["host-containers"]["admin"]["enabled"].as_bool(), Some(false));
    }

    #[test]
    fn a_users_join_settings_do_not_win_and_bad_toml_is_named_without_echoing_it() {
        let user = "[settings.kubernetes]\ncluster-name = \"other\"\n";
        let u = render("BOTTLEROCKET", Some(&join()), Some(user)).unwrap();
        let t: toml::Table = toml::from_str(&u).unwrap();
        assert_eq!(t["settings"]["kubernetes"]["cluster-name"].as_str(), Some("demo"));
        assert_eq!(t["settings"]["kubernetes"]["max-pods"].as_integer(), Some(110));
        let e = try_render("BOTTLEROCKET", Some(&join()), Some("[settings\nsecret-value = 1\n")).unwrap_err();
        assert!(e.contains("line 1"), "{e}");
        assert!(!e.contains("secret-value"), "{e}");
    }

    #[test]
    fn custom_networking_without_prefixes_uses_the_expression() {
        let j = JoinInfo { max_pods: MaxPods::CustomNetworking, ..join() };
        let u = render("AL2023", Some(&j), None).unwrap();
        assert!(u.contains("maxPodsExpression: \"((default_enis - 1) * (ips_per_eni - 1)) + 2\""));
    }
}
