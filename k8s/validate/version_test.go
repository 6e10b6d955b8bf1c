package validate

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The Dapr runtime version is written in several places: what set-up
// builds, what the wrapper module requires, what the end-to-end harness
// expects, and which control plane (and so which injected sidecar image)
// the Kubernetes docs install. They must name the same release.
func TestOneDaprVersion(t *testing.T) {
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(repoDir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	m := regexp.MustCompile(`(?m)^DAPRD_VERSION=(\S+)$`).FindStringSubmatch(read("scripts/setup.sh"))
	if m == nil {
		t.Fatal("scripts/setup.sh: no DAPRD_VERSION=")
	}
	want := m[1]
	checks := []struct {
		file    string
		pattern string // with %s for the version; every match must name want
	}{
		{"tools/daprd/go.mod", `(?m)^\s*(?:require )?github\.com/dapr/dapr v(\S+)$`},
		{"e2e/harness/harness.go", `const DaprdVersion = "([^"]+)"`},
		{"docs/operators.md", `helm upgrade --install dapr dapr/dapr --version (\S+)`},
		{"docs/operators.md", `--runtime-version (\S+)`},
	}
	for _, c := range checks {
		matches := regexp.MustCompile(c.pattern).FindAllStringSubmatch(read(c.file), -1)
		if len(matches) == 0 {
			t.Errorf("%s: no match for %s", c.file, c.pattern)
		}
		for _, got := range matches {
			if got[1] != want {
				t.Errorf("%s names Dapr %s; scripts/setup.sh builds %s", c.file, got[1], want)
			}
		}
	}
}
