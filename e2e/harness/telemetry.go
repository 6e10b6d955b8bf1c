package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// What the harness rewrites in a sidecar's Configuration
// (components/config): the sampling rate, and the OTLP exporter block.
var (
	samplingLine = regexp.MustCompile(`(?m)^(\s*samplingRate:\s*)"[^"]*"\s*$`)
	otelBlock    = regexp.MustCompile(`(?m)^    otel:\n(?:      .*\n)+`)
)

// sidecarConfig is the Configuration file of the sidecar of svc (a name
// of Services, or "gateway") for this run: components/config/<svc>.yaml
// with the run's tracing. Spans go to Options.OTLPEndpoint, or nowhere
// when it is empty (never to a developer's receiver on the default port),
// sampled at Options.TraceSampling.
func (s *System) sidecarConfig(svc string) (string, error) {
	b, err := os.ReadFile(filepath.Join(s.opts.Root, "components", "config", svc+".yaml"))
	if err != nil {
		return "", err
	}
	if !otelBlock.Match(b) || !samplingLine.Match(b) {
		return "", fmt.Errorf("components/config/%s.yaml: no tracing samplingRate and otel block to rewrite", svc)
	}
	otel := ""
	if host := strings.TrimPrefix(s.opts.OTLPEndpoint, "http://"); host != "" {
		otel = fmt.Sprintf("    otel:\n      endpointAddress: %q\n      isSecure: false\n      protocol: http\n", host)
	}
	b = otelBlock.ReplaceAll(b, []byte(otel))
	if s.opts.TraceSampling != "" {
		b = samplingLine.ReplaceAll(b, []byte(fmt.Sprintf(`${1}"%s"`, s.opts.TraceSampling)))
	}
	dst := filepath.Join(s.dir, "config", svc+".yaml")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	return dst, os.WriteFile(dst, b, 0o644)
}

// telemetryEnv is what an app is given besides the run's settings: its
// metrics listener on a free loopback port (never the run file's default,
// which a developer's run may hold) and, with Options.OTLPEndpoint, where
// its spans go.
func (s *System) telemetryEnv() []string {
	env := []string{fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", freePort())}
	if s.opts.OTLPEndpoint != "" {
		env = append(env, "OTEL_EXPORTER_OTLP_ENDPOINT="+s.opts.OTLPEndpoint)
	}
	return env
}

// AppMetricsURL is the URL of the Prometheus metrics of app svc (one of
// Services), or "" if svc is not an app of the system.
func (s *System) AppMetricsURL(svc string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.procs[svc]
	if !ok {
		return ""
	}
	for _, kv := range p.env {
		if addr, ok := strings.CutPrefix(kv, "METRICS_ADDR="); ok {
			return "http://" + addr + "/metrics"
		}
	}
	return ""
}
