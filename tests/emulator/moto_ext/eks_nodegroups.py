"""EKS managed node groups: version defaults to the cluster's, no invented remoteAccess,
updateConfig kept, UpdateNodegroupVersion."""
from moto.core.responses import ActionResult
from moto.eks.exceptions import InvalidParameterException, ResourceNotFoundException
from moto.eks.responses import EKSResponse

from .common import _cluster, _now, _update, refuse_if_busy


def _minor(v):
    try:
        major, minor = str(v).split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return (0, 0)


def newer_than(a, b):
    """Kubernetes version a is newer than b. Nodes may never be newer than the control plane:
    https://docs.aws.amazon.com/eks/latest/userguide/update-managed-node-group.html,
    https://kubernetes.io/releases/version-skew-policy/#kubelet"""
    return _minor(a) > _minor(b)

_orig_create_nodegroup = EKSResponse.create_nodegroup


def create_nodegroup(self):
    res = _orig_create_nodegroup(self)
    c = self.eks_backend.clusters[self._get_param("name")]
    ng = c.nodegroups[self._get_param("nodegroupName")]
    if not self._get_param("version"):
        ng.version = c.version
    if not self._get_param("remoteAccess"):
        ng.remote_access = None
        if isinstance(getattr(ng, "resources", None), dict):
            ng.resources.pop("remoteAccessSecurityGroup", None)
    if self._get_param("updateConfig") is not None:
        ng.update_config = self._get_param("updateConfig")
    return res


def update_nodegroup_version(self):
    c = _cluster(self)
    name = self._get_param("nodegroupName")
    ng = c.nodegroups.get(name)
    if ng is None:
        raise ResourceNotFoundException(
            clusterName=c.name, nodegroupName=name, fargateProfileName=None, addonName=None,
            message=f"No node group found for name: {name}.",
        )
    scope = ("nodegroup", name)
    refuse_if_busy(self, c, scope)
    params = []
    ver = self._get_param("version")
    if ver and newer_than(ver, c.version):
        raise InvalidParameterException(
            clusterName=c.name, nodegroupName=name, fargateProfileName=None, addonName=None,
            message=f"Requested Nodegroup version {ver} is newer than the cluster version {c.version}",
        )
    rel = self._get_param("releaseVersion")
    lt = self._get_param("launchTemplate")
    ng.version = ver or c.version
    params.append({"type": "Version", "value": ng.version})
    if rel:
        ng.release_version = rel
        params.append({"type": "ReleaseVersion", "value": rel})
    if lt:
        ng.launch_template = dict(ng.launch_template or {}, **lt)
        params.append({"type": "LaunchTemplateVersion", "value": str(lt.get("version"))})
    ng.modified_at = _now()
    if ng.status == "ACTIVE":
        ng.status = "UPDATING"

    def done():
        if ng.status == "UPDATING":
            ng.status = "ACTIVE"

    return ActionResult({"update": _update(self, c, "VersionUpdate", params, scope=scope, on_done=done)})


EKSResponse.create_nodegroup = create_nodegroup
EKSResponse.update_nodegroup_version = update_nodegroup_version
