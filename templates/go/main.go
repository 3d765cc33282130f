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
		general := secureeks.NodeGroupArgs{
			Name:          pulumi.String("general"),
			InstanceTypes: pulumi.ToStringArray([]string{"m7g.large", "m6g.large"}),
		}
		args := &secureeks.SecureEksClusterArgs{
			KubernetesVersion: pulumi.String(config.Require(ctx, "kubernetesVersion")),
			NodeGroups:        secureeks.NodeGroupArray{general},
		}
		cluster, err := secureeks.NewSecureEksCluster(ctx, "cluster", args)
		if err != nil {
			return err
		}
		ctx.Export("clusterName", cluster.ClusterName)
		// A secret: `pulumi stack output kubeconfig --show-secrets` prints it.
		ctx.Export("kubeconfig", cluster.Kubeconfig)
		return nil
	})
}
