//go:build tools

// Package tools records the main package scripts/install-pulumi.sh builds from
// this module, so that `go mod tidy` keeps its dependencies. Never compiled.
package tools

import (
	_ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
)
