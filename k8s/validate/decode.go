package validate

import (
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Bundle is a rendered kustomization, every object decoded into its type.
type Bundle struct {
	Deployments     []appsv1.Deployment
	Services        []corev1.Service
	ServiceAccounts []corev1.ServiceAccount
	PDBs            []policyv1.PodDisruptionBudget
	HPAs            []autoscalingv2.HorizontalPodAutoscaler
	Roles           []rbacv1.Role
	RoleBindings    []rbacv1.RoleBinding
	Ingresses       []networkingv1.Ingress
	Components      []Component
	Configurations  []Configuration
	Resiliencies    []Resiliency
}

// kinds maps each kind the shop's manifests may contain to its apiVersion.
// Any other kind (a Secret above all: secret values never live in the
// manifests) is an error, so that nothing escapes validation.
var kinds = map[string]string{
	"Deployment":              "apps/v1",
	"Service":                 "v1",
	"ServiceAccount":          "v1",
	"PodDisruptionBudget":     "policy/v1",
	"HorizontalPodAutoscaler": "autoscaling/v2",
	"Role":                    "rbac.authorization.k8s.io/v1",
	"RoleBinding":             "rbac.authorization.k8s.io/v1",
	"Ingress":                 "networking.k8s.io/v1",
	"Component":               DaprAPIVersion,
	"Configuration":           DaprAPIVersion,
	"Resiliency":              DaprAPIVersion,
}

// Decode strictly decodes every object: an unknown or misspelt field, a
// field written twice or in the wrong case, a value of the wrong type, an
// unexpected kind or apiVersion are all errors. It returns every error,
// joined.
func Decode(objs []Object) (*Bundle, error) {
	b := &Bundle{}
	var errs []error
	for _, o := range objs {
		if err := b.add(o); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o, err))
		}
	}
	return b, errors.Join(errs...)
}

func (b *Bundle) add(o Object) error {
	want, ok := kinds[o.Kind]
	if !ok {
		return fmt.Errorf("kind %s is not expected in the shop's manifests", o.Kind)
	}
	if o.APIVersion != want {
		return fmt.Errorf("apiVersion %s, want %s", o.APIVersion, want)
	}
	switch o.Kind {
	case "Deployment":
		return decodeInto(o.JSON, &b.Deployments)
	case "Service":
		return decodeInto(o.JSON, &b.Services)
	case "ServiceAccount":
		return decodeInto(o.JSON, &b.ServiceAccounts)
	case "PodDisruptionBudget":
		return decodeInto(o.JSON, &b.PDBs)
	case "HorizontalPodAutoscaler":
		return decodeInto(o.JSON, &b.HPAs)
	case "Role":
		return decodeInto(o.JSON, &b.Roles)
	case "RoleBinding":
		return decodeInto(o.JSON, &b.RoleBindings)
	case "Ingress":
		return decodeInto(o.JSON, &b.Ingresses)
	case "Component":
		return decodeInto(o.JSON, &b.Components)
	case "Configuration":
		return decodeInto(o.JSON, &b.Configurations)
	case "Resiliency":
		return decodeInto(o.JSON, &b.Resiliencies)
	}
	return nil
}

func decodeInto[T any](data []byte, list *[]T) error {
	var v T
	if err := StrictJSON(data, &v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// StrictJSON decodes data into v the way the Kubernetes API server's strict
// field validation does: case-sensitive, no unknown and no duplicate fields.
func StrictJSON(data []byte, v any) error {
	strict, err := sigsjson.UnmarshalStrict(data, v)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// StrictYAML decodes one YAML document into v like StrictJSON; a key written
// twice is an error too.
func StrictYAML(data []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	return StrictJSON(j, v)
}
