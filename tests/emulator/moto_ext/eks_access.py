"""EKS access entries, access policies and pod identity associations."""
import uuid

from moto.core.responses import ActionResult, EmptyResult
from moto.eks.exceptions import ResourceInUseException, ResourceNotFoundException
from moto.eks.responses import EKSResponse

from .common import _cluster, _ext, _now

# ---------------------------------------------------------------- access entries
def create_access_entry(self):
    c = _cluster(self)
    p = self._get_param("principalArn")
    store = _ext(self)["access"].setdefault(c.name, {})
    if p in store:
        raise ResourceInUseException(
            clusterName=c.name, nodegroupName=None, addonName=None,
            message="The specified access entry resource is already in use on this cluster.",
        )
    e = {
        "clusterName": c.name,
        "principalArn": p,
        "kubernetesGroups": self._get_param("kubernetesGroups") or [],
        "accessEntryArn": f"arn:aws:eks:{self.region}:{self.current_account}:access-entry/{c.name}/role/{uuid.uuid4()}",
        "createdAt": _now(),
        "modifiedAt": _now(),
        "tags": self._get_param("tags") or {},
        "username": self._get_param("username") or p,
        "type": self._get_param("type") or "STANDARD",
        "_policies": {},
    }
    store[p] = e
    return ActionResult({"accessEntry": {k: v for k, v in e.items() if not k.startswith("_")}})


def _entry(self):
    c = _cluster(self)
    path = self._get_param("principalArn")
    # principalArn may carry a trailing /access-policies[/policyArn]
    pol_arn = self._get_param("policyArn")
    if "/access-policies" in path:
        path, _, rest = path.partition("/access-policies")
        pol_arn = pol_arn or rest.lstrip("/") or None
    e = _ext(self)["access"].get(c.name, {}).get(path)
    if e is None:
        raise ResourceNotFoundException(
            clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=None
        )
    return c, e, pol_arn


def describe_access_entry(self):
    c, e, _ = _entry(self)
    return ActionResult({"accessEntry": {k: v for k, v in e.items() if not k.startswith("_")}})


def delete_access_entry(self):
    c, e, _ = _entry(self)
    del _ext(self)["access"][c.name][e["principalArn"]]
    return EmptyResult()


def list_access_entries(self):
    c = _cluster(self)
    return ActionResult({"accessEntries": sorted(_ext(self)["access"].get(c.name, {}))})


def associate_access_policy(self):
    c, e, _ = _entry(self)
    pa = self._get_param("policyArn")
    ap = {"policyArn": pa, "accessScope": self._get_param("accessScope"), "associatedAt": _now(), "modifiedAt": _now()}
    e["_policies"][pa] = ap
    return ActionResult({"clusterName": c.name, "principalArn": e["principalArn"], "associatedAccessPolicy": ap})


def list_associated_access_policies(self):
    c, e, _ = _entry(self)
    return ActionResult({"clusterName": c.name, "principalArn": e["principalArn"], "associatedAccessPolicies": list(e["_policies"].values())})


def disassociate_access_policy(self):
    c, e, pol = _entry(self)
    e["_policies"].pop(pol, None)
    return EmptyResult()


# ---------------------------------------------------------------- pod identity
def create_pod_identity_association(self):
    c = _cluster(self)
    aid = "a-" + uuid.uuid4().hex[:17]
    a = {
        "clusterName": c.name,
        "namespace": self._get_param("namespace"),
        "serviceAccount": self._get_param("serviceAccount"),
        "roleArn": self._get_param("roleArn"),
        "associationArn": f"arn:aws:eks:{self.region}:{self.current_account}:podidentityassociation/{c.name}/{aid}",
        "associationId": aid,
        "tags": self._get_param("tags") or {},
        "createdAt": _now(),
        "modifiedAt": _now(),
    }
    _ext(self)["podid"].setdefault(c.name, {})[aid] = a
    return ActionResult({"association": a})


def describe_pod_identity_association(self):
    c = _cluster(self)
    a = _ext(self)["podid"].get(c.name, {}).get(self._get_param("associationId"))
    if a is None:
        raise ResourceNotFoundException(clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=None)
    return ActionResult({"association": a})


def delete_pod_identity_association(self):
    c = _cluster(self)
    a = _ext(self)["podid"].get(c.name, {}).pop(self._get_param("associationId"), None)
    if a is None:
        raise ResourceNotFoundException(clusterName=c.name, nodegroupName=None, fargateProfileName=None, addonName=None)
    return ActionResult({"association": a})


def list_pod_identity_associations(self):
    c = _cluster(self)
    return ActionResult(
        {"associations": [{k: a[k] for k in ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId")} for a in _ext(self)["podid"].get(c.name, {}).values()]}
    )

ACCESS_POLICIES = [
    "AmazonEKSAdminPolicy", "AmazonEKSAdminViewPolicy", "AmazonEKSClusterAdminPolicy",
    "AmazonEKSEditPolicy", "AmazonEKSViewPolicy",
]


def list_access_policies(self):
    return ActionResult({"accessPolicies": [
        {"name": n, "arn": f"arn:aws:eks::aws:cluster-access-policy/{n}"} for n in ACCESS_POLICIES
    ]})


for _f in [
    create_access_entry, describe_access_entry, delete_access_entry, list_access_entries,
    associate_access_policy, list_associated_access_policies, disassociate_access_policy,
    create_pod_identity_association, describe_pod_identity_association, delete_pod_identity_association,
    list_pod_identity_associations, list_access_policies,
]:
    setattr(EKSResponse, _f.__name__, _f)
