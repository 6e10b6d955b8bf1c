//go:build tools

// Package tools records the daprd main package so that go mod tidy keeps
// every module it needs in go.sum.
package tools

import _ "github.com/dapr/dapr/cmd/daprd"
