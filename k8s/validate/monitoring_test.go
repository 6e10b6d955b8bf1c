package validate

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// daprdMetrics are the sidecar metrics the dashboard uses, as daprd 1.18
// names them (pkg/diagnostics: http/client/roundtrip_latency and
// component/pubsub_{egress,ingress}/count under the dapr_ namespace).
var daprdMetrics = []string{"dapr_http_client_roundtrip_latency", "dapr_component_pubsub_egress_count", "dapr_component_pubsub_ingress_count"}

// metricName is a name the apps' code declares for a metric: a string
// literal with a Prometheus unit or counter suffix.
var metricName = regexp.MustCompile(`"([a-z][a-z0-9_]*_(?:total|seconds|bytes))"`)

// declaredMetrics collects the metric names the apps' and the platform's
// Go code declares (tests left out).
func declaredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, dir := range []string{"platform", "usersvc", "inventorysvc", "ordersvc"} {
		err := filepath.WalkDir(filepath.Join(repoDir, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range metricName.FindAllSubmatch(b, -1) {
				names[string(m[1])] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range daprdMetrics {
		names[n] = true
	}
	return names
}

// seriesName is a metric name in a PromQL expression: a word followed by
// "{", "[" or ")" (selectors, ranges, the end of a function's argument),
// not a function or a label.
var seriesName = regexp.MustCompile(`\b([a-z][a-z0-9_]*_[a-z0-9_]+)\s*[{\[)]`)

// usedMetrics are the metric names of PromQL expressions, with the
// histogram series' suffixes taken off.
func usedMetrics(exprs []string) []string {
	var out []string
	for _, e := range exprs {
		e = regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(e, "{}") // label matchers name no metric
		for _, m := range seriesName.FindAllStringSubmatch(e, -1) {
			name := m[1]
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				if base, ok := strings.CutSuffix(name, suffix); ok && !strings.HasSuffix(name, "_egress_count") && !strings.HasSuffix(name, "_ingress_count") {
					name = base
				}
			}
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// TestMonitoringUsesDeclaredMetrics renders k8s/monitoring and checks
// that every metric its dashboard and alert rules query is one the apps
// declare (or a daprd metric of daprdMetrics), so that a renamed metric
// cannot leave a panel or an alert silently empty.
func TestMonitoringUsesDeclaredMetrics(t *testing.T) {
	objs, err := Render(filesys.MakeFsOnDisk(), filepath.Join(k8sDir, "monitoring"))
	if err != nil {
		t.Fatal(err)
	}
	declared := declaredMetrics(t)
	var ruleExprs, panelExprs []string
	alerts := map[string]bool{}
	for _, o := range objs {
		switch o.Kind {
		case "PrometheusRule":
			var r struct {
				Spec struct {
					Groups []struct {
						Rules []struct{ Alert, Expr string }
					}
				}
			}
			if err := json.Unmarshal(o.JSON, &r); err != nil {
				t.Fatal(err)
			}
			for _, g := range r.Spec.Groups {
				for _, rule := range g.Rules {
					ruleExprs = append(ruleExprs, rule.Expr)
					alerts[rule.Alert] = true
				}
			}
		case "ConfigMap":
			var cm struct {
				Metadata struct{ Labels map[string]string }
				Data     map[string]string
			}
			if err := json.Unmarshal(o.JSON, &cm); err != nil {
				t.Fatal(err)
			}
			if cm.Metadata.Labels["grafana_dashboard"] != "1" {
				t.Errorf("%s: no grafana_dashboard label; Grafana's sidecar would not load it", o)
			}
			for name, text := range cm.Data {
				var d struct {
					Panels []struct {
						Title   string
						Targets []struct{ Expr string }
					}
				}
				if err := json.Unmarshal([]byte(text), &d); err != nil {
					t.Fatalf("%s %s: %v", o, name, err)
				}
				for _, p := range d.Panels {
					if len(p.Targets) == 0 {
						t.Errorf("dashboard panel %q has no query", p.Title)
					}
					for _, tg := range p.Targets {
						panelExprs = append(panelExprs, tg.Expr)
					}
				}
			}
		}
	}
	if len(ruleExprs) == 0 || len(panelExprs) == 0 {
		t.Fatalf("%d rule and %d panel expressions rendered; want both", len(ruleExprs), len(panelExprs))
	}
	for _, want := range []string{"ShopSagaSlow", "ShopOrdersStuckPending", "ShopDeadLetters", "ShopRelayLag", "ShopErrorRatio"} {
		if !alerts[want] {
			t.Errorf("no alert %s (docs/operators.md explains it)", want)
		}
	}
	for what, exprs := range map[string][]string{"alert rules": ruleExprs, "dashboard": panelExprs} {
		used := usedMetrics(exprs)
		if len(used) == 0 {
			t.Errorf("%s: no metric names found in %q", what, exprs)
		}
		for _, name := range used {
			if !declared[name] {
				t.Errorf("%s query metric %s, which no app declares", what, name)
			}
		}
	}
}

// TestUsedMetricsFindsNames keeps the name extraction honest: a check
// that found no names would pass everything.
func TestUsedMetricsFindsNames(t *testing.T) {
	got := usedMetrics([]string{`histogram_quantile(0.99, sum by (le) (rate(orders_saga_duration_seconds_bucket{job="x"}[5m]))) > 1`,
		`max(orders_relay_lag_seconds) > 30`, `sum(rate(dapr_component_pubsub_egress_count[5m]))`})
	want := []string{"orders_saga_duration_seconds", "orders_relay_lag_seconds", "dapr_component_pubsub_egress_count"}
	if !slices.Equal(got, want) {
		t.Errorf("usedMetrics = %v; want %v", got, want)
	}
}
