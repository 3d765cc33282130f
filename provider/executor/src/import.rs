//! Import: read one cluster from AWS by name ([`Aws::observe_cluster`]), then adopt every part of
//! it through the ordinary apply run with read-only clients ([`Aws::import`]). Nothing here
//! creates or changes anything.

use std::collections::BTreeMap;

use secure_eks_core::plan::names::owned_by_cluster;
use secure_eks_core::plan::{ObservedCluster, ObservedNodeGroup, ObservedVpc, Plan, StepOutputs};
use tokio_util::sync::CancellationToken;

use crate::apply::{ApplyError, Progress};
use crate::ctx::{aws_err, found, Ctx, StepError, TAG_CLUSTER, TAG_STEP};
use crate::{drift, eks, Aws, ExecError};

fn lookup(e: StepError) -> ExecError {
    ExecError::Lookup(e.to_string())
}

fn tag_filter(name: &str, value: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder().name(format!("tag:{name}")).values(value).build()
}

fn ec2_tag<'a>(tags: &'a [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key() == Some(key)).and_then(|t| t.value())
}

/// The `system:serviceaccount:<ns>:<name>` a trust policy admits (its `:sub` condition).
fn trusted_service_account(doc: &str) -> Option<(String, String)> {
    let decoded = drift::url_decode(doc).unwrap_or_else(|| doc.to_string());
    let j: serde_json::Value = serde_json::from_str(&decoded).ok()?;
    let statements = match &j["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        s => vec![s.clone()],
    };
    statements.iter().find_map(|s| {
        s["Condition"]["StringEquals"].as_object()?.iter().find(|(k, _)| k.ends_with(":sub")).and_then(|(_, v)| {
            let sub = v.as_str()?;
            let rest = sub.strip_prefix("system:serviceaccount:")?;
            let (ns, name) = rest.split_once(':')?;
            Some((ns.to_string(), name.to_string()))
        })
    })
}

impl Aws {
    /// Everything import needs to rebuild the inputs of cluster `name`; `None` when there is no
    /// such cluster.
    pub async fn observe_cluster(&self, name: &str, region: &str) -> Result<Option<ObservedCluster>, ExecError> {
        let plan = Plan { cluster_name: name.to_string(), region: region.to_string(), tags: BTreeMap::new(), steps: vec![] };
        let ctx = Ctx::new(self, &plan, &StepOutputs::new(), None, &CancellationToken::new());
        let Some(c) = found(ctx.eks.describe_cluster().name(name).send().await).map_err(lookup)?.and_then(|o| o.cluster) else {
            return Ok(None);
        };
        let mut o = ObservedCluster { name: name.to_string(), version: c.version().unwrap_or_default().to_string(), ..Default::default() };
        o.tags = c.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
        // The owner the cluster carries: its name (made before owners were recorded) or
        // `<name>@<region>/<hash>`; the rest of the cluster is adopted by that owner.
        let Some(owner) = o.tags.get(TAG_CLUSTER).filter(|t| owned_by_cluster(t, name)).cloned() else {
            return Err(ExecError::Lookup(format!(
                "cluster {name} was not made by secure-eks (it has no {TAG_CLUSTER} tag for {name}); import only adopts clusters secure-eks created, for example after the stack state was lost"
            )));
        };
        let vpc_config = c.resources_vpc_config();
        o.private_access = vpc_config.is_some_and(|v| v.endpoint_private_access());
        o.public_access = vpc_config.is_some_and(|v| v.endpoint_public_access());
        o.public_cidrs = vpc_config.map(|v| v.public_access_cidrs().to_vec()).unwrap_or_default();
        o.log_types = drift::enabled_log_types(c.logging()).into_iter().collect();
        let key_arn = c.encryption_config().iter().find_map(|e| e.provider().and_then(|p| p.key_arn())).map(str::to_string);

        // ---- network
        let subnet_ids: Vec<String> = vpc_config.map(|v| v.subnet_ids().to_vec()).unwrap_or_default();
        let cluster_subnets = if subnet_ids.is_empty() {
            vec![]
        } else {
            ctx.ec2.describe_subnets().set_subnet_ids(Some(subnet_ids)).send().await.map_err(|e| lookup(aws_err(e)))?.subnets.unwrap_or_default()
        };
        o.cluster_subnets = cluster_subnets
            .iter()
            .map(|s| (s.subnet_id().unwrap_or_default().to_string(), s.availability_zone().unwrap_or_default().to_string(), ec2_tag(s.tags(), TAG_STEP).map(str::to_string)))
            .collect();
        // AWS reports the VPC id in resourcesVpcConfig; the emulator does not, so fall back to the
        // VPC of the cluster's subnets.
        let vpc_id = vpc_config
            .and_then(|v| v.vpc_id())
            .filter(|v| !v.is_empty())
            .or_else(|| cluster_subnets.first().and_then(|s| s.vpc_id()))
            .unwrap_or_default()
            .to_string();
        let vpc = ctx.ec2.describe_vpcs().vpc_ids(&vpc_id).send().await.map_err(|e| lookup(aws_err(e)))?;
        let vpc = vpc.vpcs().first().cloned().ok_or_else(|| ExecError::Lookup(format!("the cluster's VPC {vpc_id} does not exist")))?;
        let primary = vpc.cidr_block().unwrap_or_default().to_string();
        o.vpc = ObservedVpc {
            id: vpc_id.clone(),
            ours: ec2_tag(vpc.tags(), TAG_CLUSTER) == Some(owner.as_str()) && ec2_tag(vpc.tags(), TAG_STEP) == Some("vpc"),
            secondary_cidrs: vpc
                .cidr_block_association_set()
                .iter()
                .filter(|a| a.cidr_block_state().and_then(|s| s.state()).is_none_or(|s| s.as_str() == "associated"))
                .filter_map(|a| a.cidr_block())
                .filter(|c| *c != primary)
                .map(str::to_string)
                .collect(),
            cidr: primary,
        };
        let ours = tag_filter(TAG_CLUSTER, name);
        let s = ctx.ec2.describe_subnets().filters(ours.clone()).send().await.map_err(|e| lookup(aws_err(e)))?;
        o.pod_subnets = s.subnets().iter().filter(|s| ec2_tag(s.tags(), TAG_STEP).is_some_and(|t| t.starts_with("subnet/pod/"))).filter_map(|s| s.subnet_id().map(str::to_string)).collect();
        let nats = ctx.ec2.describe_nat_gateways().filter(ours.clone()).send().await.map_err(|e| lookup(aws_err(e)))?;
        o.nat_gateways = nats.nat_gateways().iter().filter(|n| n.state().is_some_and(|s| matches!(s.as_str(), "available" | "pending"))).count();
        let vpces = ctx.ec2.describe_vpc_endpoints().filters(ours).send().await.map_err(|e| lookup(aws_err(e)))?;
        o.endpoint_services = vpces.vpc_endpoints().iter().filter_map(|e| ec2_tag(e.tags(), TAG_STEP).and_then(|t| t.strip_prefix("vpce/")).map(str::to_string)).collect();

        // ---- logs and KMS
        let groups = ctx.logs.describe_log_groups().log_group_name_prefix(format!("/aws/eks/{name}/cluster")).send().await.map_err(|e| lookup(aws_err(e)))?;
        o.log_retention_days = groups.log_groups().iter().find(|g| g.log_group_name() == Some(&format!("/aws/eks/{name}/cluster"))).and_then(|g| g.retention_in_days()).map(i64::from);
        if let Some(arn) = key_arn {
            let alias = found(ctx.kms.describe_key().key_id(format!("alias/secure-eks/{name}")).send().await).map_err(lookup)?;
            let ours = alias.and_then(|k| k.key_metadata).and_then(|m| m.arn).is_some_and(|a| a == arn);
            o.kms_key = Some((arn, ours));
        }

        // ---- day-two settings (issue #14)
        o.daytwo = Some(secure_eks_core::plan::ObservedDayTwo {
            support_type: c.upgrade_policy().and_then(|u| u.support_type()).map(|t| t.as_str().to_string()),
            zonal_shift: c.zonal_shift_config().and_then(|z| z.enabled()),
            deletion_protection: c.deletion_protection(),
            auto_mode_node_pools: c.compute_config().filter(|cc| cc.enabled() == Some(true)).map(|cc| cc.node_pools().to_vec()),
            addons: Vec::new(),
        });

        // ---- addons
        let addons = ctx.eks.list_addons().cluster_name(name).send().await.map_err(|e| lookup(aws_err(e)))?;
        if let Some(d) = o.daytwo.as_mut() {
            d.addons = addons.addons().to_vec();
        }
        for addon in addons.addons() {
            let Some(a) = found(ctx.eks.describe_addon().cluster_name(name).addon_name(addon).send().await).map_err(lookup)?.and_then(|r| r.addon) else { continue };
            if addon == "vpc-cni" {
                o.vpc_cni_configuration = a.configuration_values().and_then(|v| serde_json::from_str(v).ok());
            }
            if let Some(v) = a.addon_version() {
                let default = match eks::default_addon_version(&ctx, addon, &o.version).await {
                    Ok(d) => Some(d),
                    // EKS lists no version of it for this Kubernetes version: keep it pinned.
                    Err(StepError::Invalid(_)) => None,
                    // A failed call is not "no default": it would pin every addon.
                    Err(e) => return Err(lookup(e)),
                };
                if default.as_deref() != Some(v) {
                    o.pinned_addons.insert(addon.clone(), v.to_string());
                }
            }
        }

        // ---- node groups
        let groups = ctx.eks.list_nodegroups().cluster_name(name).send().await.map_err(|e| lookup(aws_err(e)))?;
        for ng in groups.nodegroups() {
            let Some(n) = found(ctx.eks.describe_nodegroup().cluster_name(name).nodegroup_name(ng).send().await).map_err(lookup)?.and_then(|r| r.nodegroup) else { continue };
            let sc = n.scaling_config();
            let mut g = ObservedNodeGroup {
                name: ng.clone(),
                instance_types: n.instance_types().to_vec(),
                capacity_type: n.capacity_type().map(|c| c.as_str().to_string()).unwrap_or_else(|| "ON_DEMAND".into()),
                scaling: (
                    sc.and_then(|s| s.min_size()).map(i64::from).unwrap_or(0),
                    sc.and_then(|s| s.desired_size()).map(i64::from).unwrap_or(0),
                    sc.and_then(|s| s.max_size()).map(i64::from).unwrap_or(0),
                ),
                ami_type: n.ami_type().map(|a| a.as_str().to_string()).unwrap_or_default(),
                labels: n.labels().map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
                taints: n
                    .taints()
                    .iter()
                    .map(|t| (t.key().unwrap_or_default().to_string(), t.value().map(str::to_string), t.effect().map(|e| e.as_str().to_string()).unwrap_or_default()))
                    .collect(),
                update_config: n.update_config().map(|u| (u.max_unavailable().map(i64::from), u.max_unavailable_percentage().map(i64::from))),
                node_repair: n.node_repair_config().and_then(|r| r.enabled()),
                ..Default::default()
            };
            if let Some(lt) = n.launch_template().and_then(|l| l.id()) {
                let mut req = ctx.ec2.describe_launch_template_versions().launch_template_id(lt);
                if let Some(v) = n.launch_template().and_then(|l| l.version()) {
                    req = req.versions(v);
                }
                let versions = req.send().await.map_err(|e| lookup(aws_err(e)))?;
                if let Some(data) = versions.launch_template_versions().first().and_then(|v| v.launch_template_data()) {
                    g.hop_limit = data.metadata_options().and_then(|m| m.http_put_response_hop_limit()).map(i64::from);
                    g.disk_size_gib = data.block_device_mappings().iter().find_map(|b| b.ebs().and_then(|e| e.volume_size())).map(i64::from);
                    if g.ami_type == "CUSTOM" {
                        g.ami_id = data.image_id().map(str::to_string);
                    }
                }
            }
            o.node_groups.push(g);
        }

        // ---- IAM for workloads
        // Role names carry the owner's hash (IAM is global): the planner's names for this owner.
        let role = |what: &str| secure_eks_core::plan::names::role_name(name, &owner, what);
        o.autoscaler_role = found(ctx.iam.get_role().role_name(role("cluster-autoscaler")).send().await).map_err(lookup)?.is_some();
        for i in 0.. {
            let role_name = role(&format!("sa-{i}"));
            let Some(r) = found(ctx.iam.get_role().role_name(&role_name).send().await).map_err(lookup)?.and_then(|r| r.role) else { break };
            let Some((ns, sa)) = r.assume_role_policy_document().and_then(trusted_service_account) else { continue };
            let attached = ctx.iam.list_attached_role_policies().role_name(&role_name).send().await.map_err(|e| lookup(aws_err(e)))?;
            let policies = attached.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect();
            let inline = found(ctx.iam.get_role_policy().role_name(&role_name).policy_name(crate::iam::INLINE_POLICY_NAME).send().await)
                .map_err(lookup)?
                .map(|p| drift::url_decode(p.policy_document()).unwrap_or_else(|| p.policy_document().to_string()));
            o.service_account_roles.push((ns, sa, policies, inline));
        }
        let entries = ctx.eks.list_access_entries().cluster_name(name).send().await.map_err(|e| lookup(aws_err(e)))?;
        for principal in entries.access_entries() {
            let entry = ctx.eks.describe_access_entry().cluster_name(name).principal_arn(principal).send().await.map_err(|e| lookup(aws_err(e)))?;
            let step = entry.access_entry().and_then(|e| e.tags()).and_then(|t| t.get(crate::ctx::TAG_STEP)).cloned();
            if step.as_deref() == Some("access/deployer") {
                o.deployer_entry = Some(principal.clone());
                continue;
            }
            let p = ctx.eks.list_associated_access_policies().cluster_name(name).principal_arn(principal).send().await.map_err(|e| lookup(aws_err(e)))?;
            if let Some(a) = p.associated_access_policies().first() {
                let ns = a.access_scope().map(|s| s.namespaces().to_vec()).unwrap_or_default();
                o.access_entries.push((principal.clone(), a.policy_arn().unwrap_or_default().to_string(), ns));
            }
        }
        Ok(Some(o))
    }

    /// Adopt every resource of `plan` that exists, through the ordinary apply with read-only
    /// clients: the outputs are exactly what `up` records. Anything missing or different (a call
    /// the read-only clients refuse) is a reason in the error.
    pub async fn import(&self, plan: &Plan, progress: &Progress) -> Result<StepOutputs, ApplyError> {
        self.read_only().apply(plan, &StepOutputs::new(), &CancellationToken::new(), progress).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_account_comes_from_the_sub_condition() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.example/id/X:sub":"system:serviceaccount:app:web","oidc.example/id/X:aud":"sts.amazonaws.com"}}}]}"#;
        assert_eq!(trusted_service_account(doc), Some(("app".into(), "web".into())));
        assert_eq!(trusted_service_account("{}"), None);
    }
}
