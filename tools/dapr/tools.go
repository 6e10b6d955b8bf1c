//go:build tools

// Package tools records the dapr CLI main package so that go mod tidy keeps
// every module it needs in go.sum.
package tools

import _ "github.com/dapr/cli"
