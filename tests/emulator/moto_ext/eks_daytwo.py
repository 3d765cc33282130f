"""EKS day-two settings (issue #14) that moto 5.2.5 lacks: the cluster's upgrade policy, zonal
shift and deletion protection (CreateCluster, UpdateClusterConfig, DeleteCluster), node group
update budgets and auto repair (CreateNodegroup, UpdateNodegroupConfig), the accelerated AMI
SSM parameters, and addons by name (unknown names refused, owned Pod Identity associations
deleted with their addon). Imported after eks_lifecycle (it wraps what that module installed)."""
import json

from moto.core.responses import ActionResult
from moto.eks.exceptions import InvalidParameterException, InvalidRequestException, ResourceNotFoundException
from moto.eks.responses import EKSResponse
from moto.ssm import models as ssm_models

from . import eks_addons
from .common import _cluster, _ext, _now, _update, refuse_if_busy


def _invalid(message, cluster=None, nodegroup=None, addon=None):
    return InvalidParameterException(clusterName=cluster, nodegroupName=nodegroup, fargateProfileName=None, addonName=addon, message=message)


# ---------------------------------------------------------------- cluster settings
# https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html: upgradePolicy
# (supportType STANDARD | EXTENDED, default EXTENDED), zonalShiftConfig.enabled, deletionProtection
# (default false). https://docs.aws.amazon.com/eks/latest/userguide/deletion-protection.html:
# deleting an ACTIVE cluster with deletion protection on is an InvalidRequestException; CREATING,
# FAILED and DELETING clusters can still be deleted; the flag changes only while ACTIVE.
_SUPPORT_TYPES = ("STANDARD", "EXTENDED")
_prev_create_cluster = EKSResponse.create_cluster
_prev_update_cluster_config = EKSResponse.update_cluster_config
_prev_delete_cluster = EKSResponse.delete_cluster


def _auto_mode(self, name):
    """EKS Auto Mode: computeConfig, storageConfig.blockStorage and
    kubernetesNetworkConfig.elasticLoadBalancing go on or off together
    (https://docs.aws.amazon.com/eks/latest/userguide/auto-enable-existing.html; the error text as
    reported in kubernetes-sigs/cluster-api-provider-aws#5278); node pools need a node role
    (https://docs.aws.amazon.com/eks/latest/APIReference/API_ComputeConfigRequest.html), and the
    node role is not the cluster role
    (https://docs.aws.amazon.com/eks/latest/userguide/auto-create-node-role.html)."""
    compute = self._get_param("computeConfig")
    storage = self._get_param("storageConfig")
    net = self._get_param("kubernetesNetworkConfig") or {}
    flags = [bool((compute or {}).get("enabled")), bool(((storage or {}).get("blockStorage") or {}).get("enabled")),
             bool((net.get("elasticLoadBalancing") or {}).get("enabled"))]
    if any(flags) and not all(flags):
        raise _invalid("For EKS Auto Mode, computeConfig, kubernetesNetworkConfig, and blockStorage are all either fully enabled or fully disabled", cluster=name)
    if all(flags):
        pools = compute.get("nodePools") or []
        role = compute.get("nodeRoleArn")
        if pools and not role:
            raise _invalid("nodeRoleArn is required when nodePools are specified in computeConfig", cluster=name)
        if role and role == self._get_param("roleArn"):
            raise _invalid("The node role must not be the cluster role", cluster=name)
        for p in pools:
            if p not in ("general-purpose", "system"):
                raise _invalid(f"Invalid node pool {p}: the built-in node pools are general-purpose and system", cluster=name)
    return all(flags), compute, storage, net


def create_cluster(self):
    name = self._get_param("name")
    up = self._get_param("upgradePolicy")
    if up and up.get("supportType") not in _SUPPORT_TYPES:
        raise _invalid(f"upgradePolicy.supportType must be one of {', '.join(_SUPPORT_TYPES)}", cluster=name)
    auto, compute, storage, net = _auto_mode(self, name)
    res = _prev_create_cluster(self)
    c = self.eks_backend.clusters[name]
    # AWS fills in the service CIDR and IP family next to what was asked.
    c.kubernetes_network_config = dict({"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4"}, **net)
    c.kubernetes_network_config.setdefault("elasticLoadBalancing", {"enabled": False})
    if auto:
        c.compute_config = {"enabled": True, "nodePools": list(compute.get("nodePools") or []), "nodeRoleArn": compute.get("nodeRoleArn")}
        c.storage_config = {"blockStorage": {"enabled": True}}
    else:
        c.compute_config = {"enabled": False}
        c.storage_config = {"blockStorage": {"enabled": False}}
    zs = self._get_param("zonalShiftConfig")
    c.zonal_shift_config = {"enabled": bool((zs or {}).get("enabled", False))}
    c.deletion_protection = bool(self._get_param("deletionProtection") or False)
    return res


def update_cluster_config(self):
    zs = self._get_param("zonalShiftConfig")
    dp = self._get_param("deletionProtection")
    if zs is None and dp is None:
        return _prev_update_cluster_config(self)
    c = _cluster(self)
    refuse_if_busy(self, c, ("cluster",))
    others = [k for k in ("resourcesVpcConfig", "logging", "accessConfig", "upgradePolicy") if self._get_param(k) is not None]
    if others or (zs is not None and dp is not None):
        raise _invalid("Only one type of update can be allowed.", cluster=c.name)
    if c.status != "ACTIVE":
        raise InvalidRequestException(
            clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=None,
            message=f"Cluster {c.name} is in {c.status} state and cannot be updated",
        )
    if zs is not None:
        c.zonal_shift_config = {"enabled": bool(zs.get("enabled", False))}
        typ, params = "ZonalShiftConfigUpdate", [{"type": "ZonalShiftConfig", "value": json.dumps(c.zonal_shift_config)}]
    else:
        c.deletion_protection = bool(dp)
        typ, params = "DeletionProtectionUpdate", [{"type": "DeletionProtection", "value": str(c.deletion_protection).lower()}]
    return ActionResult({"update": _update(self, c, typ, params)})


def delete_cluster(self):
    c = _cluster(self)
    if getattr(c, "deletion_protection", False) and c.status == "ACTIVE":
        raise InvalidRequestException(
            clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=None,
            message=f"Cluster {c.name} has deletion protection enabled. Disable deletion protection with UpdateClusterConfig before deleting the cluster.",
        )
    return _prev_delete_cluster(self)


# ---------------------------------------------------------------- node groups
# https://docs.aws.amazon.com/eks/latest/APIReference/API_NodegroupUpdateConfig.html: exactly one
# of maxUnavailable / maxUnavailablePercentage, each 1-100 (EKS answers maxUnavailable=1 when none
# is given). https://docs.aws.amazon.com/eks/latest/APIReference/API_NodeRepairConfig.html:
# auto repair is off unless enabled.
_prev_create_nodegroup = EKSResponse.create_nodegroup
_prev_update_nodegroup_config = EKSResponse.update_nodegroup_config


def _check_update_config(uc, cluster, nodegroup):
    if uc is None:
        return
    n, p = uc.get("maxUnavailable"), uc.get("maxUnavailablePercentage")
    if (n is None) == (p is None):
        raise _invalid("Exactly one of maxUnavailable and maxUnavailablePercentage must be specified", cluster=cluster, nodegroup=nodegroup)
    v = n if n is not None else p
    if not (1 <= int(v) <= 100):
        raise _invalid(f"{'maxUnavailable' if n is not None else 'maxUnavailablePercentage'} must be between 1 and 100", cluster=cluster, nodegroup=nodegroup)


def create_nodegroup(self):
    name = self._get_param("nodegroupName")
    uc = self._get_param("updateConfig")
    _check_update_config(uc, self._get_param("name"), name)
    res = _prev_create_nodegroup(self)
    ng = self.eks_backend.clusters[self._get_param("name")].nodegroups[name]
    ng.update_config = {k: v for k, v in (uc or {"maxUnavailable": 1}).items() if v is not None}
    nr = self._get_param("nodeRepairConfig") or {}
    ng.node_repair_config = {"enabled": bool(nr.get("enabled", False))}
    return res


def update_nodegroup_config(self):
    uc = self._get_param("updateConfig")
    nr = self._get_param("nodeRepairConfig")
    c = _cluster(self)
    name = self._get_param("nodegroupName")
    ng = c.nodegroups.get(name)
    if ng is None:
        raise ResourceNotFoundException(clusterName=c.name, nodegroupName=name, fargateProfileName=None, addonName=None, message=f"No node group found for name: {name}.")
    _check_update_config(uc, c.name, name)
    rest = [k for k in ("scalingConfig", "labels", "taints") if self._get_param(k) is not None]
    if rest or (uc is None and nr is None):
        res = _prev_update_nodegroup_config(self)
    else:
        scope = ("nodegroup", name)
        refuse_if_busy(self, c, scope)
        res = None
    params = []
    if uc is not None:
        ng.update_config = {k: v for k, v in uc.items() if v is not None}
        params += [{"type": k[0].upper() + k[1:], "value": str(v)} for k, v in ng.update_config.items()]
    if nr is not None:
        ng.node_repair_config = {"enabled": bool(nr.get("enabled", False))}
        params.append({"type": "NodeRepairEnabled", "value": str(ng.node_repair_config["enabled"]).lower()})
    if res is not None:
        return res
    ng.modified_at = _now()
    return ActionResult({"update": _update(self, c, "ConfigUpdate", params, scope=("nodegroup", name))})


# ---- the accelerated AMIs' SSM parameters
# https://docs.aws.amazon.com/eks/latest/userguide/retrieve-ami-id.html (AL2023 nvidia / neuron)
# and https://docs.aws.amazon.com/eks/latest/userguide/retrieve-ami-id-bottlerocket.html
# (aws-k8s-<version>-nvidia); there is no arm64 Neuron AMI.
_prev_check_loading = ssm_models.ParameterDict._check_loading_status


def _check_loading_status(self, key):
    _prev_check_loading(self, key)
    key = str(key or "")
    if not key.startswith("/aws/service/") or getattr(self, "_eks_accel_loaded", False):
        return
    self._eks_accel_loaded = True
    from .ssm_amis import EKS_ARM64_AMI, EKS_X86_AMI

    for ver in ("1.31", "1.32", "1.33", "1.34", "1.35", "1.36"):
        base = f"/aws/service/eks/optimized-ami/{ver}/amazon-linux-2023"
        release = f"{ver}.0-20261101"
        params = {
            f"{base}/x86_64/nvidia/recommended/image_id": EKS_X86_AMI,
            f"{base}/x86_64/nvidia/recommended/release_version": release,
            f"{base}/arm64/nvidia/recommended/image_id": EKS_ARM64_AMI,
            f"{base}/arm64/nvidia/recommended/release_version": release,
            f"{base}/x86_64/neuron/recommended/image_id": EKS_X86_AMI,
            f"{base}/x86_64/neuron/recommended/release_version": release,
            f"/aws/service/bottlerocket/aws-k8s-{ver}-nvidia/x86_64/latest/image_id": EKS_X86_AMI,
            f"/aws/service/bottlerocket/aws-k8s-{ver}-nvidia/x86_64/latest/image_version": "1.40.0-abcdef01",
            f"/aws/service/bottlerocket/aws-k8s-{ver}-nvidia/arm64/latest/image_id": EKS_ARM64_AMI,
            f"/aws/service/bottlerocket/aws-k8s-{ver}-nvidia/arm64/latest/image_version": "1.40.0-abcdef01",
        }
        for name, val in params.items():
            super(ssm_models.ParameterDict, self).__getitem__(name).append(
                ssm_models.Parameter(
                    account_id=self.account_id, name=name, value=val, parameter_type="String",
                    description=None, allowed_pattern=None, keyid=None,
                    last_modified_date=_now().replace(tzinfo=None), version=1, data_type="text",
                )
            )


ssm_models.ParameterDict._check_loading_status = _check_loading_status


# ---------------------------------------------------------------- addons by name
# More of the EKS addon catalogue (https://docs.aws.amazon.com/eks/latest/userguide/workloads-add-ons-available-eks.html);
# CreateAddon refuses a name EKS does not offer and a version not offered
# (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAddon.html: InvalidParameterException).
eks_addons.ADDON_VERSIONS.update({
    "aws-efs-csi-driver": ["v2.1.0-eksbuild.1", "v2.0.9-eksbuild.1"],
    "amazon-cloudwatch-observability": ["v4.1.0-eksbuild.1"],
    "eks-node-monitoring-agent": ["v1.2.0-eksbuild.1"],
    "snapshot-controller": ["v8.2.0-eksbuild.1"],
    "metrics-server": ["v0.7.2-eksbuild.3"],
})
eks_addons._POD_IDENTITY.update({
    "aws-efs-csi-driver": [{"serviceAccount": "efs-csi-controller-sa", "recommendedManagedPolicies": ["arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"]}],
})
_prev_create_addon = EKSResponse.create_addon
_prev_delete_addon = EKSResponse.delete_addon


def create_addon(self):
    name = self._get_param("addonName")
    ver = self._get_param("addonVersion")
    c = _cluster(self)
    if name not in eks_addons.ADDON_VERSIONS:
        raise _invalid(f"Addon {name} specified is not supported", cluster=c.name, addon=name)
    if ver and ver not in eks_addons.ADDON_VERSIONS[name]:
        raise _invalid(f"Addon version specified is not supported for addon {name}: {ver}", cluster=c.name, addon=name)
    return _prev_create_addon(self)


def delete_addon(self):
    """DeleteAddon also deletes the Pod Identity associations the addon owns, unless `preserve`
    (https://docs.aws.amazon.com/eks/latest/userguide/add-ons-iam.html)."""
    c = _cluster(self)
    a = _ext(self)["addons"].get(c.name, {}).get(self._get_param("addonName"))
    res = _prev_delete_addon(self)
    preserve = str(self._get_param("preserve") or "").lower() == "true"
    if a is not None and not preserve:
        owned = _ext(self)["podid"].get(c.name, {})
        for aid in [k for k, v in owned.items() if v.get("ownerArn") == a.get("addonArn")]:
            owned.pop(aid, None)
    return res


for _name, _f in [
    ("create_cluster", create_cluster),
    ("update_cluster_config", update_cluster_config),
    ("delete_cluster", delete_cluster),
    ("create_nodegroup", create_nodegroup),
    ("update_nodegroup_config", update_nodegroup_config),
    ("create_addon", create_addon),
    ("delete_addon", delete_addon),
]:
    setattr(EKSResponse, _name, _f)
