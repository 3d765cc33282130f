//! Audit: read any EKS cluster (whoever built it) and what is around it into the core's
//! [`AuditFacts`], through read-only clients only ([`Aws::read_only`]: anything but
//! Describe/Get/List is refused before it is sent). The judging is pure
//! (`secure_eks_core::rules::audit::audit`). A look-up that fails after the cluster itself was
//! read (e.g. AccessDenied on IAM) is recorded in `unread`, so the rules that needed it are
//! reported as not judged instead of passing.

use std::collections::BTreeMap;

use secure_eks_core::plan::{Plan, StepOutputs};
use secure_eks_core::rules::audit::{AuditFacts, AuditLaunchTemplate, AuditNodeGroup, AuditRole, AuditSubnet};
use tokio_util::sync::CancellationToken;

use crate::ctx::{aws_err, found, Ctx};
use crate::{drift, Aws, ExecError};

fn filter(name: &str, value: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder().name(name).values(value).build()
}

fn subnet(s: &aws_sdk_ec2::types::Subnet) -> AuditSubnet {
    AuditSubnet {
        id: s.subnet_id().unwrap_or_default().to_string(),
        az: s.availability_zone().unwrap_or_default().to_string(),
        map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
    }
}

fn decoded(doc: &str) -> String {
    drift::url_decode(doc).unwrap_or_else(|| doc.to_string())
}

impl Aws {
    /// Read cluster `name` for an audit; `None` when there is no such cluster.
    pub async fn audit_facts(&self, name: &str, region: &str) -> Result<Option<AuditFacts>, ExecError> {
        let aws = self.read_only();
        let plan = Plan { cluster_name: name.to_string(), region: region.to_string(), tags: BTreeMap::new(), steps: vec![] };
        let ctx = Ctx::new(&aws, &plan, &StepOutputs::new(), None, &CancellationToken::new());
        let lookup = |e: crate::ctx::StepError| ExecError::Lookup(e.to_string());
        let Some(c) = found(ctx.eks.describe_cluster().name(name).send().await).map_err(lookup)?.and_then(|o| o.cluster) else {
            return Ok(None);
        };
        let mut f = AuditFacts { cluster_name: name.to_string(), region: region.to_string(), version: c.version().unwrap_or_default().to_string(), ..Default::default() };
        let mut unread = Vec::new();
        let vc = c.resources_vpc_config();
        f.public_access = vc.is_some_and(|v| v.endpoint_public_access());
        f.private_access = vc.is_some_and(|v| v.endpoint_private_access());
        f.public_cidrs = vc.map(|v| v.public_access_cidrs().to_vec()).unwrap_or_default();
        f.log_types = drift::enabled_log_types(c.logging()).into_iter().collect();
        f.secrets_key_arn = c
            .encryption_config()
            .iter()
            .find_map(|e| e.provider().and_then(|p| p.key_arn()))
            .map(str::to_string);
        f.oidc_issuer = c.identity().and_then(|i| i.oidc()).and_then(|o| o.issuer()).map(str::to_string);

        // ---- network
        let ids: Vec<String> = vc.map(|v| v.subnet_ids().to_vec()).unwrap_or_default();
        let mut subnets: BTreeMap<String, (AuditSubnet, String)> = BTreeMap::new();
        let mut read_subnets = |list: &[aws_sdk_ec2::types::Subnet]| {
            for s in list {
                subnets.insert(s.subnet_id().unwrap_or_default().to_string(), (subnet(s), s.vpc_id().unwrap_or_default().to_string()));
            }
        };
        if !ids.is_empty() {
            match ctx.ec2.describe_subnets().set_subnet_ids(Some(ids.clone())).send().await {
                Ok(o) => read_subnets(o.subnets()),
                Err(e) => unread.push(("ec2:DescribeSubnets".to_string(), aws_err(e).to_string())),
            }
        }
        f.cluster_subnets = ids.iter().filter_map(|i| subnets.get(i).map(|(s, _)| s.clone())).collect();
        // AWS reports the VPC id in resourcesVpcConfig; the emulator may not, so fall back to the
        // VPC of the cluster's subnets.
        f.vpc_id = vc
            .and_then(|v| v.vpc_id())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .or_else(|| ids.first().and_then(|i| subnets.get(i)).map(|(_, v)| v.clone()))
            .unwrap_or_default();
        match ctx.ec2.describe_nat_gateways().filter(filter("vpc-id", &f.vpc_id)).send().await {
            Ok(o) => f.nat_gateways = o.nat_gateways().iter().filter(|n| n.state().is_some_and(|s| matches!(s.as_str(), "available" | "pending"))).count(),
            Err(e) => unread.push(("ec2:DescribeNatGateways".to_string(), aws_err(e).to_string())),
        }
        let prefix = format!("com.amazonaws.{region}.");
        match ctx.ec2.describe_vpc_endpoints().filters(filter("vpc-id", &f.vpc_id)).send().await {
            Ok(o) => {
                f.endpoint_services = o
                    .vpc_endpoints()
                    .iter()
                    .filter(|e| e.state().is_none_or(|s| matches!(s.as_str().to_ascii_lowercase().as_str(), "available" | "pending" | "pendingacceptance")))
                    .filter_map(|e| e.service_name().map(|s| s.strip_prefix(&prefix).unwrap_or(s).to_string()))
                    .collect()
            }
            Err(e) => unread.push(("ec2:DescribeVpcEndpoints".to_string(), aws_err(e).to_string())),
        }

        // ---- node groups
        match ctx.eks.list_nodegroups().cluster_name(name).send().await {
            Err(e) => unread.push(("eks:ListNodegroups".to_string(), aws_err(e).to_string())),
            Ok(list) => {
                for ng in list.nodegroups() {
                    let n = match ctx.eks.describe_nodegroup().cluster_name(name).nodegroup_name(ng).send().await {
                        Ok(o) => match o.nodegroup {
                            Some(n) => n,
                            None => continue,
                        },
                        Err(e) => {
                            unread.push((format!("eks:DescribeNodegroup {ng}"), aws_err(e).to_string()));
                            continue;
                        }
                    };
                    let mut g = AuditNodeGroup { name: ng.clone(), ami_type: n.ami_type().map(|a| a.as_str().to_string()).unwrap_or_default(), ..Default::default() };
                    let missing: Vec<String> = n.subnets().iter().filter(|s| !subnets.contains_key(*s)).cloned().collect();
                    if !missing.is_empty() {
                        match ctx.ec2.describe_subnets().set_subnet_ids(Some(missing)).send().await {
                            Ok(o) => {
                                for s in o.subnets() {
                                    subnets.insert(s.subnet_id().unwrap_or_default().to_string(), (subnet(s), s.vpc_id().unwrap_or_default().to_string()));
                                }
                            }
                            Err(e) => unread.push(("ec2:DescribeSubnets".to_string(), aws_err(e).to_string())),
                        }
                    }
                    g.subnets = n.subnets().iter().filter_map(|i| subnets.get(i).map(|(s, _)| s.clone())).collect();
                    if let Some(lt) = n.launch_template() {
                        let mut req = ctx.ec2.describe_launch_template_versions();
                        req = match (lt.id(), lt.name()) {
                            (Some(id), _) => req.launch_template_id(id),
                            (None, Some(nm)) => req.launch_template_name(nm),
                            (None, None) => req,
                        };
                        if let Some(v) = lt.version() {
                            req = req.versions(v);
                        }
                        match req.send().await {
                            Ok(o) => {
                                if let Some(v) = o.launch_template_versions().first() {
                                    let data = v.launch_template_data();
                                    let md = data.and_then(|d| d.metadata_options());
                                    g.launch_template = Some(AuditLaunchTemplate {
                                        id: v.launch_template_id().unwrap_or_default().to_string(),
                                        http_tokens: md.and_then(|m| m.http_tokens()).map(|t| t.as_str().to_string()),
                                        http_endpoint: md.and_then(|m| m.http_endpoint()).map(|t| t.as_str().to_string()),
                                        hop_limit: md.and_then(|m| m.http_put_response_hop_limit()).map(i64::from),
                                        user_data: data
                                            .and_then(|d| d.user_data())
                                            .and_then(|u| aws_smithy_types::base64::decode(u).ok())
                                            .map(|b| String::from_utf8_lossy(&b).into_owned()),
                                    });
                                }
                            }
                            Err(e) => unread.push((format!("ec2:DescribeLaunchTemplateVersions for node group {ng}"), aws_err(e).to_string())),
                        }
                    }
                    f.node_groups.push(g);
                }
            }
        }

        // ---- IAM: the roles that trust the cluster's OIDC provider
        if let Some(issuer) = f.oidc_issuer.clone() {
            let provider = issuer.trim_start_matches("https://").to_string();
            let mut marker: Option<String> = None;
            loop {
                let out = match ctx.iam.list_roles().set_marker(marker.clone()).send().await {
                    Ok(o) => o,
                    Err(e) => {
                        unread.push(("iam:ListRoles".to_string(), aws_err(e).to_string()));
                        break;
                    }
                };
                for r in out.roles() {
                    let trust = r.assume_role_policy_document().map(decoded).unwrap_or_default();
                    if !trust.contains(&format!("oidc-provider/{provider}")) {
                        continue;
                    }
                    let role_name = r.role_name().to_string();
                    let mut role = AuditRole { name: role_name.clone(), trust_policy: trust, ..Default::default() };
                    match ctx.iam.list_role_policies().role_name(&role_name).send().await {
                        Ok(p) => {
                            for pn in p.policy_names() {
                                match ctx.iam.get_role_policy().role_name(&role_name).policy_name(pn).send().await {
                                    Ok(d) => {
                                        role.inline_policies.insert(pn.clone(), decoded(d.policy_document()));
                                    }
                                    Err(e) => unread.push((format!("iam:GetRolePolicy {role_name}/{pn}"), aws_err(e).to_string())),
                                }
                            }
                        }
                        Err(e) => unread.push((format!("iam:ListRolePolicies {role_name}"), aws_err(e).to_string())),
                    }
                    match ctx.iam.list_attached_role_policies().role_name(&role_name).send().await {
                        Ok(p) => role.attached_policies = p.attached_policies().iter().filter_map(|a| a.policy_arn().map(str::to_string)).collect(),
                        Err(e) => unread.push((format!("iam:ListAttachedRolePolicies {role_name}"), aws_err(e).to_string())),
                    }
                    f.irsa_roles.push(role);
                }
                if !out.is_truncated() {
                    break;
                }
                marker = out.marker().map(str::to_string);
                if marker.is_none() {
                    break;
                }
            }
        } else {
            unread.push(("the cluster's OIDC issuer".to_string(), "the cluster reports none, so IRSA roles cannot be found".to_string()));
        }

        // ---- access entries
        match ctx.eks.list_access_entries().cluster_name(name).send().await {
            Ok(o) => f.access_entries = o.access_entries().to_vec(),
            Err(e) => unread.push(("eks:ListAccessEntries".to_string(), aws_err(e).to_string())),
        }
        f.unread = unread;
        Ok(Some(f))
    }
}
