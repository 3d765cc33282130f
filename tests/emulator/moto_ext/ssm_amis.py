"""SSM: the EKS-optimized and Bottlerocket AMI parameters, and the AMIs they name in every region."""
import moto.ec2.models.amis as _ec2_amis
from moto.ssm import models as ssm_models

from .common import _now

# AMI ids that exist in moto's default image list (us-west-2 data): pick from DescribeImages.
EKS_ARM64_AMI = "ami-05ecc449720da3610"   # al2023 minimal arm64 in moto's image list
EKS_X86_AMI = "ami-ekslinux"              # "amazon-eks-node-linux" x86_64 in moto's image list

_orig_check = ssm_models.ParameterDict._check_loading_status


def _check_loading_status(self, key):
    _orig_check(self, key)
    key = str(key or "")
    if key.startswith("/aws/service/eks") and not getattr(self, "_eks_loaded", False):
        self._eks_loaded = True
        for ver in ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36"):
            base = f"/aws/service/eks/optimized-ami/{ver}"
            release = f"{ver}.0-20261101"
            params = {
                f"{base}/amazon-linux-2023/arm64/standard/recommended/image_id": EKS_ARM64_AMI,
                f"{base}/amazon-linux-2023/arm64/standard/recommended/release_version": release,
                f"{base}/amazon-linux-2023/x86_64/standard/recommended/image_id": EKS_X86_AMI,
                f"{base}/amazon-linux-2023/x86_64/standard/recommended/release_version": release,
                f"/aws/service/bottlerocket/aws-k8s-{ver}/arm64/latest/image_id": EKS_ARM64_AMI,
                f"/aws/service/bottlerocket/aws-k8s-{ver}/arm64/latest/image_version": "1.40.0-abcdef01",
                f"/aws/service/bottlerocket/aws-k8s-{ver}/x86_64/latest/image_id": EKS_X86_AMI,
                f"/aws/service/bottlerocket/aws-k8s-{ver}/x86_64/latest/image_version": "1.40.0-abcdef01",
            }
            # As on AWS: no Amazon Linux 2 EKS AMIs exist for Kubernetes 1.33 and later.
            if tuple(int(x) for x in ver.split(".")) < (1, 33):
                params[f"{base}/amazon-linux-2-arm64/recommended/image_id"] = EKS_ARM64_AMI
                params[f"{base}/amazon-linux-2/recommended/image_id"] = EKS_X86_AMI
            for name, val in params.items():
                super(ssm_models.ParameterDict, self).__getitem__(name).append(
                    ssm_models.Parameter(
                        account_id=self.account_id, name=name, value=val, parameter_type="String",
                        description=None, allowed_pattern=None, keyid=None,
                        last_modified_date=_now().replace(tzinfo=None), version=1, data_type="text",
                    )
                )


ssm_models.ParameterDict._check_loading_status = _check_loading_status
# ---- AMIs: moto lists EKS_ARM64_AMI only in its us-west-2 data; make it exist in every region
# so the seeded SSM parameters resolve to a real image wherever the tests run.
if not any(a.get("ami_id") == EKS_ARM64_AMI for a in _ec2_amis.AMIS):
    _ec2_amis.AMIS.append({
        "ami_id": EKS_ARM64_AMI, "architecture": "arm64",
        "description": "Amazon Linux 2023 AMI 2023.12.20260930.0 arm64 Minimal HVM kernel-6.1",
        "hypervisor": "xen", "image_type": "machine",
        "name": "al2023-ami-minimal-2023.12.20260930.0-kernel-6.1-arm64", "owner_id": "137112412989",
        "platform": None, "public": True, "root_device_name": "/dev/xvda", "root_device_type": "ebs",
        "sriov": "simple", "state": "available", "tags": {}, "virtualization_type": "hvm",
    })

