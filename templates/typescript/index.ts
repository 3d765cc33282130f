// A production EKS cluster that is secure by default: a Kubernetes version and one Graviton node
// group. Everything else (private API endpoint, KMS envelope encryption, control-plane logs,
// IMDSv2, VPC endpoints instead of NAT, ...) is a secure default that `pulumi preview --diff`
// shows in full.
import * as pulumi from "@pulumi/pulumi";
import * as secureEks from "@secure-eks/pulumi";

const config = new pulumi.Config();

const cluster = new secureEks.SecureEksCluster("cluster", {
    kubernetesVersion: config.require("kubernetesVersion"),
    nodeGroups: [{ name: "general", instanceTypes: ["m7g.large", "m6g.large"] }],
});

export const clusterName = cluster.clusterName;
// A secret: `pulumi stack output kubeconfig --show-secrets` prints it.
export const kubeconfig = cluster.kubeconfig;
