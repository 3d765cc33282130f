"""EKS clusters: versions table, CreateCluster (version check, accessConfig/upgradePolicy kept),
UpdateClusterConfig (one kind per call, merged resourcesVpcConfig, one-way authentication mode),
UpdateClusterVersion (one minor), AssociateEncryptionConfig, DescribeUpdate/ListUpdates."""
import json
from datetime import datetime, timezone

from moto.core.responses import ActionResult
from moto.eks.exceptions import InvalidParameterException, InvalidRequestException, ResourceNotFoundException
from moto.eks.responses import EKSResponse

from .common import _cluster, _ext, _update, refuse_if_busy

def update_cluster_version(self):
    c = _cluster(self)
    v = self._get_param("version")

    def done():  # the control plane runs the new version once the update has finished
        c.version = v

    return ActionResult({"update": _update(self, c, "VersionUpdate", [{"type": "Version", "value": v}, {"type": "PlatformVersion", "value": "eks.1"}], on_done=done)})



def describe_update(self):
    c = _cluster(self)
    u = _ext(self)["updates"].get(c.name, {}).get(self._get_param("updateId"))
    if u is None:
        raise ResourceNotFoundException(clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=None)
    return ActionResult({"update": u})


def list_updates(self):
    c = _cluster(self)
    return ActionResult({"updateIds": list(_ext(self)["updates"].get(c.name, {}))})

# ---- EKS versions (static; mirrors the 2026 calendar in shared docs/eks-facts.md 3.3)
CLUSTER_VERSIONS = [
    # version, status, release, end of standard, end of extended, patch, default
    ("1.36", "STANDARD_SUPPORT", "2026-06-10", "2027-08-10", "2028-08-10", "1.36.1", False),
    ("1.35", "STANDARD_SUPPORT", "2026-01-28", "2027-03-27", "2028-03-27", "1.35.4", True),
    ("1.34", "STANDARD_SUPPORT", "2025-10-02", "2026-12-02", "2027-12-02", "1.34.7", False),
    ("1.33", "EXTENDED_SUPPORT", "2025-05-29", "2026-07-29", "2027-07-29", "1.33.10", False),
    ("1.32", "EXTENDED_SUPPORT", "2025-01-23", "2026-03-23", "2027-03-23", "1.32.12", False),
    ("1.31", "EXTENDED_SUPPORT", "2024-09-26", "2025-11-26", "2026-11-26", "1.31.14", False),
]
SUPPORTED_VERSIONS = {v[0] for v in CLUSTER_VERSIONS} | {"1.29", "1.30"}


def _ts(day):
    return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=timezone.utc)


def describe_cluster_versions(self):
    want = set(self.querystring.get("clusterVersions") or [])
    status = self._get_param("versionStatus")
    default_only = str(self._get_param("defaultOnly") or "").lower() == "true"
    out = []
    for ver, st, rel, std, ext, patch, dflt in CLUSTER_VERSIONS:
        if want and ver not in want:
            continue
        if status and st != status:
            continue
        if default_only and not dflt:
            continue
        out.append({
            "clusterVersion": ver, "clusterType": "eks", "defaultPlatformVersion": "eks.1",
            "defaultVersion": dflt, "releaseDate": _ts(rel), "endOfStandardSupportDate": _ts(std),
            "endOfExtendedSupportDate": _ts(ext), "status": st,
            "versionStatus": st, "kubernetesPatchVersion": patch,
        })
    return ActionResult({"clusterVersions": out})

# ---- cluster: accessConfig / upgradePolicy round-trip, merged resourcesVpcConfig,
# one-way authentication mode, one-minor-at-a-time version updates.
_AUTH_ORDER = {"CONFIG_MAP": 0, "API_AND_CONFIG_MAP": 1, "API": 2}
_orig_create_cluster = EKSResponse.create_cluster


def create_cluster(self):
    ver = self._get_param("version")
    if ver and ver not in SUPPORTED_VERSIONS:
        raise InvalidParameterException(
            clusterName=self._get_param("name"), nodegroupName=None, fargateProfileName=None, addonName=None,
            message=f"unsupported Kubernetes version {ver}",
        )
    res = _orig_create_cluster(self)
    c = self.eks_backend.clusters[self._get_param("name")]
    ac = self._get_param("accessConfig") or {}
    # EKS API default when accessConfig is omitted: CONFIG_MAP (the console uses API_AND_CONFIG_MAP).
    c.access_config = {
        "authenticationMode": ac.get("authenticationMode") or "CONFIG_MAP",
        "bootstrapClusterCreatorAdminPermissions": ac.get("bootstrapClusterCreatorAdminPermissions", True),
    }
    c.upgrade_policy = self._get_param("upgradePolicy") or {"supportType": "EXTENDED"}
    if not self._get_param("encryptionConfig"):
        c.encryption_config = None
    return res


def update_cluster_config_v2(self):
    c = _cluster(self)
    refuse_if_busy(self, c, ("cluster",))
    vpc = self._get_param("resourcesVpcConfig")
    ac = self._get_param("accessConfig")
    up = self._get_param("upgradePolicy")
    logging_ = self._get_param("logging")
    given = [k for k, v in (("resourcesVpcConfig", vpc), ("logging", logging_), ("accessConfig", ac), ("upgradePolicy", up)) if v is not None]
    if len(given) != 1:
        raise InvalidParameterException(
            clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=None,
            message="Only one type of update can be allowed.",
        )
    if vpc is not None:
        merged = dict(c.resources_vpc_config or {})
        merged.update(vpc)
        c.resources_vpc_config = merged
        typ = "EndpointAccessUpdate"
        params = [{"type": k[0].upper() + k[1:], "value": json.dumps(v)} for k, v in vpc.items()]
    elif logging_ is not None:
        c.logging = logging_
        typ, params = "LoggingUpdate", [{"type": "ClusterLogging", "value": json.dumps(logging_)}]
    elif ac is not None:
        cur = getattr(c, "access_config", {"authenticationMode": "CONFIG_MAP"})
        new = ac.get("authenticationMode")
        if new and _AUTH_ORDER.get(new, -1) < _AUTH_ORDER.get(cur["authenticationMode"], 0):
            raise InvalidParameterException(
                clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=None,
                message=f"Unsupported authentication mode update from {cur['authenticationMode']} to {new}",
            )
        c.access_config = dict(cur, authenticationMode=new or cur["authenticationMode"])
        typ, params = "AccessConfigUpdate", [{"type": "AuthenticationMode", "value": c.access_config["authenticationMode"]}]
    else:
        c.upgrade_policy = up
        typ, params = "UpgradePolicyUpdate", [{"type": "UpgradePolicy", "value": json.dumps(up)}]
    return ActionResult({"update": _update(self, c, typ, params)})


def update_cluster_version_checked(self):
    c = _cluster(self)
    refuse_if_busy(self, c, ("cluster",))
    v = self._get_param("version")
    try:
        cur_minor = int(str(c.version).split(".")[1])
        new_minor = int(str(v).split(".")[1])
    except (IndexError, ValueError):
        cur_minor, new_minor = 0, -1
    if new_minor != cur_minor + 1 or v not in SUPPORTED_VERSIONS:
        raise InvalidParameterException(
            clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=None,
            message=f"Unsupported Kubernetes minor version update from {c.version} to {v}",
        )
    return update_cluster_version(self)


def associate_encryption_config(self):
    c = _cluster(self)
    refuse_if_busy(self, c, ("cluster",))
    if c.encryption_config:
        raise InvalidRequestException(
            clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=None,
            message="Encryption is already enabled on the cluster",
        )
    cfg = self._get_param("encryptionConfig")
    c.encryption_config = cfg
    return ActionResult({"update": _update(self, c, "AssociateEncryptionConfig", [{"type": "EncryptionConfig", "value": json.dumps(cfg)}])})

for _name, _f in [
    ("describe_cluster_versions", describe_cluster_versions),
    ("create_cluster", create_cluster),
    ("update_cluster_config", update_cluster_config_v2),
    ("update_cluster_version", update_cluster_version_checked),
    ("associate_encryption_config", associate_encryption_config),
    ("describe_update", describe_update),
    ("list_updates", list_updates),
]:
    setattr(EKSResponse, _name, _f)
