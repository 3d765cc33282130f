//! Build the plan from a checked, defaulted, fully known spec.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::model::{AccessPolicy, AmiFamily, CapacityType, ClusterArgs, NatGateways, TaintEffect};
use crate::rules::{instance_arch, Arch};

/// Why a spec cannot be planned (Check should have refused it first).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// A required value is missing.
    #[error("cannot plan: {0} is not set")]
    Missing(&'static str),
    /// A CIDR cannot be carved into subnets.
    #[error("cannot plan: {0}")]
    Cidr(String),
}

/// The AWS partition of a region.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Interface endpoints every cluster needs (nodes pull images, write logs, get credentials).
pub const REQUIRED_ENDPOINTS: [&str; 5] = ["ec2", "ecr.api", "ecr.dkr", "logs", "sts"];

/// The autoscaler's read-only actions (on `*`).
pub const AUTOSCALER_READ_ACTIONS: [&str; 10] = [
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
    "eks:DescribeNodegroup",
];

fn irsa_trust(namespace: &str, service_account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "${oidc_provider_arn}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                "${oidc_issuer_host}:sub": format!("system:serviceaccount:{namespace}:{service_account}"),
                "${oidc_issuer_host}:aud": "sts.amazonaws.com"
            }}
        }]
    })
    .to_string()
}

fn service_trust(service: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]
    })
    .to_string()
}

fn autoscaler_policy(cluster: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": AUTOSCALER_READ_ACTIONS, "Resource": "*"},
            {
                "Sid": "ScaleOwnGroups",
                "Effect": "Allow",
                "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                "Resource": "*",
                "Condition": {"StringEquals": {format!("aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}"): "owned"}}
            }
        ]
    })
    .to_string()
}

/// Deep-merge `user` over `ours`, then put `ours`'s leaves back: the user adds, never replaces.
fn merge_required(ours: &serde_json::Value, user: Option<&serde_json::Map<String, serde_json::Value>>) -> serde_json::Value {
    fn overlay(base: &mut serde_json::Value, top: &serde_json::Value) {
        match (base, top) {
            (serde_json::Value::Object(b), serde_json::Value::Object(t)) => {
                for (k, v) in t {
                    match b.get_mut(k) {
                        Some(bv) => overlay(bv, v),
                        None => {
                            b.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            (b, t) => *b = t.clone(),
        }
    }
    let mut out = serde_json::Value::Object(user.cloned().unwrap_or_default());
    overlay(&mut out, ours);
    out
}

pub(super) struct Builder {
    steps: Vec<Step>,
}

impl Builder {
    pub(super) fn add(&mut self, id: impl Into<String>, action: Action, deps: Vec<String>) -> String {
        let id = id.into();
        let mut deps = deps;
        deps.sort();
        deps.dedup();
        self.steps.push(Step { id: id.clone(), action, deps });
        id
    }
}

/// The VPC endpoint services a cluster gets: the required ones, `eks-auth` (pod identity), the
/// autoscaler's (`autoscaling`, `eks`) when it is on, and `extra`; sorted, without repeats.
pub fn endpoint_services(autoscaler: bool, extra: &[String]) -> Vec<String> {
    let mut services: Vec<String> = REQUIRED_ENDPOINTS.iter().map(|s| s.to_string()).collect();
    services.push("eks-auth".into());
    if autoscaler {
        services.extend(["autoscaling".to_string(), "eks".to_string()]);
    }
    services.extend(extra.iter().cloned());
    services.sort();
    services.dedup();
    services
}

/// Plan a cluster whose owner is its name (a stack made before owners existed, and tests).
/// `default_tags` come from the provider config.
pub fn plan(spec: &ClusterArgs, region: &str, default_tags: &BTreeMap<String, String>) -> Result<Plan, PlanError> {
    plan_owned(spec, region, default_tags, None)
}

/// Plan a cluster owned by `owner` (see [`super::names`]; `None`: the cluster name): the value of
/// the `secure-eks:cluster` tag on everything, and the hash in the IAM role names.
pub fn plan_owned(spec: &ClusterArgs, region: &str, default_tags: &BTreeMap<String, String>, owner: Option<&str>) -> Result<Plan, PlanError> {
    let name = spec.cluster_name.clone().ok_or(PlanError::Missing("clusterName"))?;
    let owner = owner.unwrap_or(&name).to_string();
    let role_name = |what: &str| super::names::role_name(&name, &owner, what);
    let version = spec.kubernetes_version.clone().ok_or(PlanError::Missing("kubernetesVersion"))?;
    let net = spec.network.clone().unwrap_or_default();
    let azs = net.availability_zones.clone().ok_or(PlanError::Missing("network.availabilityZones"))?;
    let part = partition(region);
    let boundary = spec.permissions_boundary.clone();
    let mut tags = default_tags.clone();
    tags.extend(spec.tags.clone().unwrap_or_default());
    tags.insert("secure-eks:cluster".into(), owner.clone());

    let mut b = Builder { steps: Vec::new() };
    let pod_cidr = net.pod_cidr.as_ref().cloned();
    let nat = net.nat_gateways.unwrap_or(NatGateways::None);

    // ---- network
    let mut node_subnets = Vec::new();
    let mut pod_subnets: Vec<(String, String)> = Vec::new(); // (az, step)
    let mut private_rtbs = Vec::new();
    let mut vpc_cidr: Option<Ipv4Cidr> = None;
    let vpc = match &net.existing_vpc {
        Some(ev) => {
            let vpc = b.add("vpc", Action::ExistingVpc { vpc_id: ev.vpc_id.clone() }, vec![]);
            for (i, id) in ev.node_subnet_ids.iter().enumerate() {
                node_subnets.push(b.add(format!("subnet/node/{i}"), Action::ExistingSubnet { role: SubnetRole::Node, subnet_id: id.clone() }, vec![vpc.clone()]));
            }
            // Existing pod subnets are used only with custom networking on (podCidr not null).
            for (i, id) in ev.pod_subnet_ids.iter().flatten().filter(|_| pod_cidr.is_some()).enumerate() {
                let az = azs.get(i).cloned().unwrap_or_default();
                pod_subnets.push((az, b.add(format!("subnet/pod/{i}"), Action::ExistingSubnet { role: SubnetRole::Pod, subnet_id: id.clone() }, vec![vpc.clone()])));
            }
            vpc
        }
        None => {
            let cidr_s = net.vpc_cidr.clone().ok_or(PlanError::Missing("network.vpcCidr"))?;
            let cidr = Ipv4Cidr::parse(&cidr_s).ok_or_else(|| PlanError::Cidr(format!("{cidr_s} is not a CIDR")))?;
            vpc_cidr = Some(cidr);
            let vpc = b.add("vpc", Action::Vpc { cidr: cidr_s }, vec![]);
            // Node subnets take the first blocks; the last block is kept for public (NAT) subnets.
            let mut newbits = 19u8.saturating_sub(cidr.prefix).max(2);
            while (1usize << newbits) <= azs.len() {
                newbits += 1;
            }
            for (i, az) in azs.iter().enumerate() {
                let c = cidr.subnet(newbits, i as u32).ok_or_else(|| PlanError::Cidr(format!("{cidr} has no room for {} node subnets", azs.len())))?;
                node_subnets.push(b.add(format!("subnet/node/{az}"), Action::Subnet { role: SubnetRole::Node, az: az.clone(), cidr: c.to_string() }, vec![vpc.clone()]));
            }
            vpc
        }
    };
    let existing_pods = pod_cidr.is_some() && net.existing_vpc.as_ref().and_then(|e| e.pod_subnet_ids.as_ref()).is_some_and(|p| !p.is_empty());
    if let (Some(pc), false) = (&pod_cidr, existing_pods) {
        let cidr = Ipv4Cidr::parse(pc).ok_or_else(|| PlanError::Cidr(format!("{pc} is not a CIDR")))?;
        let assoc = b.add("vpc/pod-cidr", Action::VpcCidrBlock { cidr: pc.clone() }, vec![vpc.clone()]);
        let newbits = if azs.len() <= 4 { 2 } else { 3 };
        for (i, az) in azs.iter().enumerate() {
            let c = cidr.subnet(newbits, i as u32).ok_or_else(|| PlanError::Cidr(format!("{pc} has no room for {} pod subnets", azs.len())))?;
            pod_subnets.push((az.clone(), b.add(format!("subnet/pod/{az}"), Action::Subnet { role: SubnetRole::Pod, az: az.clone(), cidr: c.to_string() }, vec![assoc.clone()])));
        }
    }

    // NAT: public subnets at the top of the VPC, an internet gateway, NAT per AZ or one.
    let mut nat_for_az: BTreeMap<String, String> = BTreeMap::new();
    if nat != NatGateways::None {
        if let Some(cidr) = vpc_cidr {
            let igw = b.add("igw", Action::InternetGateway, vec![vpc.clone()]);
            let mut node_bits = 19u8.saturating_sub(cidr.prefix).max(2);
            while (1usize << node_bits) <= azs.len() {
                node_bits += 1;
            }
            let reserve = cidr
                .subnet(node_bits, (1u32 << node_bits) - 1)
                .ok_or_else(|| PlanError::Cidr(format!("{cidr} has no room for public subnets")))?;
            let mut public = Vec::new();
            let nat_azs: Vec<&String> = if nat == NatGateways::Single { azs.iter().take(1).collect() } else { azs.iter().collect() };
            let pub_bits = if nat_azs.len() <= 4 { 2 } else { 3 };
            for (i, az) in nat_azs.iter().enumerate() {
                let c = reserve.subnet(pub_bits, i as u32).ok_or_else(|| PlanError::Cidr(format!("{cidr} has no room for public subnets")))?;
                public.push(b.add(format!("subnet/public/{az}"), Action::Subnet { role: SubnetRole::Public, az: (*az).clone(), cidr: c.to_string() }, vec![vpc.clone()]));
            }
            b.add("rtb/public", Action::RouteTable { subnets: public.clone(), default_route: Some(igw.clone()) }, [vec![igw.clone()], public.clone()].concat());
            for (az, subnet) in nat_azs.iter().zip(&public) {
                let n = b.add(format!("nat/{az}"), Action::NatGateway { subnet: subnet.clone() }, vec![subnet.clone(), igw.clone(), "rtb/public".into()]);
                nat_for_az.insert((*az).clone(), n);
            }
        }
    }
    if net.existing_vpc.is_none() || !pod_subnets.is_empty() {
        for az in &azs {
            let mut subnets: Vec<String> = node_subnets.iter().filter(|s| s.ends_with(&format!("/{az}")) && net.existing_vpc.is_none()).cloned().collect();
            subnets.extend(pod_subnets.iter().filter(|(a, s)| a == az && s.starts_with("subnet/pod/") && !existing_pods).map(|(_, s)| s.clone()));
            if subnets.is_empty() {
                continue;
            }
            let route = nat_for_az.get(az).or_else(|| nat_for_az.values().next()).cloned();
            let mut deps = subnets.clone();
            deps.extend(route.clone());
            private_rtbs.push(b.add(format!("rtb/{az}"), Action::RouteTable { subnets, default_route: route }, deps));
        }
    }

    // ---- security groups
    for (role, id, desc) in [
        (SgRole::Cluster, "sg/cluster", "EKS control plane"),
        (SgRole::Node, "sg/node", "EKS nodes and pods"),
        (SgRole::Endpoints, "sg/endpoints", "VPC interface endpoints"),
    ] {
        b.add(id, Action::SecurityGroup { role, description: format!("secure-eks {name}: {desc}") }, vec![vpc.clone()]);
    }
    let rule = |on: SgRole, protocol: &str, from: i32, to: i32, source: Source, description: &str| Action::IngressRule {
        on,
        protocol: protocol.into(),
        from_port: from,
        to_port: to,
        source,
        description: description.into(),
    };
    let sgs = || vec!["sg/cluster".to_string(), "sg/node".to_string(), "sg/endpoints".to_string()];
    b.add("sgrule/node-from-node", rule(SgRole::Node, "-1", -1, -1, Source::Sg(SgRole::Node), "node to node, all traffic"), sgs());
    b.add("sgrule/node-from-cluster-443", rule(SgRole::Node, "tcp", 443, 443, Source::Sg(SgRole::Cluster), "control plane to webhooks on nodes"), sgs());
    b.add("sgrule/node-from-cluster-ephemeral", rule(SgRole::Node, "tcp", 1025, 65535, Source::Sg(SgRole::Cluster), "control plane to kubelet and pods"), sgs());
    b.add("sgrule/cluster-from-node-443", rule(SgRole::Cluster, "tcp", 443, 443, Source::Sg(SgRole::Node), "nodes to the Kubernetes API"), sgs());
    b.add("sgrule/endpoints-from-node-443", rule(SgRole::Endpoints, "tcp", 443, 443, Source::Sg(SgRole::Node), "nodes and pods to AWS APIs"), sgs());
    // Private DNS sends the whole VPC's AWS API traffic to the endpoints: everything in it must
    // reach them (an existing VPC's blocks are read at apply).
    match vpc_cidr {
        Some(c) => {
            b.add("sgrule/endpoints-from-vpc-443", rule(SgRole::Endpoints, "tcp", 443, 443, Source::Cidr(c.to_string()), "VPC to AWS APIs"), sgs());
        }
        None => {
            let mut deps = sgs();
            deps.push(vpc.clone());
            b.add("sgrule/endpoints-from-vpc-443", rule(SgRole::Endpoints, "tcp", 443, 443, Source::VpcCidrs, "VPC to AWS APIs"), deps);
        }
    }
    if let Some(pc) = &pod_cidr {
        b.add("sgrule/endpoints-from-pods-443", rule(SgRole::Endpoints, "tcp", 443, 443, Source::Cidr(pc.clone()), "pods to AWS APIs"), sgs());
    }

    // ---- endpoints
    // S3 (image layers) through a gateway endpoint on the route tables of the node subnets: ours,
    // or in an existing VPC the ones AWS has for the user's node subnets.
    let existing_node_subnets = if net.existing_vpc.is_some() { node_subnets.clone() } else { Vec::new() };
    if !private_rtbs.is_empty() || !existing_node_subnets.is_empty() {
        let deps = [private_rtbs.clone(), existing_node_subnets.clone()].concat();
        b.add("vpce/s3", Action::GatewayEndpoint { service: "s3".into(), route_tables: private_rtbs.clone(), subnets: existing_node_subnets }, deps);
    }
    let endpoint_subnets: Vec<String> = match net.existing_vpc.as_ref().and_then(|e| e.endpoint_subnet_ids.as_ref()) {
        Some(ids) => ids
            .iter()
            .enumerate()
            .map(|(i, id)| b.add(format!("subnet/endpoint/{i}"), Action::ExistingSubnet { role: SubnetRole::Node, subnet_id: id.clone() }, vec![vpc.clone()]))
            .collect(),
        None => node_subnets.clone(),
    };
    let autoscaler = spec.cluster_autoscaler.as_ref().and_then(|c| c.enabled).unwrap_or(true);
    let services = endpoint_services(autoscaler, net.extra_endpoints.as_deref().unwrap_or_default());
    for svc in services.iter().filter(|s| s.as_str() != "s3") {
        let mut deps = endpoint_subnets.clone();
        deps.push("sg/endpoints".into());
        b.add(format!("vpce/{svc}"), Action::InterfaceEndpoint { service: svc.clone(), subnets: endpoint_subnets.clone() }, deps);
    }

    // ---- KMS, logs, IAM
    let kms = match spec.encryption.as_ref().and_then(|e| e.kms_key_arn.clone()) {
        Some(arn) => b.add("kms", Action::ExistingKmsKey { arn }, vec![]),
        None => b.add("kms", Action::KmsKey { alias: format!("alias/secure-eks/{name}") }, vec![]),
    };
    let logging = spec.logging.clone().unwrap_or_default();
    let log_group = b.add(
        "loggroup",
        Action::LogGroup { name: format!("/aws/eks/{name}/cluster"), retention_days: logging.retention_days.unwrap_or(90) },
        vec![],
    );
    let managed = |names: &[&str]| names.iter().map(|n| format!("arn:{part}:iam::aws:policy/{n}")).collect::<Vec<_>>();
    let cluster_role = b.add(
        "role/cluster",
        Action::Role {
            name: role_name("cluster"),
            trust_policy: service_trust("eks.amazonaws.com"),
            managed_policies: managed(&["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"]),
            inline_policy: None,
            permissions_boundary: boundary.clone(),
        },
        vec![],
    );
    let node_role = b.add(
        "role/node",
        Action::Role {
            name: role_name("node"),
            trust_policy: service_trust("ec2.amazonaws.com"),
            managed_policies: managed(&["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy", "AmazonSSMManagedInstanceCore"]),
            inline_policy: None,
            permissions_boundary: boundary.clone(),
        },
        vec![],
    );

    // ---- cluster
    let api = spec.api_access.clone().unwrap_or_default();
    let mut cluster_deps = vec![cluster_role, kms, log_group, "sg/cluster".to_string(), "sgrule/cluster-from-node-443".to_string()];
    cluster_deps.extend(node_subnets.iter().cloned());
    let cluster = b.add(
        "cluster",
        Action::Cluster(ClusterAction {
            name: name.clone(),
            version: version.clone(),
            private_access: api.private.unwrap_or(true),
            public_access: api.public.unwrap_or(false),
            public_cidrs: api.public_cidrs.clone().unwrap_or_default(),
            log_types: logging.types.clone().unwrap_or_default(),
            subnets: node_subnets.clone(),
            settings: super::ClusterSettings::of(spec),
        }),
        cluster_deps,
    );
    let oidc = b.add("oidc", Action::OidcProvider, vec![cluster.clone()]);

    // ---- addons before nodes
    let addons = spec.addons.clone().unwrap_or_default();
    let custom_networking = pod_cidr.is_some() || existing_pods;
    let mut env = serde_json::Map::new();
    env.insert("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG".into(), json!(if custom_networking { "true" } else { "false" }));
    if custom_networking {
        env.insert("ENI_CONFIG_LABEL_DEF".into(), json!("topology.kubernetes.io/zone"));
    }
    if net.prefix_delegation.unwrap_or(true) {
        env.insert("ENABLE_PREFIX_DELEGATION".into(), json!("true"));
        env.insert("WARM_PREFIX_TARGET".into(), json!("1"));
    }
    let cni_required = json!({"env": env, "enableNetworkPolicy": if net.network_policy.unwrap_or(true) { "true" } else { "false" }});
    let cni = addons.vpc_cni.clone().unwrap_or_default();
    let mut cni_deps = vec![cluster.clone(), "sg/node".to_string()];
    cni_deps.extend(pod_subnets.iter().map(|(_, s)| s.clone()));
    let vpc_cni = b.add(
        "addon/vpc-cni",
        Action::Addon {
            name: "vpc-cni".into(),
            version: cni.version.clone(),
            configuration: merge_required(&cni_required, cni.configuration.as_ref()),
            eni_configs: if custom_networking { pod_subnets.clone() } else { vec![] },
            pod_identities: vec![],
        },
        cni_deps,
    );
    let simple_addon = |b: &mut Builder, id: &str, addon_name: &str, a: Option<&crate::model::Addon>, deps: Vec<String>| {
        let a = a.cloned().unwrap_or_default();
        b.add(
            id,
            Action::Addon {
                name: addon_name.into(),
                version: a.version,
                configuration: merge_required(&json!({}), a.configuration.as_ref()),
                eni_configs: vec![],
                pod_identities: vec![],
            },
            deps,
        )
    };
    let kube_proxy = simple_addon(&mut b, "addon/kube-proxy", "kube-proxy", addons.kube_proxy.as_ref(), vec![vpc_cni.clone()]);
    let pia = simple_addon(&mut b, "addon/eks-pod-identity-agent", "eks-pod-identity-agent", addons.pod_identity_agent.as_ref(), vec![vpc_cni.clone()]);

    // ---- node groups
    let mut ng_steps = Vec::new();
    for ng in spec.node_groups.iter().flatten() {
        let arch = ng.instance_types.first().and_then(|t| instance_arch(t)).unwrap_or(Arch::X86_64);
        let family = ng.ami_family.unwrap_or(AmiFamily::Al2023);
        // The AMI variant follows the accelerator (NVIDIA, Neuron); Check refuses the
        // combinations with no AMI (SEKS-NODE-032), planned as the standard one.
        let accelerator = ng.accelerator.unwrap_or_else(|| crate::model::Accelerator::of_instance_types(&ng.instance_types));
        let (ami_type, release_parameter) = match &ng.ami_id {
            Some(_) => ("CUSTOM".to_string(), None),
            None => {
                let (t, p) = super::ami_type(&version, family, arch, accelerator)
                    .or_else(|| super::ami_type(&version, family, arch, crate::model::Accelerator::None))
                    .ok_or(PlanError::Missing("nodeGroups[].amiFamily"))?;
                (t, Some(p))
            }
        };
        let lt = b.add(
            format!("lt/{}", ng.name),
            Action::LaunchTemplate(LaunchTemplateAction {
                name: super::names::launch_template_name(&name, &ng.name),
                hop_limit: ng.imds_hop_limit.unwrap_or(2),
                disk_size_gib: ng.disk_size_gib.unwrap_or(50),
                ami_id: ng.ami_id.clone(),
                user_data: ng.user_data.clone(),
                ami_family: match family {
                    AmiFamily::Al2023 => "AL2023".into(),
                    AmiFamily::Bottlerocket => "BOTTLEROCKET".into(),
                },
            }),
            if ng.ami_id.is_some() { vec!["sg/node".to_string(), cluster.clone()] } else { vec!["sg/node".to_string()] },
        );
        let mut deps = vec![lt.clone(), node_role.clone(), vpc_cni.clone(), kube_proxy.clone(), "sgrule/node-from-node".to_string(), "sgrule/node-from-cluster-ephemeral".to_string(), "sgrule/node-from-cluster-443".to_string()];
        deps.extend(node_subnets.iter().cloned());
        deps.extend(private_rtbs.iter().cloned());
        if nat == NatGateways::None {
            deps.extend(services.iter().filter(|s| s.as_str() != "s3").map(|s| format!("vpce/{s}")));
            if !private_rtbs.is_empty() {
                deps.push("vpce/s3".into());
            }
        }
        ng_steps.push(b.add(
            format!("nodegroup/{}", ng.name),
            Action::NodeGroup(NodeGroupAction {
                name: ng.name.clone(),
                instance_types: ng.instance_types.clone(),
                capacity_type: match ng.capacity_type.unwrap_or(CapacityType::OnDemand) {
                    CapacityType::OnDemand => "ON_DEMAND".into(),
                    CapacityType::Spot => "SPOT".into(),
                },
                min_size: ng.min_size.unwrap_or(1),
                desired_size: ng.desired_size.unwrap_or(2),
                max_size: ng.max_size.unwrap_or(3),
                ami_type,
                release_parameter,
                labels: ng.labels.clone().unwrap_or_default(),
                taints: ng
                    .taints
                    .iter()
                    .flatten()
                    .map(|t| {
                        let effect = match t.effect {
                            TaintEffect::NoSchedule => "NO_SCHEDULE",
                            TaintEffect::NoExecute => "NO_EXECUTE",
                            TaintEffect::PreferNoSchedule => "PREFER_NO_SCHEDULE",
                        };
                        (t.key.clone(), t.value.clone(), effect.to_string())
                    })
                    .collect(),
                subnets: node_subnets.clone(),
                launch_template: lt,
                controls: super::NodeGroupControls::of(ng),
            }),
            deps,
        ));
    }
    let mut dns_deps = ng_steps.clone();
    dns_deps.push(pia);
    simple_addon(&mut b, "addon/coredns", "coredns", addons.core_dns.as_ref(), dns_deps.clone());
    // Addons by name (issue #14), after the nodes and the Pod Identity agent.
    super::daytwo::named_addons(&mut b, spec, part, &role_name, boundary.clone(), &dns_deps);

    // ---- workload IAM
    if let Some(ca) = spec.cluster_autoscaler.as_ref().filter(|_| autoscaler) {
        let ns = ca.namespace.clone().unwrap_or_else(|| "kube-system".into());
        let sa = ca.service_account.clone().unwrap_or_else(|| "cluster-autoscaler".into());
        b.add(
            "role/autoscaler",
            Action::Role {
                name: role_name("cluster-autoscaler"),
                trust_policy: irsa_trust(&ns, &sa),
                managed_policies: vec![],
                inline_policy: Some(autoscaler_policy(&name)),
                permissions_boundary: boundary.clone(),
            },
            vec![oidc.clone()],
        );
    }
    for (i, r) in spec.service_account_roles.iter().flatten().enumerate() {
        b.add(
            format!("role/sa/{}/{}", r.namespace, r.name),
            Action::Role {
                name: role_name(&format!("sa-{i}")),
                trust_policy: irsa_trust(&r.namespace, &r.name),
                managed_policies: r.policy_arns.clone().unwrap_or_default(),
                inline_policy: r.inline_policy.clone(),
                permissions_boundary: boundary.clone(),
            },
            vec![oidc.clone()],
        );
    }
    for (i, e) in spec.access_entries.iter().flatten().enumerate() {
        let policy = match e.access_policy {
            AccessPolicy::ClusterAdmin => "AmazonEKSClusterAdminPolicy",
            AccessPolicy::Admin => "AmazonEKSAdminPolicy",
            AccessPolicy::Edit => "AmazonEKSEditPolicy",
            AccessPolicy::View => "AmazonEKSViewPolicy",
        };
        b.add(
            format!("access/{i}"),
            Action::AccessEntry { principal_arn: e.principal_arn.clone(), policy: policy.into(), namespaces: e.namespaces.clone().unwrap_or_default() },
            vec![cluster.clone()],
        );
    }

    // The deploying principal's cluster admin (SEKS-IAM-030 warns when a cluster has none).
    if let Some(p) = spec.deployer_entry() {
        b.add(
            "access/deployer",
            Action::AccessEntry { principal_arn: p.to_string(), policy: "AmazonEKSClusterAdminPolicy".into(), namespaces: vec![] },
            vec![cluster.clone()],
        );
    }

    let steps = super::auto_mode::adjust(b.steps, spec, part);
    Ok(Plan { cluster_name: name, region: region.to_string(), tags, steps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Autoname;
    use expect_test::expect_file;

    fn spec(j: serde_json::Value) -> ClusterArgs {
        let args: ClusterArgs = serde_json::from_value(j).unwrap();
        args.with_defaults(Autoname::Proposed("demo"), Some("us-east-1"))
    }

    fn example_minimal() -> ClusterArgs {
        spec(json!({"kubernetesVersion": "1.34", "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large", "m6g.large"]}]}))
    }

    #[test]
    fn minimal_plan_snapshot() {
        let p = plan(&example_minimal(), "us-east-1", &BTreeMap::new()).unwrap();
        expect_file!["snapshots/minimal.plan"].assert_eq(&p.render());
    }

    #[test]
    fn byo_vpc_with_nat_plan_snapshot() {
        let s = spec(json!({
            "kubernetesVersion": "1.34",
            "network": {"existingVpc": {"vpcId": "vpc-0123456789abcdef0", "nodeSubnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]}, "availabilityZones": ["us-east-1a", "us-east-1b"]},
            "nodeGroups": [{"name": "x86", "instanceTypes": ["m7i.large", "m6i.large"], "capacityType": "SPOT"}],
            "serviceAccountRoles": [{"namespace": "app", "name": "web", "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}],
            "accessEntries": [{"principalArn": "arn:aws:iam::123456789012:role/admin", "accessPolicy": "ClusterAdmin"}]
        }));
        let p = plan(&s, "us-east-1", &BTreeMap::from([("team".to_string(), "platform".to_string())])).unwrap();
        expect_file!["snapshots/byo-vpc.plan"].assert_eq(&p.render());
    }

    #[test]
    fn same_spec_same_plan_and_deps_come_first() {
        let mut s = example_minimal();
        s.network.as_mut().unwrap().nat_gateways = Some(NatGateways::PerAz);
        let a = plan(&s, "us-east-1", &BTreeMap::new()).unwrap();
        let b = plan(&s, "us-east-1", &BTreeMap::new()).unwrap();
        assert_eq!(a.render(), b.render());
        // No two subnets overlap.
        let cidrs: Vec<Ipv4Cidr> = a
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::Subnet { cidr, .. } => Ipv4Cidr::parse(cidr),
                _ => None,
            })
            .collect();
        for (i, x) in cidrs.iter().enumerate() {
            for y in &cidrs[i + 1..] {
                assert!(!x.overlaps(y), "{x} overlaps {y}");
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for step in &a.steps {
            for d in &step.deps {
                assert!(seen.contains(d), "{} depends on {d}, which comes later or does not exist", step.id);
            }
            assert!(seen.insert(step.id.clone()), "duplicate step {}", step.id);
        }
    }

    #[test]
    fn irsa_trust_has_sub_and_aud_under_string_equals() {
        let p = plan(&example_minimal(), "us-east-1", &BTreeMap::new()).unwrap();
        let Some(Step { action: Action::Role { trust_policy, inline_policy, .. }, .. }) = p.step("role/autoscaler") else { panic!() };
        let t: serde_json::Value = serde_json::from_str(trust_policy).unwrap();
        let cond = &t["Statement"][0]["Condition"]["StringEquals"];
        assert_eq!(cond["${oidc_issuer_host}:sub"], "system:serviceaccount:kube-system:cluster-autoscaler");
        assert_eq!(cond["${oidc_issuer_host}:aud"], "sts.amazonaws.com");
        let pol: serde_json::Value = serde_json::from_str(inline_policy.as_deref().unwrap()).unwrap();
        assert_eq!(pol["Statement"][0]["Action"].as_array().unwrap().len(), 10);
    }

    #[test]
    fn user_addon_configuration_never_replaces_required_settings() {
        let s = spec(json!({
            "kubernetesVersion": "1.34",
            "nodeGroups": [{"name": "g", "instanceTypes": ["m7g.large"]}],
            "addons": {"vpcCni": {"configuration": {"env": {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "false", "WARM_IP_TARGET": "5"}}}}
        }));
        let p = plan(&s, "us-east-1", &BTreeMap::new()).unwrap();
        let Some(Step { action: Action::Addon { configuration, .. }, .. }) = p.step("addon/vpc-cni") else { panic!() };
        assert_eq!(configuration["env"]["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"], "true");
        assert_eq!(configuration["env"]["WARM_IP_TARGET"], "5");
    }
}

#[cfg(test)]
mod least_privilege {
    use super::*;
    use crate::model::Autoname;

    /// Every policy document this plan creates: no `*` action outside the autoscaler's documented
    /// read set, writes scoped by a condition, and every web-identity trust conditioned on `:sub`
    /// and `:aud` with StringEquals (no wildcards).
    #[test]
    fn every_policy_we_create_is_least_privilege() {
        let spec: ClusterArgs = serde_json::from_value(json!({
            "kubernetesVersion": "1.34",
            "nodeGroups": [{"name": "g", "instanceTypes": ["m7g.large"]}],
            "serviceAccountRoles": [{"namespace": "app", "name": "web", "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}]
        }))
        .unwrap();
        let p = plan(&spec.with_defaults(Autoname::Proposed("lp"), Some("us-east-1")), "us-east-1", &BTreeMap::new()).unwrap();
        let mut audited = 0;
        for step in &p.steps {
            let Action::Role { trust_policy, inline_policy, .. } = &step.action else { continue };
            let trust: serde_json::Value = serde_json::from_str(trust_policy).unwrap();
            for st in trust["Statement"].as_array().unwrap() {
                if st["Principal"].get("Federated").is_some() {
                    let eq = st["Condition"]["StringEquals"].as_object().expect("web identity trust needs StringEquals");
                    assert!(eq.keys().any(|k| k.ends_with(":sub")) && eq.keys().any(|k| k.ends_with(":aud")), "{}", step.id);
                    assert!(eq.values().all(|v| !v.as_str().unwrap_or("").contains('*')), "{}: wildcard in trust", step.id);
                    assert!(st["Condition"].get("StringLike").is_none(), "{}", step.id);
                } else {
                    assert!(st["Principal"]["Service"].as_str().is_some_and(|s| s.ends_with(".amazonaws.com")), "{}", step.id);
                }
            }
            let Some(doc) = inline_policy else { continue };
            let pol: serde_json::Value = serde_json::from_str(doc).unwrap();
            for st in pol["Statement"].as_array().unwrap() {
                let actions: Vec<&str> = match &st["Action"] {
                    serde_json::Value::String(s) => vec![s.as_str()],
                    serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
                    _ => vec![],
                };
                for a in &actions {
                    assert!(!a.contains('*'), "{}: wildcard action {a}", step.id);
                }
                let read_only = actions.iter().all(|a| AUTOSCALER_READ_ACTIONS.contains(a));
                if st["Resource"] == "*" && !read_only {
                    assert!(st.get("Condition").is_some(), "{}: write actions on * need a condition", step.id);
                }
                audited += 1;
            }
        }
        assert!(audited >= 2, "expected the autoscaler policy statements");
    }
}
