"""EKS managed node groups: version defaults to the cluster's, no invented remoteAccess,
updateConfig kept, UpdateNodegroupVersion."""
from moto.core.responses import ActionResult
from moto.eks.exceptions import ResourceNotFoundException
from moto.eks.responses import EKSResponse

from .common import _cluster, _now, _update

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
    params = []
    ver = self._get_param("version")
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
    return ActionResult({"update": _update(self, c, "VersionUpdate", params)})


EKSResponse.create_nodegroup = create_nodegroup
EKSResponse.update_nodegroup_version = update_nodegroup_version
