"""IAM: load only the AWS-managed policies the provider uses (see README)."""
# (MOTO_IAM_LOAD_MANAGED_POLICIES=true loads ~1,400 policies per account and makes each reset ~1 s slower)
import json as _json
import os as _os
import moto.iam.models as _iam_models

_WANTED = [p for p in _os.environ.get("MOTO_EXT_MANAGED_POLICIES", ",".join([
    "AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController", "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore", "AmazonEBSCSIDriverPolicy", "AmazonEKSBlockStoragePolicy",
    "AmazonEKSComputePolicy", "AmazonEKSLoadBalancingPolicy", "AmazonEKSNetworkingPolicy",
])).split(",") if p]
if _WANTED and _os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES", "").lower() != "true":
    _all = _json.loads(_iam_models.aws_managed_policies_data)
    _iam_models.aws_managed_policies_data = _json.dumps({k: v for k, v in _all.items() if k in _WANTED})
    _iam_models.load_iam_aws_managed_policies = lambda: True

