"""The smallest secure EKS cluster: a Kubernetes version and one Graviton node group.

Everything else (private API endpoint, KMS envelope encryption, control-plane logs,
IMDSv2, VPC endpoints instead of NAT, ...) is a secure default that `pulumi preview`
shows in full. The same program as examples/yaml-minimal.
"""

import pulumi
import pulumi_secure_eks as secure_eks

cluster = secure_eks.SecureEksCluster(
    "cluster",
    kubernetes_version="1.34",
    node_groups=[
        secure_eks.NodeGroupArgs(
            name="general",
            instance_types=["m7g.large", "m6g.large"],
        ),
    ],
)

pulumi.export("clusterName", cluster.cluster_name)
# A secret output: `pulumi stack output kubeconfig --show-secrets` prints it.
pulumi.export("kubeconfig", cluster.kubeconfig)
