"""EKS over time, names AWS accepts, and the network interfaces EKS puts in the VPC.

Durations are AWS minutes (scaled by clock.py):
- Cluster create ~10 min: "Cluster provisioning takes several minutes"
  https://docs.aws.amazon.com/eks/latest/userguide/create-cluster.html ; status CREATING ->
  ACTIVE, DELETING until gone (https://docs.aws.amazon.com/eks/latest/APIReference/API_Cluster.html).
- Managed node group create ~4 min, delete ~5 min (nodes are drained and terminated):
  https://docs.aws.amazon.com/eks/latest/userguide/create-managed-node-group.html,
  https://docs.aws.amazon.com/eks/latest/userguide/delete-managed-node-group.html ;
  statuses CREATING | ACTIVE | UPDATING | DELETING | CREATE_FAILED | DELETE_FAILED | DEGRADED
  (https://docs.aws.amazon.com/eks/latest/APIReference/API_Nodegroup.html).
- Add-on create/delete ~1 min: CREATING | ACTIVE | CREATE_FAILED | UPDATING | DELETING |
  DELETE_FAILED | DEGRADED | UPDATE_FAILED (https://docs.aws.amazon.com/eks/latest/APIReference/API_Addon.html).
Names:
- Cluster name 1-100 characters, `^[0-9A-Za-z][A-Za-z0-9\\-_]*`
  (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html).
- Node group name up to 63 characters, starting with a letter or digit, then letters, digits,
  hyphens and underscores (https://docs.aws.amazon.com/eks/latest/userguide/create-managed-node-group.html).
Network interfaces:
- EKS creates cross-account ENIs in the cluster subnets (description `Amazon EKS <cluster>`) and
  the cluster security group `eks-cluster-sg-<name>-<id>` tagged `kubernetes.io/cluster/<name>=owned`
  (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html,
  https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html). They outlive the cluster
  for a while after DeleteCluster (they block subnet/SG/VPC deletes meanwhile: aws/aws-cdk#14456).
- Subnets in at least two Availability Zones (network-reqs above): `InvalidParameterException:
  Subnets specified must be in at least two different AZs`.
- Node instances have an ENI each in the node group's subnets, with the launch template's
  security groups (or the cluster security group).
"""
import re
import uuid

from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.ec2.utils import random_private_ip
from moto.eks.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.eks.responses import EKSResponse

from . import clock
from .common import _cluster, _ext, ext_of, refuse_if_busy

CLUSTER_CREATE_MIN = 10.0
CLUSTER_DELETE_MIN = 4.0
CP_ENI_LINGER_MIN = 3.0
NODEGROUP_CREATE_MIN = 4.0
NODEGROUP_DELETE_MIN = 5.0
ADDON_CREATE_MIN = 1.0
ADDON_DELETE_MIN = 1.0

CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]*$")
NODEGROUP_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]*$")


def _ec2(self):
    return ec2_backends[self.current_account][self.region]


def _invalid(message, cluster=None, nodegroup=None, addon=None):
    return InvalidParameterException(
        clusterName=cluster, nodegroupName=nodegroup, fargateProfileName=None, addonName=addon, message=message
    )


def _eni(ec2, subnet_id, group_ids, description):
    subnet = ec2.get_subnet(subnet_id)
    eni = ec2.create_network_interface(subnet, random_private_ip(subnet.cidr_block), group_ids=group_ids,
                                       description=description)
    return eni.id


# ---------------------------------------------------------------- clusters
_prev_create_cluster = EKSResponse.create_cluster
_prev_delete_cluster = EKSResponse.delete_cluster


def create_cluster(self):
    name = self._get_param("name") or ""
    if not (1 <= len(name) <= 100 and CLUSTER_NAME.match(name)):
        raise _invalid(
            f"Cluster name {name!r} is invalid: it must be 1-100 characters, start with a letter or digit and "
            "contain only letters, digits, hyphens and underscores (^[0-9A-Za-z][A-Za-z0-9\\-_]*$)", cluster=name,
        )
    ec2 = _ec2(self)
    vpc_cfg = self._get_param("resourcesVpcConfig") or {}
    subnets = []
    for sid in vpc_cfg.get("subnetIds") or []:
        try:
            subnets.append(ec2.get_subnet(sid))
        except Exception:
            raise _invalid(f"The subnet ID '{sid}' does not exist", cluster=name)
    if subnets and len({s.availability_zone for s in subnets}) < 2:
        raise _invalid("Subnets specified must be in at least two different AZs", cluster=name)
    if len({s.vpc_id for s in subnets}) > 1:
        raise _invalid("Subnets must all belong to the same VPC", cluster=name)
    for gid in vpc_cfg.get("securityGroupIds") or []:
        if ec2.get_security_group_from_id(gid) is None:
            raise _invalid(f"The security group '{gid}' does not exist", cluster=name)
    res = _prev_create_cluster(self)
    c = self.eks_backend.clusters[name]
    c.status = "CREATING"
    c._enis, c._cluster_sg = [], None
    if subnets:
        vpc_id = subnets[0].vpc_id
        sg = ec2.create_security_group(
            f"eks-cluster-sg-{name}-{uuid.uuid4().hex[:10]}",
            "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, "
            "as well as any managed workloads.",
            vpc_id,
            tags={f"kubernetes.io/cluster/{name}": "owned", "aws:eks:cluster-name": name},
        )
        c._cluster_sg = sg.id
        groups = [sg.id] + list(vpc_cfg.get("securityGroupIds") or [])
        c._enis = [_eni(ec2, s.id, groups, f"Amazon EKS {name}") for s in subnets[:4]]
        c.resources_vpc_config = dict(c.resources_vpc_config or {}, vpcId=vpc_id, clusterSecurityGroupId=sg.id)

    def active():
        if c.status == "CREATING":
            c.status = "ACTIVE"

    clock.after(CLUSTER_CREATE_MIN, active)
    return res


def delete_cluster(self):
    c = _cluster(self)
    if c.nodegroups:
        raise ResourceInUseException(
            clusterName=c.name, nodegroupName=",".join(c.nodegroups), addonName=None,
            message="Cluster has nodegroups attached",
        )
    if c.status != "DELETING":
        c.status = "DELETING"
        backend, ec2 = self.eks_backend, _ec2(self)

        def gone():
            if backend.clusters.get(c.name) is c:
                backend.clusters.pop(c.name)
                backend.cluster_count -= 1
                ext = ext_of(backend)
                for k in ("addons", "access", "podid", "updates"):
                    ext[k].pop(c.name, None)
            clock.after(CP_ENI_LINGER_MIN, release)

        def release():  # the control-plane ENIs linger, then go with the cluster security group
            for eni_id in getattr(c, "_enis", []):
                ec2.enis.pop(eni_id, None)
            release_sg()

        def release_sg():
            # EKS deletes the cluster security group it made
            # (https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html). While another
            # group's rule still references it, EC2 refuses (DependencyViolation) and the group is
            # left behind for good, as real clusters have left it (aws/aws-cdk#14456): whoever
            # deletes the VPC must delete it (the provider's destroy does: executor leftovers.rs).
            if getattr(c, "_cluster_sg", None):
                try:
                    ec2.delete_security_group(group_id=c._cluster_sg)
                except Exception:  # noqa: BLE001 - referenced, or already gone: left as it is
                    pass

        clock.after(CLUSTER_DELETE_MIN, gone)
    return ActionResult({"cluster": c})


# ---------------------------------------------------------------- node groups
_prev_create_nodegroup = EKSResponse.create_nodegroup
_orig_update_nodegroup_config = EKSResponse.update_nodegroup_config


def create_nodegroup(self):
    from .eks_nodegroups import newer_than
    from . import eks_nodejoin

    c = _cluster(self)
    name = self._get_param("nodegroupName") or ""
    if not (1 <= len(name) <= 63 and NODEGROUP_NAME.match(name)):
        raise _invalid(
            f"Nodegroup name {name!r} is invalid: it must be 1-63 characters, start with a letter or digit and "
            "contain only letters, digits, hyphens and underscores", cluster=c.name, nodegroup=name,
        )
    ver = self._get_param("version")
    if ver and newer_than(ver, c.version):
        raise _invalid(
            f"Requested Nodegroup version {ver} is newer than the cluster version {c.version}",
            cluster=c.name, nodegroup=name,
        )
    eks_nodejoin.check_ami_type(self, c, name)
    res = _prev_create_nodegroup(self)
    ng = c.nodegroups[name]
    ng.status = "CREATING"
    ng._enis = []
    account, region, ec2 = self.current_account, self.region, _ec2(self)

    def settle():
        if ng.status != "CREATING":
            return
        reasons = eks_nodejoin.why_nodes_cannot_join(account, region, c, ng)
        ng._join_reasons = reasons
        if reasons:
            ng.status = "CREATE_FAILED"
            ng.health = {"issues": [{
                "code": "NodeCreationFailure",
                "message": "Instances failed to join the kubernetes cluster",
                "resourceIds": [f"i-{uuid.uuid4().hex[:17]}"],
            }]}
            return
        ng.status = "ACTIVE"
        groups = eks_nodejoin.node_security_groups(ec2, c, ng)
        size = int((ng.scaling_config or {}).get("desiredSize", 2) or 0)
        subnets = list(ng.subnets or [])
        for i in range(size if subnets else 0):
            try:
                ng._enis.append(_eni(ec2, subnets[i % len(subnets)], groups, ""))
            except Exception:
                pass

    clock.after(NODEGROUP_CREATE_MIN, settle)
    return res


def delete_nodegroup(self):
    c = _cluster(self)
    name = self._get_param("nodegroupName")
    ng = c.nodegroups.get(name)
    if ng is None:
        raise ResourceNotFoundException(
            clusterName=c.name, nodegroupName=name, fargateProfileName=None, addonName=None,
            message=f"No node group found for name: {name}.",
        )
    if ng.status != "DELETING":
        ng.status = "DELETING"
        ec2 = _ec2(self)

        def gone():
            for eni_id in getattr(ng, "_enis", []):
                ec2.enis.pop(eni_id, None)
            if c.nodegroups.get(name) is ng:
                c.nodegroups.pop(name)
                c.nodegroup_count -= 1

        clock.after(NODEGROUP_DELETE_MIN, gone)
    return ActionResult({"nodegroup": ng})


def update_nodegroup_config(self):
    from .common import _update

    c = _cluster(self)
    name = self._get_param("nodegroupName")
    ng = c.nodegroups.get(name)
    if ng is not None:
        refuse_if_busy(self, c, ("nodegroup", name))
    res = _orig_update_nodegroup_config(self)  # applies the change (moto), answers Successful
    params = res.result["update"]["params"] if hasattr(res, "result") else []
    if ng.status == "ACTIVE":
        ng.status = "UPDATING"

    def done():
        if ng.status == "UPDATING":
            ng.status = "ACTIVE"

    return ActionResult({"update": _update(self, c, "ConfigUpdate", params, scope=("nodegroup", name), on_done=done)})


# ---------------------------------------------------------------- add-ons
_prev_create_addon = EKSResponse.create_addon
_prev_delete_addon = EKSResponse.delete_addon
_prev_describe_addon = EKSResponse.describe_addon


def create_addon(self):
    c = _cluster(self)
    if c.status in ("CREATING", "DELETING", "FAILED"):
        raise InvalidRequestException(
            clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=self._get_param("addonName"),
            message=f"Cluster '{c.name}' is not in ACTIVE status",
        )
    res = _prev_create_addon(self)
    a = _ext(self)["addons"][c.name][self._get_param("addonName")]
    a["status"] = "CREATING"

    def active():
        if a["status"] == "CREATING":
            a["status"] = "ACTIVE"

    clock.after(ADDON_CREATE_MIN, active)
    return res


def delete_addon(self):
    c = _cluster(self)
    name = self._get_param("addonName")
    store = _ext(self)["addons"].get(c.name, {})
    a = store.get(name)
    if a is None:
        raise ResourceNotFoundException(clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=name)
    if a["status"] != "DELETING":
        a["status"] = "DELETING"
        ext = _ext(self)

        def gone():
            if store.get(name) is a:
                store.pop(name)
                # associations the add-on owned go with it
                for aid in [k for k, v in ext["podid"].get(c.name, {}).items() if v.get("ownerArn") == a["addonArn"]]:
                    ext["podid"][c.name].pop(aid, None)

        clock.after(ADDON_DELETE_MIN, gone)
    return ActionResult({"addon": a})


def describe_addon(self):
    from . import eks_nodejoin

    res = _prev_describe_addon(self)
    a = res.result["addon"]
    rolling = (a["clusterName"], a["addonName"]) in _ext(self).get("rolling", ())
    if a["addonName"] == "coredns" and a["status"] in ("ACTIVE", "DEGRADED") and not rolling:
        c = _cluster(self)
        issue = eks_nodejoin.why_pods_have_no_ip(self.current_account, self.region, c, _ext(self)["addons"].get(c.name, {}))
        if issue:
            a["status"] = "DEGRADED"
            a["health"] = {"issues": [{
                "code": "InsufficientNumberOfReplicas",
                "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.",
                "resourceIds": [],
            }]}
        else:
            a["status"] = "ACTIVE"
            a["health"] = {"issues": []}
    return res


for _name, _f in [
    ("create_cluster", create_cluster),
    ("delete_cluster", delete_cluster),
    ("create_nodegroup", create_nodegroup),
    ("delete_nodegroup", delete_nodegroup),
    ("update_nodegroup_config", update_nodegroup_config),
    ("create_addon", create_addon),
    ("delete_addon", delete_addon),
    ("describe_addon", describe_addon),
]:
    setattr(EKSResponse, _name, _f)
