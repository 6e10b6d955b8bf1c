package validate

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
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

// Every sidecar's image is the project's daprd build: its tag, the
// Dockerfile's build arguments and what set-up builds name the same build
// (DAPRD_VERSION, and DAPRD_BUILD's +shop.N suffix), and the apps'
// sidecars run the gateway's image.
func TestSidecarImageIsTheProjectBuild(t *testing.T) {
	setup := string(readFile(t, filepath.Join(repoDir, "scripts", "setup.sh")))
	version := regexp.MustCompile(`(?m)^DAPRD_VERSION=(\S+)$`).FindStringSubmatch(setup)
	build := regexp.MustCompile(`(?m)^DAPRD_BUILD="v\$DAPRD_VERSION\+(shop\.\d+)"$`).FindStringSubmatch(setup)
	if version == nil || build == nil {
		t.Fatal(`scripts/setup.sh: no DAPRD_VERSION= or DAPRD_BUILD="v$DAPRD_VERSION+shop.N"`)
	}
	tag := version[1] + "-" + build[1]
	img := gatewayValues(t).Controller.PodAnnotations[AnnSidecarImage]
	if _, got, _ := strings.Cut(img, ":"); got != tag {
		t.Errorf("ingress-nginx podAnnotations %s=%q: tag %q, want %q (scripts/setup.sh's build)", AnnSidecarImage, img, got, tag)
	}
	for _, name := range overlayNames() {
		for _, d := range renderOverlay(t, name).Deployments {
			if got := d.Spec.Template.Annotations[AnnSidecarImage]; got != img {
				t.Errorf("overlay %s: Deployment %s runs sidecar image %q; want the gateway's, %q", name, d.Name, got, img)
			}
		}
	}
	docker := string(readFile(t, filepath.Join(repoDir, "tools", "daprd", "Dockerfile")))
	for arg, want := range map[string]string{"DAPRD_VERSION": version[1], "DAPRD_BUILD": "v" + version[1] + "+" + build[1]} {
		m := regexp.MustCompile(`(?m)^ARG ` + arg + `=(\S+)$`).FindStringSubmatch(docker)
		if m == nil || m[1] != want {
			t.Errorf("tools/daprd/Dockerfile: ARG %s = %v, want %s", arg, m, want)
		}
	}
	if !strings.Contains(docker, "ghcr.io/example/shop-daprd:"+tag) {
		t.Errorf("tools/daprd/Dockerfile: its build command does not tag %s", tag)
	}
}
