package validate

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// KubernetesSecretStore is the secret store the Dapr operator resolves a
// component's secretKeyRefs from (the namespace's Kubernetes Secrets) when
// a component names it, or names none.
const KubernetesSecretStore = "kubernetes"

// SensitiveKey matches component metadata names whose value is a secret or
// says where and how to connect: such values come from a Secret.
var SensitiveKey = regexp.MustCompile(`(?i)password|passwd|secret|token|connectionstring|dsn|brokers|host|user|credential|accesskey|apikey|privatekey|clientkey|clientcert|cacert|url|uri`)

// credentialsInValue matches inline values that carry credentials anyway: a
// URL with a user (scheme://user:pass@host) or a key=value password.
var credentialsInValue = regexp.MustCompile(`(?i)://[^/\s]*@|password\s*=`)

// Check runs every rule on the bundle: each Deployment (CheckDeployment), and
// what ties the objects together. external maps the app id of a sidecar that
// is not in the manifests (the gateway, injected into ingress-nginx) to the
// name of its Configuration.
func (b *Bundle) Check(external map[string]string) error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	// app id -> the Configuration its sidecar uses.
	apps := map[string]string{}
	for id, cfg := range external {
		apps[id] = cfg
	}
	for _, d := range b.Deployments {
		if err := CheckDeployment(d); err != nil {
			errs = append(errs, err)
		}
		ann := d.Spec.Template.Annotations
		id := ann[AnnAppID]
		if _, dup := apps[id]; dup {
			fail("Deployment %s: app id %q is used twice", d.Name, id)
		}
		apps[id] = ann[AnnConfig]
		b.checkWorkloadPeers(fail, d.Name, d.Namespace, d.Spec.Template.Labels, d.Spec.Template.Spec.ServiceAccountName)
		errs = append(errs, b.checkScaling(d)...)
	}
	for id, cfg := range apps {
		if cfg == "" {
			continue // reported by CheckDeployment
		}
		if b.configuration(cfg) == nil {
			fail("app %s uses Dapr Configuration %q, which the manifests do not define", id, cfg)
		}
	}

	errs = append(errs, b.checkComponents(apps)...)
	errs = append(errs, b.checkConfigurations(apps)...)
	errs = append(errs, b.checkResiliency(apps)...)
	errs = append(errs, b.checkRBAC()...)
	errs = append(errs, b.checkIngress(apps)...)
	return errors.Join(errs...)
}

// checkWorkloadPeers: a Deployment has its ServiceAccount, a Service and a
// PodDisruptionBudget that select its pods.
func (b *Bundle) checkWorkloadPeers(fail func(string, ...any), name, ns string, podLabels map[string]string, sa string) {
	if sa != "" && !slices.ContainsFunc(b.ServiceAccounts, func(s corev1.ServiceAccount) bool { return s.Name == sa && s.Namespace == ns }) {
		fail("Deployment %s runs as ServiceAccount %q, which the manifests do not define", name, sa)
	}
	set := labels.Set(podLabels)
	services := 0
	for _, s := range b.Services {
		if s.Namespace == ns && len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(set) {
			services++
		}
	}
	if services == 0 {
		fail("Deployment %s: no Service selects its pods", name)
	}
	pdbs := 0
	for _, p := range b.PDBs {
		if p.Namespace != ns || p.Spec.Selector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil {
			fail("PodDisruptionBudget %s: %v", p.Name, err)
			continue
		}
		if sel.Matches(set) {
			pdbs++
		}
	}
	if pdbs != 1 {
		fail("Deployment %s: %d PodDisruptionBudgets select its pods, want 1", name, pdbs)
	}
}

func (b *Bundle) configuration(name string) *Configuration {
	for i := range b.Configurations {
		if b.Configurations[i].Name == name {
			return &b.Configurations[i]
		}
	}
	return nil
}

// Component returns the component called name, or nil.
func (b *Bundle) Component(name string) *Component {
	for i := range b.Components {
		if b.Components[i].Name == name {
			return &b.Components[i]
		}
	}
	return nil
}

func (b *Bundle) checkComponents(apps map[string]string) []error {
	var errs []error
	fail := func(c Component, format string, a ...any) {
		errs = append(errs, fmt.Errorf("Component %s: %s", c.Name, fmt.Sprintf(format, a...)))
	}
	seen := map[string]int{}
	for _, c := range b.Components {
		seen[c.Name]++
		if c.Spec.Type == "" || c.Spec.Version == "" {
			fail(c, "spec.type and spec.version are required")
		}
		if len(c.Scopes) == 0 {
			fail(c, "has no scopes: every sidecar, the gateway included, would load it")
		}
		for _, s := range c.Scopes {
			if _, ok := apps[s]; !ok {
				fail(c, "scope %q is not an app id of the shop", s)
			}
		}
		if strings.HasPrefix(c.Spec.Type, "state.") && len(c.Scopes) != 1 {
			fail(c, "a state store belongs to one app, scopes are %v", c.Scopes)
		}
		usesRef := false
		for _, m := range c.Spec.Metadata {
			switch {
			case m.SecretKeyRef != nil && m.HasValue():
				fail(c, "metadata %s has both a value and a secretKeyRef", m.Name)
			case m.EnvRef != "":
				fail(c, "metadata %s comes from the sidecar's environment (envRef); use a secretKeyRef", m.Name)
			case m.SecretKeyRef != nil:
				usesRef = true
				if m.SecretKeyRef.Name == "" || m.SecretKeyRef.Key == "" {
					fail(c, "metadata %s: secretKeyRef needs a name and a key", m.Name)
				}
			case SensitiveKey.MatchString(m.Name):
				fail(c, "metadata %s is sensitive (credentials or connection details): take it from a Secret with secretKeyRef, not an inline value", m.Name)
			case credentialsInValue.MatchString(m.ValueString()):
				fail(c, "metadata %s holds credentials in its value", m.Name)
			}
		}
		if usesRef && c.Auth != nil && c.Auth.SecretStore != KubernetesSecretStore {
			fail(c, "auth.secretStore %q: the Dapr operator resolves secretKeyRefs only from %q", c.Auth.SecretStore, KubernetesSecretStore)
		}
	}
	for name, n := range seen {
		if n > 1 {
			errs = append(errs, fmt.Errorf("Component %s is defined %d times", name, n))
		}
	}
	return errs
}

// verbs Dapr's access control knows (HTTPExtension_Verb), and "*".
var httpVerbs = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "*"}

func (b *Bundle) checkConfigurations(apps map[string]string) []error {
	var errs []error
	for _, cfg := range b.Configurations {
		fail := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("Configuration %s: %s", cfg.Name, fmt.Sprintf(format, a...)))
		}
		var users []string // app ids whose sidecars use this Configuration
		for id, name := range apps {
			if name == cfg.Name {
				users = append(users, id)
			}
		}
		if len(users) == 0 {
			fail("no sidecar uses it")
		}
		s := cfg.Spec
		if s.MTLS == nil || s.MTLS.Enabled == nil || !*s.MTLS.Enabled {
			fail("mtls.enabled must be true")
		}
		if s.Tracing == nil {
			fail("tracing is off")
		} else if r, err := strconv.ParseFloat(s.Tracing.SamplingRate, 64); err != nil || r < 0 || r > 1 {
			fail("tracing.samplingRate %q is not a number from 0 to 1", s.Tracing.SamplingRate)
		}
		if s.Metric == nil || s.Metric.Enabled == nil || !*s.Metric.Enabled {
			fail("metric.enabled must be true")
		}
		if s.API != nil {
			for _, r := range append(slices.Clone(s.API.Allowed), s.API.Denied...) {
				if r.Protocol != "http" && r.Protocol != "grpc" {
					fail("api rule %s/%s: protocol must be http or grpc (Dapr ignores a rule without one)", r.Version, r.Name)
				}
			}
		}
		for _, pipe := range []*PipelineSpec{s.HTTPPipeline, s.AppHTTPPipeline} {
			if pipe == nil {
				continue
			}
			for _, h := range pipe.Handlers {
				c := b.Component(h.Name)
				switch {
				case c == nil:
					fail("middleware %s is not a component of the manifests", h.Name)
				case c.Spec.Type != h.Type:
					fail("middleware %s has type %s, the component %s", h.Name, h.Type, c.Spec.Type)
				default:
					for _, u := range users {
						if !slices.Contains(c.Scopes, u) {
							fail("middleware %s is not scoped to %s, which uses this Configuration", h.Name, u)
						}
					}
				}
			}
		}
		if s.Secrets != nil {
			for _, sc := range s.Secrets.Scopes {
				if c := b.Component(sc.StoreName); c == nil || !strings.HasPrefix(c.Spec.Type, "secretstores.") {
					fail("secrets scope names %q, which is not a secret store of the manifests", sc.StoreName)
				}
				if sc.DefaultAccess != "deny" {
					fail("secrets scope %s: defaultAccess must be deny, with the secrets the app reads allowed by name", sc.StoreName)
				}
			}
		}
		acl := s.AccessControl
		if acl == nil {
			fail("has no accessControl: any app could invoke any route")
			continue
		}
		if acl.DefaultAction != "deny" {
			fail("accessControl.defaultAction must be deny")
		}
		if acl.TrustDomain == "" {
			fail("accessControl.trustDomain is empty")
		}
		seenApps := map[string]bool{}
		for _, p := range acl.Policies {
			pfail := func(format string, a ...any) { fail("policy for %s: %s", p.AppID, fmt.Sprintf(format, a...)) }
			if _, ok := apps[p.AppID]; !ok {
				pfail("not an app id of the shop")
			}
			if seenApps[p.AppID] {
				pfail("listed twice; Dapr keeps only the last")
			}
			seenApps[p.AppID] = true
			if p.TrustDomain != acl.TrustDomain {
				pfail("trustDomain %q differs from the Configuration's %q", p.TrustDomain, acl.TrustDomain)
			}
			// Dapr rejects a policy without a namespace, and a namespace
			// other than the caller's never matches.
			if p.Namespace == "" {
				pfail("namespace is required")
			} else if cfg.Namespace != "" && p.Namespace != cfg.Namespace {
				pfail("namespace %q, but the shop runs in %q", p.Namespace, cfg.Namespace)
			}
			if p.DefaultAction != "deny" {
				pfail("defaultAction must be deny")
			}
			for _, op := range p.Operations {
				if !strings.HasPrefix(op.Name, "/") {
					pfail("operation %q must start with /", op.Name)
				}
				if op.Action != "allow" && op.Action != "deny" {
					pfail("operation %s: action %q", op.Name, op.Action)
				}
				if len(op.HTTPVerb) == 0 {
					pfail("operation %s lists no httpVerb", op.Name)
				}
				for _, v := range op.HTTPVerb {
					if !slices.Contains(httpVerbs, v) {
						pfail("operation %s: unknown httpVerb %q", op.Name, v)
					}
				}
			}
			for _, why := range p.unreachable() {
				pfail("operation %s", why)
			}
		}
	}
	return errs
}

// retryPolicies are the retry policies Dapr knows (1.14 to 1.18).
var retryPolicies = []string{"constant", "exponential"}

func (b *Bundle) checkResiliency(apps map[string]string) []error {
	var errs []error
	for _, r := range b.Resiliencies {
		fail := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("Resiliency %s: %s", r.Name, fmt.Sprintf(format, a...)))
		}
		if len(r.Scopes) == 0 {
			fail("has no scopes")
		}
		for _, s := range r.Scopes {
			if _, ok := apps[s]; !ok {
				fail("scope %q is not an app id of the shop", s)
			}
		}
		p := r.Spec.Policies
		for name, t := range p.Timeouts {
			if !validDuration(t) {
				fail("timeout %s: %q is not a duration", name, t)
			}
		}
		for name, rt := range p.Retries {
			if !slices.Contains(retryPolicies, rt.Policy) {
				fail("retry %s: policy %q, want constant or exponential", name, rt.Policy)
			}
			if rt.MaxRetries == nil || *rt.MaxRetries < 0 {
				fail("retry %s: maxRetries must be set and bounded", name)
			}
			if rt.Policy == "constant" && !validDuration(rt.Duration) {
				fail("retry %s: constant policy needs a duration", name)
			}
			if rt.Policy == "exponential" && rt.MaxInterval != "" && !validDuration(rt.MaxInterval) {
				fail("retry %s: maxInterval %q is not a duration", name, rt.MaxInterval)
			}
		}
		for name, cb := range p.CircuitBreakers {
			if cb.Trip == "" || !validDuration(cb.Timeout) || (cb.Interval != "" && !validDuration(cb.Interval)) {
				fail("circuit breaker %s needs a trip expression, a timeout and a valid interval", name)
			}
		}
		names := func(where, timeout, retry, cb string) {
			if _, ok := p.Timeouts[timeout]; timeout != "" && !ok {
				fail("%s: no timeout policy %q", where, timeout)
			}
			if _, ok := p.Retries[retry]; retry != "" && !ok {
				fail("%s: no retry policy %q", where, retry)
			}
			if _, ok := p.CircuitBreakers[cb]; cb != "" && !ok {
				fail("%s: no circuit breaker policy %q", where, cb)
			}
		}
		for app, t := range r.Spec.Targets.Apps {
			if _, ok := apps[app]; !ok {
				fail("target app %q is not an app id of the shop", app)
			}
			names("target app "+app, t.Timeout, t.Retry, t.CircuitBreaker)
		}
		for comp, t := range r.Spec.Targets.Components {
			if b.Component(comp) == nil {
				fail("target component %q is not a component of the manifests", comp)
			}
			names("target component "+comp+" outbound", t.Outbound.Timeout, t.Outbound.Retry, t.Outbound.CircuitBreaker)
			names("target component "+comp+" inbound", t.Inbound.Timeout, t.Inbound.Retry, t.Inbound.CircuitBreaker)
		}
		for actor, t := range r.Spec.Targets.Actors {
			names("target actor "+actor, t.Timeout, t.Retry, t.CircuitBreaker)
		}
	}
	return errs
}

// validDuration accepts what Dapr's resiliency accepts: a Go duration, or a
// number of milliseconds.
func validDuration(s string) bool {
	if _, err := strconv.Atoi(s); err == nil {
		return true
	}
	_, err := time.ParseDuration(s)
	return err == nil
}

func (b *Bundle) checkRBAC() []error {
	var errs []error
	for _, rb := range b.RoleBindings {
		if rb.RoleRef.Kind != "Role" || !slices.ContainsFunc(b.Roles, func(r rbacv1.Role) bool { return r.Name == rb.RoleRef.Name && r.Namespace == rb.Namespace }) {
			errs = append(errs, fmt.Errorf("RoleBinding %s: binds %s %q, which the manifests do not define in its namespace", rb.Name, rb.RoleRef.Kind, rb.RoleRef.Name))
		}
		for _, s := range rb.Subjects {
			if s.Kind != "ServiceAccount" {
				errs = append(errs, fmt.Errorf("RoleBinding %s: binds %s %q; only the apps' service accounts are expected", rb.Name, s.Kind, s.Name))
				continue
			}
			if s.Namespace != "" && s.Namespace != rb.Namespace {
				errs = append(errs, fmt.Errorf("RoleBinding %s: subject %s is in namespace %q, the binding in %q", rb.Name, s.Name, s.Namespace, rb.Namespace))
			}
			if !slices.ContainsFunc(b.ServiceAccounts, func(a corev1.ServiceAccount) bool { return a.Name == s.Name && a.Namespace == rb.Namespace }) {
				errs = append(errs, fmt.Errorf("RoleBinding %s: ServiceAccount %s is not defined", rb.Name, s.Name))
			}
		}
	}
	for _, r := range b.Roles {
		for _, rule := range r.Rules {
			if slices.Contains(rule.Resources, "secrets") && (len(rule.ResourceNames) == 0 || slices.ContainsFunc(rule.Verbs, func(v string) bool { return v != "get" })) {
				errs = append(errs, fmt.Errorf("Role %s: Secrets may only be read (get) by name", r.Name))
			}
		}
	}
	return errs
}

// invokePath is the only kind of path the gateway's Ingress may route: Dapr
// service invocation of one app.
var invokePath = regexp.MustCompile(`^/v1\.0/invoke/([a-z0-9-]+)/method/$`)

func (b *Bundle) checkIngress(apps map[string]string) []error {
	var errs []error
	for _, ing := range b.Ingresses {
		fail := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("Ingress %s: %s", ing.Name, fmt.Sprintf(format, a...)))
		}
		if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName == "" {
			fail("has no ingressClassName")
		}
		if ing.Spec.DefaultBackend != nil {
			fail("has a default backend: only the invocation paths may be routed")
		}
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				if p.Path == "/" {
					// Everything else: the storefront's pages.
					svc := p.Backend.Service
					if p.PathType == nil || *p.PathType != "Prefix" || svc == nil || svc.Name != StorefrontAppID || svc.Port.Number != 80 {
						fail("path / must be a Prefix to Service %s port 80 (the storefront's pages)", StorefrontAppID)
					}
					continue
				}
				m := invokePath.FindStringSubmatch(p.Path)
				if m == nil {
					fail("path %q is not /v1.0/invoke/<app>/method/: the gateway sidecar must not expose other APIs", p.Path)
				} else if _, ok := apps[m[1]]; !ok || m[1] == GatewayAppID {
					fail("path %q invokes %q, which is not one of the apps", p.Path, m[1])
				} else if m[1] == StorefrontAppID {
					fail("path %q: the Ingress routes invocations of the storefront, whose pages it serves at / (the gateway's route check refuses them)", p.Path)
				}
				svc := p.Backend.Service
				if svc == nil || svc.Name != GatewayAppID+"-dapr" || svc.Port.Number != 80 {
					fail("path %q must go to Service %s-dapr port 80 (the gateway sidecar's HTTP API)", p.Path, GatewayAppID)
				}
			}
		}
	}
	return errs
}

// GatewayAppID is the app id of the gateway sidecar.
const GatewayAppID = "gateway"

// StorefrontAppID is the app id of the storefront, whose Service the
// Ingress sends every path but the invocation paths to.
const StorefrontAppID = "storefront"
