"""EKS idempotency: a retried create with the same `clientRequestToken` returns the same resource.

CreateCluster, CreateNodegroup and CreateAddon take `clientRequestToken`: "A unique,
case-sensitive identifier that you provide to ensure the idempotency of the request"
(https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html,
https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html,
https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAddon.html). moto ignores it, so a
create retried after a lost response answers ResourceInUseException; here it answers the resource
that the first call made (as it is now). Another token for the same name is still
ResourceInUseException. What EKS does with a token once its resource is deleted is not documented:
modelled as forgotten (a new create with it creates again). Cleared by POST /moto-api/reset with
the rest of the state.
"""
from moto.core.responses import ActionResult
from moto.eks.responses import EKSResponse

from .common import _ext


def _store(self):
    return _ext(self).setdefault("tokens", {})


def _cluster_key(self):
    return ("cluster", self._get_param("name"))


def _cluster_now(self, _key):
    c = self.eks_backend.clusters.get(self._get_param("name"))
    return None if c is None else {"cluster": c}


def _nodegroup_key(self):
    return ("nodegroup", self._get_param("name"), self._get_param("nodegroupName"))


def _nodegroup_now(self, _key):
    c = self.eks_backend.clusters.get(self._get_param("name"))
    ng = c.nodegroups.get(self._get_param("nodegroupName")) if c is not None else None
    return None if ng is None else {"nodegroup": ng}


def _addon_key(self):
    return ("addon", self._get_param("name"), self._get_param("addonName"))


def _addon_now(self, _key):
    a = _ext(self)["addons"].get(self._get_param("name"), {}).get(self._get_param("addonName"))
    return None if a is None else {"addon": a}


def _idempotent(prev, key_of, now_of):
    def create(self):
        token = self._get_param("clientRequestToken")
        key = key_of(self)
        seen = _store(self).get(key)
        if token and seen is not None and seen[0] == token:
            now = now_of(self, key)
            # The same resource the token made (not one made again since by another call).
            if now is not None and next(iter(now.values())) is seen[1]:
                return ActionResult(now)
        res = prev(self)
        made = now_of(self, key)
        if token and made is not None:
            _store(self)[key] = (token, next(iter(made.values())))
        return res

    return create


for _name, _key, _now in [
    ("create_cluster", _cluster_key, _cluster_now),
    ("create_nodegroup", _nodegroup_key, _nodegroup_now),
    ("create_addon", _addon_key, _addon_now),
]:
    setattr(EKSResponse, _name, _idempotent(getattr(EKSResponse, _name), _key, _now))
