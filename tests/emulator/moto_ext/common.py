"""Shared helpers of the EKS extension: the per-backend extension store, lookups, update records."""
import uuid
from datetime import datetime, timezone

from moto.eks.exceptions import ResourceNotFoundException


def _now():
    return datetime.now(timezone.utc)


def _ext(self):
    b = self.eks_backend
    if not hasattr(b, "_ext"):
        b._ext = {"addons": {}, "access": {}, "podid": {}, "updates": {}}
    return b._ext


def _cluster(self):
    name = self._get_param("name")
    c = self.eks_backend.clusters.get(name)
    if c is None:
        raise ResourceNotFoundException(
            clusterName=name, nodegroupName=None, fargateProfileName=None, addonName=None
        )
    return c


def _update(self, cluster, typ, params):
    u = {
        "id": str(uuid.uuid4()),
        "status": "Successful",
        "type": typ,
        "params": params,
        "createdAt": _now(),
        "errors": [],
    }
    _ext(self)["updates"].setdefault(cluster.name, {})[u["id"]] = u
    return u

