"""Whether a managed node group's instances can join the cluster, and whether pods get IPs.

A node group whose nodes can't work goes CREATE_FAILED with the health issue EKS reports,
`NodeCreationFailure` / "Instances failed to join the kubernetes cluster"
(https://docs.aws.amazon.com/eks/latest/APIReference/API_Issue.html,
https://docs.aws.amazon.com/eks/latest/userguide/troubleshooting.html#worker-node-fail). Causes
modelled (each is listed in that troubleshooting section):
- No path from the node subnets to the AWS APIs the node needs. Private clusters need interface
  endpoints (with private DNS) for ec2, ecr.api, ecr.dkr, sts (and eks where the region offers it)
  and the S3 gateway endpoint on the node subnets' route tables; the endpoints' security groups
  must admit HTTPS (443) from the nodes
  (https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html,
  https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html). A default
  route to an available NAT gateway, or to an internet gateway from a subnet that gives public
  IPs, is a path to all of them.
- The node IAM role lacks AmazonEKSWorkerNodePolicy (or ...MinimalPolicy) or the ECR read policy
  (AmazonEC2ContainerRegistryReadOnly / ...PullOnly)
  (https://docs.aws.amazon.com/eks/latest/userguide/create-node-role.html).
- A launch template AMI whose architecture the instance type can't run.
- A pinned (launch template) AMI whose user data is not a valid nodeadm NodeConfig for this
  cluster (AL2023: https://awslabs.github.io/amazon-eks-ami/nodeadm/ ; name, apiServerEndpoint,
  certificateAuthority and cidr are required) or not valid Bottlerocket TOML with
  [settings.kubernetes] api-server, cluster-certificate and cluster-name
  (https://bottlerocket.dev/en/os/latest/api/settings/kubernetes/).
A managed AMI type that the instance types can't run is refused at CreateNodegroup
(InvalidParameterException), as EKS does.

coredns: its pods need pod IPs, so the add-on is DEGRADED (InsufficientNumberOfReplicas) until an
ACTIVE node group and the vpc-cni add-on exist, and, with custom networking
(AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true), an ENIConfig (vpc-cni `eniConfig.subnets` entry) for
every node AZ (https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network-tutorial.html).
"""
import base64
import email
import ipaddress
import json
import tomllib

import yaml
from moto.ec2.models import ec2_backends
from moto.ec2.models.instance_types import INSTANCE_TYPES
from moto.eks.exceptions import InvalidParameterException
from moto.iam.models import iam_backends

from .ec2_endpoints import EKS_PRIVATELINK_UNAVAILABLE

WORKER_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKSWorkerNodeMinimalPolicy")
ECR_POLICIES = ("AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPullOnly")
AMI_TYPE_ARCH = {
    "AL2_x86_64": "x86_64", "AL2_x86_64_GPU": "x86_64", "AL2_ARM_64": "arm64",
    "AL2023_x86_64_STANDARD": "x86_64", "AL2023_ARM_64_STANDARD": "arm64",
    "AL2023_x86_64_NVIDIA": "x86_64", "AL2023_ARM_64_NVIDIA": "arm64", "AL2023_x86_64_NEURON": "x86_64",
    "BOTTLEROCKET_x86_64": "x86_64", "BOTTLEROCKET_ARM_64": "arm64",
    "BOTTLEROCKET_x86_64_NVIDIA": "x86_64", "BOTTLEROCKET_ARM_64_NVIDIA": "arm64",
}


def _archs(instance_type):
    info = INSTANCE_TYPES.get(instance_type) or {}
    return set((info.get("ProcessorInfo") or {}).get("SupportedArchitectures") or [])


def _launch_template_data(ec2, lt):
    if not lt:
        return {}
    tid = lt.get("id") or ec2.launch_template_name_to_ids.get(lt.get("name"))
    template = ec2.launch_templates.get(tid)
    if template is None:
        return {}
    try:
        return template.get_version(lt.get("version") or "$Default").data
    except Exception:
        return {}


def _instance_types(ng, data):
    return list(ng.instance_types or []) or ([data["InstanceType"]] if data.get("InstanceType") else [])


def check_ami_type(self, cluster, name):
    """CreateNodegroup: the managed AMI type must run on every instance type."""
    ami_type = self._get_param("amiType")
    arch = AMI_TYPE_ARCH.get(ami_type or "")
    if not arch:
        return
    ec2 = ec2_backends[self.current_account][self.region]
    data = _launch_template_data(ec2, self._get_param("launchTemplate"))
    types = list(self._get_param("instanceTypes") or []) or ([data["InstanceType"]] if data.get("InstanceType") else [])
    bad = [t for t in types if _archs(t) and arch not in _archs(t)]
    if bad:
        raise InvalidParameterException(
            clusterName=cluster.name, nodegroupName=name, fargateProfileName=None, addonName=None,
            message=f"[{', '.join(bad)}] is not a valid instance type for requested amiType {ami_type}",
        )


def node_security_groups(ec2, cluster, ng):
    data = _launch_template_data(ec2, ng.launch_template)
    groups = list(data.get("SecurityGroupIds") or [])
    for ni in data.get("NetworkInterfaces") or []:
        groups += list(ni.get("Groups") or ni.get("SecurityGroupIds") or [])
    if not groups and getattr(cluster, "_cluster_sg", None):
        groups = [cluster._cluster_sg]
    return groups


def _route_table(ec2, subnet):
    main = None
    for rt in ec2.route_tables.values():
        if rt.vpc_id != subnet.vpc_id:
            continue
        if subnet.id in rt._associations.values():
            return rt
        if rt.main_association_id:
            main = rt
    return main


def _default_route_target(ec2, rt):
    for r in (rt.routes if rt else []):
        if r.destination_cidr_block == "0.0.0.0/0":
            if r.nat_gateway is not None:
                return "nat", r.nat_gateway
            if r.gateway is not None and str(r.gateway.id).startswith("igw-"):
                return "igw", r.gateway
    return None, None


def _admits_443(ec2, sg_ids, node_groups, node_cidrs):
    for gid in sg_ids:
        sg = ec2.get_security_group_from_id(gid)
        if sg is None:
            continue
        for rule in sg.ingress_rules:
            proto = str(rule.ip_protocol)
            if proto not in ("-1", "tcp", "6"):
                continue
            if proto != "-1":
                lo, hi = rule.from_port, rule.to_port
                if lo is None or hi is None or not int(lo) <= 443 <= int(hi):
                    continue
            cidr = (rule.ip_range or {}).get("CidrIp")
            if cidr:
                net = ipaddress.ip_network(cidr, strict=False)
                if all(ipaddress.ip_network(c).subnet_of(net) for c in node_cidrs):
                    return True
            if (rule.source_group or {}).get("GroupId") in node_groups:
                return True
    return False


def _network_reasons(ec2, region, cluster, ng):
    reasons = []
    subnets = []
    for sid in ng.subnets or []:
        try:
            subnets.append(ec2.get_subnet(sid))
        except Exception:
            reasons.append(f"subnet {sid} does not exist")
    if not subnets:
        return reasons
    node_groups = set(node_security_groups(ec2, cluster, ng))
    services = ["ec2", "ecr.api", "ecr.dkr", "sts"] + ([] if region in EKS_PRIVATELINK_UNAVAILABLE else ["eks"])
    for subnet in subnets:
        rt = _route_table(ec2, subnet)
        kind, target = _default_route_target(ec2, rt)
        if kind == "nat" and target.state == "available":
            continue
        if kind == "igw" and subnet.map_public_ip_on_launch:
            continue
        endpoints = [e for e in ec2.vpc_end_points.values() if e.vpc_id == subnet.vpc_id and e.state == "available"]
        for svc in services:
            name = f"com.amazonaws.{region}.{svc}"
            ok = [e for e in endpoints if e.service_name == name and str(e.vpc_endpoint_type).lower() == "interface"
                  and e.private_dns_enabled]
            if not ok:
                reasons.append(f"subnet {subnet.id}: no route to {svc} (no NAT and no interface endpoint with private DNS)")
            elif not any(_admits_443(ec2, e.security_group_ids, node_groups, [subnet.cidr_block]) for e in ok):
                reasons.append(f"subnet {subnet.id}: the {svc} endpoint's security groups don't admit 443 from the nodes")
        s3 = [e for e in endpoints if e.service_name == f"com.amazonaws.{region}.s3"
              and str(e.vpc_endpoint_type).lower() == "gateway" and rt is not None and rt.id in (e.route_table_ids or [])]
        if not s3:
            reasons.append(f"subnet {subnet.id}: no route to s3 (no S3 gateway endpoint on route table "
                           f"{rt.id if rt else '-'})")
    return reasons


def _role_reasons(account, ng):
    role_name = str(ng.node_role or "").rsplit("/", 1)[-1]
    try:
        role = iam_backends[account]["global"].get_role(role_name)
    except Exception:
        return [f"node role {ng.node_role} does not exist"]
    attached = {arn.rsplit("/", 1)[-1] for arn in role.managed_policies}
    reasons = []
    if not attached & set(WORKER_POLICIES):
        reasons.append(f"node role {role_name} lacks AmazonEKSWorkerNodePolicy")
    if not attached & set(ECR_POLICIES):
        reasons.append(f"node role {role_name} lacks AmazonEC2ContainerRegistryReadOnly/PullOnly")
    return reasons


def _nodeconfig_reasons(doc, cluster):
    try:
        cfg = yaml.safe_load(doc)
    except yaml.YAMLError as e:
        return [f"nodeadm NodeConfig is not valid YAML: {e}"]
    if not isinstance(cfg, dict) or cfg.get("kind") != "NodeConfig" or not str(cfg.get("apiVersion", "")).startswith("node.eks.aws/"):
        return ["user data has no nodeadm NodeConfig (apiVersion node.eks.aws/*, kind NodeConfig)"]
    cl = ((cfg.get("spec") or {}).get("cluster") or {})
    missing = [k for k in ("name", "apiServerEndpoint", "certificateAuthority", "cidr") if not cl.get(k)]
    if missing:
        return [f"nodeadm NodeConfig lacks spec.cluster.{', spec.cluster.'.join(missing)}"]
    if cl.get("name") != cluster.name:
        return [f"nodeadm NodeConfig names cluster {cl.get('name')!r}, not {cluster.name!r}"]
    return []


def _userdata_reasons(user_data, cluster):
    """Reasons a pinned AMI's user data can't bootstrap a node (empty list = fine)."""
    if not user_data:
        return ["a pinned AMI needs user data that bootstraps the node; there is none"]
    try:
        text = base64.b64decode(str(user_data)).decode()
    except Exception:
        return ["user data is not base64 text"]
    head = text.lstrip()[:400].lower()
    if head.startswith("mime-version") or head.startswith("content-type: multipart"):
        msg = email.message_from_string(text)
        if not msg.is_multipart():
            return ["user data MIME document is not multipart"]
        if msg.defects:
            return [f"user data MIME document is malformed: {msg.defects}"]
        parts = [p for p in msg.walk() if p.get_content_type() == "application/node.eks.aws"]
        if not parts:
            return ["user data MIME document has no application/node.eks.aws part"]
        reasons = []
        for p in parts:
            reasons += _nodeconfig_reasons(p.get_payload(decode=True).decode(), cluster)
        return reasons
    if "apiversion: node.eks.aws" in head:
        return _nodeconfig_reasons(text, cluster)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return [f"user data is neither a nodeadm NodeConfig nor valid Bottlerocket TOML: {e}"]
    k8s = (doc.get("settings") or {}).get("kubernetes") or {}
    missing = [k for k in ("api-server", "cluster-certificate", "cluster-name") if not k8s.get(k)]
    if missing:
        return [f"Bottlerocket settings.kubernetes lacks {', '.join(missing)}"]
    if k8s.get("cluster-name") != cluster.name:
        return [f"Bottlerocket settings name cluster {k8s.get('cluster-name')!r}, not {cluster.name!r}"]
    return []


def why_nodes_cannot_join(account, region, cluster, ng):
    ec2 = ec2_backends[account][region]
    reasons = _role_reasons(account, ng)
    data = _launch_template_data(ec2, ng.launch_template)
    image_id = data.get("ImageId")
    if image_id:
        try:
            image = ec2.describe_images(ami_ids=[image_id])[0]
            arch = image.architecture
        except Exception:
            arch = None
            reasons.append(f"AMI {image_id} does not exist")
        bad = [t for t in _instance_types(ng, data) if arch and _archs(t) and arch not in _archs(t)]
        if bad:
            reasons.append(f"AMI {image_id} is {arch}; instance types {bad} can't run it")
        reasons += _userdata_reasons(data.get("UserData"), cluster)
    reasons += _network_reasons(ec2, region, cluster, ng)
    return reasons


def _cni_config(addons):
    cni = addons.get("vpc-cni")
    if cni is None:
        return None
    raw = cni.get("configurationValues")
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        try:
            return yaml.safe_load(raw) or {}
        except yaml.YAMLError:
            return {}


def why_pods_have_no_ip(account, region, cluster, addons):
    """Why coredns can't get its replicas running (None = it can)."""
    active = [ng for ng in cluster.nodegroups.values() if ng.status in ("ACTIVE", "UPDATING")]
    if not active:
        return "no ACTIVE node group: coredns pods can't be scheduled"
    cfg = _cni_config(addons)
    if cfg is None:
        return "no vpc-cni add-on: pods get no IP"
    env = cfg.get("env") or {}
    if str(env.get("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "")).lower() == "true":
        ec2 = ec2_backends[account][region]
        azs = set()
        for ng in active:
            for sid in ng.subnets or []:
                try:
                    azs.add(ec2.get_subnet(sid).availability_zone)
                except Exception:
                    pass
        have = set(((cfg.get("eniConfig") or {}).get("subnets") or {}).keys())
        if azs - have:
            return f"custom networking without an ENIConfig for {sorted(azs - have)}: pods get no IP"
    return None
