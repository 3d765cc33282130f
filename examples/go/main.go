// The smallest secure EKS cluster: a Kubernetes version and one Graviton node group.
// Everything else (private API endpoint, KMS envelope encryption, control-plane logs,
// IMDSv2, VPC endpoints instead of NAT, ...) is a secure default that `pulumi preview`
// shows in full. The same program as examples/yaml-minimal.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/secure-eks/pulumi-secure-eks/sdk/go/secureeks"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cluster, err := secureeks.NewSecureEksCluster(ctx, "cluster", &secureeks.SecureEksClusterArgs{
			KubernetesVersion: pulumi.String("1.34"),
			NodeGroups: secureeks.NodeGroupArray{
				secureeks.NodeGroupArgs{
					Name:          pulumi.String("general"),
					InstanceTypes: pulumi.StringArray{pulumi.String("m7g.large"), pulumi.String("m6g.large")},
				},
			},
		})
		if err != nil {
			return err
		}
		ctx.Export("clusterName", cluster.ClusterName)
		// A secret output: `pulumi stack output kubeconfig --show-secrets` prints it.
		ctx.Export("kubeconfig", cluster.Kubeconfig)
		return nil
	})
}
