package validate

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkScaling: a Deployment scales on its own and survives a rolling
// restart or a node drain. Exactly one HorizontalPodAutoscaler targets it,
// from at least 2 pods; its PodDisruptionBudget lets one of those pods go
// (a budget that allows no disruption blocks every drain); its pods are
// spread over nodes.
func (b *Bundle) checkScaling(d appsv1.Deployment) []error {
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("Deployment %s: %s", d.Name, fmt.Sprintf(format, a...)))
	}
	set := labels.Set(d.Spec.Template.Labels)

	minPods := int32(0)
	hpas := 0
	for _, h := range b.HPAs {
		ref := h.Spec.ScaleTargetRef
		if h.Namespace != d.Namespace || ref.Kind != "Deployment" || ref.Name != d.Name {
			continue
		}
		hpas++
		if ref.APIVersion != "apps/v1" {
			fail("HorizontalPodAutoscaler %s targets apiVersion %q, want apps/v1", h.Name, ref.APIVersion)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 {
			fail("HorizontalPodAutoscaler %s: minReplicas must be at least 2, so that one pod can go while the other serves", h.Name)
		} else {
			minPods = *h.Spec.MinReplicas
		}
		if h.Spec.MaxReplicas <= minPods {
			fail("HorizontalPodAutoscaler %s: maxReplicas %d leaves nothing to scale above minReplicas %d", h.Name, h.Spec.MaxReplicas, minPods)
		}
		if len(h.Spec.Metrics) == 0 {
			fail("HorizontalPodAutoscaler %s has no metric to scale on", h.Name)
		}
	}
	if hpas != 1 {
		fail("%d HorizontalPodAutoscalers target it, want 1", hpas)
	}
	if d.Spec.Replicas != nil && minPods > 0 && *d.Spec.Replicas != minPods {
		fail("replicas %d differs from its autoscaler's minReplicas %d: an apply would set a count the autoscaler then undoes", *d.Spec.Replicas, minPods)
	}

	for _, p := range b.PDBs {
		if p.Namespace != d.Namespace || p.Spec.Selector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || !sel.Matches(set) {
			continue // reported by checkWorkloadPeers
		}
		if minPods > 0 && !allowsOneDisruption(p.Spec.MinAvailable, p.Spec.MaxUnavailable, int(minPods)) {
			fail("PodDisruptionBudget %s allows no pod of %d to go: a drain or rolling restart would block", p.Name, minPods)
		}
	}

	spread := false
	for _, c := range d.Spec.Template.Spec.TopologySpreadConstraints {
		if c.TopologyKey == "" || c.LabelSelector == nil {
			continue
		}
		if sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector); err == nil && sel.Matches(set) {
			spread = true
		}
	}
	if !spread {
		fail("no topologySpreadConstraint spreads its own pods: its replicas could all land on one node")
	}
	return errs
}

// allowsOneDisruption reports whether a budget lets at least one of pods
// go; percentages are rounded up, as the disruption controller does.
func allowsOneDisruption(minAvailable, maxUnavailable *intstr.IntOrString, pods int) bool {
	switch {
	case minAvailable != nil:
		need, err := intstr.GetScaledValueFromIntOrPercent(minAvailable, pods, true)
		return err == nil && need < pods
	case maxUnavailable != nil:
		may, err := intstr.GetScaledValueFromIntOrPercent(maxUnavailable, pods, true)
		return err == nil && may >= 1
	}
	return true // no constraint
}
