"""EKS addons: Create/Describe/Update/Delete/ListAddons, DescribeAddonVersions (filtered by
kubernetesVersion), DescribeAddonConfiguration, and podIdentityAssociations on CreateAddon."""
import json
import uuid

from moto.core.responses import ActionResult
from moto.eks.exceptions import ResourceInUseException, ResourceNotFoundException
from moto.eks.responses import EKSResponse

from . import clock
from .common import _cluster, _ext, _now, _update, refuse_if_busy

# AWS minutes an add-on stays DEGRADED after its update while the new pods roll out.
ADDON_ROLLOUT_MIN = 1.0

ADDON_VERSIONS = {
    "vpc-cni": ["v1.19.2-eksbuild.1", "v1.18.3-eksbuild.1"],
    "kube-proxy": ["v1.31.3-eksbuild.2"],
    "coredns": ["v1.11.3-eksbuild.1"],
    "eks-pod-identity-agent": ["v1.3.4-eksbuild.1"],
    "aws-ebs-csi-driver": ["v1.37.0-eksbuild.1"],
}



# ---------------------------------------------------------------- addons
def create_addon(self):
    c = _cluster(self)
    name = self._get_param("addonName")
    store = _ext(self)["addons"].setdefault(c.name, {})
    if name in store:
        raise ResourceInUseException(
            clusterName=c.name, nodegroupName=None, addonName=name,
            message=f"Addon already exists with name: {name} on cluster: {c.name}",
        )
    a = {
        "addonName": name,
        "clusterName": c.name,
        "status": "ACTIVE",
        "addonVersion": self._get_param("addonVersion") or ADDON_VERSIONS.get(name, ["v0.0.0-eksbuild.1"])[0],
        "health": {"issues": []},
        "addonArn": f"arn:aws:eks:{self.region}:{self.current_account}:addon/{c.name}/{name}/{uuid.uuid4()}",
        "createdAt": _now(),
        "modifiedAt": _now(),
        "serviceAccountRoleArn": self._get_param("serviceAccountRoleArn"),
        "tags": self._get_param("tags") or {},
        "configurationValues": self._get_param("configurationValues"),
        "podIdentityAssociations": [],
    }
    store[name] = a
    return ActionResult({"addon": a})


def describe_addon(self):
    c = _cluster(self)
    name = self._get_param("addonName")
    a = _ext(self)["addons"].get(c.name, {}).get(name)
    if a is None:
        raise ResourceNotFoundException(
            clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=name
        )
    return ActionResult({"addon": a})


def update_addon(self):
    c = _cluster(self)
    a = _ext(self)["addons"].get(c.name, {}).get(self._get_param("addonName"))
    if a is None:
        raise ResourceNotFoundException(clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=self._get_param("addonName"))
    scope = ("addon", a["addonName"])
    refuse_if_busy(self, c, scope)
    params = []
    for k in ("addonVersion", "serviceAccountRoleArn", "configurationValues"):
        v = self._get_param(k)
        if v is not None:
            a[k] = v
            params.append({"type": k[0].upper() + k[1:], "value": str(v)})
    a["modifiedAt"] = _now()
    if a["status"] in ("ACTIVE", "DEGRADED"):
        a["status"] = "UPDATING"
    rolling = _ext(self).setdefault("rolling", set())
    key = (c.name, a["addonName"])

    def done():
        # The update is Successful, then the add-on is DEGRADED while its new pods roll out, and
        # ACTIVE once they converge (what EKS does: hashicorp/terraform-provider-aws#49104 and
        # #44669; DEGRADED is an add-on status, https://docs.aws.amazon.com/eks/latest/APIReference/API_Addon.html).
        if a["status"] != "UPDATING":
            return
        a["status"] = "DEGRADED"
        a["health"] = {"issues": [{"code": "InsufficientNumberOfReplicas",
                                   "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.",
                                   "resourceIds": []}]}
        rolling.add(key)

        def rolled_out():
            rolling.discard(key)
            if a["status"] == "DEGRADED":
                a["status"] = "ACTIVE"
                a["health"] = {"issues": []}

        clock.after(ADDON_ROLLOUT_MIN, rolled_out)

    return ActionResult({"update": _update(self, c, "AddonUpdate", params, scope=scope, on_done=done)})


def delete_addon(self):
    c = _cluster(self)
    name = self._get_param("addonName")
    a = _ext(self)["addons"].get(c.name, {}).pop(name, None)
    if a is None:
        raise ResourceNotFoundException(
            clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=name
        )
    a = dict(a, status="DELETING")
    return ActionResult({"addon": a})


def list_addons(self):
    c = _cluster(self)
    return ActionResult({"addons": sorted(_ext(self)["addons"].get(c.name, {}))})


def describe_addon_versions(self):
    want = self._get_param("addonName")
    out = []
    for n, vers in ADDON_VERSIONS.items():
        if want and n != want:
            continue
        out.append(
            {
                "addonName": n,
                "type": "networking",
                "addonVersions": [
                    {
                        "addonVersion": v,
                        "architecture": ["amd64", "arm64"],
                        "compatibilities": [
                            {"clusterVersion": cv, "platformVersions": ["*"], "defaultVersion": i == 0}
                            for cv in ("1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36")
                        ],
                        "requiresConfiguration": False,
                    }
                    for i, v in enumerate(vers)
                ],
                "owner": "aws",
            }
        )
    return ActionResult({"addons": out})

# ---- DescribeAddonVersions: honour kubernetesVersion like EKS does (only compatible versions,
# addons without any are left out); keep the unfiltered answer when it is not given.
def describe_addon_versions_filtered(self):
    res = describe_addon_versions(self)
    k8s = self._get_param("kubernetesVersion")
    if not k8s:
        return res
    addons = []
    for a in res.result["addons"]:
        vers = []
        for v in a["addonVersions"]:
            comp = [c for c in v["compatibilities"] if c["clusterVersion"] == k8s]
            if comp:
                vers.append(dict(v, compatibilities=comp))
        if vers:
            addons.append(dict(a, addonVersions=vers))
    return ActionResult({"addons": addons})


_VPC_CNI_SCHEMA = {
    "$schema": "http://json-schema.org/draft-06/schema#",
    "additionalProperties": False,
    "definitions": {
        "EniConfig": {
            "additionalProperties": False,
            "properties": {
                "create": {"type": "boolean"},
                "region": {"type": "string"},
                "subnets": {
                    "additionalProperties": {
                        "additionalProperties": False,
                        "properties": {
                            "id": {"type": "string"},
                            "securityGroups": {"items": {"type": "string"}, "type": "array"},
                        },
                        "required": ["id"],
                        "type": "object",
                    },
                    "type": "object",
                },
            },
            "required": ["create", "region", "subnets"],
            "type": "object",
        },
        "env": {
            "additionalProperties": False,
            "properties": {
                k: {"type": "string"}
                for k in (
                    "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "ENI_CONFIG_LABEL_DEF", "ENABLE_PREFIX_DELEGATION",
                    "WARM_PREFIX_TARGET", "WARM_ENI_TARGET", "WARM_IP_TARGET", "MINIMUM_IP_TARGET",
                    "ENABLE_POD_ENI", "AWS_VPC_K8S_CNI_EXTERNALSNAT", "ENABLE_SUBNET_DISCOVERY",
                    "AWS_VPC_K8S_CNI_LOGLEVEL", "POD_SECURITY_GROUP_ENFORCING_MODE",
                )
            },
            "type": "object",
        },
    },
    "properties": {
        "enableNetworkPolicy": {"type": "string"},
        "eniConfig": {"$ref": "#/definitions/EniConfig"},
        "env": {"$ref": "#/definitions/env"},
        "nodeAgent": {"type": "object"},
        "resources": {"type": "object"},
        "tolerations": {"type": "array"},
    },
    "title": "VpcCni",
    "type": "object",
}
_GENERIC_SCHEMA = {
    "$schema": "http://json-schema.org/draft-06/schema#",
    "additionalProperties": True,
    "properties": {"resources": {"type": "object"}, "tolerations": {"type": "array"},
                   "nodeSelector": {"type": "object"}, "replicaCount": {"type": "integer"}},
    "type": "object",
}
_POD_IDENTITY = {
    "vpc-cni": [{"serviceAccount": "aws-node", "recommendedManagedPolicies": ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]}],
    "aws-ebs-csi-driver": [{"serviceAccount": "ebs-csi-controller-sa", "recommendedManagedPolicies": ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]}],
}


def describe_addon_configuration(self):
    name = self._get_param("addonName")
    ver = self._get_param("addonVersion")
    if name not in ADDON_VERSIONS or ver not in ADDON_VERSIONS[name]:
        raise ResourceNotFoundException(
            clusterName=None, nodegroupName=None, fargateProfileName=None, addonName=name,
            message=f"Addon {name} with version {ver} not found",
        )
    schema = _VPC_CNI_SCHEMA if name == "vpc-cni" else _GENERIC_SCHEMA
    return ActionResult({
        "addonName": name, "addonVersion": ver, "configurationSchema": json.dumps(schema),
        "podIdentityConfiguration": _POD_IDENTITY.get(name, []),
    })

# ---- addons: podIdentityAssociations on CreateAddon become real associations
def create_addon_with_pod_identity(self):
    res = create_addon(self)
    c = _cluster(self)
    a = _ext(self)["addons"][c.name][self._get_param("addonName")]
    arns = []
    for p in self._get_param("podIdentityAssociations") or []:
        aid = "a-" + uuid.uuid4().hex[:17]
        arn = f"arn:aws:eks:{self.region}:{self.current_account}:podidentityassociation/{c.name}/{aid}"
        _ext(self)["podid"].setdefault(c.name, {})[aid] = {
            "clusterName": c.name, "namespace": "kube-system", "serviceAccount": p.get("serviceAccount"),
            "roleArn": p.get("roleArn"), "associationArn": arn, "associationId": aid, "tags": {},
            "createdAt": _now(), "modifiedAt": _now(), "ownerArn": a["addonArn"],
        }
        arns.append(arn)
    a["podIdentityAssociations"] = arns
    return ActionResult({"addon": a})

for _name, _f in [
    ("create_addon", create_addon_with_pod_identity),
    ("describe_addon", describe_addon),
    ("update_addon", update_addon),
    ("delete_addon", delete_addon),
    ("list_addons", list_addons),
    ("describe_addon_versions", describe_addon_versions_filtered),
    ("describe_addon_configuration", describe_addon_configuration),
]:
    setattr(EKSResponse, _name, _f)
