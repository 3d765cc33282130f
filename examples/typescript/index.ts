// The smallest secure EKS cluster: a Kubernetes version and one Graviton node group.
// Everything else (private API endpoint, KMS envelope encryption, control-plane logs,
// IMDSv2, VPC endpoints instead of NAT, ...) is a secure default that `pulumi preview`
// shows in full. The same program as examples/yaml-minimal.
import * as secureEks from "@secure-eks/pulumi";

const cluster = new secureEks.SecureEksCluster("cluster", {
    kubernetesVersion: "1.34",
    nodeGroups: [
        {
            name: "general",
            instanceTypes: ["m7g.large", "m6g.large"],
        },
    ],
    // The EBS CSI driver (on by default, spelled out here) gets its EKS Pod Identity role, so a
    // PersistentVolumeClaim can bind. Any EKS addon can be added here by name.
    addons: {
        extra: [{ name: "aws-ebs-csi-driver" }],
    },
});

export const clusterName = cluster.clusterName;
// A secret output: `pulumi stack output kubeconfig --show-secrets` prints it.
export const kubeconfig = cluster.kubeconfig;
