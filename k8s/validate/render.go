// Package validate renders the shop's kustomizations and checks what an
// operator would apply: every object decoded strictly into its Kubernetes
// API type (or the Dapr schema), then the rules the shop depends on to run
// safely (sidecar annotations, probes, security context, component names and
// scopes, secrets only by reference, Dapr access control and resiliency).
//
// It needs no cluster: kustomize runs as a library, as `kubectl apply -k`
// would run it.
package validate

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Object is one rendered manifest.
type Object struct {
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	JSON       []byte // the whole object
}

func (o Object) String() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// Render builds the kustomization in dir of fsys with kustomize's default
// options (the ones `kubectl apply -k` uses: builtin plugins only, files
// loaded from inside the kustomization's root).
func Render(fsys filesys.FileSystem, dir string) ([]Object, error) {
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var objs []Object
	for _, r := range resMap.Resources() {
		b, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err)
		}
		objs = append(objs, Object{
			APIVersion: r.GetApiVersion(),
			Kind:       r.GetKind(),
			Name:       r.GetName(),
			Namespace:  r.GetNamespace(),
			JSON:       b,
		})
	}
	return objs, nil
}
