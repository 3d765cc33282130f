//go:build tools

// Package tools records the main packages scripts/install-pulumi.sh builds, so
// that `go mod tidy` keeps their dependencies in go.mod/go.sum. It is never
// compiled (build tag `tools`).
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	_ "github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3"
	_ "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3"
	_ "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3"
)
