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
    # addon Pod Identity roles and the Auto Mode node role (issue #14)
    "AmazonEFSCSIDriverPolicy", "CloudWatchAgentServerPolicy", "AWSXrayWriteOnlyAccess", "AmazonEKSWorkerNodeMinimalPolicy",
])).split(",") if p]
if _WANTED and _os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES", "").lower() != "true":
    _all = _json.loads(_iam_models.aws_managed_policies_data)
    _iam_models.aws_managed_policies_data = _json.dumps({k: v for k, v in _all.items() if k in _WANTED})
    _iam_models.load_iam_aws_managed_policies = lambda: True



# ---- role names: 1-64 characters of [\w+=,.@-]
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (RoleName: "Length
# Constraints: Minimum length of 1. Maximum length of 64. Pattern: [\w+=,.@-]+"); moto accepts any.
import re as _re

import moto.iam.responses as _iam_responses
from moto.iam.exceptions import ValidationError as _IamValidationError

_ROLE_NAME = _re.compile(r"^[\w+=,.@-]+$")
_orig_create_role = _iam_responses.IamResponse.create_role


def _create_role(self):
    name = self._get_param("RoleName") or ""
    if len(name) > 64:
        raise _IamValidationError(
            f"1 validation error detected: Value '{name}' at 'roleName' failed to satisfy constraint: "
            "Member must have length less than or equal to 64"
        )
    if not _ROLE_NAME.match(name):
        raise _IamValidationError(
            f"1 validation error detected: Value '{name}' at 'roleName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )
    return _orig_create_role(self)


_iam_responses.IamResponse.create_role = _create_role
