// A gRPC service behind ingress-nginx with zero-trust NetworkPolicies, using the grpc-kube
// component package from Go.
package main

import (
	"example.com/pulumi-grpc-kube/sdk/go/grpckube"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		namespace := orDefault(cfg.Get("namespace"), "greeter-go")
		host := orDefault(cfg.Get("host"), "greeter-go.example.com")
		mesh := true

		// A namespace whose pods Linkerd meshes: the proxy balances every call, not every
		// connection.
		apps, err := grpckube.NewMeshEnabledNamespace(ctx, "apps", &grpckube.MeshEnabledNamespaceArgs{
			Name: pulumi.String(namespace),
		})
		if err != nil {
			return err
		}
		// The cluster's ingress-nginx, already installed: described, not installed.
		existing := true
		nginx, err := grpckube.NewNginxIngressController(ctx, "nginx", &grpckube.NginxIngressControllerArgs{
			Install: &grpckube.InstallArgs{Existing: &existing},
		})
		if err != nil {
			return err
		}
		greeter, err := grpckube.NewGrpcService(ctx, "greeter", &grpckube.GrpcServiceArgs{
			Image:     pulumi.String("ghcr.io/grpc-kube/greeter:0.1.0"),
			Namespace: apps.Name,
			Replicas:  pulumi.Int(2),
			Mesh:      &mesh,
		})
		if err != nil {
			return err
		}
		edge, err := grpckube.NewGrpcIngress(ctx, "edge", &grpckube.GrpcIngressArgs{
			Host:       pulumi.String(host),
			Controller: nginx.Ref,
			Service:    greeter.Ref,
		})
		if err != nil {
			return err
		}
		policies, err := grpckube.NewZeroTrustPolicy(ctx, "policies", &grpckube.ZeroTrustPolicyArgs{
			Namespace: apps.Name,
			Mesh:      &mesh,
			Ingresses: grpckube.IngressPeersArray{grpckube.IngressPeersArgs{
				Backends:       edge.Backends,
				ControllerPeer: edge.ControllerPeer,
			}},
		})
		if err != nil {
			return err
		}
		ctx.Export("serviceName", greeter.ServiceName)
		ctx.Export("ingressName", edge.IngressName)
		ctx.Export("policyNames", policies.PolicyNames)
		ctx.Export("grpcurl", edge.GrpcurlCommand)
		return nil
	})
}

func orDefault(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}
