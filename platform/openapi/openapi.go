// Package openapi checks a service's OpenAPI document against its router:
// every route the router serves is documented, and every documented route is
// served.
package openapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gorilla/mux"
	"gopkg.in/yaml.v3"
)

// Operations lists the "METHOD /path" operations of an OpenAPI 3 document.
func Operations(doc []byte) ([]string, error) {
	var d struct {
		OpenAPI string                          `yaml:"openapi"`
		Paths   map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("parse OpenAPI document: %w", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		return nil, fmt.Errorf("openapi version %q: want 3.x", d.OpenAPI)
	}
	var ops []string
	for path, item := range d.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				ops = append(ops, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(ops)
	return ops, nil
}

// RouterOperations lists the "METHOD /path" operations r serves, with
// gorilla's {var} path variables as OpenAPI writes them. skip leaves out
// routes that are not part of the API (health probes, say).
func RouterOperations(r *mux.Router, skip ...string) ([]string, error) {
	var ops []string
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil || slices.Contains(skip, path) {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return fmt.Errorf("route %s has no methods: every route must name its methods", path)
		}
		for _, m := range methods {
			if m == "OPTIONS" || m == "HEAD" {
				continue
			}
			ops = append(ops, m+" "+path)
		}
		return nil
	})
	slices.Sort(ops)
	return slices.Compact(ops), err
}

// Diff compares a document with a router: what the router serves but the
// document lacks, and what the document has but the router does not serve.
func Diff(doc []byte, r *mux.Router, skip ...string) (undocumented, unserved []string, err error) {
	documented, err := Operations(doc)
	if err != nil {
		return nil, nil, err
	}
	served, err := RouterOperations(r, skip...)
	if err != nil {
		return nil, nil, err
	}
	for _, op := range served {
		if !slices.Contains(documented, op) {
			undocumented = append(undocumented, op)
		}
	}
	for _, op := range documented {
		if !slices.Contains(served, op) {
			unserved = append(unserved, op)
		}
	}
	return undocumented, unserved, nil
}

// UnresolvedRefs lists the local $refs ("#/components/<kind>/<name>") of an
// OpenAPI document that point at nothing it defines.
func UnresolvedRefs(doc []byte) ([]string, error) {
	var raw map[string]any
	if err := yaml.Unmarshal(doc, &raw); err != nil {
		return nil, fmt.Errorf("parse OpenAPI document: %w", err)
	}
	components, _ := raw["components"].(map[string]any)
	var bad []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if ref, ok := child.(string); ok && k == "$ref" {
					kind, name, _ := strings.Cut(strings.TrimPrefix(ref, "#/components/"), "/")
					defs, _ := components[kind].(map[string]any)
					if _, ok := defs[name]; !ok || !strings.HasPrefix(ref, "#/components/") {
						bad = append(bad, ref)
					}
				}
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(raw)
	slices.Sort(bad)
	return slices.Compact(bad), nil
}
