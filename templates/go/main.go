// A production EKS cluster that is secure by default: a Kubernetes version and one Graviton node
// group. Everything else (private API endpoint, KMS envelope encryption, control-plane logs,
// IMDSv2, VPC endpoints instead of NAT, ...) is a secure default that `pulumi preview --diff`
// shows in full.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/secure-eks/pulumi-secure-eks/sdk/go/secureeks"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		cluster, err := secureeks.NewSecureEksCluster(ctx, "cluster", &secureeks.SecureEksClusterArgs{
			KubernetesVersion: pulumi.String(cfg.Require("kubernetesVersion")),
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
		// A secret: `pulumi stack output kubeconfig --show-secrets` prints it.
		ctx.Export("kubeconfig", cluster.Kubeconfig)
		return nil
	})
}
