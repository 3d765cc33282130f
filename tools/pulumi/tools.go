//go:build tools

// Package tools records the main packages scripts/install-pulumi.sh builds, so
// that `go mod tidy` keeps their dependencies in go.mod/go.sum. It is never
// compiled (build tag `tools`).
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
