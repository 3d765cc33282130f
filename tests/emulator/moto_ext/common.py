"""Shared helpers of the EKS extension: the per-backend extension store, lookups, update records."""
import uuid
from datetime import datetime, timezone

from moto.eks.exceptions import ResourceInUseException, ResourceNotFoundException

from . import clock

# How long an update stays InProgress, in AWS minutes, by scope and type. EKS: "Updating the
# cluster ... takes several minutes" / a control-plane version update typically 8-10 minutes
# (https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html); configuration updates
# (endpoint access, logging) take several minutes
# (https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html); node group updates
# replace nodes (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html);
# add-on updates take about a minute.
UPDATE_MINUTES = {
    ("cluster", "VersionUpdate"): 10.0,
    ("cluster", None): 3.0,
    ("nodegroup", None): 5.0,
    ("addon", None): 1.0,
}


def _now():
    return datetime.now(timezone.utc)


def _ext(self):
    return ext_of(self.eks_backend)


def ext_of(backend):
    if not hasattr(backend, "_ext"):
        backend._ext = {"addons": {}, "access": {}, "podid": {}, "updates": {}, "scopes": {}}
    return backend._ext


def _cluster(self):
    name = self._get_param("name")
    c = self.eks_backend.clusters.get(name)
    if c is None:
        raise ResourceNotFoundException(
            clusterName=name, nodegroupName=None, fargateProfileName=None, addonName=None
        )
    return c


def in_progress(self, cluster, scope):
    """The id of an update of `scope` (("cluster",), ("nodegroup", n), ("addon", n)) still running."""
    ext = _ext(self)
    for uid, u in ext["updates"].get(cluster.name, {}).items():
        if u["status"] == "InProgress" and ext["scopes"].get(uid) == scope:
            return uid
    return None


def refuse_if_busy(self, cluster, scope, op="update"):
    """ResourceInUseException while an update of the same scope is in progress, as EKS answers:
    `Cannot <op> because cluster <name> currently has update <id> in progress`
    (aws-controllers-k8s/community#1192; https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateClusterConfig.html)."""
    uid = in_progress(self, cluster, scope)
    if uid:
        raise ResourceInUseException(
            clusterName=cluster.name,
            nodegroupName=scope[1] if scope[0] == "nodegroup" else None,
            addonName=scope[1] if scope[0] == "addon" else None,
            message=f"Cannot {op} because cluster {cluster.name} currently has update {uid} in progress",
        )


def _update(self, cluster, typ, params, scope=("cluster",), on_done=None, minutes=None):
    """Record an update: InProgress now, Successful (and `on_done()` run) after its duration."""
    u = {
        "id": str(uuid.uuid4()),
        "status": "InProgress",
        "type": typ,
        "params": params,
        "createdAt": _now(),
        "errors": [],
    }
    ext = _ext(self)
    ext["updates"].setdefault(cluster.name, {})[u["id"]] = u
    ext["scopes"][u["id"]] = scope
    if minutes is None:
        minutes = UPDATE_MINUTES.get((scope[0], typ), UPDATE_MINUTES[(scope[0], None)])
    if scope[0] == "cluster" and cluster.status == "ACTIVE":
        cluster.status = "UPDATING"

    def done():
        if u["status"] != "InProgress":
            return
        if on_done is not None:
            on_done()
        u["status"] = "Successful"
        if scope[0] == "cluster" and cluster.status == "UPDATING" and not in_progress(self, cluster, scope):
            cluster.status = "ACTIVE"

    clock.after(minutes, done)
    return u
