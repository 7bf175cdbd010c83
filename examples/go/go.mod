module grpc-kube-example-go

go 1.26

require (
	example.com/pulumi-grpc-kube/sdk/go v0.0.0
	github.com/pulumi/pulumi/sdk/v3 v3.274.0
)

// The SDK generated from the package schema (README "From other languages").
replace example.com/pulumi-grpc-kube/sdk/go => ./sdks/grpc-kube
