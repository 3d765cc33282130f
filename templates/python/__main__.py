"""A production EKS cluster that is secure by default: a Kubernetes version and one Graviton node
group. Everything else (private API endpoint, KMS envelope encryption, control-plane logs,
IMDSv2, VPC endpoints instead of NAT, ...) is a secure default that `pulumi preview --diff` shows
in full."""

import pulumi
import pulumi_secure_eks as secure_eks

config = pulumi.Config()

cluster = secure_eks.SecureEksCluster(
    "cluster",
    kubernetes_version=config.require("kubernetesVersion"),
    node_groups=[secure_eks.NodeGroupArgs(name="general", instance_types=["m7g.large", "m6g.large"])],
)

pulumi.export("clusterName", cluster.cluster_name)
# A secret: `pulumi stack output kubeconfig --show-secrets` prints it.
pulumi.export("kubeconfig", cluster.kubeconfig)
