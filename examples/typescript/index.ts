// A gRPC service behind ingress-nginx with zero-trust NetworkPolicies, using the grpc-kube
// component package from TypeScript.
import * as pulumi from "@pulumi/pulumi";
import * as grpckube from "@pulumi/grpc-kube";

const config = new pulumi.Config();
const namespace = config.get("namespace") ?? "greeter-ts";
const host = config.get("host") ?? "greeter-ts.example.com";

// A namespace whose pods Linkerd meshes: the proxy balances every call, not every connection.
const apps = new grpckube.MeshEnabledNamespace("apps", { name: namespace });

// The cluster's ingress-nginx, already installed: described, not installed.
const nginx = new grpckube.NginxIngressController("nginx", { install: { existing: true } });

const greeter = new grpckube.GrpcService("greeter", {
    image: "ghcr.io/grpc-kube/greeter:0.1.0",
    namespace: apps.name,
    replicas: 2,
    mesh: true,
});

const edge = new grpckube.GrpcIngress("edge", {
    host,
    controller: nginx.ref,
    service: greeter.ref,
});

const policies = new grpckube.ZeroTrustPolicy("policies", {
    namespace: apps.name,
    mesh: true,
    ingresses: [{ backends: edge.backends, controllerPeer: edge.controllerPeer }],
});

export const serviceName = greeter.serviceName;
export const ingressName = edge.ingressName;
export const policyNames = policies.policyNames;
export const grpcurl = edge.grpcurlCommand;
